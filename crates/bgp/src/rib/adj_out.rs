//! Adj-RIB-Out: what each peer was sent (RFC 4271 §3.2), and the packing of
//! changes into UPDATE messages.
//!
//! Changes for one peer are collected in an [`OutBatch`]: withdrawals, and
//! announcements grouped by attributes object (export shares one object
//! between all prefixes sent with the same attributes). [`OutBatch::into_updates`]
//! turns that into as few UPDATEs as fit in 4096 octets (§4.1) each, with
//! the codec's packer.

use super::{FxHashMap, RouteAttrs};
use crate::packet::{
    split_announcements, split_withdrawals, CodecContext, Family, NextHop6, Prefix, Prefix4,
    Prefix6, Update,
};
use std::net::IpAddr;
use std::sync::Arc;

/// What one peer was sent and still has.
#[derive(Debug, Default)]
pub struct AdjRibOut {
    v4: FxHashMap<Prefix4, Arc<RouteAttrs>>,
    v6: FxHashMap<Prefix6, Arc<RouteAttrs>>,
}

impl AdjRibOut {
    /// Records that the peer should now have `route` for `prefix` (`None`:
    /// nothing) and queues the difference, if any, in `batch`.
    pub fn set(&mut self, prefix: Prefix, route: Option<Arc<RouteAttrs>>, batch: &mut OutBatch) {
        match prefix {
            Prefix::V4(p) => set(&mut self.v4, p, route, prefix, batch),
            Prefix::V6(p) => set(&mut self.v6, p, route, prefix, batch),
        }
    }

    /// Queues everything sent in `family` again (ROUTE-REFRESH, RFC 2918 §4).
    pub fn resend(&self, family: Family, batch: &mut OutBatch) {
        match family {
            Family::IPV4_UNICAST => {
                for (p, route) in &self.v4 {
                    batch.announce(Prefix::V4(*p), route);
                }
            }
            Family::IPV6_UNICAST => {
                for (p, route) in &self.v6 {
                    batch.announce(Prefix::V6(*p), route);
                }
            }
            _ => {}
        }
    }

    /// Number of prefixes advertised in `family`.
    pub fn advertised(&self, family: Family) -> usize {
        match family {
            Family::IPV4_UNICAST => self.v4.len(),
            Family::IPV6_UNICAST => self.v6.len(),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn get(&self, prefix: &Prefix) -> Option<&Arc<RouteAttrs>> {
        match prefix {
            Prefix::V4(p) => self.v4.get(p),
            Prefix::V6(p) => self.v6.get(p),
        }
    }

    /// Every prefix sent and not withdrawn, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Prefix, &Arc<RouteAttrs>)> {
        let v4 = self.v4.iter().map(|(p, r)| (Prefix::V4(*p), r));
        let v6 = self.v6.iter().map(|(p, r)| (Prefix::V6(*p), r));
        v4.chain(v6)
    }

    /// Forgets everything: the session went down.
    pub fn clear(&mut self) {
        self.v4 = FxHashMap::default();
        self.v6 = FxHashMap::default();
    }
}

fn set<K: std::hash::Hash + Eq>(
    table: &mut FxHashMap<K, Arc<RouteAttrs>>,
    key: K,
    route: Option<Arc<RouteAttrs>>,
    prefix: Prefix,
    batch: &mut OutBatch,
) {
    match route {
        Some(route) => {
            if let Some(old) = table.get(&key) {
                if Arc::ptr_eq(old, &route) || **old == *route {
                    return;
                }
            }
            batch.announce(prefix, &route);
            table.insert(key, route);
        }
        None => {
            if table.remove(&key).is_some() {
                batch.withdraw(prefix);
            }
        }
    }
}

/// Changes to send to one peer. Each prefix must be queued at most once.
#[derive(Debug, Default)]
pub struct OutBatch {
    groups: Vec<(Arc<RouteAttrs>, Vec<Prefix>)>,
    /// Attributes object address → index in `groups`.
    index: FxHashMap<usize, usize>,
    withdrawn: Vec<Prefix>,
}

impl OutBatch {
    pub fn announce(&mut self, prefix: Prefix, route: &Arc<RouteAttrs>) {
        let key = Arc::as_ptr(route) as usize;
        let groups = &mut self.groups;
        let i = *self.index.entry(key).or_insert_with(|| {
            groups.push((Arc::clone(route), Vec::new()));
            groups.len() - 1
        });
        if let Some((_, prefixes)) = self.groups.get_mut(i) {
            prefixes.push(prefix);
        }
    }

    pub fn withdraw(&mut self, prefix: Prefix) {
        self.withdrawn.push(prefix);
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.withdrawn.is_empty()
    }

    /// Number of prefixes announced in this batch.
    pub fn announced(&self) -> usize {
        self.groups.iter().map(|(_, p)| p.len()).sum()
    }

    /// The UPDATEs carrying this batch: withdrawals first, then a run of
    /// UPDATEs per attributes group, each message at most 4096 octets (the
    /// codec's packer measures the encoded attributes). A group that cannot
    /// be encoded (attributes too large for any message, no next hop) is
    /// left out, logged, and its prefix count returned as the second value.
    pub fn into_updates(self, ctx: &CodecContext) -> (Vec<Update>, usize) {
        let mut updates = split_withdrawals(&self.withdrawn);
        let mut dropped = 0;
        for (route, prefixes) in self.groups {
            let mut attrs = route.attrs.clone();
            let next_hop6 = match route.next_hop {
                Some(IpAddr::V4(n)) => {
                    attrs.next_hop = Some(n);
                    None
                }
                Some(IpAddr::V6(n)) => Some(NextHop6::from(n)),
                None => None,
            };
            match split_announcements(&attrs, next_hop6, &prefixes, ctx) {
                Ok(more) => updates.extend(more),
                Err(error) => {
                    dropped += prefixes.len();
                    tracing::warn!(%error, prefixes = prefixes.len(), "routes not sent: cannot be encoded");
                }
            }
        }
        (updates, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{
        try_encode_message, AsPath, Community, Message, Origin, PathAttributes, MAX_MESSAGE_LEN,
    };
    use bytes::BytesMut;
    use std::net::Ipv4Addr;

    fn route(med: u32, next_hop: &str) -> Arc<RouteAttrs> {
        Arc::new(RouteAttrs {
            attrs: PathAttributes {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::from_sequence([64512])),
                med: Some(med),
                ..PathAttributes::default()
            },
            next_hop: Some(next_hop.parse().unwrap()),
        })
    }

    fn v4(i: u32) -> Prefix {
        Prefix::V4(Prefix4::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap())
    }

    const FOUR_OCTET: CodecContext = CodecContext {
        four_octet_as: true,
    };

    #[test]
    fn adj_rib_out_sends_only_differences() {
        let mut out = AdjRibOut::default();
        let a = route(1, "192.0.2.1");
        let mut batch = OutBatch::default();
        out.set(v4(1), Some(Arc::clone(&a)), &mut batch);
        out.set(v4(2), None, &mut batch);
        assert_eq!(batch.announced(), 1);
        assert!(batch.withdrawn.is_empty());

        // Same attributes again (even another object with equal content): nothing.
        let mut batch = OutBatch::default();
        out.set(v4(1), Some(Arc::clone(&a)), &mut batch);
        out.set(v4(1), Some(route(1, "192.0.2.1")), &mut batch);
        assert!(batch.is_empty());

        let mut batch = OutBatch::default();
        out.set(v4(1), None, &mut batch);
        assert_eq!(batch.withdrawn, [v4(1)]);
        assert_eq!(out.advertised(Family::IPV4_UNICAST), 0);
    }

    #[test]
    fn groups_prefixes_by_attributes_and_stays_under_4096_octets() {
        let a = route(1, "192.0.2.1");
        let mut b_attrs = RouteAttrs::clone(&a);
        b_attrs.attrs.communities = (0..50).map(|i| Community::new(64512, i)).collect();
        let b = Arc::new(b_attrs);
        let mut batch = OutBatch::default();
        for i in 0..3000 {
            batch.announce(v4(i), if i % 2 == 0 { &a } else { &b });
        }
        for i in 3000..4500 {
            batch.withdraw(v4(i));
        }
        let (updates, dropped) = batch.into_updates(&FOUR_OCTET);
        assert_eq!(dropped, 0);
        for u in &updates {
            let mut buf = BytesMut::new();
            try_encode_message(&Message::Update(u.clone()), &FOUR_OCTET, &mut buf).unwrap();
            assert!(buf.len() <= MAX_MESSAGE_LEN, "{}", buf.len());
        }
        let withdrawn: usize = updates.iter().map(|u| u.withdrawn.len()).sum();
        assert_eq!(withdrawn, 1500);
        let announced: usize = updates.iter().map(|u| u.nlri.len()).sum();
        assert_eq!(announced, 3000);
        // Withdrawals come first; each announcing UPDATE carries one group.
        let first_announce = updates.iter().position(|u| !u.nlri.is_empty()).unwrap();
        assert!(updates[first_announce..]
            .iter()
            .all(|u| u.withdrawn.is_empty()));
        for u in &updates[first_announce..] {
            assert_eq!(u.attributes.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
            assert!(u.attributes.communities.is_empty() || u.attributes.communities.len() == 50);
        }
        // 1500 withdrawn /24s at 4 octets each need two messages.
        assert_eq!(
            updates.iter().filter(|u| !u.withdrawn.is_empty()).count(),
            2
        );
    }

    #[test]
    fn ipv6_goes_in_mp_attributes() {
        let a = route(1, "2001:db8::1");
        let mut batch = OutBatch::default();
        let p: Prefix = "2001:db8:1::/48".parse().unwrap();
        batch.announce(p, &a);
        batch.withdraw("2001:db8:2::/48".parse().unwrap());
        let (updates, _) = batch.into_updates(&CodecContext::default());
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].mp_unreach.as_ref().unwrap().withdrawn.len(), 1);
        let reach = updates[1].mp_reach.as_ref().unwrap();
        assert_eq!(reach.family, Family::IPV6_UNICAST);
        assert_eq!(reach.next_hops, ["2001:db8::1".parse::<IpAddr>().unwrap()]);
        assert_eq!(reach.nlri, [p]);
        assert_eq!(updates[1].attributes.next_hop, None);
    }
}
