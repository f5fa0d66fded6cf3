//! The real peer of a test, FRR or BIRD, behind one set of queries: the
//! scenarios in [`super::scenarios`] and [`super::bfd_scenarios`] run the
//! same steps against either. What the two daemons report differently
//! (FRR's JSON, BIRD's text) is read here into the same shapes; what they
//! do differently stays in the scenarios, as a `match` on [`PeerKind`].

use super::bird::{Bird, BirdBfd, BirdConfig, BirdPeer};
use super::frr::{Frr, FrrBfdProfile, FrrConfig, FrrNeighbor};
use super::{bfd, Lab, Link, Netns};

/// Which daemon plays the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    Frr,
    Bird,
}

impl PeerKind {
    /// "FRR" or "BIRD": messages and printed figures.
    pub fn label(self) -> &'static str {
        match self {
            PeerKind::Frr => "FRR",
            PeerKind::Bird => "BIRD",
        }
    }

    /// "frr" or "bird": namespace role, lab tags, hybridlab's neighbour names.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Frr => "frr",
            PeerKind::Bird => "bird",
        }
    }
}

/// A running FRR or BIRD.
pub enum RealPeer {
    Frr(Frr),
    Bird(Bird),
}

/// One of the peer's paths for a prefix, in the words both daemons share.
#[derive(Clone, Debug)]
pub struct PeerRoute {
    /// The session that brought it: FRR's `peerId` (an address), BIRD's
    /// protocol name.
    pub from: String,
    pub as_path: String,
    pub med: Option<u64>,
    pub next_hop: Option<String>,
    /// FRR's `valid`; BIRD's primary mark (`*`).
    pub usable: bool,
    /// The daemon's own record of the path, for messages.
    pub raw: String,
}

/// One BGP session of the peer towards hybridlab.
#[derive(Clone, Debug)]
pub struct PeerSession {
    /// The peer's name for it: FRR's neighbour address, BIRD's protocol.
    pub id: String,
    /// hybridlab's address: where the peer's BGP connects, and where its
    /// BFD session points.
    pub hl_address: String,
    /// The peer's address, hybridlab's view of the neighbour.
    pub local_address: String,
}

/// BGP neighbours of a peer: one per session, each with an MD5 password or
/// none, and BFD bound to it or not.
pub struct PeerBgp<'a> {
    pub asn: u32,
    pub router_id: &'a str,
    pub sessions: &'a [PeerSession],
    pub password: Option<&'a str>,
    /// 300 ms × 3 BFD under every session.
    pub bfd: bool,
    /// Originated prefixes.
    pub networks: Vec<String>,
    /// More originated prefixes, which [`RealPeer::withdraw_extra`] takes
    /// back at run time.
    pub extra_networks: Vec<String>,
}

/// FRR's bfdd profile the BFD tests use.
const FRR_BFD_PROFILE: &str = "dx";

impl PeerSession {
    /// The session of `kind` on `link` (peer on side B) in one family:
    /// FRR names it by hybridlab's address, BIRD by `protocol`.
    pub fn on_link(kind: PeerKind, link: &Link, v6: bool, protocol: &str) -> PeerSession {
        let (hl_address, local_address) = if v6 {
            (&link.a6, &link.b6)
        } else {
            (&link.a4, &link.b4)
        };
        PeerSession {
            id: match kind {
                PeerKind::Frr => hl_address.clone(),
                PeerKind::Bird => protocol.to_string(),
            },
            hl_address: hl_address.clone(),
            local_address: local_address.clone(),
        }
    }
}

impl RealPeer {
    pub fn start(kind: PeerKind, lab: &Lab, ns: &Netns, bgp: PeerBgp<'_>) -> RealPeer {
        match kind {
            PeerKind::Frr => {
                let mut c = FrrConfig::new(bgp.asn, bgp.router_id);
                c.neighbors = bgp
                    .sessions
                    .iter()
                    .map(|s| {
                        let mut n = FrrNeighbor::new(&s.hl_address, super::hybridlab::CLOUD_ASN);
                        if let Some(pw) = bgp.password {
                            n = n.password(pw);
                        }
                        if bgp.bfd {
                            n = n.bfd_profile(FRR_BFD_PROFILE);
                        }
                        n
                    })
                    .collect();
                c.networks = bgp.networks;
                c.networks.extend(bgp.extra_networks);
                if bgp.bfd {
                    let profile = FrrBfdProfile::new(
                        FRR_BFD_PROFILE,
                        bfd::INTERVAL_MS as u32,
                        bfd::INTERVAL_MS as u32,
                        bfd::MULTIPLIER as u8,
                    );
                    RealPeer::Frr(Frr::start_with_bfd(lab, ns, &c, &profile))
                } else {
                    RealPeer::Frr(Frr::start(lab, ns, &c))
                }
            }
            PeerKind::Bird => {
                let mut c = BirdConfig::new(bgp.asn, bgp.router_id);
                c.peers = bgp
                    .sessions
                    .iter()
                    .map(|s| {
                        let mut p = BirdPeer::new(
                            &s.id,
                            &s.local_address,
                            &s.hl_address,
                            super::hybridlab::CLOUD_ASN,
                        );
                        if let Some(pw) = bgp.password {
                            p = p.password(pw);
                        }
                        p.bfd = bgp.bfd;
                        p
                    })
                    .collect();
                c.networks = bgp.networks;
                c.extra_networks = bgp.extra_networks;
                if bgp.bfd {
                    c.bfd = Some(BirdBfd {
                        min_rx_ms: bfd::INTERVAL_MS as u32,
                        min_tx_ms: bfd::INTERVAL_MS as u32,
                        multiplier: bfd::MULTIPLIER as u8,
                    });
                }
                RealPeer::Bird(Bird::start(lab, ns, &c))
            }
        }
    }

    pub fn kind(&self) -> PeerKind {
        match self {
            RealPeer::Frr(_) => PeerKind::Frr,
            RealPeer::Bird(_) => PeerKind::Bird,
        }
    }

    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    pub fn wait_established(&self, lab: &Lab, session: &PeerSession) {
        match self {
            RealPeer::Frr(frr) => frr.wait_established(lab, &session.id),
            RealPeer::Bird(bird) => bird.wait_established(lab, &session.id),
        }
    }

    /// The session's BGP state (`Established`, `Active`, ...); BIRD has
    /// none while its protocol is down.
    pub fn bgp_state(&self, session: &PeerSession) -> Result<Option<String>, String> {
        match self {
            RealPeer::Frr(frr) => frr.neighbor_state(&session.id).map(Some),
            RealPeer::Bird(bird) => Ok(bird.protocol(&session.id)?.bgp_state),
        }
    }

    pub fn bgp_established(&self, session: &PeerSession) -> Result<bool, String> {
        Ok(self.bgp_state(session)?.as_deref() == Some("Established"))
    }

    /// The session's BGP state and last error, for messages.
    pub fn bgp_summary(&self, session: &PeerSession) -> Result<String, String> {
        match self {
            RealPeer::Frr(frr) => {
                let n = frr.neighbor(&session.id)?;
                Ok(format!(
                    "{} (last notification {}, reset {})",
                    n["bgpState"], n["lastNotificationReason"], n["lastResetDueTo"]
                ))
            }
            RealPeer::Bird(bird) => Ok(format!("{:?}", bird.protocol(&session.id)?)),
        }
    }

    /// The peer's paths for `prefix`; empty when it has none.
    pub fn routes(&self, prefix: &str) -> Result<Vec<PeerRoute>, String> {
        match self {
            RealPeer::Frr(frr) => Ok(frr
                .paths(prefix)?
                .into_iter()
                .map(|p| PeerRoute {
                    from: p["peerId"].as_str().unwrap_or("").to_string(),
                    as_path: p["path"].as_str().unwrap_or("").to_string(),
                    med: p["metric"].as_u64(),
                    next_hop: p["nexthops"][0]["ip"].as_str().map(str::to_string),
                    usable: p["valid"] == true,
                    raw: p.to_string(),
                })
                .collect()),
            RealPeer::Bird(bird) => Ok(bird
                .routes_for(prefix)?
                .into_iter()
                .map(|r| PeerRoute {
                    from: r.protocol.clone(),
                    as_path: r.as_path().to_string(),
                    med: r.med().map(u64::from),
                    next_hop: r.attrs.get("next_hop").cloned(),
                    usable: r.primary,
                    raw: format!("{r:?}"),
                })
                .collect()),
        }
    }

    /// Takes back [`PeerBgp::extra_networks`]: FRR by `no network`, BIRD by
    /// disabling the static protocol that holds them.
    pub fn withdraw_extra(&self, extra: &[String]) {
        match self {
            RealPeer::Frr(frr) => {
                for p in extra {
                    let family = if p.contains(':') {
                        "address-family ipv6 unicast"
                    } else {
                        "address-family ipv4 unicast"
                    };
                    frr.configure(&[family, &format!("no network {p}")]);
                }
            }
            RealPeer::Bird(bird) => {
                for (protocol, v6) in [("extra4", false), ("extra6", true)] {
                    if !extra.iter().any(|p| p.contains(':') == v6) {
                        continue;
                    }
                    let out = bird
                        .birdc(&["disable", protocol])
                        .unwrap_or_else(|e| panic!("birdc disable {protocol}: {e}"));
                    assert!(out.contains("disabled"), "birdc disable {protocol}: {out}");
                }
            }
        }
    }

    /// The peer's BFD session to `hl_address`: `Up`, `Down`, `Init`,
    /// `AdminDown`, or `None` when it has none.
    pub fn bfd_state(&self, hl_address: &str) -> Result<Option<String>, String> {
        match self {
            // bfdd's `status`: up, down, init, or shutdown for AdminDown.
            RealPeer::Frr(frr) => Ok(frr.bfd_peer(hl_address)?.map(|p| {
                match p["status"].as_str().unwrap_or("") {
                    "up" => "Up",
                    "down" => "Down",
                    "init" => "Init",
                    "shutdown" => "AdminDown",
                    other => return other.to_string(),
                }
                .to_string()
            })),
            RealPeer::Bird(bird) => Ok(bird.bfd_session(hl_address)?.map(|s| s.state)),
        }
    }

    /// The first Up → Down of the BFD session to `hl_address` logged at or
    /// after `after_ms`.
    pub fn bfd_down_logged(&self, hl_address: &str, after_ms: u64) -> Option<u64> {
        match self {
            RealPeer::Frr(frr) => {
                // `debug bfd peer`: "state-change: [mhop:no peer:192.0.2.1
                // local:...] up -> down reason:control-expired".
                let peer = format!("peer:{hl_address} ");
                bfd::first_logged(&frr.bfdd_log(), after_ms, |l| {
                    l.contains("state-change:") && l.contains(&peer) && l.contains("up -> down")
                })
            }
            RealPeer::Bird(bird) => {
                // `debug protocols { events }`: "bfd1: Session to 192.0.2.1
                // changed state from Up to Down".
                let line = format!("Session to {hl_address} changed state from Up to Down");
                bfd::first_logged(&bird.log(), after_ms, |l| l.contains(&line))
            }
        }
    }
}

/// The peer as the BFD steps of [`bfd::BfdPair`] see it: its BFD session
/// and BGP session towards hybridlab.
pub struct PeerOnLink<'a> {
    pub peer: &'a RealPeer,
    pub session: &'a PeerSession,
}

impl bfd::PeerView for PeerOnLink<'_> {
    fn label(&self) -> &'static str {
        self.peer.label()
    }

    fn bfd_state(&self) -> Result<Option<String>, String> {
        self.peer.bfd_state(&self.session.hl_address)
    }

    fn bgp_established(&self) -> Result<bool, String> {
        self.peer.bgp_established(self.session)
    }

    fn bgp_summary(&self) -> Result<String, String> {
        self.peer.bgp_summary(self.session)
    }

    fn bfd_down_logged(&self, after_ms: u64) -> Option<u64> {
        self.peer
            .bfd_down_logged(&self.session.hl_address, after_ms)
    }
}
