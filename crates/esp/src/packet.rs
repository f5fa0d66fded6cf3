//! ESP packet layout (RFC 4303 §2) for AES-CBC (RFC 3602 §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
//! |               Security Parameters Index (SPI)                 | ^Int.
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//! |                      Sequence Number                          | |ered
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
//! |                 IV (16 octets, RFC 3602 §3)                   | |   ^
//! ~                                                               ~ |   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
//! |    Payload Data: the inner IP packet in tunnel mode           | |Conf.
//! ~                                                               ~ |Cov-
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |ered*
//! |               |     Padding (0-255 bytes): 1, 2, 3, ...       | |   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
//! |                               |  Pad Length   | Next Header   | v   v
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
//! |   Integrity Check Value (12 bytes SHA1-96, 16 SHA256-128)     |
//! ~                                                               ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! (*) The IV is integrity-covered but sent in clear.

use nom::number::complete::be_u32;
use nom::sequence::pair;
use nom::IResult;

use crate::algorithms::{BLOCK_LEN, IV_LEN};

/// SPI + Sequence Number.
pub const HEADER_LEN: usize = 8;
/// Pad Length + Next Header.
pub const TRAILER_LEN: usize = 2;

/// Next Header for an IPv4 inner packet in tunnel mode (IANA protocol 4).
pub const NEXT_HEADER_IPV4: u8 = 4;
/// Next Header for an IPv6 inner packet in tunnel mode.
pub const NEXT_HEADER_IPV6: u8 = 41;
/// RFC 4303 §2.6: "no next header": a dummy (TFC) packet the receiver MUST
/// be able to discard. `open` returns it like any other; the caller drops it.
pub const NEXT_HEADER_DUMMY: u8 = 59;

/// Default padding bytes, RFC 4303 §2.4: 1, 2, 3, ... Never more than a
/// block minus one is needed for AES.
pub(crate) const MONOTONIC_PAD: [u8; BLOCK_LEN - 1] =
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// SPI and sequence number, the part of an ESP packet anyone can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspHeader {
    pub spi: u32,
    pub sequence: u32,
}

/// Parses the clear header; the rest is the SA's business.
pub fn parse_header(input: &[u8]) -> IResult<&[u8], EspHeader> {
    let (rest, (spi, sequence)) = pair(be_u32, be_u32)(input)?;
    Ok((rest, EspHeader { spi, sequence }))
}

/// The SPI of an ESP packet, for the runtime's SA lookup. `None` when the
/// packet is too short to carry one.
pub fn peek_spi(packet: &[u8]) -> Option<u32> {
    parse_header(packet).ok().map(|(_, h)| h.spi)
}

/// Plaintext length before encryption: payload + padding + trailer, rounded
/// up to the block size. RFC 4303 §2.4 wants the ciphertext to end on a
/// 4-byte boundary too; AES's 16-byte blocks already give that.
pub(crate) const fn padded_len(payload_len: usize) -> usize {
    (payload_len + TRAILER_LEN).div_ceil(BLOCK_LEN) * BLOCK_LEN
}

/// Total ESP packet length for a payload, given the ICV length.
pub const fn sealed_len(payload_len: usize, icv_len: usize) -> usize {
    HEADER_LEN + IV_LEN + padded_len(payload_len) + icv_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parses_and_short_input_errs() {
        let (rest, h) = parse_header(&[0, 0, 0x43, 0x21, 0, 0, 0, 1, 9]).unwrap();
        assert_eq!(
            h,
            EspHeader {
                spi: 0x4321,
                sequence: 1
            }
        );
        assert_eq!(rest, &[9]);
        for len in 0..8 {
            assert!(parse_header(&[0u8; 8][..len]).is_err());
            assert_eq!(peek_spi(&[0u8; 8][..len]), None);
        }
    }

    #[test]
    fn padding_rounds_payload_plus_trailer_to_blocks() {
        assert_eq!(padded_len(0), 16);
        assert_eq!(padded_len(14), 16);
        assert_eq!(padded_len(15), 32);
        assert_eq!(padded_len(64), 80); // RFC 3602 case #5: 14 pad bytes
        assert_eq!(sealed_len(1400, 12), 8 + 16 + 1408 + 12);
    }
}
