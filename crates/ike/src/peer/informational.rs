//! Informational exchanges (RFC 2409 §5.7): notifies and deletes, always
//! encrypted once phase 1 stands; DPD (RFC 3706 §5) rides on them. Also
//! the deletion of SAs and the DPD clock.
//!
//! ```text
//!     HDR*, HASH(1), N/D
//!     HASH(1) = prf(SKEYID_a, M-ID | N/D)
//! ```

use super::ike_sa::MainMode;
use super::main_mode::Payloads;
use super::{notify_name, Event, IkePeer, Output, Role};
use crate::config::DpdAction;
use crate::crypto;
use crate::timers::TimerKind;
use crate::wire::{self, exchange, notify, payload, Chain, Header};
use std::net::SocketAddr;
use std::time::Duration;

/// Notify types below this are errors (RFC 2408 §3.14.1).
const ERROR_TYPES_END: u16 = 8192;

impl IkePeer {
    /// Send one protected Informational under the IKE SA `icookie`.
    fn send_informational(&mut self, icookie: u64, rest: Chain, out: &mut Vec<Output>) {
        let message_id = self.fresh_message_id();
        let Some(sa) = self
            .ike_sas
            .iter()
            .find(|s| s.icookie == icookie && s.is_established())
        else {
            return;
        };
        let Ok((msg, _)) = sa.seal_with_hash1(exchange::INFORMATIONAL, message_id, rest) else {
            return;
        };
        let (from, to) = (sa.local, sa.remote);
        self.send(from, to, &msg, out);
    }

    /// A notify about the IKE SA (SPI = the cookies, RFC 2408 §3.14).
    pub(super) fn send_notify(
        &mut self,
        icookie: u64,
        kind: u16,
        data: Vec<u8>,
        out: &mut Vec<Output>,
    ) {
        let Some(sa) = self.ike_sas.iter().find(|s| s.icookie == icookie) else {
            return;
        };
        let spi = [sa.icookie.to_be_bytes(), sa.rcookie.to_be_bytes()].concat();
        let mut rest = Chain::default();
        rest.push(
            payload::NOTIFY,
            wire::Notify {
                doi: wire::DOI_IPSEC,
                protocol: wire::PROTO_ISAKMP,
                kind,
                spi,
                data,
            }
            .encode(),
        );
        self.send_informational(icookie, rest, out);
    }

    pub(super) fn on_informational(
        &mut self,
        header: &Header,
        body: &[u8],
        _from: SocketAddr,
        _to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(index) = self
            .ike_sas
            .iter()
            .position(|s| s.icookie == header.icookie)
        else {
            return false;
        };
        if !header.encrypted() {
            return self.on_plain_error(index, header, body, out);
        }
        let sa = &self.ike_sas[index];
        if header.rcookie != sa.rcookie {
            return false;
        }
        if sa.role == Role::Initiator && sa.state == MainMode::SentMessage5 {
            return self.on_answer_to_message5(index, header, body, out);
        }
        if !sa.is_established() {
            return false;
        }
        let iv = sa.exchange_iv(header.message_id);
        let Ok((plain, _)) = sa.open(body, &iv) else {
            return false;
        };
        let Ok(raws) = wire::parse_chain(header.next_payload, &plain) else {
            return false;
        };
        let Some((first, rest)) = raws.split_first() else {
            return false;
        };
        let rest_bytes: Vec<u8> = rest.iter().flat_map(|r| r.whole.iter().copied()).collect();
        if first.kind != payload::HASH
            || !crypto::equal(first.body, &sa.hash1(header.message_id, &rest_bytes))
        {
            return false;
        }
        let icookie = sa.icookie;
        let p = Payloads(raws);
        self.peer_heard(out);
        for n in p
            .all(payload::NOTIFY)
            .filter_map(|b| wire::Notify::parse(b).ok())
        {
            self.on_notify(icookie, &n, out);
        }
        for d in p
            .all(payload::DELETE)
            .filter_map(|b| wire::Delete::parse(b).ok())
        {
            self.on_delete(&d, out);
        }
        true
    }

    /// The responder answered our message 5 with a protected notify
    /// instead of message 6 (strongSwan: PAYLOAD-MALFORMED when it could
    /// not decrypt it). If we cannot read it either, the keys differ: the
    /// pre-shared keys do not match.
    fn on_answer_to_message5(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        out: &mut Vec<Output>,
    ) -> bool {
        let sa = &self.ike_sas[index];
        let icookie = sa.icookie;
        let iv = sa.exchange_iv(header.message_id);
        let readable = sa.open(body, &iv).ok().and_then(|(plain, _)| {
            let raws = wire::parse_chain(header.next_payload, &plain).ok()?;
            let (first, rest) = raws.split_first()?;
            let rest_bytes: Vec<u8> = rest.iter().flat_map(|r| r.whole.iter().copied()).collect();
            let ok = first.kind == payload::HASH
                && crypto::equal(first.body, &sa.hash1(header.message_id, &rest_bytes));
            ok.then(|| {
                Payloads(raws)
                    .all(payload::NOTIFY)
                    .filter_map(|b| wire::Notify::parse(b).ok())
                    .find(|n| n.kind < ERROR_TYPES_END)
                    .map(|n| n.kind)
            })
        });
        let reason = match readable {
            None => "authentication failed: pre-shared key mismatch? (the answer to Main Mode message 5 does not decrypt)".to_string(),
            Some(Some(kind)) => refusal_reason(kind),
            Some(None) => return false,
        };
        self.event(Event::Error { reason }, out);
        self.delete_ike_sa(icookie, "refused by the peer", false, out);
        true
    }

    /// Before keys exist a refusal comes in clear (RFC 2408 §5). Only
    /// taken for an SA we are negotiating, and it only ends that attempt.
    fn on_plain_error(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        out: &mut Vec<Output>,
    ) -> bool {
        let sa = &self.ike_sas[index];
        if sa.is_established() || sa.role != Role::Initiator {
            return false;
        }
        let Ok(raws) = wire::parse_chain(header.next_payload, body) else {
            return false;
        };
        let p = Payloads(raws);
        let Some(n) = p
            .all(payload::NOTIFY)
            .filter_map(|b| wire::Notify::parse(b).ok())
            .find(|n| n.kind < ERROR_TYPES_END)
        else {
            return false;
        };
        let icookie = sa.icookie;
        self.event(
            Event::Error {
                reason: refusal_reason(n.kind),
            },
            out,
        );
        self.delete_ike_sa(icookie, "refused by the peer", false, out);
        true
    }

    fn on_notify(&mut self, icookie: u64, n: &wire::Notify, out: &mut Vec<Output>) {
        match n.kind {
            notify::R_U_THERE => {
                self.send_notify(icookie, notify::R_U_THERE_ACK, n.data.clone(), out);
            }
            // Already counted as hearing from the peer.
            notify::R_U_THERE_ACK => {}
            notify::INITIAL_CONTACT => {}
            kind if kind < ERROR_TYPES_END => {
                // An error about our Quick Mode: it will not complete.
                let stale: Vec<u32> = self
                    .quick
                    .iter()
                    .filter(|q| q.icookie == icookie && q.is_initiator())
                    .map(|q| q.message_id)
                    .collect();
                for message_id in stale {
                    out.push(Output::StopTimer(TimerKind::Retransmit {
                        icookie,
                        message_id,
                    }));
                    self.quick.retain(|q| q.message_id != message_id);
                }
                for c in self.children.iter_mut() {
                    c.rekeying = false;
                }
                self.event(
                    Event::Error {
                        reason: refusal_reason(kind),
                    },
                    out,
                );
            }
            _ => {}
        }
    }

    fn on_delete(&mut self, d: &wire::Delete, out: &mut Vec<Output>) {
        match d.protocol {
            wire::PROTO_ISAKMP => {
                for spi in &d.spis {
                    let Some(c) = spi.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
                        continue;
                    };
                    self.delete_ike_sa(u64::from_be_bytes(c), "deleted by the peer", false, out);
                }
            }
            wire::PROTO_ESP => {
                for spi in &d.spis {
                    let Ok(b) = <[u8; 4]>::try_from(spi.as_slice()) else {
                        continue;
                    };
                    let spi = u32::from_be_bytes(b);
                    // The peer names its inbound SPI, our outbound one;
                    // strongSwan also accepts our inbound one.
                    let found = self
                        .children
                        .iter()
                        .find(|c| c.info.spi_out == spi)
                        .or_else(|| self.children.iter().find(|c| c.info.spi_in == spi))
                        .map(|c| c.info.spi_in);
                    if let Some(spi_in) = found {
                        self.delete_child(spi_in, "deleted by the peer", false, out);
                    }
                }
            }
            _ => {}
        }
    }

    /// Remove a child SA, telling the peer if asked (with our inbound SPI,
    /// as strongSwan does).
    pub(super) fn delete_child(
        &mut self,
        spi_in: u32,
        reason: &str,
        tell_peer: bool,
        out: &mut Vec<Output>,
    ) {
        let Some(pos) = self.children.iter().position(|c| c.info.spi_in == spi_in) else {
            return;
        };
        let child = self.children.remove(pos);
        if tell_peer {
            if let Some(icookie) = self.current_ike_sa().map(|s| s.icookie) {
                let mut rest = Chain::default();
                rest.push(
                    payload::DELETE,
                    wire::Delete {
                        protocol: wire::PROTO_ESP,
                        spis: vec![spi_in.to_be_bytes().to_vec()],
                    }
                    .encode(),
                );
                self.send_informational(icookie, rest, out);
            }
        }
        out.push(Output::StopTimer(TimerKind::Phase2Rekey { spi_in }));
        out.push(Output::StopTimer(TimerKind::Phase2Expire { spi_in }));
        out.push(Output::StopTimer(TimerKind::Phase2Retire { spi_in }));
        self.event(
            Event::ChildSaDeleted {
                spi_in,
                spi_out: child.info.spi_out,
                reason: reason.to_string(),
            },
            out,
        );
    }

    /// Remove an IKE SA, its exchanges and timers; tell the peer if asked
    /// and it was established. The last IKE SA takes the children along.
    pub(super) fn delete_ike_sa(
        &mut self,
        icookie: u64,
        reason: &str,
        tell_peer: bool,
        out: &mut Vec<Output>,
    ) {
        let Some(sa) = self.ike_sas.iter().find(|s| s.icookie == icookie) else {
            return;
        };
        let (established, rcookie) = (sa.is_established(), sa.rcookie);
        if tell_peer && established {
            let mut rest = Chain::default();
            rest.push(
                payload::DELETE,
                wire::Delete {
                    protocol: wire::PROTO_ISAKMP,
                    spis: vec![[icookie.to_be_bytes(), rcookie.to_be_bytes()].concat()],
                }
                .encode(),
            );
            self.send_informational(icookie, rest, out);
        }
        self.drop_ike_sa(icookie, out);
        if established {
            self.event(
                Event::Phase1Down {
                    icookie,
                    rcookie,
                    reason: reason.to_string(),
                },
                out,
            );
        }
        if self.established_ike_sas() == 0 && established {
            let spis: Vec<u32> = self.children.iter().map(|c| c.info.spi_in).collect();
            for spi in spis {
                self.delete_child(spi, reason, false, out);
            }
            out.push(Output::StopTimer(TimerKind::Dpd));
        }
    }

    /// Forget an IKE SA quietly: timers off, exchanges under it gone.
    pub(super) fn drop_ike_sa(&mut self, icookie: u64, out: &mut Vec<Output>) {
        self.ike_sas.retain(|s| s.icookie != icookie);
        out.push(Output::StopTimer(TimerKind::Retransmit {
            icookie,
            message_id: 0,
        }));
        out.push(Output::StopTimer(TimerKind::Phase1Rekey { icookie }));
        out.push(Output::StopTimer(TimerKind::Phase1Expire { icookie }));
        out.push(Output::StopTimer(TimerKind::HalfOpen { icookie }));
        let gone: Vec<u32> = self
            .quick
            .iter()
            .filter(|q| q.icookie == icookie)
            .map(|q| q.message_id)
            .collect();
        for message_id in gone {
            out.push(Output::StopTimer(TimerKind::Retransmit {
                icookie,
                message_id,
            }));
        }
        self.quick.retain(|q| q.icookie != icookie);
    }

    /// A new Main Mode replaces the current IKE SA; the old one stays
    /// until the new one stands.
    pub(super) fn rekey_phase1(&mut self, out: &mut Vec<Output>) {
        if self
            .ike_sas
            .iter()
            .any(|s| s.role == Role::Initiator && !s.is_established())
        {
            return;
        }
        self.start_main_mode(true, out);
    }

    /// RFC 3706 §5: the DPD clock starts afresh (phase 1 just came up).
    pub(super) fn dpd_restart(&mut self, out: &mut Vec<Output>) {
        if !self.dpd_enabled() {
            return;
        }
        self.dpd.unanswered = 0;
        self.dpd.silent = Duration::ZERO;
        self.arm_dpd(self.config.dpd.delay, out);
    }

    fn arm_dpd(&mut self, after: Duration, out: &mut Vec<Output>) {
        self.dpd.armed_for = after;
        out.push(Output::StartTimer {
            kind: TimerKind::Dpd,
            after,
        });
    }

    /// Anything authenticated from the peer proves it alive: the quiet
    /// period starts again, so the first probe goes out exactly `delay`
    /// after the last sign of life.
    pub(super) fn peer_heard(&mut self, out: &mut Vec<Output>) {
        if !self.dpd_enabled() || self.current_ike_sa().is_none() {
            return;
        }
        self.dpd.unanswered = 0;
        self.dpd.silent = Duration::ZERO;
        self.arm_dpd(self.config.dpd.delay, out);
    }

    /// The DPD timer measures silence. After `delay` of it: probe (RFC
    /// 3706 §5.3), and again every `delay` while unanswered; once the
    /// silence reaches `timeout` the peer is dead (spec §1.2: a 40 s
    /// timeout declares it dead 30 s after the first failed keepalive).
    pub(super) fn on_dpd_timer(&mut self, out: &mut Vec<Output>) {
        let Some(sa) = self.current_ike_sa() else {
            return;
        };
        let (icookie, peer_dpd) = (sa.icookie, sa.peer_dpd);
        // RFC 3706 §5: only with a peer that announced DPD.
        if !peer_dpd {
            return;
        }
        self.dpd.silent = self.dpd.silent.saturating_add(self.dpd.armed_for);
        if self.dpd.silent >= self.config.dpd.timeout {
            self.declare_dead(out);
            return;
        }
        let left = self.config.dpd.timeout.saturating_sub(self.dpd.silent);
        self.arm_dpd(self.config.dpd.delay.min(left), out);
        if self.dpd.sequence == 0 {
            // RFC 3706 §5.4: a random start, then +1 per probe.
            self.dpd.sequence = self.rng.next_u32() >> 1 | 1;
        } else {
            self.dpd.sequence = self.dpd.sequence.wrapping_add(1);
        }
        let seq = self.dpd.sequence;
        self.send_notify(icookie, notify::R_U_THERE, seq.to_be_bytes().to_vec(), out);
        self.stats.dpd_probes += 1;
        self.dpd.unanswered += 1;
    }

    fn declare_dead(&mut self, out: &mut Vec<Output>) {
        let retransmits = self.dpd.unanswered;
        self.event(
            Event::PeerDead {
                reason: format!(
                    "Peer is not responsive - declaring peer dead (DPD timed out after {retransmits} retransmits)"
                ),
            },
            out,
        );
        match self.config.dpd.action {
            DpdAction::Clear => {
                self.want_child = false;
                self.tear_down("DPD timeout", false, out);
            }
            DpdAction::Restart => {
                self.tear_down("DPD timeout", false, out);
                self.want_child = true;
                self.start_main_mode(false, out);
            }
            DpdAction::None => {}
        }
    }
}

/// How a refusal from the peer reads in the log (spec §1.6 wording).
fn refusal_reason(kind: u16) -> String {
    match kind {
        notify::NO_PROPOSAL_CHOSEN => "No proposal match (the peer said NO-PROPOSAL-CHOSEN)".into(),
        notify::AUTHENTICATION_FAILED | notify::INVALID_HASH_INFORMATION => format!(
            "authentication failed: pre-shared key mismatch? (the peer said {})",
            notify_name(kind)
        ),
        notify::INVALID_ID_INFORMATION => {
            "TS_UNACCEPTABLE (the peer said INVALID-ID-INFORMATION)".into()
        }
        other => format!("the peer said {}", notify_name(other)),
    }
}
