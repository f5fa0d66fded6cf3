//! What `hybridlab show bfd --json` shows of a session. The runtime adds
//! the addresses and the time of the last change.

use super::{DownCause, SessionStats};
use crate::packet::{Diagnostic, State};
use serde::Serialize;

/// Intervals are in microseconds, as on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub state: State,
    /// What the peer last said its state was.
    pub remote_state: State,
    pub local_discriminator: u32,
    /// 0 until the peer is heard, and again after a Detection Time of silence.
    pub remote_discriminator: u32,
    /// bfd.LocalDiag: what our packets carry now.
    pub local_diagnostic: Diagnostic,
    /// The diagnostic in the peer's last packet.
    pub remote_diagnostic: Diagnostic,
    /// The diagnostic of the last change to Down or AdminDown.
    pub last_diagnostic: Option<Diagnostic>,
    /// Why the session last went down.
    pub last_down_cause: Option<DownCause>,
    pub passive: bool,
    pub detect_mult: u8,
    /// 0 until the peer is heard.
    pub remote_detect_mult: u8,
    /// Our Desired Min TX and Required Min RX, as our packets say them.
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
    pub remote_desired_min_tx_us: u32,
    pub remote_required_min_rx_us: u32,
    /// The interval we send at, before jitter: the slower of our Desired
    /// Min TX and the peer's Required Min RX.
    pub tx_interval_us: u32,
    /// How long the peer may stay silent; `None` until it is heard.
    pub detection_time_us: Option<u64>,
    /// A Poll Sequence is running.
    pub polling: bool,
    pub counters: SessionStats,
}
