//! bgp-feeder: the load generator of `interop/bench-ingest`.
//!
//! A deliberately small BGP speaker. It opens one session, encodes a whole
//! IPv4 table of /24s into the densest UPDATEs a 4096-byte message allows
//! before the clock starts, writes them as fast as the peer reads, and polls
//! a shell command for the peer's prefix count to time ingestion. It speaks
//! only what that needs: OPEN, KEEPALIVE, UPDATE out; it reads and discards
//! whatever the peer sends, stopping at a NOTIFICATION.
//!
//! - [`wire`]: the few message shapes, encoded by hand.
//! - [`table`]: the synthetic table and its packing into UPDATEs.
//! - [`feeder`]: the TCP session and the timing.

pub mod feeder;
pub mod table;
pub mod wire;
