//! Sans-IO BFD core (RFC 5880, single hop per RFC 5881).
//!
//! Nothing in this crate owns a socket, a clock or a thread. Received
//! datagrams (with their TTL), timer expiries and operator commands go in;
//! datagrams to send, timers to arm and events come out. The runtime crate
//! binds UDP port 3784, sends with TTL 255 and keeps the clocks.
//!
//! Rooms, as in every protocol crate of hybridlab:
//! - [`packet`]: the Control packet codec (RFC 5880 §4).
//! - [`session`]: one session's state machine, timers and counters
//!   (RFC 5880 §6).
//! - [`demux`]: many sessions behind one socket, packets routed by
//!   discriminator or by peer (RFC 5881 §3).

pub mod demux;
pub mod packet;
pub mod session;

pub use demux::{SessionTable, TableError};
pub use packet::{ControlPacket, Diagnostic, State};
pub use session::{
    DownCause, DropReason, Input, Output, Session, SessionConfig, SessionView, TimerKind,
};
