//! Errors a peer can cause, checked byte for byte on the wire: OPEN
//! checks (RFC 4271 §6.2), header errors (§6.1), messages out of place
//! (RFC 6608), NOTIFICATIONs received.

use super::sim::{bytes_on, secs, Bench};
use super::{config, wire};
use crate::packet::{AsPath, Family, Message, Notification, RouteRefresh};
use crate::session::{DownReason, IdleReason, SessionInput, SessionOutput, State, TimerKind};
use bytes::Bytes;

const PEER_ID: [u8; 4] = [10, 0, 0, 2];

/// A session (AS 65001, 10.0.0.1, expecting AS 65002) with connection 1 in
/// OpenSent.
fn open_sent() -> Bench {
    let mut b = Bench::new(config(65001, 65002, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.connected(1, true);
    assert_eq!(b.node.session.state(), State::OpenSent);
    b
}

fn open_confirm() -> Bench {
    let mut b = open_sent();
    b.receive(1, &wire::peer_open(65002, 90, PEER_ID));
    assert_eq!(b.node.session.state(), State::OpenConfirm);
    b
}

fn established() -> Bench {
    let mut b = open_confirm();
    b.receive(1, &wire::keepalive());
    assert_eq!(b.node.session.state(), State::Established);
    b
}

/// Feeds `bytes` on connection 1 and checks the session answered exactly
/// `expected` on it, closed it, went down for that reason and waits in
/// IdleHold.
fn expect_notification(mut b: Bench, bytes: &[u8], code: u8, subcode: u8, data: &[u8]) -> Bench {
    let out = b.receive(1, bytes);
    assert_eq!(
        bytes_on(&out, 1),
        wire::notification(code, subcode, data),
        "{out:#?}"
    );
    assert!(out.contains(&SessionOutput::Close { conn: 1 }));
    let sent = Notification {
        code,
        subcode,
        data: Bytes::copy_from_slice(data),
    };
    assert!(
        out.contains(&SessionOutput::Down(DownReason::NotificationSent(
            sent.clone()
        )))
    );
    assert!(out.contains(&SessionOutput::StartTimer {
        timer: TimerKind::IdleHold,
        after: secs(5)
    }));
    let s = &b.node.session;
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.idle_reason(), Some(IdleReason::IdleHold));
    assert_eq!(s.last_notification_sent(), Some(&sent));
    assert_eq!(s.stats().notifications_sent, 1);
    let words = s.last_error().unwrap();
    assert!(
        words.starts_with(&format!("sent NOTIFICATION {}", sent.name())),
        "{words}"
    );
    b
}

#[test]
fn unsupported_version() {
    let open = wire::open(3, 65002, 90, PEER_ID, &[]);
    expect_notification(open_sent(), &open, 2, 1, &[0, 4]);
}

#[test]
fn bad_peer_as() {
    let open = wire::peer_open(65003, 90, PEER_ID);
    expect_notification(open_sent(), &open, 2, 2, &65003u16.to_be_bytes());
}

#[test]
fn bad_peer_as_from_an_old_speaker_saying_as_trans() {
    let mut b = Bench::new(config(65001, 4_200_000_000, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.connected(1, true);
    let open = wire::open(4, 23456, 90, PEER_ID, &[]);
    expect_notification(b, &open, 2, 2, &23456u16.to_be_bytes());
}

#[test]
fn bad_bgp_identifier_zero() {
    let open = wire::peer_open(65002, 90, [0, 0, 0, 0]);
    expect_notification(open_sent(), &open, 2, 3, &[0, 0, 0, 0]);
}

#[test]
fn bad_bgp_identifier_equal_to_ours_inside_an_as() {
    let mut b = Bench::new(config(65001, 65001, [10, 0, 0, 1]));
    b.input(SessionInput::Start);
    b.connected(1, true);
    let open = wire::peer_open(65001, 90, [10, 0, 0, 1]);
    expect_notification(b, &open, 2, 3, &[10, 0, 0, 1]);
}

#[test]
fn identifier_equal_to_ours_across_ases_is_fine() {
    let mut b = open_sent();
    b.receive(1, &wire::peer_open(65002, 90, [10, 0, 0, 1]));
    assert_eq!(b.node.session.state(), State::OpenConfirm);
}

#[test]
fn unacceptable_hold_time_one_and_two() {
    for hold in [1u16, 2] {
        let open = wire::peer_open(65002, hold, PEER_ID);
        expect_notification(open_sent(), &open, 2, 6, &hold.to_be_bytes());
    }
}

#[test]
fn unsupported_optional_parameter() {
    // Type 1 (Authentication) was withdrawn by RFC 4271.
    let param = [1u8, 2, 0xaa, 0xbb];
    let open = wire::open(4, 65002, 90, PEER_ID, &param);
    expect_notification(open_sent(), &open, 2, 4, &param);
}

#[test]
fn truncated_open_is_a_bad_message_length() {
    // 28 octets: one short of the smallest OPEN (RFC 4271 §6.1).
    let mut open = wire::open(4, 65002, 90, PEER_ID, &[]);
    open.truncate(28);
    open[16..18].copy_from_slice(&28u16.to_be_bytes());
    expect_notification(open_sent(), &open, 1, 2, &[0, 28]);
}

#[test]
fn bad_marker_is_connection_not_synchronized() {
    let mut ka = wire::keepalive();
    ka[0] = 0;
    expect_notification(established(), &ka, 1, 1, &[]);
}

#[test]
fn open_split_across_reads_is_reassembled() {
    let mut b = open_sent();
    let open = wire::peer_open(65002, 90, PEER_ID);
    for chunk in open.chunks(7) {
        b.receive(1, chunk);
    }
    assert_eq!(b.node.session.state(), State::OpenConfirm);
}

#[test]
fn open_and_keepalive_in_one_read() {
    let mut b = open_sent();
    let mut bytes = wire::peer_open(65002, 90, PEER_ID);
    bytes.extend(wire::keepalive());
    let out = b.receive(1, &bytes);
    assert_eq!(b.node.session.state(), State::Established);
    assert_eq!(
        super::states(&out),
        [State::OpenSent, State::OpenConfirm, State::Established]
    );
}

#[test]
fn keepalive_in_open_sent_is_an_fsm_error() {
    expect_notification(open_sent(), &wire::keepalive(), 5, 1, &[wire::KEEPALIVE]);
}

#[test]
fn update_in_open_sent_is_an_fsm_error() {
    expect_notification(open_sent(), &wire::empty_update(), 5, 1, &[wire::UPDATE]);
}

#[test]
fn update_in_open_confirm_is_an_fsm_error() {
    expect_notification(open_confirm(), &wire::empty_update(), 5, 2, &[wire::UPDATE]);
}

#[test]
fn second_open_in_open_confirm_is_an_fsm_error() {
    let open = wire::peer_open(65002, 90, PEER_ID);
    expect_notification(open_confirm(), &open, 5, 2, &[wire::OPEN]);
}

#[test]
fn open_in_established_is_an_fsm_error() {
    let open = wire::peer_open(65002, 90, PEER_ID);
    let b = expect_notification(established(), &open, 5, 3, &[wire::OPEN]);
    assert_eq!(b.node.session.negotiated(), None);
}

#[test]
fn notification_received_goes_down_without_answering() {
    for mut b in [open_sent(), open_confirm(), established()] {
        let out = b.receive(1, &wire::notification(6, 4, &[]));
        assert!(bytes_on(&out, 1).is_empty(), "never answer a NOTIFICATION");
        assert!(out.contains(&SessionOutput::Close { conn: 1 }));
        let n = Notification::cease(4, Bytes::new());
        assert!(
            out.contains(&SessionOutput::Down(DownReason::NotificationReceived(
                n.clone()
            )))
        );
        assert_eq!(b.node.session.last_notification_received(), Some(&n));
        assert_eq!(
            b.node.session.last_error(),
            Some("received NOTIFICATION Cease / Administrative Reset")
        );
        assert_eq!(b.node.session.idle_reason(), Some(IdleReason::IdleHold));
    }
}

#[test]
fn connection_closed_after_open_sent_goes_down() {
    for mut b in [open_confirm(), established()] {
        let out = b.input(SessionInput::Closed { conn: 1 });
        assert!(out.contains(&SessionOutput::Down(DownReason::ConnectionClosed)));
        assert!(!out.contains(&SessionOutput::Close { conn: 1 }));
        assert_eq!(b.node.session.state(), State::Idle);
        assert_eq!(
            b.node.session.last_error(),
            Some("connection closed by peer")
        );
    }
}

#[test]
fn updates_pass_up_once_established() {
    let mut b = established();
    let out = b.receive(1, &wire::empty_update());
    assert!(out.contains(&SessionOutput::Update(Default::default())));
    assert_eq!(b.node.session.stats().updates_received, 1);
}

#[test]
fn four_octet_as_paths_once_both_open_with_the_capability() {
    let mut b = established();
    // ORIGIN IGP, AS_PATH (AS_SEQUENCE of one 4-octet AS), NEXT_HOP, 10/8.
    let mut body = vec![0, 0];
    let attrs: Vec<u8> = [
        &[0x40, 1, 1, 0][..],
        &[0x40, 2, 6, 2, 1, 0xfa, 0x56, 0xea, 0x01],
        &[0x40, 3, 4, 192, 0, 2, 2],
    ]
    .concat();
    body.extend_from_slice(&u16::try_from(attrs.len()).unwrap().to_be_bytes());
    body.extend(attrs);
    body.extend([8, 10]);
    let out = b.receive(1, &wire::message(wire::UPDATE, &body));
    let update = out
        .iter()
        .find_map(|o| match o {
            SessionOutput::Update(u) => Some(u.clone()),
            _ => None,
        })
        .expect("an UPDATE");
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath::from_sequence([4_200_000_001]))
    );
}

#[test]
fn route_refresh_passes_up_for_negotiated_families_only() {
    let mut b = established();
    let out = b.receive(1, &wire::message(5, &[0, 2, 0, 1]));
    let rr = RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: 0,
    };
    assert!(out.contains(&SessionOutput::RouteRefresh(rr)));
    // AFI 1 SAFI 128 (VPNv4) was never negotiated: ignored (RFC 2918 §4).
    // So are the Enhanced Route Refresh markers and unknown subtypes
    // (RFC 7313 §5).
    for ignored in [[0, 1, 0, 128], [0, 1, 1, 1], [0, 1, 2, 1], [0, 1, 9, 1]] {
        let out = b.receive(1, &wire::message(5, &ignored));
        assert!(!out
            .iter()
            .any(|o| matches!(o, SessionOutput::RouteRefresh(_))));
    }
    assert_eq!(b.node.session.state(), State::Established);
}

#[test]
fn send_before_established_is_dropped_and_counted() {
    let mut b = open_confirm();
    let out = b.input(SessionInput::Send(Message::Keepalive));
    assert!(out.is_empty());
    assert_eq!(b.node.session.stats().dropped, 1);
}

#[test]
fn send_in_established_goes_on_the_established_connection() {
    let mut b = established();
    let out = b.input(SessionInput::Send(Message::Update(Default::default())));
    assert_eq!(bytes_on(&out, 1), wire::empty_update());
    assert_eq!(b.node.session.stats().updates_sent, 1);
    // An OPEN is never the router's to send.
    let open = crate::session::open::local_open(b.node.session.config());
    assert!(b.input(SessionInput::Send(Message::Open(open))).is_empty());
    assert_eq!(b.node.session.stats().dropped, 1);
}

#[test]
fn notification_from_the_router_ends_the_session() {
    let mut b = established();
    let n = Notification {
        code: 3,
        subcode: 1,
        data: Bytes::new(),
    };
    let out = b.input(SessionInput::Send(Message::Notification(n.clone())));
    assert_eq!(bytes_on(&out, 1), wire::notification(3, 1, &[]));
    assert!(out.contains(&SessionOutput::Down(DownReason::NotificationSent(n))));
    assert_eq!(b.node.session.state(), State::Idle);
}
