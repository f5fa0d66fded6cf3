//! The userspace IPv4 endpoint inside an IPsec tunnel. (doc TBD)

mod config;
mod device;
mod endpoint;
mod event;
mod icmp;
mod ingress;
mod stats;

pub use config::{ConfigError, TunnelIpConfig, DEFAULT_MTU, DEFAULT_PREFIX_LEN, DEFAULT_TCP_MSS};
pub use endpoint::{Disposition, TunnelIp, TunnelIpError};
pub use event::{CloseReason, TcpEvent, TcpHandle, TcpState};
pub use icmp::REPLY_TTL;
pub use ingress::DropReason;
pub use stats::Stats;
