//! Connection collision resolution (RFC 4271 §6.8, RFC 6286 §2.3).
//!
//! Both speakers may connect to each other at once. Each then sees two
//! connections to the same peer and must close the same one as the other
//! side does: the connection initiated by the speaker with the higher BGP
//! Identifier survives.

use std::net::Ipv4Addr;

/// One of the two colliding connections, as far as resolution cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Side {
    /// We initiated it.
    pub outbound: bool,
}

/// The connection that stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The connection that was already there.
    Existing,
    /// The connection the OPEN just arrived on.
    Arriving,
}

/// Decides which connection survives once the peer's BGP Identifier is known
/// from an OPEN arriving on `arriving`.
pub fn resolve(
    local: (Ipv4Addr, u32),
    remote: (Ipv4Addr, u32),
    arriving: Side,
    existing: Side,
) -> Keep {
    if arriving.outbound == existing.outbound {
        // Not a collision of the §6.8 kind: the same side connected twice,
        // which happens when a peer restarts before its old connection is
        // noticed dead. The old one is stale.
        return Keep::Arriving;
    }
    let keep_inbound = remote_initiated_wins(local, remote);
    if arriving.outbound != keep_inbound {
        Keep::Arriving
    } else {
        Keep::Existing
    }
}

/// RFC 4271 §6.8: compare the identifiers as unsigned 32-bit integers; if
/// ours is lower, the connection the remote initiated wins. RFC 6286 §2.3:
/// equal identifiers (possible between ASes) fall back to the AS numbers.
fn remote_initiated_wins(local: (Ipv4Addr, u32), remote: (Ipv4Addr, u32)) -> bool {
    let (local_id, remote_id) = (u32::from(local.0), u32::from(remote.0));
    if local_id == remote_id {
        local.1 < remote.1
    } else {
        local_id < remote_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: Side = Side { outbound: false };
    const OUT: Side = Side { outbound: true };

    fn id(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn lower_local_id_keeps_the_inbound_connection() {
        let local = (id("10.0.0.1"), 65001);
        let remote = (id("10.0.0.2"), 65002);
        assert_eq!(resolve(local, remote, IN, OUT), Keep::Arriving);
        assert_eq!(resolve(local, remote, OUT, IN), Keep::Existing);
    }

    #[test]
    fn higher_local_id_keeps_our_connection() {
        let local = (id("10.0.0.2"), 65001);
        let remote = (id("10.0.0.1"), 65002);
        assert_eq!(resolve(local, remote, IN, OUT), Keep::Existing);
        assert_eq!(resolve(local, remote, OUT, IN), Keep::Arriving);
    }

    #[test]
    fn identifiers_compare_as_unsigned_integers() {
        // 128.0.0.1 is above 10.0.0.1 only as an unsigned number.
        let local = (id("10.0.0.1"), 65001);
        let remote = (id("128.0.0.1"), 65002);
        assert_eq!(resolve(local, remote, IN, OUT), Keep::Arriving);
    }

    #[test]
    fn equal_identifiers_fall_back_to_as_numbers() {
        let same = id("10.0.0.1");
        assert_eq!(
            resolve((same, 65001), (same, 65002), IN, OUT),
            Keep::Arriving
        );
        assert_eq!(
            resolve((same, 65002), (same, 65001), IN, OUT),
            Keep::Existing
        );
    }

    #[test]
    fn same_direction_twice_keeps_the_newer() {
        let local = (id("10.0.0.2"), 65001);
        let remote = (id("10.0.0.1"), 65002);
        assert_eq!(resolve(local, remote, IN, IN), Keep::Arriving);
        assert_eq!(resolve(local, remote, OUT, OUT), Keep::Arriving);
    }
}
