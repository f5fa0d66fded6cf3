//! Phase 2: Quick Mode with PFS (RFC 2409 §5.5), both roles.
//!
//! ```text
//!     Initiator                          Responder
//!    -----------                        -----------
//!     HDR*, HASH(1), SA, Ni
//!       [, KE ] [, IDci, IDcr ]    -->
//!                                  <--   HDR*, HASH(2), SA, Nr
//!                                        [, KE ] [, IDci, IDcr ]
//!     HDR*, HASH(3)                -->
//!
//!     HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [ | KE ] [ | IDci | IDcr ])
//!     HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [ | KE ] [ | IDci | IDcr ])
//!     HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//! ```
//!
//! The responder installs the SAs on HASH(3), so it resends message 2
//! until HASH(3) comes; the initiator answers such a resend from its cache.

use super::child::{self, Child};
use super::ike_sa::{Pending, ReplyCache};
use super::main_mode::Payloads;
use super::transforms::{self, encap};
use super::{ChildSaInfo, Event, IkePeer, Output, Role};
use crate::config::Selector;
use crate::crypto::{self, Dh, Secret};
use crate::proposal::{select, Phase2Proposal};
use crate::timers::{rekey_after, TimerKind, RETIRE_REKEYED_AFTER};
use crate::wire::{self, exchange, notify, payload, Chain, Header, Raw};
use bytes::Bytes;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QuickState {
    SentMessage1,
    SentMessage2,
    Done,
}

pub(super) struct QuickExchange {
    pub icookie: u64,
    pub message_id: u32,
    pub role: Role,
    pub state: QuickState,
    /// The CBC chain of this exchange (RFC 2409 Appendix B).
    pub iv: crate::crypto::Iv,
    pub proposal: Option<Phase2Proposal>,
    pub lifetime: Duration,
    pub spi_in: u32,
    pub spi_out: u32,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    pub dh: Option<Dh>,
    pub gxy: Option<Secret>,
    pub local_ts: Selector,
    pub remote_ts: Selector,
    pub udp_encapsulation: bool,
    /// The inbound SPI of the child SA this exchange replaces.
    pub replaces: Option<u32>,
    pub pending: Option<Pending>,
    pub cache: ReplyCache,
}

impl QuickExchange {
    pub fn is_initiator(&self) -> bool {
        self.role == Role::Initiator && self.state != QuickState::Done
    }

    pub fn is_done(&self) -> bool {
        self.state == QuickState::Done
    }
}

/// Exchanges kept after completion, for their reply caches.
const DONE_KEPT: usize = 4;

/// HASH first, then the rest as sent: whole payloads, padding excluded.
fn split_hash<'a>(raws: &[Raw<'a>]) -> Option<(&'a [u8], Vec<u8>)> {
    let (first, rest) = raws.split_first()?;
    if first.kind != payload::HASH {
        return None;
    }
    Some((
        first.body,
        rest.iter().flat_map(|r| r.whole.iter().copied()).collect(),
    ))
}

/// RFC 2407 §4.6.2.1 ID_IPV4_ADDR_SUBNET or ID_IPV4_ADDR.
fn selector_of(body: &[u8]) -> Option<Selector> {
    let id = wire::Id::parse(body).ok()?;
    match (id.id_type, id.data.as_slice()) {
        (wire::ID_IPV4_ADDR_SUBNET, [a, b, c, d, m0, m1, m2, m3]) => {
            let mask = u32::from_be_bytes([*m0, *m1, *m2, *m3]);
            // Only contiguous masks name a prefix.
            if mask.leading_ones() + mask.trailing_zeros() != 32 {
                return None;
            }
            let len = u8::try_from(mask.leading_ones()).ok()?;
            Some(Selector::new(Ipv4Addr::new(*a, *b, *c, *d), len))
        }
        (wire::ID_IPV4_ADDR, [a, b, c, d]) => {
            Some(Selector::new(Ipv4Addr::new(*a, *b, *c, *d), 32))
        }
        _ => None,
    }
}

fn id_of(s: &Selector) -> Bytes {
    wire::Id {
        id_type: wire::ID_IPV4_ADDR_SUBNET,
        protocol: 0,
        port: 0,
        data: [s.addr.octets(), s.netmask().octets()].concat(),
    }
    .encode()
}

fn host(a: SocketAddr) -> Selector {
    match a.ip() {
        std::net::IpAddr::V4(v4) => Selector::new(v4, 32),
        std::net::IpAddr::V6(_) => Selector::ANY,
    }
}

enum Refusal {
    Drop,
    /// Tell the peer (encrypted informational) and report.
    Fail {
        notify: u16,
        reason: String,
    },
}

impl IkePeer {
    /// Message 1 under the IKE SA `icookie`; `replaces` when rekeying.
    pub(super) fn start_quick_mode(
        &mut self,
        icookie: u64,
        replaces: Option<u32>,
        out: &mut Vec<Output>,
    ) {
        let message_id = self.fresh_message_id();
        let spi_in = self.fresh_spi();
        let ni = self.nonce();
        let Some(first) = self.config.phase2.first().copied() else {
            return;
        };
        // One KE payload: only suites with the first suite's PFS group.
        let offered: Vec<Phase2Proposal> = self
            .config
            .phase2
            .iter()
            .filter(|p| p.pfs == first.pfs)
            .copied()
            .collect();
        let dh = match first.pfs.map(|g| Dh::new(g, self.rng.as_mut())).transpose() {
            Ok(dh) => dh,
            Err(_) => return,
        };
        let force = self.config.force_encapsulation;
        let lifetime = self.config.phase2_lifetime;
        let (local_ts, remote_ts) = (self.config.local_ts, self.config.remote_ts);
        let Some(sa) = self
            .ike_sas
            .iter()
            .find(|s| s.icookie == icookie && s.is_established())
        else {
            return;
        };
        let udp =
            sa.nat.supported && (sa.nat.local_behind_nat || sa.nat.remote_behind_nat || force);
        let mode = if udp {
            encap::UDP_TUNNEL
        } else {
            encap::TUNNEL
        };
        let mut rest = Chain::default();
        rest.push(
            payload::SA,
            transforms::phase2_sa(&offered, spi_in, lifetime, mode).encode(),
        );
        rest.push(payload::NONCE, ni.clone());
        if let Some(dh) = &dh {
            rest.push(payload::KE, dh.public.clone());
        }
        rest.push(payload::ID, id_of(&local_ts));
        rest.push(payload::ID, id_of(&remote_ts));
        let Ok((msg, next_iv)) = sa.seal_with_hash1(exchange::QUICK_MODE, message_id, rest) else {
            return;
        };
        let (from, to) = (sa.local, sa.remote);
        self.quick.push(QuickExchange {
            icookie,
            message_id,
            role: Role::Initiator,
            state: QuickState::SentMessage1,
            iv: next_iv,
            proposal: None,
            lifetime,
            spi_in,
            spi_out: 0,
            ni,
            nr: Vec::new(),
            dh,
            gxy: None,
            local_ts,
            remote_ts,
            udp_encapsulation: udp,
            replaces,
            pending: Some(Pending {
                from,
                to,
                bytes: msg.clone(),
                tries: 0,
            }),
            cache: ReplyCache::default(),
        });
        self.send(from, to, &msg, out);
        self.arm_retransmit(icookie, message_id, 0, out);
    }

    pub(super) fn on_quick_mode(
        &mut self,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> bool {
        if !header.encrypted() || header.message_id == 0 {
            return false;
        }
        let Some(sa_index) = self.ike_sas.iter().position(|s| {
            s.icookie == header.icookie && s.rcookie == header.rcookie && s.is_established()
        }) else {
            return false;
        };
        let existing = self
            .quick
            .iter()
            .position(|q| q.icookie == header.icookie && q.message_id == header.message_id);
        let result = match existing {
            Some(qi) => {
                if let Some((reply_from, reply)) = self.quick[qi].cache.lookup(raw).cloned() {
                    self.stats.duplicates_answered += 1;
                    self.send(reply_from, from, &reply, out);
                    return true;
                }
                match (self.quick[qi].role, self.quick[qi].state) {
                    (Role::Initiator, QuickState::SentMessage1) => {
                        self.initiator_quick2(sa_index, qi, header, body, raw, out)
                    }
                    (Role::Responder, QuickState::SentMessage2) => {
                        self.responder_quick3(sa_index, qi, header, body, out)
                    }
                    _ => Err(Refusal::Drop),
                }
            }
            None => self.responder_quick1(sa_index, header, body, raw, from, to, out),
        };
        match result {
            Ok(()) => {
                self.peer_heard(out);
                true
            }
            Err(Refusal::Drop) => false,
            Err(Refusal::Fail { notify, reason }) => {
                self.peer_heard(out);
                let icookie = header.icookie;
                self.send_notify(icookie, notify, Vec::new(), out);
                self.event(Event::Error { reason }, out);
                true
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn responder_quick1(
        &mut self,
        sa_index: usize,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let message_id = header.message_id;
        let sa = &self.ike_sas[sa_index];
        let iv = sa.exchange_iv(message_id);
        let (plain, last_block) = sa.open(body, &iv).map_err(|_| Refusal::Drop)?;
        let raws = wire::parse_chain(header.next_payload, &plain).map_err(|_| Refusal::Drop)?;
        let (hash, rest) = split_hash(&raws).ok_or(Refusal::Drop)?;
        if !crypto::equal(hash, &sa.hash1(message_id, &rest)) {
            return Err(Refusal::Drop);
        }
        let p = Payloads(raws);
        let sa_body = p.first(payload::SA).ok_or(Refusal::Drop)?;
        let offered = wire::Sa::parse(sa_body).map_err(|_| Refusal::Drop)?;
        let ni = p.first(payload::NONCE).ok_or(Refusal::Drop)?.to_vec();
        let mut offers = transforms::phase2_offers(&offered);
        for o in &mut offers {
            let mode = transforms::encapsulation(&o.transform);
            if !matches!(
                mode,
                Some(encap::TUNNEL | encap::UDP_TUNNEL | encap::UDP_TUNNEL_DRAFT)
            ) || o.spi.is_none()
            {
                o.offer.suite = None;
            }
        }
        let plain_offers: Vec<_> = offers.iter().map(|o| o.offer.clone()).collect();
        let Some((index, chosen_offer)) = select(&self.config.phase2, &plain_offers) else {
            let names: Vec<String> = plain_offers
                .iter()
                .map(|o| {
                    o.suite
                        .map_or_else(|| "unsupported".into(), |s| s.to_string())
                })
                .collect();
            return Err(Refusal::Fail {
                notify: notify::NO_PROPOSAL_CHOSEN,
                reason: format!(
                    "No proposal match: phase 2 offer [{}] has nothing we accept",
                    names.join(", ")
                ),
            });
        };
        let chosen = self.config.phase2[index];
        let Some(full) = offers.iter().find(|o| {
            o.offer.proposal_number == chosen_offer.proposal_number
                && o.offer.transform_number == chosen_offer.transform_number
        }) else {
            return Err(Refusal::Drop);
        };
        let spi_out = full.spi.ok_or(Refusal::Drop)?;
        let mode = transforms::encapsulation(&full.transform).unwrap_or(encap::TUNNEL);
        let lifetime = chosen_offer
            .lifetime
            .map_or(self.config.phase2_lifetime, |l| {
                l.min(self.config.phase2_lifetime)
            });
        // Selectors: absent means the IKE addresses (RFC 2409 §5.5).
        let ids: Vec<&[u8]> = p.all(payload::ID).collect();
        let (remote_ts, local_ts) = match ids.as_slice() {
            [] => (host(from), host(to)),
            [ci, cr] => (
                selector_of(ci).ok_or_else(|| ts_refusal("unsupported ID type"))?,
                selector_of(cr).ok_or_else(|| ts_refusal("unsupported ID type"))?,
            ),
            _ => return Err(ts_refusal("one ID payload alone")),
        };
        let fits = |ours: &Selector, theirs: &Selector| {
            if self.config.accept_narrower_selectors {
                ours.contains(theirs)
            } else {
                ours == theirs
            }
        };
        if !fits(&self.config.remote_ts, &remote_ts) || !fits(&self.config.local_ts, &local_ts) {
            return Err(ts_refusal(&format!(
                "{remote_ts} === {local_ts} is not inside {} === {}",
                self.config.remote_ts, self.config.local_ts
            )));
        }
        let (dh, gxy) = match (chosen.pfs, p.first(payload::KE)) {
            (None, _) => (None, None),
            (Some(g), Some(ke)) => {
                let dh = Dh::new(g, self.rng.as_mut()).map_err(|_| Refusal::Drop)?;
                let gxy = dh.shared(ke).map_err(|e| Refusal::Fail {
                    notify: notify::INVALID_PAYLOAD_TYPE,
                    reason: format!("Quick Mode KE: {e}"),
                })?;
                (Some(dh), Some(gxy))
            }
            (Some(_), None) => {
                return Err(Refusal::Fail {
                    notify: notify::INVALID_PAYLOAD_TYPE,
                    reason: "Quick Mode: PFS agreed but no KE payload".into(),
                })
            }
        };
        let spi_in = self.fresh_spi();
        let nr = self.nonce();
        let sa = &self.ike_sas[sa_index];
        let icookie = sa.icookie;
        let answer = wire::Sa {
            doi: offered.doi,
            situation: offered.situation,
            proposals: vec![wire::Proposal {
                number: chosen_offer.proposal_number,
                protocol: wire::PROTO_ESP,
                spi: spi_in.to_be_bytes().to_vec(),
                transforms: vec![full.transform.clone()],
            }],
        };
        let mut rest = Chain::default();
        rest.push(payload::SA, answer.encode());
        rest.push(payload::NONCE, nr.clone());
        if let Some(dh) = &dh {
            rest.push(payload::KE, dh.public.clone());
        }
        for id in &ids {
            rest.push(payload::ID, id.to_vec());
        }
        let hash = sa.hash2(message_id, &ni, &rest.encode());
        let mut chain = Chain::default();
        chain.push(payload::HASH, hash);
        chain.0.extend(rest.0);
        let (msg, next_iv) = sa
            .seal(
                sa.header(exchange::QUICK_MODE, message_id, 0),
                chain.first(),
                &chain.encode(),
                &last_block,
            )
            .map_err(|_| Refusal::Drop)?;
        let mut cache = ReplyCache::default();
        cache.remember(raw, to, msg.clone());
        self.quick.push(QuickExchange {
            icookie,
            message_id,
            role: Role::Responder,
            state: QuickState::SentMessage2,
            iv: next_iv,
            proposal: Some(chosen),
            lifetime,
            spi_in,
            spi_out,
            ni,
            nr,
            dh,
            gxy,
            local_ts,
            remote_ts,
            udp_encapsulation: matches!(mode, encap::UDP_TUNNEL | encap::UDP_TUNNEL_DRAFT),
            replaces: None,
            pending: Some(Pending {
                from: to,
                to: from,
                bytes: msg.clone(),
                tries: 0,
            }),
            cache,
        });
        self.send(to, from, &msg, out);
        self.arm_retransmit(icookie, message_id, 0, out);
        Ok(())
    }

    fn initiator_quick2(
        &mut self,
        sa_index: usize,
        qi: usize,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let message_id = header.message_id;
        let sa = &self.ike_sas[sa_index];
        let q = &self.quick[qi];
        let (plain, last_block) = sa.open(body, &q.iv).map_err(|_| Refusal::Drop)?;
        let raws = wire::parse_chain(header.next_payload, &plain).map_err(|_| Refusal::Drop)?;
        let (hash, rest) = split_hash(&raws).ok_or(Refusal::Drop)?;
        if !crypto::equal(hash, &sa.hash2(message_id, &q.ni, &rest)) {
            return Err(Refusal::Drop);
        }
        let p = Payloads(raws);
        let answer = wire::Sa::parse(p.first(payload::SA).ok_or(Refusal::Drop)?)
            .map_err(|_| Refusal::Drop)?;
        let offers = transforms::phase2_offers(&answer);
        let [only] = offers.as_slice() else {
            return Err(Refusal::Drop);
        };
        let chosen = only
            .offer
            .suite
            .filter(|s| self.config.phase2.contains(s))
            .ok_or_else(|| Refusal::Fail {
                notify: notify::NO_PROPOSAL_CHOSEN,
                reason: "No proposal match: the responder chose an ESP transform we did not offer"
                    .into(),
            })?;
        let spi_out = only.spi.ok_or(Refusal::Drop)?;
        let nr = p.first(payload::NONCE).ok_or(Refusal::Drop)?.to_vec();
        let gxy = match (&q.dh, p.first(payload::KE)) {
            (None, _) => None,
            (Some(dh), Some(ke)) => Some(dh.shared(ke).map_err(|e| Refusal::Fail {
                notify: notify::INVALID_PAYLOAD_TYPE,
                reason: format!("Quick Mode KE: {e}"),
            })?),
            (Some(_), None) => return Err(Refusal::Drop),
        };
        // A responder may narrow our selectors; take what it echoes.
        let ids: Vec<Selector> = p.all(payload::ID).filter_map(selector_of).collect();
        let (local_ts, remote_ts) = match ids.as_slice() {
            [ci, cr] if q.local_ts.contains(ci) && q.remote_ts.contains(cr) => (*ci, *cr),
            [] => (q.local_ts, q.remote_ts),
            _ => {
                return Err(Refusal::Fail {
                    notify: notify::INVALID_ID_INFORMATION,
                    reason: "TS_UNACCEPTABLE: the responder returned other selectors".into(),
                })
            }
        };
        let lifetime = only
            .offer
            .lifetime
            .map_or(q.lifetime, |l| l.min(q.lifetime));
        let hash3 = sa.hash3(message_id, &q.ni, &nr);
        let mut chain = Chain::default();
        chain.push(payload::HASH, hash3);
        let (msg, _) = sa
            .seal(
                sa.header(exchange::QUICK_MODE, message_id, 0),
                chain.first(),
                &chain.encode(),
                &last_block,
            )
            .map_err(|_| Refusal::Drop)?;
        let (from, to) = (sa.local, sa.remote);
        let icookie = sa.icookie;
        let q = &mut self.quick[qi];
        q.nr = nr;
        q.gxy = gxy;
        q.spi_out = spi_out;
        q.proposal = Some(chosen);
        q.lifetime = lifetime;
        q.local_ts = local_ts;
        q.remote_ts = remote_ts;
        q.state = QuickState::Done;
        q.pending = None;
        q.cache.remember(raw, from, msg.clone());
        self.send(from, to, &msg, out);
        out.push(Output::StopTimer(TimerKind::Retransmit {
            icookie,
            message_id,
        }));
        self.install_child(sa_index, qi, out);
        Ok(())
    }

    fn responder_quick3(
        &mut self,
        sa_index: usize,
        qi: usize,
        header: &Header,
        body: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let message_id = header.message_id;
        let sa = &self.ike_sas[sa_index];
        let q = &self.quick[qi];
        let (plain, _) = sa.open(body, &q.iv).map_err(|_| Refusal::Drop)?;
        let raws = wire::parse_chain(header.next_payload, &plain).map_err(|_| Refusal::Drop)?;
        let (hash, _) = split_hash(&raws).ok_or(Refusal::Drop)?;
        let expected = sa.hash3(message_id, &q.ni, &q.nr);
        if !crypto::equal(hash, &expected) {
            return Err(Refusal::Drop);
        }
        let icookie = sa.icookie;
        let q = &mut self.quick[qi];
        q.state = QuickState::Done;
        q.pending = None;
        out.push(Output::StopTimer(TimerKind::Retransmit {
            icookie,
            message_id,
        }));
        self.install_child(sa_index, qi, out);
        Ok(())
    }

    /// KEYMAT, the event, lifetime and rekey timers; older SAs replaced.
    fn install_child(&mut self, sa_index: usize, qi: usize, out: &mut Vec<Output>) {
        let sa = &self.ike_sas[sa_index];
        let q = &self.quick[qi];
        let (Some(proposal), Some(keys)) = (q.proposal, sa.keys.as_ref()) else {
            return;
        };
        let (ni, nr) = (q.ni.as_slice(), q.nr.as_slice());
        let k = child::derive(
            &proposal,
            keys,
            q.gxy.as_ref().map(|g| g.as_slice()),
            q.spi_in,
            q.spi_out,
            ni,
            nr,
        );
        let info = ChildSaInfo {
            spi_in: q.spi_in,
            spi_out: q.spi_out,
            proposal,
            enc_key_in: k.enc_in,
            integ_key_in: k.integ_in,
            enc_key_out: k.enc_out,
            integ_key_out: k.integ_out,
            lifetime: q.lifetime,
            udp_encapsulation: q.udp_encapsulation,
            local: sa.local,
            remote: sa.remote,
            local_ts: q.local_ts,
            remote_ts: q.remote_ts,
            replaces: q.replaces,
        };
        let replaces = q.replaces;
        let spi_in = info.spi_in;
        // Drop the secrets of the exchange now; keep it for its cache.
        let q = &mut self.quick[qi];
        q.dh = None;
        q.gxy = None;
        for old in self.children.iter_mut().filter(|c| !c.replaced) {
            old.replaced = true;
            out.push(Output::StopTimer(TimerKind::Phase2Rekey {
                spi_in: old.info.spi_in,
            }));
        }
        out.push(Output::StartTimer {
            kind: TimerKind::Phase2Expire { spi_in },
            after: info.lifetime,
        });
        if self.config.rekey.enabled {
            let after = rekey_after(info.lifetime, &self.config.rekey, self.rng.as_mut());
            out.push(Output::StartTimer {
                kind: TimerKind::Phase2Rekey { spi_in },
                after,
            });
        }
        self.children.push(Child {
            info: info.clone(),
            replaced: false,
            rekeying: false,
        });
        self.event(Event::ChildSaUp(Box::new(info)), out);
        // The rekey we started is complete on our side, but the peer
        // installs the new pair only when it reads our message 3 — and a
        // daemon whose ESP path runs beside its IKE thread (strongSwan's
        // kernel-libipsec) may see our next ESP packets first. So the old
        // pair keeps working for a while (the tunnel holds outbound
        // traffic on it until the peer is heard on the new one) and is
        // deleted only afterwards.
        if let Some(old) = replaces {
            out.push(Output::StartTimer {
                kind: TimerKind::Phase2Retire { spi_in: old },
                after: RETIRE_REKEYED_AFTER,
            });
        }
        self.prune_done_exchanges();
    }

    fn prune_done_exchanges(&mut self) {
        let done = self.quick.iter().filter(|q| q.is_done()).count();
        let mut excess = done.saturating_sub(DONE_KEPT);
        self.quick.retain(|q| {
            if excess > 0 && q.is_done() {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }

    /// Start replacing the child with inbound SPI `spi_in`.
    pub(super) fn rekey_child(&mut self, spi_in: u32, out: &mut Vec<Output>) {
        let Some(c) = self.children.iter_mut().find(|c| c.info.spi_in == spi_in) else {
            return;
        };
        if c.replaced || c.rekeying {
            return;
        }
        c.rekeying = true;
        match self.current_ike_sa().map(|s| s.icookie) {
            Some(icookie) => self.start_quick_mode(icookie, Some(spi_in), out),
            None => {
                self.want_child = true;
                if !self.ike_sas.iter().any(|s| s.role == Role::Initiator) {
                    self.start_main_mode(false, out);
                }
            }
        }
    }
}

fn ts_refusal(detail: &str) -> Refusal {
    Refusal::Fail {
        notify: notify::INVALID_ID_INFORMATION,
        reason: format!("TS_UNACCEPTABLE: {detail}"),
    }
}
