//! Counters of one endpoint, for the status API and for tests.

use crate::ingress::DropReason;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets handed to [`crate::TunnelIp::receive`].
    pub received: u64,
    /// TCP segments passed to the TCP stack.
    pub tcp_in: u64,
    /// Echo requests answered, for the inside address or a VPC host.
    pub echo_replied: u64,
    /// Truncated or corrupt at any layer (IP, TCP, ICMP).
    pub malformed: u64,
    pub fragments: u64,
    pub not_for_us: u64,
    pub unsupported: u64,
    /// Packets returned by [`crate::TunnelIp::poll`] for the SA.
    pub sent: u64,
}

impl Stats {
    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        let counter = match reason {
            DropReason::MalformedIp | DropReason::MalformedTcp | DropReason::MalformedIcmp => {
                &mut self.malformed
            }
            DropReason::Fragment => &mut self.fragments,
            DropReason::NotForUs(_) => &mut self.not_for_us,
            DropReason::Unsupported(_) => &mut self.unsupported,
        };
        *counter += 1;
    }

    /// Every packet dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.malformed + self.fragments + self.not_for_us + self.unsupported
    }
}
