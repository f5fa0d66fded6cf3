//! OPEN optional parameters and capabilities (RFC 5492).

use super::Family;
use bytes::Bytes;

/// A capability advertised in OPEN (RFC 5492 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// RFC 4760 §8, code 1.
    Multiprotocol(Family),
    /// RFC 2918, code 2.
    RouteRefresh,
    /// RFC 4724, code 64. Parsed and kept; hybridlab does not act as a
    /// restarting or receiving speaker yet.
    GracefulRestart(GracefulRestart),
    /// RFC 6793 §3, code 65: the speaker's real AS number.
    FourOctetAs(u32),
    /// Anything else, kept byte for byte so it can be shown.
    Unknown { code: u8, value: Bytes },
}

/// RFC 4724 §3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GracefulRestart {
    /// R bit.
    pub restart_state: bool,
    /// N bit (RFC 8538).
    pub notification: bool,
    /// 12 bits, seconds.
    pub restart_time: u16,
    /// Per family: the F bit (forwarding state preserved).
    pub families: Vec<(Family, bool)>,
}
