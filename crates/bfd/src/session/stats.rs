//! Per-session counters, for `hybridlab show bfd` and the control API.

use crate::packet::{Diagnostic, ParseError};
use serde::Serialize;

/// Why a received packet was dropped. Serialized with the names of the
/// fields of [`DropCounts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// RFC 5880 §6.8.6: version is not 1.
    BadVersion,
    /// Shorter than the mandatory section, or a Length field below 24 (26
    /// with the A bit).
    ShortLength,
    /// A Length field beyond the UDP payload.
    LengthExceedsPayload,
    /// Detect Mult is zero.
    ZeroMultiplier,
    /// The Multipoint bit is set.
    Multipoint,
    /// My Discriminator is zero.
    ZeroMyDiscriminator,
    /// Your Discriminator is zero while the sender is Init or Up.
    ZeroYourDiscriminator,
    /// A malformed authentication section.
    BadAuthentication,
    /// An authentication section where none is in use (§6.8.6).
    UnexpectedAuthentication,
    /// RFC 5881 §5: a single-hop packet must arrive with TTL 255.
    LowTtl,
    /// Your Discriminator names no session of ours.
    UnknownDiscriminator,
    /// Your Discriminator names a session of another peer.
    PeerMismatch,
    /// Your Discriminator is zero and no session exists for the sender.
    UnknownPeer,
    /// The session has not been started.
    NotStarted,
}

impl From<&ParseError> for DropReason {
    fn from(e: &ParseError) -> Self {
        match e {
            ParseError::BadVersion(_) => DropReason::BadVersion,
            ParseError::Truncated { .. } | ParseError::ShortLength { .. } => {
                DropReason::ShortLength
            }
            ParseError::LengthExceedsPayload { .. } => DropReason::LengthExceedsPayload,
            ParseError::ZeroDetectMult => DropReason::ZeroMultiplier,
            ParseError::Multipoint => DropReason::Multipoint,
            ParseError::ZeroMyDiscriminator => DropReason::ZeroMyDiscriminator,
            ParseError::ZeroYourDiscriminator(_) => DropReason::ZeroYourDiscriminator,
            ParseError::BadAuthentication(_) => DropReason::BadAuthentication,
        }
    }
}

/// Dropped packets by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    pub bad_version: u64,
    pub short_length: u64,
    pub length_exceeds_payload: u64,
    pub zero_multiplier: u64,
    pub multipoint: u64,
    pub zero_my_discriminator: u64,
    pub zero_your_discriminator: u64,
    pub bad_authentication: u64,
    pub unexpected_authentication: u64,
    pub low_ttl: u64,
    pub unknown_discriminator: u64,
    pub peer_mismatch: u64,
    pub unknown_peer: u64,
    pub not_started: u64,
}

impl DropCounts {
    pub fn record(&mut self, reason: DropReason) {
        bump(match reason {
            DropReason::BadVersion => &mut self.bad_version,
            DropReason::ShortLength => &mut self.short_length,
            DropReason::LengthExceedsPayload => &mut self.length_exceeds_payload,
            DropReason::ZeroMultiplier => &mut self.zero_multiplier,
            DropReason::Multipoint => &mut self.multipoint,
            DropReason::ZeroMyDiscriminator => &mut self.zero_my_discriminator,
            DropReason::ZeroYourDiscriminator => &mut self.zero_your_discriminator,
            DropReason::BadAuthentication => &mut self.bad_authentication,
            DropReason::UnexpectedAuthentication => &mut self.unexpected_authentication,
            DropReason::LowTtl => &mut self.low_ttl,
            DropReason::UnknownDiscriminator => &mut self.unknown_discriminator,
            DropReason::PeerMismatch => &mut self.peer_mismatch,
            DropReason::UnknownPeer => &mut self.unknown_peer,
            DropReason::NotStarted => &mut self.not_started,
        });
    }

    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::BadVersion => self.bad_version,
            DropReason::ShortLength => self.short_length,
            DropReason::LengthExceedsPayload => self.length_exceeds_payload,
            DropReason::ZeroMultiplier => self.zero_multiplier,
            DropReason::Multipoint => self.multipoint,
            DropReason::ZeroMyDiscriminator => self.zero_my_discriminator,
            DropReason::ZeroYourDiscriminator => self.zero_your_discriminator,
            DropReason::BadAuthentication => self.bad_authentication,
            DropReason::UnexpectedAuthentication => self.unexpected_authentication,
            DropReason::LowTtl => self.low_ttl,
            DropReason::UnknownDiscriminator => self.unknown_discriminator,
            DropReason::PeerMismatch => self.peer_mismatch,
            DropReason::UnknownPeer => self.unknown_peer,
            DropReason::NotStarted => self.not_started,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionStats {
    pub sent: u64,
    /// Packets accepted by the session (RFC 5880 §6.8.6 passed).
    pub received: u64,
    /// Packets dropped, all reasons; `dropped` splits them.
    pub dropped_total: u64,
    pub dropped: DropCounts,
    pub state_changes: u64,
    /// Times the session came Up.
    pub up_transitions: u64,
    /// Times it left Up because the path failed (not AdminDown).
    pub failures: u64,
    /// The diagnostic of the last change to Down or AdminDown.
    pub last_diagnostic: Option<Diagnostic>,
}

impl SessionStats {
    pub(crate) fn record_drop(&mut self, reason: DropReason) {
        bump(&mut self.dropped_total);
        self.dropped.record(reason);
    }
}

/// Counters saturate: a peer must not be able to overflow one.
pub(crate) fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialize_as_their_counter_names() {
        let mut counts = DropCounts::default();
        for reason in [
            DropReason::BadVersion,
            DropReason::ShortLength,
            DropReason::LengthExceedsPayload,
            DropReason::ZeroMultiplier,
            DropReason::Multipoint,
            DropReason::ZeroMyDiscriminator,
            DropReason::ZeroYourDiscriminator,
            DropReason::BadAuthentication,
            DropReason::UnexpectedAuthentication,
            DropReason::LowTtl,
            DropReason::UnknownDiscriminator,
            DropReason::PeerMismatch,
            DropReason::UnknownPeer,
            DropReason::NotStarted,
        ] {
            counts.record(reason);
            assert_eq!(counts.get(reason), 1);
            let name = serde_json::to_value(reason).unwrap();
            let json = serde_json::to_value(&counts).unwrap();
            assert_eq!(json[name.as_str().unwrap()], 1, "{reason:?}");
        }
    }

    #[test]
    fn saturates() {
        let mut c = u64::MAX;
        bump(&mut c);
        assert_eq!(c, u64::MAX);
    }
}
