//! The ISAKMP header (RFC 2408 §3.1). Always in cleartext, even when the
//! body is encrypted, so a responder can find its SA by the cookies before
//! decrypting.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Initiator                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Responder                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Message ID                           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                            Length                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u64, be_u8};
use nom::sequence::tuple;

use crate::error::{EncodeError, Error};
use crate::payload::PayloadType;
use crate::wire::read;

/// Octets in the ISAKMP header.
pub const HEADER_LEN: usize = 28;

/// Exchange Type (RFC 2408 §3.1, §4; RFC 2409 §5, §5.5, §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExchangeType(pub u8);

impl ExchangeType {
    /// RFC 2408 §4.4.
    pub const BASE: Self = Self(1);
    /// Identity Protection (RFC 2408 §4.5) = IKE Main Mode (RFC 2409 §5).
    pub const IDENTITY_PROTECTION: Self = Self(2);
    /// Alias: what IKEv1 calls Identity Protection.
    pub const MAIN_MODE: Self = Self::IDENTITY_PROTECTION;
    /// RFC 2408 §4.6.
    pub const AUTHENTICATION_ONLY: Self = Self(3);
    /// RFC 2408 §4.7, RFC 2409 §5.
    pub const AGGRESSIVE: Self = Self(4);
    /// RFC 2408 §4.8, RFC 2409 §5.7.
    pub const INFORMATIONAL: Self = Self(5);
    /// RFC 2409 §5.5 (the first of the DOI-specific range, 32-239).
    pub const QUICK_MODE: Self = Self(32);
    /// RFC 2409 §6.2.
    pub const NEW_GROUP_MODE: Self = Self(33);

    /// The exchanges RFC 2408 and RFC 2409 define; anything else is
    /// INVALID-EXCHANGE-TYPE (§5.1 step 5).
    #[must_use]
    pub fn is_known(self) -> bool {
        matches!(self.0, 1..=5 | 32 | 33)
    }
}

/// Header flags (RFC 2408 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// E: the payloads after the header are encrypted.
    pub const ENCRYPTION: u8 = 0x01;
    /// C: Commit, key exchange synchronisation (RFC 2408 §3.1, RFC 2409 §5.5).
    pub const COMMIT: u8 = 0x02;
    /// A: Authentication Only (Informational exchanges with a hash only).
    pub const AUTHENTICATION_ONLY: u8 = 0x04;
    const KNOWN: u8 = Self::ENCRYPTION | Self::COMMIT | Self::AUTHENTICATION_ONLY;

    #[must_use]
    pub fn encrypted(self) -> bool {
        self.0 & Self::ENCRYPTION != 0
    }

    #[must_use]
    pub fn commit(self) -> bool {
        self.0 & Self::COMMIT != 0
    }

    #[must_use]
    pub fn authentication_only(self) -> bool {
        self.0 & Self::AUTHENTICATION_ONLY != 0
    }
}

/// A decoded ISAKMP header. The version is always 1.0 and not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// CKY-I, the initiator's SPI (RFC 2408 §2.5.3).
    pub initiator_cookie: u64,
    /// CKY-R; zero in the first message of Main and Aggressive Mode.
    pub responder_cookie: u64,
    /// Type of the first payload of the body.
    pub next_payload: PayloadType,
    pub exchange_type: ExchangeType,
    pub flags: Flags,
    /// Zero in phase 1; random per Quick Mode / Informational exchange.
    pub message_id: u32,
    /// Total message length, header included. `encode_header` recomputes it.
    pub length: u32,
}

/// Reads the header of one ISAKMP datagram and returns it with the body
/// (the octets the header's Length covers after the header: ciphertext when
/// `flags.encrypted()`, payloads otherwise).
///
/// Checks RFC 2408 §5.1 steps 1 (only that CKY-I is non-zero), 3-6 and the
/// Length against the datagram. The first payload type (step 2) is checked
/// by `parse_payloads`, which also sees the following ones.
pub fn parse_header(datagram: &[u8]) -> Result<(Header, &[u8]), Error> {
    let have = datagram.len();
    let (rest, (icky, rcky, next, version, exchange, flags, message_id, length)) = read(
        datagram,
        tuple((be_u64, be_u64, be_u8, be_u8, be_u8, be_u8, be_u32, be_u32)),
        || Error::HeaderTruncated { have },
    )?;
    // §5.1 steps in order. Step 1: a zero CKY-I is never valid (§2.5.3).
    if icky == 0 {
        return Err(Error::InvalidCookie);
    }
    // Steps 3/4: MjVer is the high nibble, MnVer the low one.
    let (major, minor) = (version >> 4, version & 0x0f);
    if major != 1 {
        return Err(Error::InvalidMajorVersion(major));
    }
    if minor != 0 {
        return Err(Error::InvalidMinorVersion(minor));
    }
    let exchange_type = ExchangeType(exchange);
    if !exchange_type.is_known() {
        return Err(Error::InvalidExchangeType(exchange));
    }
    if flags & !Flags::KNOWN != 0 {
        return Err(Error::InvalidFlags(flags));
    }
    // One UDP datagram carries exactly one message: a Length that is short
    // or long is a damaged or forged packet.
    if usize::try_from(length).ok() != Some(have) {
        return Err(Error::LengthMismatch {
            header: length,
            datagram: have,
        });
    }
    let header = Header {
        initiator_cookie: icky,
        responder_cookie: rcky,
        next_payload: PayloadType(next),
        exchange_type,
        flags: Flags(flags),
        message_id,
        length,
    };
    Ok((header, rest))
}

/// Writes the 28-octet header for a body of `body_len` octets (ciphertext
/// when the Encryption flag is set). `header.length` is ignored: the
/// Length written is `HEADER_LEN + body_len`.
pub fn encode_header(header: &Header, body_len: usize) -> Result<[u8; HEADER_LEN], EncodeError> {
    let total = body_len
        .checked_add(HEADER_LEN)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(EncodeError::TooLong("message"))?;
    let mut out = BytesMut::with_capacity(HEADER_LEN);
    out.put_u64(header.initiator_cookie);
    out.put_u64(header.responder_cookie);
    out.put_u8(header.next_payload.0);
    out.put_u8(0x10);
    out.put_u8(header.exchange_type.0);
    out.put_u8(header.flags.0);
    out.put_u32(header.message_id);
    out.put_u32(total);
    let mut fixed = [0u8; HEADER_LEN];
    fixed.copy_from_slice(&out);
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse() {
        let header = Header {
            initiator_cookie: 0x0102_0304_0506_0708,
            responder_cookie: 9,
            next_payload: PayloadType::HASH,
            exchange_type: ExchangeType::QUICK_MODE,
            flags: Flags(Flags::ENCRYPTION | Flags::COMMIT),
            message_id: 0xdead_beef,
            length: 0,
        };
        let mut datagram = encode_header(&header, 32).unwrap().to_vec();
        datagram.extend_from_slice(&[0xaa; 32]);
        let (parsed, body) = parse_header(&datagram).unwrap();
        assert_eq!(
            parsed,
            Header {
                length: 60,
                ..header
            }
        );
        assert_eq!(body, &[0xaa; 32]);
        assert!(parsed.flags.encrypted() && parsed.flags.commit());
        assert!(!parsed.flags.authentication_only());
    }

    #[test]
    fn body_too_long_for_the_length_field() {
        assert_eq!(
            encode_header(
                &Header {
                    initiator_cookie: 1,
                    responder_cookie: 0,
                    next_payload: PayloadType::NONE,
                    exchange_type: ExchangeType::BASE,
                    flags: Flags(0),
                    message_id: 0,
                    length: 0
                },
                usize::MAX
            ),
            Err(EncodeError::TooLong("message"))
        );
    }
}
