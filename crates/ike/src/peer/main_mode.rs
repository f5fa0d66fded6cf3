//! Phase 1: Main Mode with pre-shared keys (RFC 2409 §5, §5.4), both
//! roles, with NAT-T detection and the float to port 4500 (RFC 3947 §3,
//! §4).
//!
//! ```text
//!     Initiator                          Responder
//!    -----------                        -----------
//!     HDR, SA, VID                 -->
//!                                  <--   HDR, SA, VID
//!     HDR, KE, Ni, NAT-D, NAT-D    -->
//!                                  <--   HDR, KE, Nr, NAT-D, NAT-D
//!     HDR*, IDii, HASH_I [, N]     -->                 (port 4500 if NAT-T)
//!                                  <--   HDR*, IDir, HASH_R
//! ```

use super::ike_sa::{IkeSa, MainMode, Pending};
use super::{plain_notify, transforms, Event, IkePeer, NatStatus, Output, Role, NAT_T_PORT};
use crate::crypto::{self, Dh, Iv};
use crate::proposal::select;
use crate::timers::{rekey_after, retransmit_wait, TimerKind};
use crate::wire::{self, exchange, notify, payload, Chain, Header, Raw};
use bytes::Bytes;
use std::net::{IpAddr, SocketAddr};

/// The payloads of one message, by type.
pub(super) struct Payloads<'a>(pub Vec<Raw<'a>>);

impl<'a> Payloads<'a> {
    pub fn first(&self, kind: u8) -> Option<&'a [u8]> {
        self.0.iter().find(|r| r.kind == kind).map(|r| r.body)
    }

    pub fn all(&self, kind: u8) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.0
            .iter()
            .filter(move |r| r.kind == kind)
            .map(|r| r.body)
    }
}

/// Why a Main Mode message was refused.
enum Refusal {
    /// Malformed or unexpected: dropped quietly (an attacker or a
    /// corrupted retransmission must not kill the exchange).
    Drop,
    /// The exchange ends, the peer is told with this notify (plaintext,
    /// before keys), and this error is reported.
    Fail { notify: Option<u16>, reason: String },
}

/// Main Mode messages 3 and 4: in the clear, with the sender's KE and a
/// nonce of 8 to 256 bytes (RFC 2409 §5); the payloads, the KE and the
/// nonce.
fn key_exchange<'a>(
    header: &Header,
    body: &'a [u8],
) -> Result<(Payloads<'a>, &'a [u8], &'a [u8]), Refusal> {
    if header.encrypted() {
        return Err(Refusal::Drop);
    }
    let raws = wire::parse_chain(header.next_payload, body).map_err(drop_it)?;
    let p = Payloads(raws);
    let ke = p.first(payload::KE).ok_or(Refusal::Drop)?;
    let nonce = p.first(payload::NONCE).ok_or(Refusal::Drop)?;
    if !(8..=256).contains(&nonce.len()) {
        return Err(Refusal::Drop);
    }
    Ok((p, ke, nonce))
}

/// What Main Mode message 5 or 6 proved about the peer.
struct PeerIdentity {
    /// The IV for what follows (RFC 2409 Appendix B).
    last_block: Iv,
    /// The message carried INITIAL-CONTACT (RFC 2407 §4.6.3.3).
    initial_contact: bool,
}

/// Main Mode message 5 (the initiator's, `peer` = Initiator) or 6: decrypt,
/// then check ID and HASH_I / HASH_R (RFC 2409 §5). The message 5 responder
/// tells the peer AUTHENTICATION-FAILED; an initiator reading message 6
/// just fails.
fn authenticate(
    sa: &IkeSa,
    header: &Header,
    body: &[u8],
    peer: Role,
) -> Result<PeerIdentity, Refusal> {
    if !header.encrypted() {
        return Err(Refusal::Drop);
    }
    let (message, hash_name, notify) = match peer {
        Role::Initiator => (5, "HASH_I", Some(notify::AUTHENTICATION_FAILED)),
        Role::Responder => (6, "HASH_R", None),
    };
    let auth_failed = |detail: &str| Refusal::Fail {
        notify,
        reason: format!("{AUTH_FAILED} ({detail} in Main Mode message {message})"),
    };
    let (plain, last_block) = sa.open(body, &sa.iv).map_err(drop_it)?;
    // With a wrong key the plaintext is noise: a broken chain is the same
    // failure as a wrong hash.
    let raws = wire::parse_chain(header.next_payload, &plain)
        .map_err(|_| auth_failed("undecryptable payloads"))?;
    let p = Payloads(raws);
    let (Some(id), Some(hash)) = (p.first(payload::ID), p.first(payload::HASH)) else {
        return Err(auth_failed("no ID or HASH payload"));
    };
    if !crypto::equal(hash, &sa.auth_hash(peer, id)) {
        return Err(auth_failed(&format!("{hash_name} mismatch")));
    }
    let initial_contact = p
        .all(payload::NOTIFY)
        .filter_map(|n| wire::Notify::parse(n).ok())
        .any(|n| n.kind == notify::INITIAL_CONTACT);
    Ok(PeerIdentity {
        last_block,
        initial_contact,
    })
}

fn drop_it<T>(_: T) -> Refusal {
    Refusal::Drop
}

/// Responder SAs between message 1 and message 5 kept at once.
pub(super) const MAX_HALF_OPEN: usize = 32;

const AUTH_FAILED: &str = "authentication failed: pre-shared key mismatch?";

/// RFC 2407 §4.6.2: phase 1 identities are the IP addresses, protocol and
/// port zero.
fn own_id(local: SocketAddr) -> wire::Id {
    let data = match local.ip() {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    wire::Id {
        id_type: wire::ID_IPV4_ADDR,
        protocol: 0,
        port: 0,
        data,
    }
}

fn with_port(a: SocketAddr, port: u16) -> SocketAddr {
    SocketAddr::new(a.ip(), port)
}

impl IkePeer {
    /// Message 1.
    pub(super) fn start_main_mode(&mut self, is_rekey: bool, out: &mut Vec<Output>) {
        let icookie = self.fresh_cookie();
        let mut sa = IkeSa::new(
            Role::Initiator,
            icookie,
            self.config.local,
            self.config.remote,
        );
        sa.is_rekey = is_rekey;
        let sa_payload = transforms::phase1_sa(&self.config.phase1, self.config.phase1_lifetime);
        let body = sa_payload.encode();
        sa.sa_i_b = body.to_vec();
        let mut chain = Chain::default();
        chain.push(payload::SA, body);
        self.push_vendor_ids(&mut chain);
        let msg = wire::encode_plain(sa.header(exchange::IDENTITY_PROTECTION, 0, 0), &chain);
        self.send_and_wait(sa, msg, out);
    }

    fn push_vendor_ids(&self, chain: &mut Chain) {
        if self.config.nat_traversal {
            chain.push(payload::VENDOR_ID, wire::VID_NAT_T.to_vec());
        }
        chain.push(payload::VENDOR_ID, wire::VID_DPD.to_vec());
    }

    /// Send `msg` for the SA (new or existing) and arm its retransmission.
    fn send_and_wait(&mut self, sa: IkeSa, msg: Bytes, out: &mut Vec<Output>) {
        let icookie = sa.icookie;
        let (from, to) = (sa.local, sa.remote);
        match self.ike_sas.iter_mut().find(|s| s.icookie == icookie) {
            Some(slot) => *slot = sa,
            None => self.ike_sas.push(sa),
        }
        if let Some(s) = self.ike_sa_mut(icookie) {
            s.pending = Some(Pending {
                from,
                to,
                bytes: msg.clone(),
                tries: 0,
            });
        }
        self.send(from, to, &msg, out);
        self.arm_retransmit(icookie, 0, 0, out);
    }

    /// Route a Main Mode datagram. `raw` is the whole ISAKMP message (for
    /// the duplicate cache).
    pub(super) fn on_main_mode(
        &mut self,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(index) = self
            .ike_sas
            .iter()
            .position(|s| s.icookie == header.icookie)
        else {
            if header.rcookie == 0 && !header.encrypted() {
                return self.responder_message1(header, body, raw, from, to, out);
            }
            return false;
        };
        let sa = &self.ike_sas[index];
        if let Some((reply_from, reply)) = sa.cache.lookup(raw).cloned() {
            // A retransmitted request: the same answer, nothing new.
            self.stats.duplicates_answered += 1;
            self.send(reply_from, from, &reply, out);
            return true;
        }
        if sa.rcookie != 0 && header.rcookie != sa.rcookie {
            return false;
        }
        let result = match (sa.role, sa.state) {
            (Role::Initiator, MainMode::SentMessage1) => {
                self.initiator_message2(index, header, body, out)
            }
            (Role::Initiator, MainMode::SentMessage3) => {
                self.initiator_message4(index, header, body, from, to, out)
            }
            (Role::Initiator, MainMode::SentMessage5) => {
                self.initiator_message6(index, header, body, out)
            }
            (Role::Responder, MainMode::SentMessage2) => {
                self.responder_message3(index, header, body, raw, from, to, out)
            }
            (Role::Responder, MainMode::SentMessage4) => {
                self.responder_message5(index, header, body, raw, from, to, out)
            }
            _ => Err(Refusal::Drop),
        };
        match result {
            Ok(()) => true,
            Err(Refusal::Drop) => false,
            Err(Refusal::Fail { notify, reason }) => {
                let icookie = header.icookie;
                if let Some(kind) = notify {
                    let rcookie = self.ike_sas.get(index).map_or(0, |s| s.rcookie);
                    let msg = plain_notify(icookie, rcookie, kind);
                    self.send(to, from, &msg, out);
                }
                self.event(Event::Error { reason }, out);
                self.drop_ike_sa(icookie, out);
                true
            }
        }
    }

    /// Responder, message 1 → message 2: choose by OUR order (spec §1.2).
    fn responder_message1(
        &mut self,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> bool {
        let half_open = self
            .ike_sas
            .iter()
            .filter(|s| s.role == Role::Responder && !s.is_established())
            .count();
        if half_open >= MAX_HALF_OPEN {
            // A flood of first messages must not grow state without bound;
            // a real peer retransmits and gets in once the flood's SAs
            // time out.
            return false;
        }
        let Ok(raws) = wire::parse_chain(header.next_payload, body) else {
            return false;
        };
        let p = Payloads(raws);
        let Some(sa_body) = p.first(payload::SA) else {
            return false;
        };
        let Ok(offered_sa) = wire::Sa::parse(sa_body) else {
            return false;
        };
        let offers = transforms::phase1_offers(&offered_sa);
        let Some((index, offer)) = select(&self.config.phase1, &offers) else {
            let offered: Vec<String> = offers
                .iter()
                .map(|o| {
                    o.suite
                        .map_or_else(|| "unsupported".to_string(), |s| s.to_string())
                })
                .collect();
            let msg = plain_notify(header.icookie, 0, notify::NO_PROPOSAL_CHOSEN);
            self.send(to, from, &msg, out);
            self.event(
                Event::Error {
                    reason: format!(
                        "No proposal match: phase 1 offer [{}] has nothing we accept",
                        offered.join(", ")
                    ),
                },
                out,
            );
            return true;
        };
        let chosen = self.config.phase1[index];
        let Some(transform) = offered_sa
            .proposals
            .iter()
            .find(|pr| pr.number == offer.proposal_number)
            .and_then(|pr| {
                pr.transforms
                    .iter()
                    .find(|t| t.number == offer.transform_number)
            })
            .cloned()
        else {
            return false;
        };
        let lifetime = offer.lifetime.map_or(self.config.phase1_lifetime, |l| {
            l.min(self.config.phase1_lifetime)
        });
        let rcookie = self.fresh_cookie();
        let mut sa = IkeSa::new(Role::Responder, header.icookie, to, from);
        sa.rcookie = rcookie;
        sa.sa_i_b = sa_body.to_vec();
        sa.proposal = Some(chosen);
        sa.lifetime = lifetime;
        sa.peer_nat_t = p.all(payload::VENDOR_ID).any(|v| v == wire::VID_NAT_T);
        sa.peer_dpd = p.all(payload::VENDOR_ID).any(|v| v == wire::VID_DPD);
        sa.nat.supported = sa.peer_nat_t && self.config.nat_traversal;
        // RFC 2409 §5: the responder returns the one transform it took,
        // exactly as offered.
        let answer = wire::Sa {
            doi: offered_sa.doi,
            situation: offered_sa.situation,
            proposals: vec![wire::Proposal {
                number: offer.proposal_number,
                protocol: wire::PROTO_ISAKMP,
                spi: Vec::new(),
                transforms: vec![transform],
            }],
        };
        let mut chain = Chain::default();
        chain.push(payload::SA, answer.encode());
        if sa.nat.supported {
            chain.push(payload::VENDOR_ID, wire::VID_NAT_T.to_vec());
        }
        chain.push(payload::VENDOR_ID, wire::VID_DPD.to_vec());
        let msg = wire::encode_plain(sa.header(exchange::IDENTITY_PROTECTION, 0, 0), &chain);
        sa.cache.remember(raw, to, msg.clone());
        let icookie = sa.icookie;
        self.ike_sas.push(sa);
        self.send(to, from, &msg, out);
        // A responder does not retransmit Main Mode; a peer that goes
        // quiet leaves a half-open SA that this timer clears.
        out.push(Output::StartTimer {
            kind: TimerKind::HalfOpen { icookie },
            after: self.half_open_timeout(),
        });
        true
    }

    /// As long as an initiator may keep retransmitting.
    fn half_open_timeout(&self) -> std::time::Duration {
        (0..=self.config.retransmit.tries)
            .map(|n| retransmit_wait(&self.config.retransmit, n))
            .sum()
    }

    /// Initiator, message 2 → message 3.
    fn initiator_message2(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let raws = wire::parse_chain(header.next_payload, body).map_err(drop_it)?;
        let p = Payloads(raws);
        let sa_body = p.first(payload::SA).ok_or(Refusal::Drop)?;
        let answer = wire::Sa::parse(sa_body).map_err(drop_it)?;
        let offers = transforms::phase1_offers(&answer);
        // RFC 2409 §5: exactly one transform, one we offered.
        let chosen = match offers.as_slice() {
            [one] => one.suite.filter(|s| self.config.phase1.contains(s)),
            _ => None,
        }
        .ok_or_else(|| Refusal::Fail {
            notify: None,
            reason: "No proposal match: the responder chose a transform we did not offer".into(),
        })?;
        let lifetime = offers
            .first()
            .and_then(|o| o.lifetime)
            .map_or(self.config.phase1_lifetime, |l| {
                l.min(self.config.phase1_lifetime)
            });
        let nat_t_enabled = self.config.nat_traversal;
        let force = self.config.force_encapsulation;
        let dh = Dh::new(chosen.group, self.rng.as_mut()).map_err(drop_it)?;
        let ni = self.nonce();
        let mut fake = vec![0u8; chosen.integrity.output_len()];
        self.rng.fill(&mut fake);
        let sa = &mut self.ike_sas[index];
        sa.rcookie = header.rcookie;
        sa.proposal = Some(chosen);
        sa.lifetime = lifetime;
        sa.peer_nat_t = p.all(payload::VENDOR_ID).any(|v| v == wire::VID_NAT_T);
        sa.peer_dpd = p.all(payload::VENDOR_ID).any(|v| v == wire::VID_DPD);
        sa.nat.supported = sa.peer_nat_t && nat_t_enabled;
        sa.ke_i = dh.public.clone();
        sa.dh = Some(dh);
        sa.ni = ni;
        let mut chain = Chain::default();
        chain.push(payload::KE, sa.ke_i.clone());
        chain.push(payload::NONCE, sa.ni.clone());
        if sa.nat.supported {
            push_nat_d(sa, &mut chain, force.then_some(fake));
        }
        sa.state = MainMode::SentMessage3;
        let msg = wire::encode_plain(sa.header(exchange::IDENTITY_PROTECTION, 0, 0), &chain);
        let sa = self.take_sa(index);
        self.send_and_wait(sa, msg, out);
        Ok(())
    }

    fn take_sa(&mut self, index: usize) -> IkeSa {
        self.ike_sas.remove(index)
    }

    /// Responder, message 3 → message 4.
    #[allow(clippy::too_many_arguments)]
    fn responder_message3(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let (p, ke, ni) = key_exchange(header, body)?;
        let group = self.ike_sas[index].proposal.ok_or(Refusal::Drop)?.group;
        let dh = Dh::new(group, self.rng.as_mut()).map_err(drop_it)?;
        let gxy = dh.shared(ke).map_err(|e| Refusal::Fail {
            notify: Some(notify::INVALID_PAYLOAD_TYPE),
            reason: format!("Main Mode message 3: {e}"),
        })?;
        let nr = self.nonce();
        let force = self.config.force_encapsulation;
        let integrity = self.ike_sas[index].integrity();
        let mut fake = vec![0u8; integrity.output_len()];
        self.rng.fill(&mut fake);
        let psk = self.config.psk.clone();
        let sa = &mut self.ike_sas[index];
        sa.ke_i = ke.to_vec();
        sa.ke_r = dh.public.clone();
        sa.ni = ni.to_vec();
        sa.nr = nr;
        sa.dh = Some(dh);
        let nat_d: Vec<&[u8]> = p.all(payload::NAT_D).collect();
        if sa.nat.supported {
            detect_nat(sa, &nat_d, from, to);
        }
        sa.derive_keys(psk.as_bytes(), &gxy).map_err(drop_it)?;
        let mut chain = Chain::default();
        chain.push(payload::KE, sa.ke_r.clone());
        chain.push(payload::NONCE, sa.nr.clone());
        if sa.nat.supported && !nat_d.is_empty() {
            sa.remote = from;
            sa.local = to;
            push_nat_d(sa, &mut chain, force.then_some(fake));
        }
        sa.state = MainMode::SentMessage4;
        let msg = wire::encode_plain(sa.header(exchange::IDENTITY_PROTECTION, 0, 0), &chain);
        sa.cache.remember(raw, to, msg.clone());
        self.send(to, from, &msg, out);
        Ok(())
    }

    /// Initiator, message 4 → message 5 (encrypted, on 4500 when NAT-T).
    fn initiator_message4(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let (p, ke, nr) = key_exchange(header, body)?;
        let psk = self.config.psk.clone();
        let force = self.config.force_encapsulation;
        let first_contact = !self.ike_sas.iter().any(|s| s.is_established());
        let sa = &mut self.ike_sas[index];
        let gxy = sa
            .dh
            .as_ref()
            .ok_or(Refusal::Drop)?
            .shared(ke)
            .map_err(|e| Refusal::Fail {
                notify: None,
                reason: format!("Main Mode message 4: {e}"),
            })?;
        sa.ke_r = ke.to_vec();
        sa.nr = nr.to_vec();
        let nat_d: Vec<&[u8]> = p.all(payload::NAT_D).collect();
        if sa.nat.supported {
            detect_nat(sa, &nat_d, from, to);
        }
        sa.derive_keys(psk.as_bytes(), &gxy).map_err(drop_it)?;
        // RFC 3947 §4: with a NAT on the path the initiator moves to 4500
        // at message 5; strongSwan's forced encapsulation moves anyway.
        if sa.nat.supported && (sa.nat.local_behind_nat || sa.nat.remote_behind_nat || force) {
            sa.local = with_port(sa.local, NAT_T_PORT);
            sa.remote = with_port(sa.remote, NAT_T_PORT);
        }
        let id = own_id(sa.local).encode();
        let hash_i = sa.auth_hash(Role::Initiator, &id);
        let mut chain = Chain::default();
        chain.push(payload::ID, id);
        chain.push(payload::HASH, hash_i);
        if first_contact {
            // Tells the peer to forget SAs of an earlier life of ours.
            chain.push(
                payload::NOTIFY,
                wire::Notify {
                    doi: wire::DOI_IPSEC,
                    protocol: wire::PROTO_ISAKMP,
                    kind: notify::INITIAL_CONTACT,
                    spi: [sa.icookie.to_be_bytes(), sa.rcookie.to_be_bytes()].concat(),
                    data: Vec::new(),
                }
                .encode(),
            );
        }
        let iv = sa.iv;
        let (msg, next_iv) = sa
            .seal(
                sa.header(exchange::IDENTITY_PROTECTION, 0, 0),
                chain.first(),
                &chain.encode(),
                &iv,
            )
            .map_err(drop_it)?;
        sa.iv = next_iv;
        sa.state = MainMode::SentMessage5;
        let sa = self.take_sa(index);
        self.send_and_wait(sa, msg, out);
        Ok(())
    }

    /// Responder, message 5 → message 6: authenticate the initiator.
    #[allow(clippy::too_many_arguments)]
    fn responder_message5(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        raw: &[u8],
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        let PeerIdentity {
            last_block,
            initial_contact,
        } = authenticate(&self.ike_sas[index], header, body, Role::Initiator)?;
        let icookie = header.icookie;
        {
            let sa = &mut self.ike_sas[index];
            sa.iv = last_block;
            // Follow the initiator wherever it went (NAT, port 4500).
            sa.local = to;
            sa.remote = from;
            let id = own_id(sa.local).encode();
            let hash_r = sa.auth_hash(Role::Responder, &id);
            let mut chain = Chain::default();
            chain.push(payload::ID, id);
            chain.push(payload::HASH, hash_r);
            let iv = sa.iv;
            let (msg, next_iv) = sa
                .seal(
                    sa.header(exchange::IDENTITY_PROTECTION, 0, 0),
                    chain.first(),
                    &chain.encode(),
                    &iv,
                )
                .map_err(drop_it)?;
            sa.iv = next_iv;
            sa.state = MainMode::Established;
            sa.cache.remember(raw, to, msg.clone());
            self.send(to, from, &msg, out);
        }
        out.push(Output::StopTimer(TimerKind::HalfOpen { icookie }));
        if initial_contact {
            self.initial_contact(icookie, out);
        }
        self.phase1_established(icookie, out);
        Ok(())
    }

    /// Initiator, message 6: authenticate the responder; phase 1 is up.
    fn initiator_message6(
        &mut self,
        index: usize,
        header: &Header,
        body: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), Refusal> {
        // An INITIAL-CONTACT from the responder is not acted on.
        let PeerIdentity { last_block, .. } =
            authenticate(&self.ike_sas[index], header, body, Role::Responder)?;
        let icookie = header.icookie;
        let sa = &mut self.ike_sas[index];
        sa.iv = last_block;
        sa.state = MainMode::Established;
        sa.pending = None;
        out.push(Output::StopTimer(TimerKind::Retransmit {
            icookie,
            message_id: 0,
        }));
        self.phase1_established(icookie, out);
        Ok(())
    }

    /// Report, arm lifetime, rekey and DPD; retire the SA this one
    /// replaces; start Quick Mode if we owe one.
    fn phase1_established(&mut self, icookie: u64, out: &mut Vec<Output>) {
        let Some(sa) = self.ike_sas.iter().find(|s| s.icookie == icookie) else {
            return;
        };
        let (rcookie, role, lifetime, nat, remote) =
            (sa.rcookie, sa.role, sa.lifetime, sa.nat, sa.remote);
        let Some(proposal) = sa.proposal else { return };
        self.event(
            Event::Phase1Up {
                icookie,
                rcookie,
                role,
                proposal,
                lifetime,
                nat,
                remote,
            },
            out,
        );
        out.push(Output::StartTimer {
            kind: TimerKind::Phase1Expire { icookie },
            after: lifetime,
        });
        if self.config.rekey.enabled {
            let after = rekey_after(lifetime, &self.config.rekey, self.rng.as_mut());
            out.push(Output::StartTimer {
                kind: TimerKind::Phase1Rekey { icookie },
                after,
            });
        }
        // The older SAs are replaced: they stop rekeying; the one we
        // started the replacement for is deleted now that the new one
        // stands (RFC 2409 gives no rule; strongSwan deletes the old).
        let older: Vec<(u64, bool)> = self
            .ike_sas
            .iter()
            .filter(|s| s.icookie != icookie && s.is_established())
            .map(|s| (s.icookie, true))
            .collect();
        for (old, _) in older {
            out.push(Output::StopTimer(TimerKind::Phase1Rekey { icookie: old }));
            if role == Role::Initiator {
                self.delete_ike_sa(old, "replaced by a new phase 1 SA", true, out);
            }
        }
        self.dpd_restart(out);
        if role == Role::Initiator && self.want_child && self.children.is_empty() {
            self.start_quick_mode(icookie, None, out);
        }
    }

    /// RFC 2407 §4.6.3.3: the peer starts afresh; every other SA with it
    /// is stale. Deleted without telling the peer, which forgot them.
    fn initial_contact(&mut self, keep: u64, out: &mut Vec<Output>) {
        let spis: Vec<u32> = self.children.iter().map(|c| c.info.spi_in).collect();
        for spi in spis {
            self.delete_child(spi, "INITIAL-CONTACT from the peer", false, out);
        }
        let stale: Vec<u64> = self
            .ike_sas
            .iter()
            .filter(|s| s.icookie != keep)
            .map(|s| s.icookie)
            .collect();
        for c in stale {
            self.delete_ike_sa(c, "INITIAL-CONTACT from the peer", false, out);
        }
    }

    /// Aggressive Mode is refused (spec §1.2: Main Mode only).
    pub(super) fn refuse_aggressive(
        &mut self,
        header: &Header,
        from: SocketAddr,
        to: SocketAddr,
        out: &mut Vec<Output>,
    ) -> bool {
        if header.rcookie != 0 {
            return false;
        }
        let msg = plain_notify(header.icookie, 0, notify::NO_PROPOSAL_CHOSEN);
        self.send(to, from, &msg, out);
        self.event(
            Event::Error {
                reason: "No proposal match: Aggressive Mode refused, Main Mode only".into(),
            },
            out,
        );
        true
    }
}

/// RFC 3947 §3.2: the first NAT-D hashes the address we send to, the
/// second the address we send from (random when forcing encapsulation,
/// so the peer believes in a NAT, as strongSwan does).
fn push_nat_d(sa: &IkeSa, chain: &mut Chain, fake_source: Option<Vec<u8>>) {
    let i = sa.integrity();
    chain.push(
        payload::NAT_D,
        crypto::nat_d(i, sa.icookie, sa.rcookie, &sa.remote),
    );
    let source = fake_source.unwrap_or_else(|| crypto::nat_d(i, sa.icookie, sa.rcookie, &sa.local));
    chain.push(payload::NAT_D, source);
}

/// RFC 3947 §3.2: the first received NAT-D must hash our address as the
/// packet reached us, one of the others the address it came from.
fn detect_nat(sa: &mut IkeSa, nat_d: &[&[u8]], from: SocketAddr, to: SocketAddr) {
    let i = sa.integrity();
    let ours = crypto::nat_d(i, sa.icookie, sa.rcookie, &to);
    let theirs = crypto::nat_d(i, sa.icookie, sa.rcookie, &from);
    match nat_d.split_first() {
        Some((dest, sources)) => {
            sa.nat.local_behind_nat = !crypto::equal(dest, &ours);
            sa.nat.remote_behind_nat = !sources.iter().any(|s| crypto::equal(s, &theirs));
        }
        // RFC 3947 §3.2: no NAT-D means the peer does no NAT-T after all.
        None => sa.nat = NatStatus::default(),
    }
}
