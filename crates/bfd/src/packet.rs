//! BFD Control packet codec (RFC 5880 §4): `nom` reads, `bytes` writes.
//!
//! [`ControlPacket::decode`] applies the reception checks of RFC 5880 §6.8.6
//! that need nothing but the packet itself, so a [`ControlPacket`] in hand is
//! always one a session may look at. Checks that need a session (TTL, the
//! discriminator lookup, authentication in use) live with the session.

use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u32, be_u8};
use nom::IResult;
use serde::{Serialize, Serializer};
use std::fmt;

/// RFC 5880 §4.1: the only version defined.
pub const VERSION: u8 = 1;
/// The mandatory section, without authentication.
pub const HEADER_LEN: usize = 24;
/// RFC 5880 §6.8.6: with the A bit, Auth Type and Auth Len must be there too.
pub const MIN_LEN_WITH_AUTH: usize = HEADER_LEN + 2;

/// RFC 5880 §4.1 `Sta`: the sender's session state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum State {
    AdminDown,
    Down,
    Init,
    Up,
}

impl State {
    pub fn code(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }

    /// The two low bits of `code`; every value is defined.
    pub fn from_code(code: u8) -> Self {
        match code & 0b11 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        })
    }
}

/// RFC 5880 §4.1 `Diag`: why the sender's session last changed state.
/// Shown and serialized by its RFC name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Diagnostic {
    #[default]
    NoDiagnostic,
    ControlDetectionTimeExpired,
    EchoFunctionFailed,
    NeighborSignaledSessionDown,
    ForwardingPlaneReset,
    PathDown,
    ConcatenatedPathDown,
    AdministrativelyDown,
    ReverseConcatenatedPathDown,
    /// 9–31, reserved; kept so it can be shown. Encoding a value above 31
    /// fails: the field has five bits.
    Unknown(u8),
}

impl Diagnostic {
    pub fn code(self) -> u8 {
        match self {
            Diagnostic::NoDiagnostic => 0,
            Diagnostic::ControlDetectionTimeExpired => 1,
            Diagnostic::EchoFunctionFailed => 2,
            Diagnostic::NeighborSignaledSessionDown => 3,
            Diagnostic::ForwardingPlaneReset => 4,
            Diagnostic::PathDown => 5,
            Diagnostic::ConcatenatedPathDown => 6,
            Diagnostic::AdministrativelyDown => 7,
            Diagnostic::ReverseConcatenatedPathDown => 8,
            Diagnostic::Unknown(code) => code,
        }
    }

    /// The five low bits of `code`.
    pub fn from_code(code: u8) -> Self {
        match code & 0x1f {
            0 => Diagnostic::NoDiagnostic,
            1 => Diagnostic::ControlDetectionTimeExpired,
            2 => Diagnostic::EchoFunctionFailed,
            3 => Diagnostic::NeighborSignaledSessionDown,
            4 => Diagnostic::ForwardingPlaneReset,
            5 => Diagnostic::PathDown,
            6 => Diagnostic::ConcatenatedPathDown,
            7 => Diagnostic::AdministrativelyDown,
            8 => Diagnostic::ReverseConcatenatedPathDown,
            other => Diagnostic::Unknown(other),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Diagnostic::NoDiagnostic => "No Diagnostic",
            Diagnostic::ControlDetectionTimeExpired => "Control Detection Time Expired",
            Diagnostic::EchoFunctionFailed => "Echo Function Failed",
            Diagnostic::NeighborSignaledSessionDown => "Neighbor Signaled Session Down",
            Diagnostic::ForwardingPlaneReset => "Forwarding Plane Reset",
            Diagnostic::PathDown => "Path Down",
            Diagnostic::ConcatenatedPathDown => "Concatenated Path Down",
            Diagnostic::AdministrativelyDown => "Administratively Down",
            Diagnostic::ReverseConcatenatedPathDown => "Reverse Concatenated Path Down",
            Diagnostic::Unknown(code) => return write!(f, "Reserved ({code})"),
        };
        f.write_str(name)
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// RFC 5880 §4.1 `Auth Type` values.
pub mod auth_type {
    pub const SIMPLE_PASSWORD: u8 = 1;
    pub const KEYED_MD5: u8 = 2;
    pub const METICULOUS_KEYED_MD5: u8 = 3;
    pub const KEYED_SHA1: u8 = 4;
    pub const METICULOUS_KEYED_SHA1: u8 = 5;
}

/// The optional authentication section (RFC 5880 §4.2–§4.4). hybridlab
/// sends none and drops packets carrying one (§6.8.6), but parses it so a
/// capture shows what the peer sent. The Reserved octet of the keyed forms
/// is read and not kept; it is written as zero.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Auth Type   |   Auth Len    |    Authentication Data...     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Simple Password (§4.2):  Auth Key ID (1), Password (1-16)
/// Keyed MD5 / SHA1 (§4.3, §4.4):  Auth Key ID (1), Reserved (1),
///     Sequence Number (4), Auth Key/Digest (16) or Auth Key/Hash (20)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    SimplePassword {
        key_id: u8,
        password: Bytes,
    },
    KeyedMd5 {
        meticulous: bool,
        key_id: u8,
        sequence: u32,
        digest: [u8; 16],
    },
    KeyedSha1 {
        meticulous: bool,
        key_id: u8,
        sequence: u32,
        hash: [u8; 20],
    },
    /// Type 0 (reserved) or 6–255: the octets after Auth Len, kept.
    Unknown {
        auth_type: u8,
        data: Bytes,
    },
}

impl Authentication {
    pub fn auth_type(&self) -> u8 {
        match self {
            Authentication::SimplePassword { .. } => auth_type::SIMPLE_PASSWORD,
            Authentication::KeyedMd5 {
                meticulous: false, ..
            } => auth_type::KEYED_MD5,
            Authentication::KeyedMd5 {
                meticulous: true, ..
            } => auth_type::METICULOUS_KEYED_MD5,
            Authentication::KeyedSha1 {
                meticulous: false, ..
            } => auth_type::KEYED_SHA1,
            Authentication::KeyedSha1 {
                meticulous: true, ..
            } => auth_type::METICULOUS_KEYED_SHA1,
            Authentication::Unknown { auth_type, .. } => *auth_type,
        }
    }

    /// Auth Len: the whole section, type and length octets included.
    fn wire_len(&self) -> usize {
        2 + match self {
            Authentication::SimplePassword { password, .. } => 1 + password.len(),
            Authentication::KeyedMd5 { .. } => 22,
            Authentication::KeyedSha1 { .. } => 26,
            Authentication::Unknown { data, .. } => data.len(),
        }
    }
}

/// A BFD Control packet that passed the packet-level checks of RFC 5880
/// §6.8.6. Version (always 1), Length and the A bit are implied by the
/// fields; the Multipoint bit is always clear (packets with it are refused).
/// Intervals are in microseconds, as on the wire.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       My Discriminator                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Your Discriminator                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Desired Min TX Interval                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Required Min RX Interval                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Required Min Echo RX Interval                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPacket {
    pub diagnostic: Diagnostic,
    pub state: State,
    /// P: the sender asks for a Final (§6.5).
    pub poll: bool,
    /// F: the answer to a Poll.
    pub final_: bool,
    /// C: the sender's BFD does not share fate with its control plane.
    pub control_plane_independent: bool,
    /// D: the sender wishes to run Demand mode (§6.6).
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
    pub required_min_echo_rx_us: u32,
    /// Present exactly when the A bit is set.
    pub authentication: Option<Authentication>,
}

/// Why a received packet was refused by the codec (RFC 5880 §6.8.6, the
/// checks that need no session).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("version {0}, only version 1 exists")]
    BadVersion(u8),
    #[error("{payload} octets, shorter than the 24-octet mandatory section")]
    Truncated { payload: usize },
    #[error("Length field {length}, below the minimum of {minimum}")]
    ShortLength { length: u8, minimum: u8 },
    #[error("Length field {length}, beyond the {payload}-octet payload")]
    LengthExceedsPayload { length: u8, payload: usize },
    #[error("Detect Mult is zero")]
    ZeroDetectMult,
    #[error("Multipoint bit set")]
    Multipoint,
    #[error("My Discriminator is zero")]
    ZeroMyDiscriminator,
    #[error("Your Discriminator is zero while the sender is {0}")]
    ZeroYourDiscriminator(State),
    #[error("authentication section: {0}")]
    BadAuthentication(&'static str),
}

/// Why a packet could not be written: only a hand-built packet can fail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("diagnostic {0} does not fit in five bits")]
    DiagnosticOutOfRange(u8),
    #[error("packet of {0} octets does not fit the Length field")]
    TooLong(usize),
    #[error("simple password of {0} octets; 1 to 16 allowed")]
    PasswordLength(usize),
}

const FLAG_POLL: u8 = 0x20;
const FLAG_FINAL: u8 = 0x10;
const FLAG_CPI: u8 = 0x08;
const FLAG_AUTH: u8 = 0x04;
const FLAG_DEMAND: u8 = 0x02;
const FLAG_MULTIPOINT: u8 = 0x01;

/// The mandatory section as it sits on the wire, before any check.
struct RawHeader {
    diagnostic: u8,
    state: u8,
    flags: u8,
    detect_mult: u8,
    length: u8,
    my_discriminator: u32,
    your_discriminator: u32,
    desired_min_tx_us: u32,
    required_min_rx_us: u32,
    required_min_echo_rx_us: u32,
}

fn raw_header(input: &[u8]) -> IResult<&[u8], RawHeader> {
    // The version, the top three bits, was checked before.
    let (input, vers_diag) = be_u8(input)?;
    let (input, sta_flags) = be_u8(input)?;
    let (input, detect_mult) = be_u8(input)?;
    let (input, length) = be_u8(input)?;
    let (input, my_discriminator) = be_u32(input)?;
    let (input, your_discriminator) = be_u32(input)?;
    let (input, desired_min_tx_us) = be_u32(input)?;
    let (input, required_min_rx_us) = be_u32(input)?;
    let (input, required_min_echo_rx_us) = be_u32(input)?;
    Ok((
        input,
        RawHeader {
            diagnostic: vers_diag & 0x1f,
            state: sta_flags >> 6,
            flags: sta_flags & 0x3f,
            detect_mult,
            length,
            my_discriminator,
            your_discriminator,
            desired_min_tx_us,
            required_min_rx_us,
            required_min_echo_rx_us,
        },
    ))
}

/// The authentication section, exactly `section` long (RFC 5880 §4.2–§4.4).
fn authentication(section: &[u8]) -> Result<Authentication, ParseError> {
    fn fixed<const N: usize>(input: &[u8]) -> IResult<&[u8], [u8; N]> {
        let (input, octets) = take(N)(input)?;
        let mut array = [0; N];
        array.copy_from_slice(octets);
        Ok((input, array))
    }
    fn keyed<const N: usize>(input: &[u8]) -> IResult<&[u8], (u8, u32, [u8; N])> {
        let (input, key_id) = be_u8(input)?;
        let (input, _reserved) = be_u8(input)?;
        let (input, sequence) = be_u32(input)?;
        let (input, digest) = fixed::<N>(input)?;
        Ok((input, (key_id, sequence, digest)))
    }
    let truncated = |_| ParseError::BadAuthentication("truncated");
    let (data, auth_type) = be_u8::<_, ()>(section).map_err(truncated)?;
    let (data, auth_len) = be_u8::<_, ()>(data).map_err(truncated)?;
    if usize::from(auth_len) != section.len() {
        return Err(ParseError::BadAuthentication(
            "Auth Len disagrees with the packet's Length",
        ));
    }
    let whole = |rest: &[u8]| {
        if rest.is_empty() {
            Ok(())
        } else {
            Err(ParseError::BadAuthentication("wrong Auth Len for its type"))
        }
    };
    let wrong_len = |_| ParseError::BadAuthentication("wrong Auth Len for its type");
    match auth_type {
        auth_type::SIMPLE_PASSWORD => {
            let (password, key_id) = be_u8::<_, ()>(data).map_err(wrong_len)?;
            // RFC 5880 §4.2: the password is 1 to 16 octets.
            if password.is_empty() || password.len() > 16 {
                return Err(ParseError::BadAuthentication("password of 1 to 16 octets"));
            }
            Ok(Authentication::SimplePassword {
                key_id,
                password: Bytes::copy_from_slice(password),
            })
        }
        auth_type::KEYED_MD5 | auth_type::METICULOUS_KEYED_MD5 => {
            let (rest, (key_id, sequence, digest)) = keyed::<16>(data)
                .map_err(|_| ParseError::BadAuthentication("wrong Auth Len for its type"))?;
            whole(rest)?;
            Ok(Authentication::KeyedMd5 {
                meticulous: auth_type == auth_type::METICULOUS_KEYED_MD5,
                key_id,
                sequence,
                digest,
            })
        }
        auth_type::KEYED_SHA1 | auth_type::METICULOUS_KEYED_SHA1 => {
            let (rest, (key_id, sequence, hash)) = keyed::<20>(data)
                .map_err(|_| ParseError::BadAuthentication("wrong Auth Len for its type"))?;
            whole(rest)?;
            Ok(Authentication::KeyedSha1 {
                meticulous: auth_type == auth_type::METICULOUS_KEYED_SHA1,
                key_id,
                sequence,
                hash,
            })
        }
        _ => Ok(Authentication::Unknown {
            auth_type,
            data: Bytes::copy_from_slice(data),
        }),
    }
}

impl ControlPacket {
    /// Parses one UDP payload. Octets beyond the Length field are ignored.
    /// The checks run in the order of RFC 5880 §6.8.6.
    pub fn decode(payload: &[u8]) -> Result<ControlPacket, ParseError> {
        if let Some(first) = payload.first() {
            if first >> 5 != VERSION {
                return Err(ParseError::BadVersion(first >> 5));
            }
        }
        let Ok((_, raw)) = raw_header(payload) else {
            return Err(ParseError::Truncated {
                payload: payload.len(),
            });
        };
        let with_auth = raw.flags & FLAG_AUTH != 0;
        let minimum = if with_auth {
            MIN_LEN_WITH_AUTH
        } else {
            HEADER_LEN
        };
        let length = usize::from(raw.length);
        if length < minimum {
            return Err(ParseError::ShortLength {
                length: raw.length,
                minimum: u8::try_from(minimum).unwrap_or(u8::MAX),
            });
        }
        let Some(packet) = payload.get(..length) else {
            return Err(ParseError::LengthExceedsPayload {
                length: raw.length,
                payload: payload.len(),
            });
        };
        if raw.detect_mult == 0 {
            return Err(ParseError::ZeroDetectMult);
        }
        if raw.flags & FLAG_MULTIPOINT != 0 {
            return Err(ParseError::Multipoint);
        }
        if raw.my_discriminator == 0 {
            return Err(ParseError::ZeroMyDiscriminator);
        }
        let state = State::from_code(raw.state);
        if raw.your_discriminator == 0 && !matches!(state, State::Down | State::AdminDown) {
            return Err(ParseError::ZeroYourDiscriminator(state));
        }
        let authentication = match packet.get(HEADER_LEN..) {
            Some(section) if with_auth => Some(authentication(section)?),
            _ => None,
        };
        Ok(ControlPacket {
            diagnostic: Diagnostic::from_code(raw.diagnostic),
            state,
            poll: raw.flags & FLAG_POLL != 0,
            final_: raw.flags & FLAG_FINAL != 0,
            control_plane_independent: raw.flags & FLAG_CPI != 0,
            demand: raw.flags & FLAG_DEMAND != 0,
            detect_mult: raw.detect_mult,
            my_discriminator: raw.my_discriminator,
            your_discriminator: raw.your_discriminator,
            desired_min_tx_us: raw.desired_min_tx_us,
            required_min_rx_us: raw.required_min_rx_us,
            required_min_echo_rx_us: raw.required_min_echo_rx_us,
            authentication,
        })
    }

    /// The packet's Length field.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN
            + self
                .authentication
                .as_ref()
                .map_or(0, Authentication::wire_len)
    }

    /// Appends the packet to `out`; on error nothing is written.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let diagnostic = self.diagnostic.code();
        if diagnostic > 0x1f {
            return Err(EncodeError::DiagnosticOutOfRange(diagnostic));
        }
        if let Some(Authentication::SimplePassword { password, .. }) = &self.authentication {
            if password.is_empty() || password.len() > 16 {
                return Err(EncodeError::PasswordLength(password.len()));
            }
        }
        let total = self.wire_len();
        let length = u8::try_from(total).map_err(|_| EncodeError::TooLong(total))?;
        let flags = [
            (self.poll, FLAG_POLL),
            (self.final_, FLAG_FINAL),
            (self.control_plane_independent, FLAG_CPI),
            (self.authentication.is_some(), FLAG_AUTH),
            (self.demand, FLAG_DEMAND),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .fold(0u8, |acc, (_, bit)| acc | bit);
        out.reserve(total);
        out.put_u8(VERSION << 5 | diagnostic);
        out.put_u8(self.state.code() << 6 | flags);
        out.put_u8(self.detect_mult);
        out.put_u8(length);
        out.put_u32(self.my_discriminator);
        out.put_u32(self.your_discriminator);
        out.put_u32(self.desired_min_tx_us);
        out.put_u32(self.required_min_rx_us);
        out.put_u32(self.required_min_echo_rx_us);
        if let Some(auth) = &self.authentication {
            // Fits: the whole packet's length was checked above.
            out.put_u8(auth.auth_type());
            out.put_u8(u8::try_from(auth.wire_len()).unwrap_or(u8::MAX));
            match auth {
                Authentication::SimplePassword { key_id, password } => {
                    out.put_u8(*key_id);
                    out.put_slice(password);
                }
                Authentication::KeyedMd5 {
                    key_id,
                    sequence,
                    digest,
                    ..
                } => {
                    out.put_u8(*key_id);
                    out.put_u8(0);
                    out.put_u32(*sequence);
                    out.put_slice(digest);
                }
                Authentication::KeyedSha1 {
                    key_id,
                    sequence,
                    hash,
                    ..
                } => {
                    out.put_u8(*key_id);
                    out.put_u8(0);
                    out.put_u32(*sequence);
                    out.put_slice(hash);
                }
                Authentication::Unknown { data, .. } => out.put_slice(data),
            }
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::with_capacity(self.wire_len());
        self.encode(&mut out)?;
        Ok(out.freeze())
    }
}

#[cfg(test)]
pub(crate) mod tests;
