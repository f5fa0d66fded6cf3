//! The router driven through real sessions: each test peer is a scripted
//! BGP speaker that connects, exchanges OPEN and KEEPALIVE with the real
//! FSM, sends encoded UPDATEs, and reads back what the router sent.

use super::*;
use crate::packet::{
    decode_message, encode_message, flags, AsPath, Capability, Community, FrameReader, MpReach,
    MpUnreach, Open, RawAttribute, AS_TRANS,
};
use crate::policy::{Action, Term};
use crate::session::{DownReason, State};
use bytes::{Bytes, BytesMut};

const LOCAL_AS: u32 = 64512;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn v4(text: &str) -> Prefix {
    text.parse().unwrap()
}

/// `10.x.y.0/24` for i = x·256 + y.
fn net(i: u32) -> crate::packet::Prefix4 {
    crate::packet::Prefix4::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap()
}

const CTX: CodecContext = CodecContext {
    four_octet_as: true,
};

/// What a scripted peer knows of its side.
struct Speaker {
    asn: u32,
    id: Ipv4Addr,
    local: IpAddr,
    remote: IpAddr,
    conn: Option<ConnId>,
    reader: FrameReader,
    /// Everything the router sent this speaker, decoded.
    received: Vec<Message>,
}

struct Harness {
    router: Router,
    speakers: Vec<Speaker>,
    /// Outputs other than Send, in order.
    events: Vec<RouterOutput>,
    next_conn: ConnId,
}

impl Harness {
    fn new() -> Self {
        Self::with_config(false)
    }

    fn with_config(always_compare_med: bool) -> Self {
        let config = RouterConfig {
            name: "cloud".into(),
            asn: LOCAL_AS,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            always_compare_med,
            export_mode: ExportMode::default(),
        };
        Harness {
            router: Router::new(config, 7),
            speakers: Vec::new(),
            events: Vec::new(),
            next_conn: 1,
        }
    }

    /// Adds a peer in `asn` with router ID 10.0.0.`n` reached at
    /// 192.0.2.`n` (we are 192.0.2.1 on every link). `n` must be ≥ 2.
    fn peer(&mut self, name: &str, asn: u32, n: u8, edit: impl FnOnce(&mut PeerConfig)) -> PeerId {
        let mut session = SessionConfig::new(LOCAL_AS, asn, Ipv4Addr::new(10, 0, 0, 1));
        session.jitter = false;
        let mut config = PeerConfig {
            name: name.into(),
            session,
            next_hop6: None,
            import: Policy::default(),
            export: Policy::default(),
            max_prefix: BTreeMap::new(),
        };
        edit(&mut config);
        let id = self.router.add_peer(config);
        self.speakers.push(Speaker {
            asn,
            id: Ipv4Addr::new(10, 0, 0, n),
            local: IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)),
            remote: ip("192.0.2.1"),
            conn: None,
            reader: FrameReader::default(),
            received: Vec::new(),
        });
        id
    }

    fn collect(&mut self, out: Vec<RouterOutput>) {
        for o in out {
            match o.action {
                SessionOutput::Send { conn, data } => {
                    let s = &mut self.speakers[o.peer];
                    if s.conn != Some(conn) {
                        continue;
                    }
                    s.reader.push(&data);
                    while let Some(frame) = s.reader.next_frame().unwrap() {
                        let decoded = decode_message(&frame, &CTX).unwrap();
                        assert!(
                            decoded.attribute_errors.is_empty(),
                            "{:?}",
                            decoded.attribute_errors
                        );
                        s.received.push(decoded.message);
                    }
                }
                _ => self.events.push(o),
            }
        }
    }

    fn input(&mut self, peer: PeerId, input: SessionInput) {
        let mut out = Vec::new();
        self.router.handle(peer, input, &mut out);
        self.collect(out);
    }

    /// Brings the peer's session to Established.
    fn up(&mut self, peer: PeerId) {
        let conn = self.next_conn;
        self.next_conn += 1;
        let s = &mut self.speakers[peer];
        s.conn = Some(conn);
        s.reader = FrameReader::default();
        let (local, remote) = (s.remote, s.local);
        let open = Open {
            version: 4,
            my_as: u16::try_from(s.asn).unwrap_or(AS_TRANS),
            hold_time: 90,
            bgp_id: s.id,
            capabilities: vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::Multiprotocol(Family::IPV6_UNICAST),
                Capability::RouteRefresh,
                Capability::FourOctetAs(s.asn),
            ],
            unknown_parameters: Vec::new(),
        };
        self.input(peer, SessionInput::Start);
        let connected = SessionInput::Connected {
            conn,
            outbound: true,
            local,
            remote,
        };
        self.input(peer, connected);
        self.deliver(peer, &Message::Open(open));
        self.deliver(peer, &Message::Keepalive);
        assert_eq!(
            self.router.session(peer).unwrap().state(),
            State::Established
        );
    }

    /// The speaker sends `msg` to the router.
    fn deliver(&mut self, peer: PeerId, msg: &Message) {
        let mut buf = BytesMut::new();
        encode_message(msg, &CTX, &mut buf);
        let conn = self.speakers[peer].conn.unwrap();
        let data = buf.freeze();
        self.input(peer, SessionInput::Received { conn, data });
    }

    fn send(&mut self, peer: PeerId, update: Update) {
        self.deliver(peer, &Message::Update(update));
    }

    /// The UPDATEs the router sent `peer` since last asked.
    fn updates(&mut self, peer: PeerId) -> Vec<Update> {
        std::mem::take(&mut self.speakers[peer].received)
            .into_iter()
            .filter_map(|m| match m {
                Message::Update(u) => Some(u),
                _ => None,
            })
            .collect()
    }

    /// The NOTIFICATIONs the router sent `peer` since last asked (other
    /// messages are kept).
    fn notifications(&mut self, peer: PeerId) -> Vec<Notification> {
        let received = &mut self.speakers[peer].received;
        let mut found = Vec::new();
        received.retain(|m| match m {
            Message::Notification(n) => {
                found.push(n.clone());
                false
            }
            _ => true,
        });
        found
    }

    fn announce(&mut self, prefix: &str, attrs: PathAttributes) {
        let mut out = Vec::new();
        self.router.announce(v4(prefix), attrs, &mut out);
        self.collect(out);
    }
}

use crate::packet::Notification;

fn attrs(asns: &[u32], next_hop: &str) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(asns.iter().copied())),
        next_hop: Some(next_hop.parse().unwrap()),
        ..PathAttributes::default()
    }
}

fn announce(attrs: PathAttributes, prefixes: &[&str]) -> Update {
    Update {
        attributes: attrs,
        nlri: prefixes
            .iter()
            .map(|p| match v4(p) {
                Prefix::V4(p) => p,
                Prefix::V6(_) => panic!("IPv4 only here"),
            })
            .collect(),
        ..Update::default()
    }
}

fn withdraw(prefixes: &[&str]) -> Update {
    Update {
        withdrawn: announce(PathAttributes::default(), prefixes).nlri,
        ..Update::default()
    }
}

/// The announced prefixes of `updates`, with their attributes.
fn announced(updates: &[Update]) -> Vec<(Prefix, PathAttributes)> {
    updates
        .iter()
        .flat_map(|u| u.announced().map(move |p| (p, u.attributes.clone())))
        .collect()
}

fn withdrawn(updates: &[Update]) -> Vec<Prefix> {
    updates
        .iter()
        .flat_map(|u| u.withdrawn_prefixes())
        .collect()
}

fn asns(a: &PathAttributes) -> Vec<u32> {
    a.as_path
        .as_ref()
        .map(|p| p.asns().collect())
        .unwrap_or_default()
}

#[test]
fn established_peer_gets_the_table_then_end_of_rib_per_family() {
    let mut h = Harness::new();
    h.announce("10.10.0.0/16", PathAttributes::default());
    let mut out = Vec::new();
    h.router.announce(
        "2001:db8:10::/48".parse().unwrap(),
        PathAttributes::default(),
        &mut out,
    );
    let frr = h.peer("frr", 65000, 2, |_| {});
    h.up(frr);

    let updates = h.updates(frr);
    assert_eq!(updates.len(), 4, "{updates:#?}");
    let v4_route = &updates[0];
    let expected: crate::packet::Prefix4 = "10.10.0.0/16".parse().unwrap();
    assert_eq!(v4_route.nlri, [expected]);
    assert_eq!(asns(&v4_route.attributes), [LOCAL_AS]);
    assert_eq!(v4_route.attributes.origin, Some(Origin::Igp));
    assert_eq!(
        v4_route.attributes.next_hop,
        Some(Ipv4Addr::new(192, 0, 2, 1))
    );
    assert!(updates[1].is_end_of_rib() && updates[1].mp_unreach.is_none());
    let reach = updates[2].mp_reach.as_ref().unwrap();
    assert_eq!(reach.nlri, [v4("2001:db8:10::/48")]);
    // No next_hop6 configured, IPv4 session: the IPv4-mapped local address.
    assert_eq!(reach.next_hops, [ip("::ffff:192.0.2.1")]);
    assert_eq!(
        updates[3].mp_unreach.as_ref().unwrap().family,
        Family::IPV6_UNICAST
    );
    assert!(updates[3].is_end_of_rib());

    let counts = h.router.prefix_counts(frr, Family::IPV4_UNICAST);
    assert_eq!(counts.advertised, 1);
}

#[test]
fn next_hop6_from_config_is_used_for_ipv6_routes() {
    let mut h = Harness::new();
    let mut out = Vec::new();
    h.router.announce(
        "2001:db8:10::/48".parse().unwrap(),
        PathAttributes::default(),
        &mut out,
    );
    let frr = h.peer("frr", 65000, 2, |c| {
        c.next_hop6 = Some("2001:db8::1".parse().unwrap())
    });
    h.up(frr);
    let updates = h.updates(frr);
    let reach = updates.iter().find_map(|u| u.mp_reach.as_ref()).unwrap();
    assert_eq!(reach.next_hops, [ip("2001:db8::1")]);
}

#[test]
fn ebgp_export_prepends_sets_next_hop_self_and_strips_local_pref_and_med() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    h.updates(a);
    h.updates(b);
    let mut sent = attrs(&[65001], "192.0.2.2");
    sent.local_pref = Some(300);
    sent.med = Some(50);
    h.send(a, announce(sent, &["10.20.0.0/16"]));

    let got = announced(&h.updates(b));
    assert_eq!(got.len(), 1);
    let (prefix, attrs) = &got[0];
    assert_eq!(*prefix, v4("10.20.0.0/16"));
    assert_eq!(asns(attrs), [LOCAL_AS, 65001]);
    assert_eq!(attrs.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(attrs.local_pref, None);
    assert_eq!(attrs.med, None);
    // Split horizon: nothing goes back to a.
    assert!(h.updates(a).is_empty());
    // LOCAL_PREF from an external peer was ignored on import.
    let route = h.router.best_route(&v4("10.20.0.0/16")).unwrap();
    assert_eq!(route.local_pref, Some(100));
    assert_eq!(route.med, Some(50));
}

#[test]
fn ibgp_export_keeps_next_hop_and_med_and_ibgp_routes_do_not_go_to_ibgp() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let i1 = h.peer("i1", LOCAL_AS, 3, |_| {});
    let i2 = h.peer("i2", LOCAL_AS, 4, |_| {});
    for p in [a, i1, i2] {
        h.up(p);
        h.updates(p);
    }
    let mut sent = attrs(&[65001], "192.0.2.2");
    sent.med = Some(50);
    h.send(a, announce(sent, &["10.20.0.0/16"]));
    let got = announced(&h.updates(i1));
    let (_, sent_on) = &got[0];
    assert_eq!(asns(sent_on), [65001]);
    assert_eq!(sent_on.next_hop, Some(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(sent_on.local_pref, Some(100));
    assert_eq!(sent_on.med, Some(50));

    assert_eq!(announced(&h.updates(i2)).len(), 1);

    let mut internal = attrs(&[65009], "192.0.2.3");
    internal.local_pref = Some(200);
    h.send(i1, announce(internal, &["10.30.0.0/16"]));
    assert!(h.updates(i2).is_empty());
    let got = announced(&h.updates(a));
    assert_eq!(got.len(), 1);
    assert_eq!(asns(&got[0].1), [LOCAL_AS, 65009]);
    // LOCAL_PREF from an internal peer is used.
    assert_eq!(
        h.router.best_route(&v4("10.30.0.0/16")).unwrap().local_pref,
        Some(200)
    );
}

#[test]
fn no_export_and_no_advertise() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    let i = h.peer("i", LOCAL_AS, 4, |_| {});
    for p in [a, b, i] {
        h.up(p);
        h.updates(p);
    }
    let mut no_export = attrs(&[65001], "192.0.2.2");
    no_export.communities = vec![Community::NO_EXPORT];
    h.send(a, announce(no_export, &["10.1.0.0/16"]));
    let mut no_advertise = attrs(&[65001], "192.0.2.2");
    no_advertise.communities = vec![Community::NO_ADVERTISE];
    h.send(a, announce(no_advertise, &["10.2.0.0/16"]));

    assert!(h.updates(b).is_empty());
    let to_internal = announced(&h.updates(i));
    assert_eq!(to_internal.len(), 1);
    assert_eq!(to_internal[0].0, v4("10.1.0.0/16"));
    assert_eq!(to_internal[0].1.communities, [Community::NO_EXPORT]);
}

#[test]
fn unknown_optional_transitive_passed_on_with_partial_bit() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    h.updates(b);
    let mut sent = attrs(&[65001], "192.0.2.2");
    sent.unknown = vec![
        RawAttribute {
            flags: flags::OPTIONAL | flags::TRANSITIVE,
            type_code: 200,
            value: Bytes::from_static(&[1, 2, 3]),
        },
        RawAttribute {
            flags: flags::OPTIONAL,
            type_code: 201,
            value: Bytes::from_static(&[4]),
        },
    ];
    h.send(a, announce(sent, &["10.20.0.0/16"]));
    let got = announced(&h.updates(b));
    let unknown = &got[0].1.unknown;
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].type_code, 200);
    assert_ne!(unknown[0].flags & flags::PARTIAL, 0);
    assert_eq!(&unknown[0].value[..], &[1, 2, 3]);
}

#[test]
fn export_policy_prepend_3_and_med_200_are_on_the_wire() {
    let mut h = Harness::new();
    let backup = Policy::new(
        "backup-path",
        vec![Term {
            prefixes: vec!["10.10.0.0/16".parse().unwrap()],
            prepend: 3,
            med: Some(200),
            ..Term::default()
        }],
        Action::Accept,
    );
    h.announce("10.10.0.0/16", PathAttributes::default());
    h.announce("10.11.0.0/16", PathAttributes::default());
    let frr = h.peer("frr", 65000, 2, |c| c.export = Policy::chain(vec![backup]));
    h.up(frr);
    let got = announced(&h.updates(frr));
    let (_, steered) = got.iter().find(|(p, _)| *p == v4("10.10.0.0/16")).unwrap();
    assert_eq!(asns(steered), [LOCAL_AS; 4]);
    assert_eq!(steered.med, Some(200));
    let (_, plain) = got.iter().find(|(p, _)| *p == v4("10.11.0.0/16")).unwrap();
    assert_eq!(asns(plain), [LOCAL_AS]);
    assert_eq!(plain.med, None);
}

#[test]
fn import_policy_filters_by_prefix_range() {
    let mut h = Harness::new();
    let only_24s = Policy::new(
        "only-10-slash-24",
        vec![Term {
            prefixes: vec!["10.0.0.0/8 ge 24 le 24".parse().unwrap()],
            ..Term::default()
        }],
        Action::Reject,
    );
    let a = h.peer("a", 65001, 2, |c| c.import = only_24s);
    h.up(a);
    h.send(
        a,
        announce(
            attrs(&[65001], "192.0.2.2"),
            &["10.1.1.0/24", "10.2.0.0/16", "11.1.1.0/24"],
        ),
    );
    let counts = h.router.prefix_counts(a, Family::IPV4_UNICAST);
    assert_eq!((counts.received, counts.accepted), (3, 1));
    assert!(h.router.best_route(&v4("10.1.1.0/24")).is_some());
    assert!(h.router.best_route(&v4("10.2.0.0/16")).is_none());
}

/// Three established peers: `a` has the best path to 10.20.0.0/16 and the
/// only one to 10.21.0.0/16, `c` a longer backup to 10.20.0.0/16, `b`
/// listens. Returns (harness, a, c, b).
fn primary_and_backup_paths() -> (Harness, PeerId, PeerId, PeerId) {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let c = h.peer("c", 65003, 4, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    for p in [a, c, b] {
        h.up(p);
    }
    h.send(
        a,
        announce(
            attrs(&[65001], "192.0.2.2"),
            &["10.20.0.0/16", "10.21.0.0/16"],
        ),
    );
    h.send(
        c,
        announce(attrs(&[65003, 65009], "192.0.2.4"), &["10.20.0.0/16"]),
    );
    (h, a, c, b)
}

#[test]
fn withdrawal_propagates_and_the_next_best_replaces() {
    let (mut h, a, _c, b) = primary_and_backup_paths();
    h.updates(b);

    h.send(a, withdraw(&["10.20.0.0/16", "10.21.0.0/16"]));
    let updates = h.updates(b);
    assert_eq!(withdrawn(&updates), [v4("10.21.0.0/16")]);
    let got = announced(&updates);
    assert_eq!(got.len(), 1);
    assert_eq!(asns(&got[0].1), [LOCAL_AS, 65003, 65009]);
}

#[test]
fn peer_down_purges_and_reselects() {
    let (mut h, a, _c, b) = primary_and_backup_paths();
    assert_eq!(h.router.best_route(&v4("10.20.0.0/16")).unwrap().from, "a");
    h.updates(b);

    let conn = h.speakers[a].conn.unwrap();
    h.input(a, SessionInput::Closed { conn });
    assert!(h
        .events
        .iter()
        .any(|e| e.peer == a
            && matches!(e.action, SessionOutput::Down(DownReason::ConnectionClosed))));
    let updates = h.updates(b);
    assert_eq!(withdrawn(&updates), [v4("10.21.0.0/16")]);
    assert_eq!(asns(&announced(&updates)[0].1), [LOCAL_AS, 65003, 65009]);
    let best = h.router.best_route(&v4("10.20.0.0/16")).unwrap();
    assert_eq!(
        (best.from.as_str(), best.reason.as_deref()),
        ("c", Some("only path"))
    );
    assert_eq!(
        h.router.prefix_counts(a, Family::IPV4_UNICAST),
        PrefixCounts::default()
    );
    assert_eq!(h.router.route_count(), 1);
}

#[test]
fn as_loop_is_refused_and_counted() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    h.send(
        a,
        announce(attrs(&[65001, LOCAL_AS], "192.0.2.2"), &["10.20.0.0/16"]),
    );
    assert!(h.router.best_route(&v4("10.20.0.0/16")).is_none());
    assert_eq!(h.router.as_loops(a), 1);
    let view = h.router.session_view(a).unwrap();
    assert_eq!(view.as_loops, 1);
    // Looped paths are not held: they count toward nothing, max-prefix included.
    assert_eq!(view.prefixes["ipv4-unicast"].received, 0);
    assert_eq!(view.prefixes["ipv4-unicast"].accepted, 0);
}

#[test]
fn own_address_as_next_hop_is_refused() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    h.send(a, announce(attrs(&[65001], "192.0.2.1"), &["10.20.0.0/16"]));
    assert!(h.router.best_route(&v4("10.20.0.0/16")).is_none());
    assert_eq!(h.router.prefix_counts(a, Family::IPV4_UNICAST).received, 1);
}

#[test]
fn max_prefix_100_accepts_100_and_the_101st_trips() {
    let mut h = Harness::new();
    let limit = PrefixLimit {
        limit: 100,
        restart_after: None,
    };
    let a = h.peer("a", 65001, 2, |c| {
        c.max_prefix.insert(Family::IPV4_UNICAST, limit);
    });
    let b = h.peer("b", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    h.updates(b);
    let nets: Vec<_> = (0..101).map(net).collect();
    h.send(
        a,
        Update {
            attributes: attrs(&[65001], "192.0.2.2"),
            nlri: nets[..100].to_vec(),
            ..Update::default()
        },
    );
    assert_eq!(
        h.router.prefix_counts(a, Family::IPV4_UNICAST).accepted,
        100
    );
    assert_eq!(announced(&h.updates(b)).len(), 100);
    assert!(h.notifications(a).is_empty());

    h.send(
        a,
        Update {
            attributes: attrs(&[65001], "192.0.2.2"),
            nlri: nets[100..].to_vec(),
            ..Update::default()
        },
    );
    let sent = h.notifications(a);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].code, sent[0].subcode), (6, 1));
    // RFC 4486 §4: AFI 1, SAFI 1, limit 100.
    assert_eq!(&sent[0].data[..], &[0, 1, 1, 0, 0, 0, 100]);
    let session = h.router.session(a).unwrap();
    assert_eq!(session.state(), State::Idle);
    assert_eq!(session.idle_reason(), Some(IdleReason::PrefixLimit));
    // The Down purged the peer: b sees its 100 routes withdrawn.
    assert_eq!(withdrawn(&h.updates(b)).len(), 100);
    assert_eq!(h.router.route_count(), 0);

    // `clear` restarts a prefix-limit Idle with a plain Start.
    let mut out = Vec::new();
    h.router.clear(a, &mut out);
    h.collect(out);
    assert!(h.notifications(a).is_empty());
    assert_ne!(h.router.session(a).unwrap().state(), State::Idle);
}

#[test]
fn clear_sends_administrative_reset_then_restarts() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    let mut out = Vec::new();
    h.router.clear(a, &mut out);
    h.collect(out);
    let sent = h.notifications(a);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].code, sent[0].subcode), (6, 4));
    assert_ne!(h.router.session(a).unwrap().state(), State::Idle);
}

#[test]
fn shutdown_sends_administrative_shutdown_to_everyone() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    let mut out = Vec::new();
    h.router.shutdown(&mut out);
    h.collect(out);
    for p in [a, b] {
        let sent = h.notifications(p);
        assert_eq!((sent[0].code, sent[0].subcode), (6, 2));
        assert_eq!(h.router.session(p).unwrap().state(), State::Idle);
    }
}

#[test]
fn route_refresh_resends_the_family() {
    let mut h = Harness::new();
    h.announce("10.10.0.0/16", PathAttributes::default());
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    h.updates(a);
    let refresh = crate::packet::RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    };
    h.deliver(a, &Message::RouteRefresh(refresh));
    let got = announced(&h.updates(a));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, v4("10.10.0.0/16"));
}

#[test]
fn announce_and_withdraw_local_routes() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    h.updates(a);
    let tagged = PathAttributes {
        med: Some(10),
        communities: vec![Community::new(64512, 1)],
        ..PathAttributes::default()
    };
    h.announce("10.9.0.0/24", tagged);
    let got = announced(&h.updates(a));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.med, Some(10));
    assert_eq!(got[0].1.communities, [Community::new(64512, 1)]);
    assert_eq!(h.router.announced(), [v4("10.9.0.0/24")]);

    let mut out = Vec::new();
    h.router.withdraw(v4("10.9.0.0/24"), &mut out);
    h.collect(out);
    assert_eq!(withdrawn(&h.updates(a)), [v4("10.9.0.0/24")]);
    assert!(h.router.announced().is_empty());
}

#[test]
fn routes_view_marks_best_with_reason() {
    let mut h = Harness::new();
    let a = h.peer("frr", 65001, 2, |_| {});
    let b = h.peer("bird", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    let mut long = attrs(&[65001, 65100, 65200, 65300], "192.0.2.2");
    long.communities = vec![Community::new(65001, 1)];
    h.send(a, announce(long, &["10.20.0.0/16"]));
    h.send(b, announce(attrs(&[65002], "192.0.2.3"), &["10.20.0.0/16"]));
    h.announce("10.10.0.0/16", PathAttributes::default());

    let routes = h.router.routes();
    assert_eq!(routes.len(), 3);
    assert_eq!(routes[0].prefix, v4("10.10.0.0/16"));
    assert_eq!(routes[0].from, "local");
    assert_eq!(routes[0].peer_address, None);
    assert_eq!(routes[0].reason.as_deref(), Some("only path"));
    let best = &routes[1];
    assert_eq!((best.from.as_str(), best.best), ("bird", true));
    assert_eq!(best.reason.as_deref(), Some("shorter AS_PATH 1 < 4"));
    assert_eq!(best.peer_address, Some(ip("192.0.2.3")));
    assert_eq!(best.next_hop, Some(ip("192.0.2.3")));
    let other = &routes[2];
    assert_eq!(
        (other.from.as_str(), other.best, other.reason.as_deref()),
        ("frr", false, None)
    );
    assert_eq!(other.as_path_text, "65001 65100 65200 65300");
    assert_eq!(other.communities, ["65001:1"]);

    let json = serde_json::to_value(&routes[1]).unwrap();
    assert_eq!(json["prefix"], "10.20.0.0/16");
    assert_eq!(json["origin"], "igp");
    assert_eq!(json["as_path"], serde_json::json!([65002]));
    assert_eq!(json["local_pref"], 100);
    assert_eq!(json["med"], serde_json::Value::Null);
}

#[test]
fn sessions_view_has_the_documented_fields() {
    let mut h = Harness::new();
    let a = h.peer("frr", 65000, 2, |_| {});
    h.up(a);
    h.send(
        a,
        announce(
            attrs(&[65000], "192.0.2.2"),
            &["10.20.0.0/16", "10.21.0.0/16", "10.22.0.0/16"],
        ),
    );
    h.announce("10.10.0.0/16", PathAttributes::default());
    let views = h.router.sessions();
    let json = serde_json::to_value(&views[0]).unwrap();
    assert_eq!(json["neighbor"], "frr");
    assert_eq!(json["state"], "Established");
    assert_eq!(json["peer_address"], "192.0.2.2");
    assert_eq!(json["local_asn"], LOCAL_AS);
    assert_eq!(json["remote_asn"], 65000);
    assert_eq!(json["remote_id"], "10.0.0.2");
    assert_eq!(json["hold_time"], 90);
    assert_eq!(json["keepalive"], 30);
    assert_eq!(json["idle_reason"], serde_json::Value::Null);
    assert_eq!(
        json["prefixes"]["ipv4-unicast"],
        serde_json::json!({"received": 3, "accepted": 3, "advertised": 1})
    );
    assert_eq!(json["messages"]["updates_received"], 1);
    assert!(json["messages"]["updates_sent"].as_u64().unwrap() >= 2);
    assert_eq!(json["last_notification_sent"], serde_json::Value::Null);
}

#[test]
fn med_compared_only_within_a_neighbouring_as_unless_always_compare() {
    for (always, winner, reason) in [
        (false, "a", "lower router ID 10.0.0.2 < 10.0.0.3"),
        (true, "b", "lower MED 100 < 200"),
    ] {
        let mut h = Harness::with_config(always);
        let a = h.peer("a", 65001, 2, |_| {});
        let b = h.peer("b", 65002, 3, |_| {});
        h.up(a);
        h.up(b);
        let mut high = attrs(&[65001], "192.0.2.2");
        high.med = Some(200);
        let mut low = attrs(&[65002], "192.0.2.3");
        low.med = Some(100);
        h.send(a, announce(high, &["10.20.0.0/16"]));
        h.send(b, announce(low, &["10.20.0.0/16"]));
        let best = h.router.best_route(&v4("10.20.0.0/16")).unwrap();
        assert_eq!(
            (best.from.as_str(), best.reason.as_deref()),
            (winner, Some(reason))
        );
    }
}

#[test]
fn ipv6_routes_flow_between_peers() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |c| {
        c.next_hop6 = Some("2001:db8::1".parse().unwrap())
    });
    h.up(a);
    h.up(b);
    h.updates(b);
    let p: Prefix = "2001:db8:20::/48".parse().unwrap();
    let mut sent = attrs(&[65001], "192.0.2.2");
    sent.next_hop = None;
    h.send(
        a,
        Update {
            attributes: sent,
            mp_reach: Some(MpReach {
                family: Family::IPV6_UNICAST,
                next_hops: vec![ip("2001:db8::2")],
                nlri: vec![p],
            }),
            ..Update::default()
        },
    );
    let updates = h.updates(b);
    let reach = updates[0].mp_reach.as_ref().unwrap();
    assert_eq!(
        (reach.nlri.clone(), reach.next_hops.clone()),
        (vec![p], vec![ip("2001:db8::1")])
    );
    assert_eq!(asns(&updates[0].attributes), [LOCAL_AS, 65001]);

    h.send(
        a,
        Update {
            mp_unreach: Some(MpUnreach {
                family: Family::IPV6_UNICAST,
                withdrawn: vec![p],
            }),
            ..Update::default()
        },
    );
    assert_eq!(withdrawn(&h.updates(b)), [p]);
}

/// A router in [`ExportMode::Controlled`], as the cloud speakers run.
fn controlled() -> Harness {
    let mut h = Harness::new();
    h.router.config.export_mode = ExportMode::Controlled;
    h
}

/// What the cloud model would announce: the cloud's ASN already in the
/// AS_PATH, a MED per tunnel.
fn cloud_route(med: u32) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([LOCAL_AS])),
        med: Some(med),
        local_pref: Some(300),
        communities: vec![Community::new(7224, 9300)],
        ..PathAttributes::default()
    }
}

fn set_routes(h: &mut Harness, peer: PeerId, routes: &[(&str, PathAttributes)]) {
    let routes = routes.iter().map(|(p, a)| (v4(p), a.clone())).collect();
    let mut out = Vec::new();
    h.router.set_peer_routes(peer, routes, &mut out);
    h.collect(out);
}

fn prefixes(routes: &[(Prefix, PathAttributes)]) -> Vec<Prefix> {
    routes.iter().map(|(p, _)| *p).collect()
}

#[test]
fn controlled_peer_gets_exactly_the_given_set_with_attributes_untouched() {
    let mut h = controlled();
    // The router's own route stays in its Loc-RIB.
    h.announce("10.99.0.0/16", PathAttributes::default());
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    let eor = h.updates(a);
    assert!(eor.iter().all(Update::is_end_of_rib), "{eor:#?}");

    set_routes(
        &mut h,
        a,
        &[
            ("10.1.0.0/16", cloud_route(100)),
            ("10.2.0.0/16", cloud_route(200)),
        ],
    );
    let mut got = announced(&h.updates(a));
    got.sort_by_key(|(p, _)| *p);
    assert_eq!(prefixes(&got), [v4("10.1.0.0/16"), v4("10.2.0.0/16")]);
    for ((_, sent), med) in got.iter().zip([100, 200]) {
        assert_eq!(asns(sent), [LOCAL_AS]);
        assert_eq!(sent.med, Some(med));
        assert_eq!(sent.communities, [Community::new(7224, 9300)]);
        assert_eq!(sent.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(sent.local_pref, None);
    }
    assert_eq!(h.router.advertised_routes(a), got);
    assert!(h.router.best_route(&v4("10.99.0.0/16")).is_some());
}

#[test]
fn routes_set_before_established_go_out_at_established_then_end_of_rib() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    set_routes(&mut h, a, &[("10.1.0.0/16", cloud_route(100))]);
    assert!(h.updates(a).is_empty());
    assert!(h.router.advertised_routes(a).is_empty());

    h.up(a);
    let updates = h.updates(a);
    assert_eq!(updates.len(), 3, "{updates:#?}");
    assert_eq!(prefixes(&announced(&updates[..1])), [v4("10.1.0.0/16")]);
    assert_eq!(updates[0].attributes.med, Some(100));
    assert!(updates[1].is_end_of_rib() && updates[1].mp_unreach.is_none());
    assert!(updates[2].is_end_of_rib());

    // Down and up again: the set is remembered and sent again.
    let conn = h.speakers[a].conn.unwrap();
    h.input(a, SessionInput::Closed { conn });
    assert!(h.router.advertised_routes(a).is_empty());
    h.up(a);
    assert_eq!(prefixes(&announced(&h.updates(a))), [v4("10.1.0.0/16")]);
}

#[test]
fn a_new_set_sends_only_the_difference() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    set_routes(
        &mut h,
        a,
        &[
            ("10.1.0.0/16", cloud_route(100)),
            ("10.2.0.0/16", cloud_route(100)),
        ],
    );
    h.updates(a);

    set_routes(
        &mut h,
        a,
        &[
            ("10.1.0.0/16", cloud_route(100)),
            ("10.3.0.0/16", cloud_route(100)),
        ],
    );
    let updates = h.updates(a);
    assert_eq!(withdrawn(&updates), [v4("10.2.0.0/16")]);
    assert_eq!(prefixes(&announced(&updates)), [v4("10.3.0.0/16")]);

    // A changed MED is a new announcement of that prefix alone.
    set_routes(
        &mut h,
        a,
        &[
            ("10.1.0.0/16", cloud_route(200)),
            ("10.3.0.0/16", cloud_route(100)),
        ],
    );
    let updates = h.updates(a);
    assert!(withdrawn(&updates).is_empty());
    let got = announced(&updates);
    assert_eq!(prefixes(&got), [v4("10.1.0.0/16")]);
    assert_eq!(got[0].1.med, Some(200));

    // The same set again: nothing at all.
    set_routes(
        &mut h,
        a,
        &[
            ("10.1.0.0/16", cloud_route(200)),
            ("10.3.0.0/16", cloud_route(100)),
        ],
    );
    assert!(h.updates(a).is_empty());
}

#[test]
fn two_controlled_peers_get_their_own_sets() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65001, 3, |_| {});
    h.up(a);
    h.up(b);
    h.updates(a);
    h.updates(b);
    set_routes(&mut h, a, &[("10.1.0.0/16", cloud_route(100))]);
    set_routes(
        &mut h,
        b,
        &[
            ("10.1.0.0/16", cloud_route(200)),
            ("10.2.0.0/16", cloud_route(200)),
        ],
    );
    let to_a = announced(&h.updates(a));
    assert_eq!(prefixes(&to_a), [v4("10.1.0.0/16")]);
    assert_eq!(to_a[0].1.med, Some(100));
    let mut to_b = announced(&h.updates(b));
    to_b.sort_by_key(|(p, _)| *p);
    assert_eq!(prefixes(&to_b), [v4("10.1.0.0/16"), v4("10.2.0.0/16")]);
    assert!(to_b.iter().all(|(_, a)| a.med == Some(200)));
    assert_eq!(h.router.advertised_routes(b), to_b);
}

#[test]
fn received_routes_are_not_exported_in_controlled_mode() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    let b = h.peer("b", 65002, 3, |_| {});
    h.up(a);
    h.up(b);
    h.updates(a);
    h.updates(b);
    h.send(a, announce(attrs(&[65001], "192.0.2.2"), &["10.20.0.0/16"]));
    assert!(h.updates(b).is_empty());
    assert!(h.router.advertised_routes(b).is_empty());
    // Kept for `show routes`.
    assert_eq!(h.router.best_route(&v4("10.20.0.0/16")).unwrap().from, "a");
    // Nor when the session goes down.
    let conn = h.speakers[a].conn.unwrap();
    h.input(a, SessionInput::Closed { conn });
    assert!(h.updates(b).is_empty());
}

#[test]
fn peer_routes_are_what_import_accepted() {
    let mut h = controlled();
    let only_10_20 = Policy::new(
        "only-10-20",
        vec![Term {
            prefixes: vec!["10.20.0.0/16".parse().unwrap()],
            med: Some(7),
            ..Term::default()
        }],
        Action::Reject,
    );
    let a = h.peer("a", 65001, 2, |c| c.import = only_10_20);
    assert!(h.router.peer_routes(a).is_empty());
    h.up(a);
    h.send(
        a,
        announce(
            attrs(&[65001], "192.0.2.2"),
            &["10.20.0.0/16", "10.30.0.0/16"],
        ),
    );
    h.send(
        a,
        announce(attrs(&[65001, LOCAL_AS], "192.0.2.2"), &["10.20.0.0/16"]),
    );
    // The looped path replaced the accepted one: nothing is left.
    assert!(h.router.peer_routes(a).is_empty());
    assert_eq!(h.router.as_loops(a), 1);

    h.send(
        a,
        announce(attrs(&[65001, 65100], "192.0.2.2"), &["10.20.0.0/16"]),
    );
    h.send(
        a,
        announce(attrs(&[65001, LOCAL_AS], "192.0.2.2"), &["10.40.0.0/16"]),
    );
    let routes = h.router.peer_routes(a);
    assert_eq!(prefixes(&routes), [v4("10.20.0.0/16")]);
    let got = &routes[0].1;
    assert_eq!(asns(got), [65001, 65100]);
    assert_eq!(got.med, Some(7));
    assert_eq!(got.next_hop, Some(Ipv4Addr::new(192, 0, 2, 2)));

    let conn = h.speakers[a].conn.unwrap();
    h.input(a, SessionInput::Closed { conn });
    assert!(h.router.peer_routes(a).is_empty());
}

#[test]
fn generation_moves_on_routes_and_sessions_not_on_keepalives() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    let g0 = h.router.generation();
    h.up(a);
    let g1 = h.router.generation();
    assert!(g1 > g0);

    h.deliver(a, &Message::Keepalive);
    assert_eq!(h.router.generation(), g1);
    // Routes we set are not routes the peer sent.
    set_routes(&mut h, a, &[("10.1.0.0/16", cloud_route(100))]);
    assert_eq!(h.router.generation(), g1);

    let update = announce(attrs(&[65001], "192.0.2.2"), &["10.20.0.0/16"]);
    h.send(a, update.clone());
    let g2 = h.router.generation();
    assert!(g2 > g1);
    // The same UPDATE again changes nothing.
    h.send(a, update);
    assert_eq!(h.router.generation(), g2);
    // Neither does a withdrawal of what was never sent.
    h.send(a, withdraw(&["10.30.0.0/16"]));
    assert_eq!(h.router.generation(), g2);

    h.send(a, withdraw(&["10.20.0.0/16"]));
    let g3 = h.router.generation();
    assert!(g3 > g2);

    let conn = h.speakers[a].conn.unwrap();
    h.input(a, SessionInput::Closed { conn });
    assert!(h.router.generation() > g3);
}

#[test]
fn controlled_ipv6_route_gets_our_session_address_as_mp_next_hop() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    // An IPv6 session: we are 2001:db8::1, the peer 2001:db8::2.
    h.speakers[a].local = ip("2001:db8::2");
    h.speakers[a].remote = ip("2001:db8::1");
    h.up(a);
    h.updates(a);
    let p6: Prefix = "2001:db8:10::/48".parse().unwrap();
    let routes = vec![
        (p6, cloud_route(100)),
        (v4("10.1.0.0/16"), cloud_route(100)),
    ];
    let mut out = Vec::new();
    h.router.set_peer_routes(a, routes, &mut out);
    h.collect(out);
    let updates = h.updates(a);
    let reach = updates.iter().find_map(|u| u.mp_reach.as_ref()).unwrap();
    assert_eq!(
        (reach.nlri.clone(), reach.next_hops.clone()),
        (vec![p6], vec![ip("2001:db8::1")])
    );
    let six = updates.iter().find(|u| u.mp_reach.is_some()).unwrap();
    assert_eq!(asns(&six.attributes), [LOCAL_AS]);
    assert_eq!(six.attributes.med, Some(100));
    // IPv4 routes on an IPv6 session: the router ID, the IPv4 address we own.
    let v4_routes = announced(&updates);
    let (_, sent) = v4_routes
        .iter()
        .find(|(p, _)| *p == v4("10.1.0.0/16"))
        .unwrap();
    assert_eq!(sent.next_hop, Some(Ipv4Addr::new(10, 0, 0, 1)));
}

#[test]
fn controlled_route_refresh_resends_the_adj_rib_out() {
    let mut h = controlled();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    set_routes(&mut h, a, &[("10.1.0.0/16", cloud_route(100))]);
    h.updates(a);
    let refresh = crate::packet::RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    };
    h.deliver(a, &Message::RouteRefresh(refresh));
    let got = announced(&h.updates(a));
    assert_eq!(prefixes(&got), [v4("10.1.0.0/16")]);
    assert_eq!(got[0].1.med, Some(100));
}

#[test]
fn set_peer_routes_does_nothing_in_best_path_mode() {
    let mut h = Harness::new();
    let a = h.peer("a", 65001, 2, |_| {});
    h.up(a);
    h.updates(a);
    set_routes(&mut h, a, &[("10.1.0.0/16", cloud_route(100))]);
    assert!(h.updates(a).is_empty());
    assert!(h.router.advertised_routes(a).is_empty());
}

/// A full table for the benchmarks: 1 000 000 IPv4 /24s from 1.0.0.0 in
/// 1 000 UPDATEs of 1 000 prefixes, paths varying over 7 origin ASes.
fn full_table_updates() -> Vec<Update> {
    (0..1000u32)
        .map(|u| Update {
            attributes: attrs(&[65001, 65100 + u % 7], "192.0.2.2"),
            nlri: (0..1000u32)
                .map(|i| {
                    let n = u * 1000 + i;
                    crate::packet::Prefix4::new(Ipv4Addr::from(0x0100_0000 + (n << 8)), 24).unwrap()
                })
                .collect(),
            ..Update::default()
        })
        .collect()
}

/// The RIB's share of a full-table load: 1 000 000 IPv4 /24s in dense
/// UPDATEs from one feeder, nobody else to export to. UPDATEs are handed to
/// the router as the session would (already decoded), so this measures
/// import, decision and bookkeeping only. Run with
/// `cargo test --release -p hybridlab-bgp ingest_1m -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run in release"]
fn ingest_1m_prefixes() {
    let mut h = Harness::new();
    let feeder = h.peer("feeder", 65001, 2, |_| {});
    h.up(feeder);
    h.updates(feeder);
    let updates = full_table_updates();
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    for update in updates {
        let mut queue = Queue::new();
        queue.push_back((feeder, SessionOutput::Update(update)));
        h.router.drain(queue, &mut out);
    }
    let elapsed = started.elapsed();
    assert_eq!(h.router.route_count(), 1_000_000);
    assert_eq!(
        h.router
            .prefix_counts(feeder, Family::IPV4_UNICAST)
            .accepted,
        1_000_000
    );
    println!(
        "RIB ingest: 1 000 000 prefixes in {:.3} s, peak RSS {}",
        elapsed.as_secs_f64(),
        peak_rss()
    );
}

/// The same load through the session: encoded UPDATEs in, decoded by the
/// codec, checked by the FSM, imported.
#[test]
#[ignore = "benchmark; run in release"]
fn ingest_1m_prefixes_from_the_wire() {
    let mut h = Harness::new();
    let feeder = h.peer("feeder", 65001, 2, |_| {});
    h.up(feeder);
    h.updates(feeder);
    let conn = h.speakers[feeder].conn.unwrap();
    let mut wire = BytesMut::new();
    for update in full_table_updates() {
        encode_message(&Message::Update(update), &CTX, &mut wire);
    }
    let wire = wire.freeze();
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    // Delivered in 64 KiB reads, as a socket would.
    for chunk in wire.chunks(65536) {
        let data = wire.slice_ref(chunk);
        h.router
            .handle(feeder, SessionInput::Received { conn, data }, &mut out);
    }
    let elapsed = started.elapsed();
    assert_eq!(h.router.route_count(), 1_000_000);
    println!(
        "wire ingest: 1 000 000 prefixes ({} octets) in {:.3} s",
        wire.len(),
        elapsed.as_secs_f64()
    );
}

/// A full table passed on: 1 000 000 prefixes from a feeder, exported to
/// one other external peer (policy, packing, encoding in its session).
#[test]
#[ignore = "benchmark; run in release"]
fn ingest_1m_prefixes_and_export_to_one_peer() {
    let mut h = Harness::new();
    let feeder = h.peer("feeder", 65001, 2, |_| {});
    let listener = h.peer("listener", 65002, 3, |_| {});
    h.up(feeder);
    h.up(listener);
    h.updates(listener);
    let updates = full_table_updates();
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    let mut octets = 0;
    for update in updates {
        let mut queue = Queue::new();
        queue.push_back((feeder, SessionOutput::Update(update)));
        h.router.drain(queue, &mut out);
        for o in out.drain(..) {
            if let SessionOutput::Send { data, .. } = o.action {
                octets += data.len();
            }
        }
    }
    let elapsed = started.elapsed();
    let counts = h.router.prefix_counts(listener, Family::IPV4_UNICAST);
    assert_eq!(counts.advertised, 1_000_000);
    println!(
        "RIB ingest + export to one peer: 1 000 000 prefixes, {octets} octets sent, in {:.3} s",
        elapsed.as_secs_f64()
    );
}

/// The process's peak resident set (VmHWM), for the benchmarks' printout.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
