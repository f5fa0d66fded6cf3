//! Per-SA counters: traffic for lifetimes (RFC 4301 §4.4.2.1) and drops by
//! cause, so the runtime can report them without logging per packet.

/// Monotonic counters of one SA. Bytes are inner-packet bytes (the Payload
/// Data field), the quantity IKE byte lifetimes limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets_out: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub bytes_in: u64,
    /// Refused by the anti-replay window (RFC 4303 §3.4.3), before or after
    /// the ICV check.
    pub replay_drops: u64,
    /// ICV mismatch (RFC 4303 §3.4.4).
    pub icv_failures: u64,
    /// Too short, misaligned, wrong SPI, bad pad length or padding bytes.
    pub malformed: u64,
}
