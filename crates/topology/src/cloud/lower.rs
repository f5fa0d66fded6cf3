//! Cloud nodes as BGP speakers the runtime runs like any router
//! (docs/topology.md, "How cloud nodes run"): one router per VGW, per DX
//! gateway and per public VIF, a neighbour per BGP tunnel and per VIF, and
//! on the customer's emulated router the other end of each of those
//! sessions.
//! A customer that is a real router becomes an external neighbour instead.

use super::model::*;
use crate::error::{Diagnostic, Locator, Report};
use crate::model::{
    Bfd, MaxPrefix, Mode, Neighbor, NeighborKind, Router, RouterRole, VirtualLink,
    DEFAULT_BFD_MIN_INTERVAL,
};
use crate::raw::{File, S};
use hybridlab_bgp::packet::Family;
use hybridlab_cloud::dx::communities::AWS_ASN;
use hybridlab_cloud::dx::vif::{VifKind, VifSettings};
use hybridlab_cloud::fabric::CloudPeer;
use hybridlab_cloud::path::TunnelId;
use hybridlab_cloud::vgw::{vpn_prefix_limit, TunnelRouting, HOLD_TIME_SECS, KEEPALIVE_SECS};
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

/// The identifier of a speaker with no session to borrow one from.
pub const FALLBACK_ROUTER_ID: Ipv4Addr = Ipv4Addr::new(169, 254, 0, 1);
/// Where BGP listens on the AWS end of a session with a real router.
const BGP_PORT: u16 = 179;
/// ConnectRetry of the generated sessions, as for a `[[router.neighbor]]`
/// that does not set it.
const CONNECT_RETRY: Duration = Duration::from_secs(5);
/// A tunnel's inside network is a /30 (spec §1.3).
const INSIDE_PREFIX_LEN: u8 = 30;

/// Appends the cloud speakers to `routers`, adds the customer ends of their
/// sessions, then takes the `external` routers out. `routers` must hold the
/// file's `[[router]]`s, in file order, validated without error.
pub(crate) fn lower(
    loc: &Locator<'_>,
    file: &File,
    cloud: &Cloud,
    routers: &mut Vec<Router>,
    external: &[String],
) -> Vec<Diagnostic> {
    let mut l = Lowering {
        loc,
        file,
        errors: Vec::new(),
    };
    l.check_external(routers, external);
    l.check_speaker_names(routers);
    if !l.errors.is_empty() {
        return l.errors;
    }
    let sessions = l.sessions(cloud, routers, external);
    let speakers = speakers(cloud, &sessions);
    let first_speaker = routers.len();
    routers.extend(
        speakers
            .into_iter()
            .map(|(name, asn, role, router_id)| Router {
                name,
                asn,
                router_id,
                networks: Vec::new(),
                always_compare_med: false,
                listen: Vec::new(),
                bfd_min_interval: DEFAULT_BFD_MIN_INTERVAL,
                neighbors: Vec::new(),
                role,
            }),
    );
    for s in &sessions {
        l.connect(routers, first_speaker + s.speaker, s);
    }
    l.check_listen(routers, &sessions, first_speaker);
    l.check_cloud_sessions(&sessions);
    if l.errors.is_empty() {
        remove_external(routers, external);
    }
    l.errors
}

struct Lowering<'a, 'b> {
    loc: &'a Locator<'b>,
    file: &'a File,
    errors: Vec<Diagnostic>,
}

impl Report for Lowering<'_, '_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(self.loc.diagnostic(span, message));
    }
}

/// One BGP session between a cloud speaker and a customer router.
struct Session {
    /// Index among the speakers: VGWs, DX gateways, then public VIFs, in
    /// file order.
    speaker: usize,
    /// The neighbour's name on both ends.
    name: String,
    path: CloudPeer,
    speaker_asn: u32,
    customer: Customer,
    customer_asn: u32,
    aws: Ipv4Addr,
    customer_address: Ipv4Addr,
    settings: Settings,
    /// A VPN tunnel with `ipsec = true`: the session rides in it.
    ipsec: Option<IpsecTunnel>,
    /// A BGP session runs. `false`: a static VPN's IPsec tunnel alone,
    /// lowered to tunnel-only neighbours ([`Neighbor::bgp`]).
    bgp: bool,
    /// Where the file declares it, for messages.
    span: Range<usize>,
}

/// What both ends of an IPsec tunnel share.
struct IpsecTunnel {
    aws_outside: Ipv4Addr,
    customer_outside: Ipv4Addr,
    psk: String,
    options: TunnelOptions,
    prefix_len: u8,
    vpc_cidrs: Vec<ipnet::IpNet>,
}

impl IpsecTunnel {
    /// The cloud's end (`aws` true) or the customer's, at `local`.
    fn end(&self, aws: bool, local: Ipv4Addr, remote: Ipv4Addr) -> TunnelEnd {
        let (role, local_outside, remote_outside) = if aws {
            (
                TunnelRole::Responder,
                self.aws_outside,
                self.customer_outside,
            )
        } else {
            (
                TunnelRole::Initiator,
                self.customer_outside,
                self.aws_outside,
            )
        };
        TunnelEnd {
            role,
            local_outside,
            remote_outside,
            psk: self.psk.clone(),
            options: self.options,
            inside_local: local,
            inside_remote: remote,
            inside_prefix_len: self.prefix_len,
            vpc_cidrs: if aws {
                self.vpc_cidrs.clone()
            } else {
                Vec::new()
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Customer {
    /// Index into the routers.
    Emulated(usize),
    External,
}

/// What differs between a tunnel's session and a VIF's.
struct Settings {
    hold_time: u16,
    /// The cloud end's keepalive; the customer end takes hold_time / 3.
    keepalive: u16,
    md5: Option<String>,
    bfd: Option<Bfd>,
    max_prefix: MaxPrefix,
}

impl Lowering<'_, '_> {
    /// The start of `[[router]] name`'s name in the file.
    fn router_span(&self, name: &str) -> Option<Range<usize>> {
        self.file
            .router
            .iter()
            .map(|r| &r.get_ref().name)
            .find(|n| n.get_ref() == name)
            .map(S::span)
    }

    fn check_external(&mut self, routers: &[Router], external: &[String]) {
        for name in external {
            let Some(span) = self.router_span(name) else {
                self.err(
                    0..0,
                    format!("external router `{name}`: no [[router]] named `{name}` in this file"),
                );
                continue;
            };
            let declared = routers
                .iter()
                .find(|r| &r.name == name)
                .map_or(0, |r| r.neighbors.len());
            if declared > 0 {
                self.err(
                    span,
                    format!("router `{name}` is external (a real router takes its place), so it can only have the cloud's sessions, but it declares {declared} [[router.neighbor]]"),
                );
            }
        }
    }

    /// Every BGP speaker of the lab has a name of its own: the runtime, the
    /// API and `show` find routers by name. (Runs on a file without other
    /// errors, so every `[[vgw]]` and `[[dx_gateway]]` is a node.)
    fn check_speaker_names(&mut self, routers: &[Router]) {
        let mut taken: HashMap<&str, &str> = routers
            .iter()
            .map(|r| (r.name.as_str(), "[[router]]"))
            .collect();
        let vgws = self.file.vgw.iter().map(|g| (&g.get_ref().name, "[[vgw]]"));
        let dxgws = self
            .file
            .dx_gateway
            .iter()
            .map(|d| (&d.get_ref().name, "[[dx_gateway]]"));
        let public_vifs = self
            .file
            .vif
            .iter()
            .map(S::get_ref)
            .filter(|v| v.kind.get_ref() == "public")
            .map(|v| (&v.name, "public [[vif]]"));
        let mut clashes = Vec::new();
        for (name, kind) in vgws.chain(dxgws).chain(public_vifs) {
            match taken.get(name.get_ref().as_str()) {
                Some(other) => clashes.push((
                    name.span(),
                    format!(
                        "{kind} `{}` has the name of a {other}; every BGP speaker of the lab needs a name of its own",
                        name.get_ref()
                    ),
                )),
                None => {
                    taken.insert(name.get_ref().as_str(), kind);
                }
            }
        }
        for (span, message) in clashes {
            self.err(span, message);
        }
    }

    fn sessions(&mut self, cloud: &Cloud, routers: &[Router], external: &[String]) -> Vec<Session> {
        let customer = |r: &CustomerRouter| match r {
            CustomerRouter::Emulated(name) if !external.contains(name) => routers
                .iter()
                .position(|x| &x.name == name)
                .map_or(Customer::External, Customer::Emulated),
            _ => Customer::External,
        };
        let limits = &cloud.limits;
        let vpn_limit = vpn_prefix_limit(limits);
        let mut out = Vec::new();
        for (speaker, vgw) in cloud.vgws.iter().enumerate() {
            for vpn in cloud.vpns.iter().filter(|v| v.vgw == vgw.name) {
                // A static VPN has no BGP session; with `ipsec = true` its
                // tunnels still run IKE and ESP (spec §1.6: a static tunnel
                // is UP when its IPsec is), as tunnel-only neighbours.
                let bgp = vpn.routing == TunnelRouting::Bgp;
                if !bgp && !vpn.ipsec {
                    continue;
                }
                let Some(cgw) = cloud.customer_gateway(&vpn.customer_gateway) else {
                    continue;
                };
                for (i, tunnel) in vpn.tunnels.iter().enumerate() {
                    let n = u8::try_from(i + 1).unwrap_or(u8::MAX);
                    let id = TunnelId::new(vpn.name.clone(), n);
                    let ipsec = vpn.ipsec.then(|| IpsecTunnel {
                        aws_outside: tunnel.outside_address,
                        customer_outside: cgw.ip,
                        psk: tunnel.psk.clone(),
                        options: tunnel.options,
                        prefix_len: INSIDE_PREFIX_LEN,
                        vpc_cidrs: vgw
                            .vpc
                            .as_deref()
                            .and_then(|v| cloud.vpc(v))
                            .map(|v| v.cidrs.clone())
                            .unwrap_or_default(),
                    });
                    out.push(Session {
                        speaker,
                        name: id.to_string(),
                        path: CloudPeer::Tunnel(id),
                        speaker_asn: vgw.asn,
                        customer: customer(&cgw.router),
                        customer_asn: cgw.asn,
                        aws: tunnel.inside_cidr.aws_address(),
                        customer_address: tunnel.inside_cidr.customer_address(),
                        // Spec §2.2: the VGW offers hold 30 / keepalive 10.
                        settings: Settings {
                            hold_time: HOLD_TIME_SECS,
                            keepalive: KEEPALIVE_SECS,
                            md5: None,
                            bfd: None,
                            max_prefix: MaxPrefix {
                                limit: vpn_limit.limit,
                                restart_after: vpn_limit.restart_after,
                            },
                        },
                        ipsec,
                        bgp,
                        span: self.tunnel_span(&vpn.name, i),
                    });
                }
            }
            let attached = VifAttach::Vgw(vgw.name.clone());
            out.extend(self.vif_sessions(cloud, speaker, vgw.asn, &attached, &customer));
        }
        for (i, dxgw) in cloud.dx_gateways.iter().enumerate() {
            let speaker = cloud.vgws.len() + i;
            let attached = VifAttach::DxGateway(dxgw.name.clone());
            out.extend(self.vif_sessions(cloud, speaker, dxgw.asn, &attached, &customer));
        }
        // Spec §5.2: a public VIF's AWS end is AS 7224, alone on its session.
        let first = cloud.vgws.len() + cloud.dx_gateways.len();
        let public = cloud.vifs.iter().filter(|v| v.kind == VifKind::Public);
        for (i, v) in public.enumerate() {
            out.push(self.vif_session(cloud, v, first + i, u32::from(AWS_ASN), &customer));
        }
        out
    }

    fn vif_sessions(
        &self,
        cloud: &Cloud,
        speaker: usize,
        speaker_asn: u32,
        attached: &VifAttach,
        customer: &dyn Fn(&CustomerRouter) -> Customer,
    ) -> Vec<Session> {
        cloud
            .vifs
            .iter()
            .filter(|v| v.attach.as_ref() == Some(attached))
            .map(|v| self.vif_session(cloud, v, speaker, speaker_asn, customer))
            .collect()
    }

    fn vif_session(
        &self,
        cloud: &Cloud,
        v: &Vif,
        speaker: usize,
        speaker_asn: u32,
        customer: &dyn Fn(&CustomerRouter) -> Customer,
    ) -> Session {
        // Spec §5.2: hold 90 / keepalive 30, TTL 1, MD5 always.
        let d = VifSettings::default();
        let restart_after = cloud
            .limits
            .prefix_limit_restart_after_secs
            .map(Duration::from_secs);
        Session {
            speaker,
            name: v.name.clone(),
            path: CloudPeer::Vif(v.name.clone()),
            speaker_asn,
            customer: customer(&v.customer),
            customer_asn: v.customer_asn,
            aws: v.addresses.aws,
            customer_address: v.addresses.customer,
            settings: Settings {
                hold_time: d.hold_time_secs,
                keepalive: d.keepalive_secs,
                md5: Some(v.md5.clone()),
                bfd: v.bfd.map(|b| Bfd {
                    min_tx: b.interval,
                    min_rx: b.interval,
                    multiplier: b.multiplier,
                    passive: false,
                }),
                max_prefix: MaxPrefix {
                    limit: v.prefix_limit,
                    restart_after,
                },
            },
            ipsec: None,
            bgp: true,
            span: self.vif_span(&v.name),
        }
    }

    fn tunnel_span(&self, vpn: &str, i: usize) -> Range<usize> {
        let Some(v) = self
            .file
            .vpn
            .iter()
            .find(|v| v.get_ref().name.get_ref() == vpn)
        else {
            return 0..0;
        };
        v.get_ref()
            .tunnel
            .get(i)
            .map_or_else(|| v.span(), |t| t.get_ref().inside_cidr.span())
    }

    fn vif_span(&self, vif: &str) -> Range<usize> {
        self.file
            .vif
            .iter()
            .map(|v| &v.get_ref().name)
            .find(|n| n.get_ref() == vif)
            .map_or(0..0, S::span)
    }

    /// Adds both ends of `s`: the speaker's neighbour, and the customer
    /// router's when it is emulated.
    fn connect(&mut self, routers: &mut [Router], speaker: usize, s: &Session) {
        let families = vec![Family::IPV4_UNICAST];
        let aws = IpAddr::V4(s.aws);
        let customer = IpAddr::V4(s.customer_address);
        let Some(sp) = routers.get(speaker) else {
            return;
        };
        let speaker_name = sp.name.clone();
        let speaker_at = sp.neighbors.len();
        if sp.neighbors.iter().any(|n| n.name == s.name) {
            self.err(
                s.span.clone(),
                format!(
                    "`{speaker_name}` would have two sessions named `{}`; rename the VIF",
                    s.name
                ),
            );
            return;
        }
        let kind = match s.customer {
            Customer::External => NeighborKind::External {
                address: customer,
                port: BGP_PORT,
                local_address: Some(aws),
            },
            Customer::Emulated(c) => {
                let Some(router) = routers.get_mut(c) else {
                    return;
                };
                if let Some(clash) = router.neighbors.iter().position(|n| n.name == s.name) {
                    let span = self
                        .neighbor_span(c, clash)
                        .unwrap_or_else(|| s.span.clone());
                    let message = format!(
                        "`{}` already has a neighbor named `{}`, the name of its session with `{speaker_name}`; rename the neighbor",
                        router.name, s.name
                    );
                    self.err(span, message);
                    return;
                }
                let customer_at = router.neighbors.len();
                let (import, export) = if s.bgp {
                    self.customer_policies(&router.name, &s.name)
                } else {
                    Default::default()
                };
                router.neighbors.push(Neighbor {
                    name: s.name.clone(),
                    kind: NeighborKind::Emulated(VirtualLink {
                        router: speaker_name.clone(),
                        far_router: speaker,
                        far_neighbor: speaker_at,
                        local_address: customer,
                        remote_address: aws,
                    }),
                    mode: Mode::Both,
                    remote_asn: s.speaker_asn,
                    md5_password: s.settings.md5.clone(),
                    ttl: 1,
                    hold_time: s.settings.hold_time,
                    keepalive: None,
                    connect_retry: CONNECT_RETRY,
                    families: families.clone(),
                    next_hop6: None,
                    max_prefix: None,
                    bfd: s.settings.bfd,
                    import,
                    export,
                    router_id: None,
                    cloud_path: Some(s.path.clone()),
                    tunnel: s
                        .ipsec
                        .as_ref()
                        .map(|t| t.end(false, s.customer_address, s.aws)),
                    bgp: s.bgp,
                });
                NeighborKind::Emulated(VirtualLink {
                    router: router.name.clone(),
                    far_router: c,
                    far_neighbor: customer_at,
                    local_address: aws,
                    remote_address: customer,
                })
            }
        };
        let Some(sp) = routers.get_mut(speaker) else {
            return;
        };
        // Inside an IPsec tunnel BGP listens in the tunnel's own IP stack,
        // not on a kernel socket.
        if s.customer == Customer::External && s.ipsec.is_none() {
            let listen = SocketAddr::new(aws, BGP_PORT);
            if !sp.listen.contains(&listen) {
                sp.listen.push(listen);
            }
        }
        sp.neighbors.push(Neighbor {
            name: s.name.clone(),
            kind,
            mode: Mode::Both,
            remote_asn: s.customer_asn,
            md5_password: s.settings.md5.clone(),
            ttl: 1,
            hold_time: s.settings.hold_time,
            keepalive: Some(s.settings.keepalive),
            connect_retry: CONNECT_RETRY,
            families,
            next_hop6: None,
            max_prefix: s.bgp.then_some(s.settings.max_prefix),
            bfd: s.settings.bfd,
            import: Vec::new(),
            export: Vec::new(),
            router_id: (s.bgp && matches!(s.path, CloudPeer::Tunnel(_))).then_some(s.aws),
            cloud_path: Some(s.path.clone()),
            tunnel: s
                .ipsec
                .as_ref()
                .map(|t| t.end(true, s.aws, s.customer_address)),
            bgp: s.bgp,
        });
    }

    /// The policies `[[router.cloud_session]]` gives `router`'s end of
    /// session `session`: (import, export).
    fn customer_policies(&self, router: &str, session: &str) -> (Vec<String>, Vec<String>) {
        let names = |list: &[S<String>]| list.iter().map(|n| n.get_ref().clone()).collect();
        self.file
            .router
            .iter()
            .map(S::get_ref)
            .filter(|r| r.name.get_ref() == router)
            .flat_map(|r| r.cloud_session.iter().map(S::get_ref))
            .find(|c| c.name.get_ref() == session)
            .map_or_else(Default::default, |c| (names(&c.import), names(&c.export)))
    }

    /// A `[[router.cloud_session]]` names a session the cloud generates.
    fn check_cloud_sessions(&mut self, sessions: &[Session]) {
        let mut unknown = Vec::new();
        for r in self.file.router.iter().map(S::get_ref) {
            for c in r.cloud_session.iter().map(|c| &c.get_ref().name) {
                if !sessions.iter().any(|s| s.bgp && &s.name == c.get_ref()) {
                    unknown.push((
                        c.span(),
                        format!("`{}` has a cloud_session `{}`, but the cloud has no session of that name (tunnels are VPN/tunnel1 and VPN/tunnel2, VIFs go by their name)", r.name.get_ref(), c.get_ref()),
                    ));
                }
            }
        }
        for (span, message) in unknown {
            self.err(span, message);
        }
    }

    /// Where the file declares neighbour `n` of router `r` (routers and
    /// their neighbours are in file order).
    fn neighbor_span(&self, r: usize, n: usize) -> Option<Range<usize>> {
        let raw = self.file.router.get(r)?.get_ref().neighbor.get(n)?;
        Some(
            raw.get_ref()
                .name
                .as_ref()
                .map_or_else(|| raw.span(), S::span),
        )
    }

    /// A real router reaches each session at its own address: the AWS ends
    /// must not be another router's listen address, and one speaker must
    /// not have two external sessions to one customer address.
    fn check_listen(&mut self, routers: &[Router], sessions: &[Session], first_speaker: usize) {
        let mut owner: HashMap<SocketAddr, &str> = HashMap::new();
        for r in routers.get(..first_speaker).unwrap_or_default() {
            for l in &r.listen {
                owner.insert(*l, &r.name);
            }
        }
        let mut remote: BTreeSet<(usize, Ipv4Addr)> = BTreeSet::new();
        let mut clashes = Vec::new();
        for s in sessions
            .iter()
            .filter(|s| s.customer == Customer::External && s.ipsec.is_none())
        {
            let Some(sp) = routers.get(first_speaker + s.speaker) else {
                continue;
            };
            let listen = SocketAddr::new(IpAddr::V4(s.aws), BGP_PORT);
            match owner.get(&listen) {
                Some(other) if *other != sp.name => clashes.push((
                    s.span.clone(),
                    format!("{listen}, the AWS end of `{}` on `{}`, is also where `{other}` listens; a real router needs each AWS address to itself", s.name, sp.name),
                )),
                Some(_) => {}
                None => {
                    owner.insert(listen, &sp.name);
                }
            }
            if !remote.insert((s.speaker, s.customer_address)) {
                clashes.push((
                    s.span.clone(),
                    format!("`{}` has two sessions with a real router at {}; give `{}` addresses of its own", sp.name, s.customer_address, s.name),
                ));
            }
        }
        for (span, message) in clashes {
            self.err(span, message);
        }
    }
}

/// Name, ASN, role and BGP identifier of each speaker: VGWs, DX gateways,
/// then public VIFs. A speaker takes the AWS address of its first session
/// as identifier: a VGW's first BGP tunnel, else its first VIF (spec §2.2
/// observes the tunnel's inside address as the VGW's identifier); a public
/// VIF its own `amazon_address`.
fn speakers(cloud: &Cloud, sessions: &[Session]) -> Vec<(String, u32, RouterRole, Ipv4Addr)> {
    let first = |speaker: usize| {
        sessions
            .iter()
            .find(|s| s.speaker == speaker && s.bgp)
            .map_or(FALLBACK_ROUTER_ID, |s| s.aws)
    };
    let vgws = cloud
        .vgws
        .iter()
        .map(|g| (g.name.clone(), g.asn, RouterRole::Vgw));
    let dxgws = cloud
        .dx_gateways
        .iter()
        .map(|d| (d.name.clone(), d.asn, RouterRole::DxGateway));
    let public_vifs = cloud
        .vifs
        .iter()
        .filter(|v| v.kind == VifKind::Public)
        .map(|v| (v.name.clone(), u32::from(AWS_ASN), RouterRole::PublicVif));
    vgws.chain(dxgws)
        .chain(public_vifs)
        .enumerate()
        .map(|(i, (name, asn, role))| (name, asn, role, first(i)))
        .collect()
}

/// Takes the external routers out of `routers` and renumbers the links'
/// router indices. No link leads to an external router: its only sessions
/// are the cloud's, and those are external neighbours of the speakers.
fn remove_external(routers: &mut Vec<Router>, external: &[String]) {
    let mut new_index = Vec::with_capacity(routers.len());
    let mut next = 0;
    for r in routers.iter() {
        new_index.push(next);
        if !external.contains(&r.name) {
            next += 1;
        }
    }
    routers.retain(|r| !external.contains(&r.name));
    for n in routers.iter_mut().flat_map(|r| r.neighbors.iter_mut()) {
        if let NeighborKind::Emulated(link) = &mut n.kind {
            if let Some(&i) = new_index.get(link.far_router) {
                link.far_router = i;
            }
        }
    }
}
