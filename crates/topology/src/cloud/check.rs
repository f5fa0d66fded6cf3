//! Cloud nodes from the file as written to [`Cloud`]: names resolved,
//! ranges checked, defaults filled in. The cloud's own rules come from
//! `hybridlab_cloud` (its validators and its `ConfigError` texts); this
//! module only adds positions and the references between nodes.

use super::model::*;
use super::raw;
use crate::error::{Diagnostic, Locator, Report};
use crate::ipsec_options;
use crate::raw::{File, Router, S};
use hybridlab_cloud::addressing::{check_unique_inside_cidrs, InsideCidr, PeerAddresses};
use hybridlab_cloud::dx::communities::{Locality, AWS_ASN};
use hybridlab_cloud::dx::gateway as dx;
use hybridlab_cloud::dx::vif::{amazon_asn, validate_bfd, VifAttachment, VifKind};
use hybridlab_cloud::error::ConfigError;
use hybridlab_cloud::limits::Limits;
use hybridlab_cloud::route_table::RouteTableConfig;
use hybridlab_cloud::validate::{
    validate_amazon_asn, validate_cgw_asn, validate_count, validate_vif_prefix_limit,
    validate_vlan, validate_vpn_routing, DEFAULT_AMAZON_ASN,
};
use hybridlab_cloud::vgw::TunnelRouting;
use ipnet::IpNet;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::ops::Range;
use std::time::Duration;

/// Longest TCP MD5 key Linux accepts (TCP_MD5SIG_MAXKEYLEN).
const MD5_MAX_KEY_LEN: usize = 80;
/// A VPN connection has exactly two tunnels (spec §1.1).
const TUNNELS_PER_VPN: usize = 2;
/// `ipsec` when a `[[vpn]]` does not say.
pub const DEFAULT_IPSEC: bool = false;
/// Where tunnels without `outside_address` get theirs: 203.0.113.1 up, in
/// file order, skipping addresses the file uses for a tunnel or a customer
/// gateway (TEST-NET-3, RFC 5737: never a real peer's address).
const DEFAULT_OUTSIDE_NET: [u8; 3] = [203, 0, 113];

/// What a `[[region]]` says beyond its name, for its public VIFs.
struct RegionInfo {
    name: String,
    continent: Option<String>,
    public_prefixes: Vec<IpNet>,
}

impl RegionInfo {
    /// Where this region's prefixes lie for a DX location in `home`
    /// (spec §5.5: 7224:8100 same region, 8200 same continent).
    fn locality_from(&self, home: &RegionInfo) -> Locality {
        if self.name == home.name {
            Locality::SameRegion
        } else if self.continent.is_some() && self.continent == home.continent {
            Locality::SameContinent
        } else {
            Locality::Global
        }
    }
}

/// Stand-in public ranges of the `index`-th region when it lists none:
/// 198.18.INDEX.0/24, from the benchmarking block of RFC 2544 (RFC 5735
/// §3), which is never routed on the Internet, so no one mistakes it for
/// AWS's real ranges. Regions past the 256th get none.
fn default_public_prefixes(index: usize) -> Vec<IpNet> {
    u8::try_from(index)
        .ok()
        .and_then(|i| format!("198.18.{i}.0/24").parse().ok())
        .into_iter()
        .collect()
}

pub(crate) fn check(loc: &Locator<'_>, file: &File) -> (Cloud, Vec<Diagnostic>) {
    let mut c = Checker {
        loc,
        errors: Vec::new(),
    };
    let cloud = c.cloud(file);
    (cloud, c.errors)
}

struct Checker<'a, 'b> {
    loc: &'a Locator<'b>,
    errors: Vec<Diagnostic>,
}

impl Report for Checker<'_, '_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(self.loc.diagnostic(span, message));
    }
}

impl Checker<'_, '_> {
    /// A cloud rule's verdict, reported at `span` when it refuses.
    fn rule<T>(&mut self, span: Range<usize>, verdict: Result<T, ConfigError>) -> Option<T> {
        match verdict {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(span, e.to_string());
                None
            }
        }
    }

    /// A prefix with its host bits clear.
    fn prefix(&mut self, v: &S<String>) -> Option<IpNet> {
        let net: IpNet = self.parsed(v, "a prefix (ADDRESS/LENGTH)")?;
        if net.trunc() != net {
            self.err(
                v.span(),
                format!("prefix `{net}` has host bits set; write {}", net.trunc()),
            );
            return None;
        }
        Some(net)
    }

    fn prefixes(&mut self, list: &[S<String>]) -> Vec<IpNet> {
        list.iter().filter_map(|p| self.prefix(p)).collect()
    }

    /// Reports a second definition of a name among nodes of one kind; true
    /// when `name` is new.
    fn unique(&mut self, seen: &mut HashMap<String, usize>, kind: &str, name: &S<String>) -> bool {
        if let Some(first) = seen.get(name.get_ref()) {
            let line = self.loc.line_of(*first);
            let n = name.get_ref();
            self.err(
                name.span(),
                format!("{kind} `{n}` is defined twice (first on line {line})"),
            );
            return false;
        }
        seen.insert(name.get_ref().clone(), name.span().start);
        true
    }

    fn cloud(&mut self, file: &File) -> Cloud {
        let limits = file
            .limits
            .as_ref()
            .map(|l| l.get_ref().clone())
            .unwrap_or_default();
        let assumptions = file
            .assumptions
            .as_ref()
            .map(|a| a.get_ref().clone())
            .unwrap_or_default();
        let region_infos = self.regions(&file.region);
        let regions: Vec<String> = region_infos.iter().map(|r| r.name.clone()).collect();
        let vgws = self.vgws(&file.vgw, &regions, &file.vpc);
        let vpcs = self.vpcs(&file.vpc, &regions, &vgws, &limits);
        let customer_gateways = self.customer_gateways(&file.customer_gateway, &file.router);
        let vpns = self.vpns(&file.vpn, &vgws, &customer_gateways, &limits);
        let dx_gateways = self.dx_gateways(&file.dx_gateway, &vgws, &vpcs, &limits);
        let vifs = self.vifs(
            &file.vif,
            &vgws,
            &dx_gateways,
            &file.router,
            &limits,
            &region_infos,
        );
        Cloud {
            limits,
            assumptions,
            regions,
            vpcs,
            vgws,
            customer_gateways,
            vpns,
            dx_gateways,
            vifs,
        }
    }

    fn regions(&mut self, raw: &[S<raw::Region>]) -> Vec<RegionInfo> {
        let mut seen = HashMap::new();
        let mut owner: HashMap<IpNet, String> = HashMap::new();
        let mut out = Vec::new();
        for (index, r) in raw.iter().map(S::get_ref).enumerate() {
            let name = r.name.get_ref().clone();
            let public_prefixes = match &r.public_prefixes {
                Some(list) => {
                    let mut kept = Vec::new();
                    for at in list.get_ref() {
                        let Some(p) = self.prefix(at) else {
                            continue;
                        };
                        match owner.get(&p) {
                            Some(other) => self.err(
                                at.span(),
                                format!("public prefix {p} is also region `{other}`'s; AWS announces each range from one region"),
                            ),
                            None => {
                                owner.insert(p, name.clone());
                                kept.push(p);
                            }
                        }
                    }
                    kept
                }
                None => default_public_prefixes(index),
            };
            if self.unique(&mut seen, "region", &r.name) {
                out.push(RegionInfo {
                    name,
                    continent: r.continent.as_ref().map(|c| c.get_ref().clone()),
                    public_prefixes,
                });
            }
        }
        out
    }

    /// The region and prefixes of a public VIF; `None` when invalid.
    /// Private VIFs may set neither field.
    fn public_vif(
        &mut self,
        v: &raw::Vif,
        kind: Option<VifKind>,
        regions: &[RegionInfo],
    ) -> Option<Option<PublicVif>> {
        let name = v.name.get_ref();
        if kind != Some(VifKind::Public) {
            let fields = [
                ("region", v.region.as_ref().map(S::span)),
                (
                    "approved_prefixes",
                    v.approved_prefixes.as_ref().map(S::span),
                ),
            ];
            for (field, span) in fields {
                if let Some(span) = span {
                    self.err(
                        span,
                        format!("`{field}` is for public VIFs only; VIF `{name}` is private"),
                    );
                }
            }
            return Some(None);
        }
        let approved_prefixes = v
            .approved_prefixes
            .as_ref()
            .map(|list| self.prefixes(list.get_ref()))
            .unwrap_or_default();
        let home = match &v.region {
            Some(r) => {
                let found = regions.iter().find(|x| &x.name == r.get_ref());
                if found.is_none() {
                    self.err(r.span(), format!("no [[region]] named `{}`", r.get_ref()));
                }
                found
            }
            None => {
                let first = regions.first();
                if first.is_none() {
                    self.err(
                        v.name.span(),
                        format!("public VIF `{name}` needs a [[region]]: what AWS announces on it depends on the region of its DX location"),
                    );
                }
                first
            }
        }?;
        let aws_prefixes = regions
            .iter()
            .flat_map(|r| {
                let locality = r.locality_from(home);
                r.public_prefixes.iter().map(move |p| (*p, locality))
            })
            .collect();
        Some(Some(PublicVif {
            region: home.name.clone(),
            approved_prefixes,
            aws_prefixes,
        }))
    }

    fn region(&mut self, v: &S<String>, regions: &[String]) {
        if !regions.contains(v.get_ref()) {
            let n = v.get_ref();
            self.err(v.span(), format!("no [[region]] named `{n}`"));
        }
    }

    fn vgws(&mut self, raw: &[S<raw::Vgw>], regions: &[String], vpcs: &[S<raw::Vpc>]) -> Vec<Vgw> {
        let mut seen = HashMap::new();
        // Spec §1.1: one VGW attached to a VPC at a time.
        let mut attached: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for g in raw.iter().map(S::get_ref) {
            let fresh = self.unique(&mut seen, "vgw", &g.name);
            self.region(&g.region, regions);
            let asn = match &g.asn {
                Some(a) => self
                    .int(a, "asn", 1, i64::from(u32::MAX))
                    .and_then(|n| self.rule(a.span(), validate_amazon_asn(n).map(|()| n))),
                None => Some(DEFAULT_AMAZON_ASN),
            };
            let name = g.name.get_ref().clone();
            if let Some(v) = &g.vpc {
                let vpc = vpcs
                    .iter()
                    .find(|p| p.get_ref().name.get_ref() == v.get_ref());
                match vpc {
                    None => self.err(v.span(), format!("no [[vpc]] named `{}`", v.get_ref())),
                    Some(p) if p.get_ref().region.get_ref() != g.region.get_ref() => self.err(
                        v.span(),
                        format!(
                            "VPC `{}` is in region `{}`, VGW `{name}` in `{}`",
                            v.get_ref(),
                            p.get_ref().region.get_ref(),
                            g.region.get_ref()
                        ),
                    ),
                    Some(_) => {
                        if let Some(first) = attached.get(v.get_ref()) {
                            self.err(
                                v.span(),
                                format!(
                                    "VPC `{}` already has VGW `{first}` attached; a VPC has one VGW",
                                    v.get_ref()
                                ),
                            );
                        } else {
                            attached.insert(v.get_ref().clone(), name.clone());
                        }
                    }
                }
            }
            if let (true, Some(asn)) = (fresh, asn) {
                out.push(Vgw {
                    name,
                    region: g.region.get_ref().clone(),
                    asn,
                    vpc: g.vpc.as_ref().map(|v| v.get_ref().clone()),
                });
            }
        }
        out
    }

    fn vpcs(
        &mut self,
        raw: &[S<raw::Vpc>],
        regions: &[String],
        vgws: &[Vgw],
        limits: &Limits,
    ) -> Vec<Vpc> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for v in raw.iter().map(S::get_ref) {
            let fresh = self.unique(&mut seen, "vpc", &v.name);
            self.region(&v.region, regions);
            let name = v.name.get_ref().clone();
            let cidrs = self.prefixes(v.cidrs.get_ref());
            if v.cidrs.get_ref().is_empty() {
                self.err(
                    v.cidrs.span(),
                    format!("VPC `{name}` needs at least one CIDR"),
                );
            }
            let attached: Vec<&str> = vgws
                .iter()
                .filter(|g| g.vpc.as_deref() == Some(name.as_str()))
                .map(|g| g.name.as_str())
                .collect();
            let mut tables = Vec::new();
            let mut table_names = HashMap::new();
            let mut main_at: Option<usize> = None;
            for t in &v.route_table {
                let t = t.get_ref();
                self.unique(&mut table_names, "route table", &t.name);
                let main = t.main.as_ref().is_some_and(|m| *m.get_ref());
                if let (true, Some(m)) = (main, &t.main) {
                    if let Some(first) = main_at {
                        let line = self.loc.line_of(first);
                        self.err(
                            m.span(),
                            format!(
                                "VPC `{name}` has two main route tables (first on line {line})"
                            ),
                        );
                    } else {
                        main_at = Some(m.span().start);
                    }
                }
                tables.push(self.route_table(t, main, &cidrs, &attached, limits));
            }
            match tables.first_mut() {
                Some(first) if main_at.is_none() => first.main = true,
                Some(_) => {}
                None => tables.push(VpcRouteTable {
                    config: RouteTableConfig {
                        name: "main".to_string(),
                        vpc_cidrs: cidrs.clone(),
                        ..RouteTableConfig::default()
                    },
                    main: true,
                    subnets: Vec::new(),
                }),
            }
            if fresh {
                out.push(Vpc {
                    name,
                    region: v.region.get_ref().clone(),
                    cidrs,
                    route_tables: tables,
                });
            }
        }
        out
    }

    fn route_table(
        &mut self,
        t: &raw::RouteTable,
        main: bool,
        cidrs: &[IpNet],
        attached: &[&str],
        limits: &Limits,
    ) -> VpcRouteTable {
        let mut static_routes = Vec::new();
        for r in t.routes.iter().map(S::get_ref) {
            let prefix = self.prefix(&r.prefix);
            let target = r.target.get_ref();
            if !attached.contains(&target.as_str()) {
                self.err(
                    r.target.span(),
                    format!("route target `{target}` is not a VGW attached to this VPC"),
                );
            }
            if let Some(p) = prefix {
                static_routes.push((p, target.clone()));
            }
        }
        let mut propagating = BTreeSet::new();
        for g in &t.propagation {
            if attached.contains(&g.get_ref().as_str()) {
                propagating.insert(g.get_ref().clone());
            } else {
                let n = g.get_ref();
                self.err(
                    g.span(),
                    format!("cannot propagate from `{n}`: not a VGW attached to this VPC"),
                );
            }
        }
        let mut subnets = Vec::new();
        for s in &t.subnets {
            if let Some(net) = self.prefix(s) {
                if cidrs.iter().any(|c| c.contains(&net)) {
                    subnets.push(net);
                } else {
                    self.err(s.span(), format!("subnet {net} is outside the VPC's CIDRs"));
                }
            }
        }
        let config = RouteTableConfig {
            name: t.name.get_ref().clone(),
            vpc_cidrs: cidrs.to_vec(),
            static_routes,
            propagating_gateways: propagating,
        };
        self.rule(t.name.span(), config.validate(limits));
        VpcRouteTable {
            config,
            main,
            subnets,
        }
    }

    /// `router = "NAME"` (with that router's ASN) or `external = true`.
    fn customer_router(
        &mut self,
        what: &str,
        span: Range<usize>,
        router: Option<&S<String>>,
        external: Option<&S<bool>>,
        routers: &[S<Router>],
    ) -> Option<(CustomerRouter, Option<u32>)> {
        let external = external.is_some_and(|e| *e.get_ref());
        match (router, external) {
            (Some(r), false) => {
                let name = r.get_ref();
                let found = routers.iter().find(|x| x.get_ref().name.get_ref() == name);
                match found {
                    Some(x) => {
                        let asn = u32::try_from(*x.get_ref().asn.get_ref()).ok();
                        Some((CustomerRouter::Emulated(name.clone()), asn))
                    }
                    None => {
                        self.err(r.span(), format!("no [[router]] named `{name}`"));
                        None
                    }
                }
            }
            (None, true) => Some((CustomerRouter::External, None)),
            (Some(r), true) => {
                self.err(
                    r.span(),
                    format!("{what} has both `router` and `external = true`: choose one"),
                );
                None
            }
            (None, false) => {
                self.err(
                    span,
                    format!("{what} needs `router = \"NAME\"` or `external = true`"),
                );
                None
            }
        }
    }

    fn customer_gateways(
        &mut self,
        raw: &[S<raw::CustomerGateway>],
        routers: &[S<Router>],
    ) -> Vec<CustomerGateway> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for s in raw {
            let g = s.get_ref();
            let fresh = self.unique(&mut seen, "customer gateway", &g.name);
            let name = g.name.get_ref().clone();
            let asn: Option<u32> = self.int(&g.asn, "asn", 1, i64::from(u32::MAX));
            let ip: Option<Ipv4Addr> = self.parsed(&g.ip, "an IPv4 address for `ip`");
            let what = format!("customer gateway `{name}`");
            let router = self.customer_router(
                &what,
                s.span(),
                g.router.as_ref(),
                g.external.as_ref(),
                routers,
            );
            if let (Some((_, Some(r))), Some(a)) = (&router, asn) {
                if *r != a {
                    self.err(
                        g.asn.span(),
                        format!("{what} has ASN {a} but its router has ASN {r}"),
                    );
                }
            }
            if let (true, Some(asn), Some(ip), Some((router, _))) = (fresh, asn, ip, router) {
                out.push(CustomerGateway {
                    name,
                    asn,
                    ip,
                    router,
                });
            }
        }
        out
    }

    fn vpns(
        &mut self,
        raw: &[S<raw::Vpn>],
        vgws: &[Vgw],
        cgws: &[CustomerGateway],
        limits: &Limits,
    ) -> Vec<Vpn> {
        let mut seen = HashMap::new();
        let mut per_vgw: HashMap<String, usize> = HashMap::new();
        let mut inside: HashMap<String, Vec<(String, InsideCidr)>> = HashMap::new();
        // Spec §1.1: each tunnel ends at its own outside address on the AWS
        // side. Defaults skip every address the file writes down.
        let cgw_ips: HashMap<Ipv4Addr, &str> =
            cgws.iter().map(|c| (c.ip, c.name.as_str())).collect();
        let mut taken: HashSet<Ipv4Addr> = cgw_ips.keys().copied().collect();
        taken.extend(
            raw.iter()
                .flat_map(|v| &v.get_ref().tunnel)
                .filter_map(|t| t.get_ref().outside_address.as_ref())
                .filter_map(|a| a.get_ref().parse::<Ipv4Addr>().ok()),
        );
        let mut used: HashMap<Ipv4Addr, String> = HashMap::new();
        let mut next_default: u8 = 1;
        let mut out = Vec::new();
        for s in raw {
            let v = s.get_ref();
            let fresh = self.unique(&mut seen, "vpn", &v.name);
            let name = v.name.get_ref().clone();
            let vgw = vgws.iter().find(|g| &g.name == v.vgw.get_ref());
            if vgw.is_none() {
                self.err(
                    v.vgw.span(),
                    format!("no [[vgw]] named `{}`", v.vgw.get_ref()),
                );
            }
            let cgw = cgws
                .iter()
                .find(|g| &g.name == v.customer_gateway.get_ref());
            if cgw.is_none() {
                let n = v.customer_gateway.get_ref();
                self.err(
                    v.customer_gateway.span(),
                    format!("no [[customer_gateway]] named `{n}`"),
                );
            }
            if let (Some(g), Some(c)) = (vgw, cgw) {
                self.rule(v.customer_gateway.span(), validate_cgw_asn(c.asn, g.asn));
                let count = per_vgw.entry(g.name.clone()).or_default();
                *count += 1;
                let what = format!("VPN connections on VGW {}", g.name);
                self.rule(
                    v.vgw.span(),
                    validate_count(&what, *count, limits.vpn_connections_per_vgw),
                );
            }
            let routing = match &v.routing {
                None => Some(TunnelRouting::Bgp),
                Some(r) => match r.get_ref().as_str() {
                    "bgp" => Some(TunnelRouting::Bgp),
                    "static" => Some(TunnelRouting::Static),
                    other => {
                        self.err(
                            r.span(),
                            format!("`routing` must be \"bgp\" or \"static\", not \"{other}\""),
                        );
                        None
                    }
                },
            };
            let static_routes = self.prefixes(&v.static_routes);
            if let Some(routing) = routing {
                let at = v.static_routes.first().map_or(s.span(), S::span);
                self.rule(
                    at,
                    validate_vpn_routing(&name, routing, v.static_routes.len(), limits),
                );
            }
            if v.tunnel.len() != TUNNELS_PER_VPN {
                let at = v.tunnel.get(TUNNELS_PER_VPN).map_or(s.span(), S::span);
                let n = v.tunnel.len();
                self.err(
                    at,
                    format!("VPN `{name}` has {n} [[vpn.tunnel]]; a VPN connection has exactly 2"),
                );
            }
            let mut tunnels = Vec::new();
            for (i, t) in v.tunnel.iter().enumerate() {
                let tunnel_name = format!("{name}/{}", i + 1);
                let outside = match &t.get_ref().outside_address {
                    Some(a) => {
                        let ip: Option<Ipv4Addr> =
                            self.parsed(a, "an IPv4 address for `outside_address`");
                        if let Some(ip) = ip {
                            if let Some(cgw) = cgw_ips.get(&ip) {
                                self.err(a.span(), format!("`outside_address` {ip} of tunnel {tunnel_name} is the `ip` of customer gateway `{cgw}`; the two ends of a tunnel need different addresses"));
                            } else if let Some(other) = used.insert(ip, tunnel_name.clone()) {
                                self.err(a.span(), format!("`outside_address` {ip} of tunnel {tunnel_name} is also tunnel {other}'s; each tunnel has an outside address of its own (spec §1.1)"));
                            }
                        }
                        ip
                    }
                    None => {
                        let free = (next_default..=254).find(|h| {
                            let [a, b, c] = DEFAULT_OUTSIDE_NET;
                            !taken.contains(&Ipv4Addr::new(a, b, c, *h))
                        });
                        match free {
                            Some(h) => {
                                let [a, b, c] = DEFAULT_OUTSIDE_NET;
                                let ip = Ipv4Addr::new(a, b, c, h);
                                taken.insert(ip);
                                used.insert(ip, tunnel_name.clone());
                                next_default = h.saturating_add(1);
                                Some(ip)
                            }
                            None => {
                                self.err(t.span(), format!("tunnel {tunnel_name}: no default `outside_address` left in 203.0.113.0/24; set one"));
                                None
                            }
                        }
                    }
                };
                let Some(tunnel) = self.tunnel(t.get_ref(), outside) else {
                    continue;
                };
                if let Some(g) = vgw {
                    let list = inside.entry(g.name.clone()).or_default();
                    list.push((tunnel_name, tunnel.inside_cidr));
                    if let Err(e) = check_unique_inside_cidrs(&g.name, list) {
                        list.pop();
                        self.err(t.get_ref().inside_cidr.span(), e.to_string());
                    }
                }
                tunnels.push(tunnel);
            }
            if let (true, Some(g), Some(c), Some(routing)) = (fresh, vgw, cgw, routing) {
                out.push(Vpn {
                    name,
                    vgw: g.name.clone(),
                    customer_gateway: c.name.clone(),
                    routing,
                    static_routes,
                    tunnels,
                    ipsec: v.ipsec.as_ref().map_or(DEFAULT_IPSEC, |b| *b.get_ref()),
                });
            }
        }
        out
    }

    fn tunnel(&mut self, t: &raw::Tunnel, outside: Option<Ipv4Addr>) -> Option<Tunnel> {
        let cidr = self.parsed(&t.inside_cidr, "an IPv4 prefix for `inside_cidr`");
        let inside_cidr = cidr.and_then(|c| self.rule(t.inside_cidr.span(), InsideCidr::new(c)));
        let psk = ipsec_options::psk(self, &t.psk);
        let d = TunnelOptions::default();
        // Spec §1.2: the margin 60 s up to half of phase 2.
        let (phase1, phase2) =
            ipsec_options::lifetimes(self, &t.phase1_lifetime, &t.phase2_lifetime);
        let half = phase2.map_or(1_800, |p| p.as_secs() / 2);
        let half = i64::try_from(half).unwrap_or(1_800);
        let margin = ipsec_options::seconds(
            self,
            &t.rekey_margin,
            "rekey_margin",
            60,
            half,
            d.rekey_margin,
        );
        let fuzz = t
            .rekey_fuzz
            .as_ref()
            .map_or(Some(d.rekey_fuzz), |v| self.int(v, "rekey_fuzz", 0, 100));
        let replay = t.replay_window.as_ref().map_or(Some(d.replay_window), |v| {
            self.int(v, "replay_window", 64, 2_048)
        });
        let dpd = ipsec_options::dpd_timeout(self, &t.dpd_timeout);
        let action = match &t.dpd_timeout_action {
            None => Some(d.dpd_timeout_action),
            Some(a) => match a.get_ref().as_str() {
                "clear" => Some(DpdAction::Clear),
                "none" => Some(DpdAction::None),
                "restart" => Some(DpdAction::Restart),
                other => {
                    self.err(
                        a.span(),
                        format!("`dpd_timeout_action` must be \"clear\", \"none\" or \"restart\", not \"{other}\""),
                    );
                    None
                }
            },
        };
        Some(Tunnel {
            inside_cidr: inside_cidr?,
            outside_address: outside?,
            psk: psk?,
            options: TunnelOptions {
                phase1_lifetime: phase1?,
                phase2_lifetime: phase2?,
                rekey_margin: margin?,
                rekey_fuzz: fuzz?,
                replay_window: replay?,
                dpd_timeout: dpd?,
                dpd_timeout_action: action?,
            },
        })
    }

    /// Spec §1.2: 8-64 characters of `[A-Za-z0-9._]`, not starting with 0.
    fn dx_gateways(
        &mut self,
        raw: &[S<raw::DxGateway>],
        vgws: &[Vgw],
        vpcs: &[Vpc],
        limits: &Limits,
    ) -> Vec<DxGateway> {
        let mut seen = HashMap::new();
        // Spec §6: a VGW is associated with one DX gateway at most.
        let mut associated: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for d in raw.iter().map(S::get_ref) {
            let fresh = self.unique(&mut seen, "dx_gateway", &d.name);
            let name = d.name.get_ref().clone();
            let asn = match &d.asn {
                Some(a) => self
                    .int(a, "asn", 1, i64::from(u32::MAX))
                    .and_then(|n| self.rule(a.span(), validate_amazon_asn(n).map(|()| n))),
                None => Some(DEFAULT_AMAZON_ASN),
            };
            let mut associations = Vec::new();
            // The cloud's own rules (quota, overlapping VPC CIDRs), checked
            // as associations are added so the error points at the one
            // that breaks them.
            let mut so_far = dx::DxGateway {
                name: name.clone(),
                asn: asn.unwrap_or(DEFAULT_AMAZON_ASN),
                associations: Vec::new(),
                vifs: Vec::new(),
            };
            for a in d.association.iter().map(S::get_ref) {
                let Some(vgw) = vgws.iter().find(|g| &g.name == a.vgw.get_ref()) else {
                    self.err(
                        a.vgw.span(),
                        format!("no [[vgw]] named `{}`", a.vgw.get_ref()),
                    );
                    continue;
                };
                if let Some(first) = associated.get(&vgw.name) {
                    let e = ConfigError::AttachedTwice {
                        what: format!("VGW {}", vgw.name),
                        first: first.clone(),
                        second: name.clone(),
                    };
                    self.err(a.vgw.span(), e.to_string());
                }
                associated.insert(vgw.name.clone(), name.clone());
                let vpc_cidrs = vgw
                    .vpc
                    .as_deref()
                    .and_then(|v| vpcs.iter().find(|p| p.name == v))
                    .map(|p| p.cidrs.clone())
                    .unwrap_or_default();
                let allowed_prefixes = match &a.allowed_prefixes {
                    Some(list) => self.prefixes(list.get_ref()),
                    None => vpc_cidrs.clone(),
                };
                so_far.associations.push(dx::Association {
                    gateway: vgw.name.clone(),
                    kind: dx::AssociationKind::Vgw,
                    vpc_cidrs,
                    allowed_prefixes: allowed_prefixes.clone(),
                });
                if let Err(e) = so_far.validate(limits) {
                    so_far.associations.pop();
                    self.err(a.vgw.span(), e.to_string());
                }
                associations.push(Association {
                    vgw: vgw.name.clone(),
                    allowed_prefixes,
                });
            }
            if let (true, Some(asn)) = (fresh, asn) {
                out.push(DxGateway {
                    name,
                    asn,
                    associations,
                });
            }
        }
        out
    }

    fn vifs(
        &mut self,
        raw: &[S<raw::Vif>],
        vgws: &[Vgw],
        dx_gateways: &[DxGateway],
        routers: &[S<Router>],
        limits: &Limits,
        regions: &[RegionInfo],
    ) -> Vec<Vif> {
        let mut seen = HashMap::new();
        let mut per_dx_gateway: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for s in raw {
            let v = s.get_ref();
            let fresh = self.unique(&mut seen, "vif", &v.name);
            let name = v.name.get_ref().clone();
            let kind = match v.kind.get_ref().as_str() {
                "private" => Some(VifKind::Private),
                "public" => Some(VifKind::Public),
                other => {
                    self.err(
                        v.kind.span(),
                        format!("`kind` must be \"private\" or \"public\", not \"{other}\""),
                    );
                    None
                }
            };
            let vlan = match u16::try_from(*v.vlan.get_ref()) {
                Ok(n) => self.rule(v.vlan.span(), validate_vlan(n).map(|()| n)),
                // Beyond u16 the cloud's check cannot even be asked; same words.
                Err(_) => {
                    let n = v.vlan.get_ref();
                    self.err(v.vlan.span(), format!("VLAN {n} is outside 1-4094"));
                    None
                }
            };
            let attach = self.vif_attach(s, kind, vgws, dx_gateways);
            let public = self.public_vif(v, kind, regions);
            if let Some((VifAttach::DxGateway(d), _)) = &attach {
                let count = per_dx_gateway.entry(d.clone()).or_default();
                *count += 1;
                let what = format!("VIFs on DX gateway {d}");
                if let Some(a) = &v.attach {
                    self.rule(
                        a.span(),
                        validate_count(&what, *count, limits.vifs_per_dx_gateway),
                    );
                }
            }
            let aws: Option<Ipv4Addr> =
                self.parsed(&v.amazon_address, "an IPv4 address for `amazon_address`");
            let customer: Option<Ipv4Addr> = self.parsed(
                &v.customer_address,
                "an IPv4 address for `customer_address`",
            );
            let addresses = match (aws, customer) {
                (Some(a), Some(c)) => {
                    self.rule(v.customer_address.span(), PeerAddresses::new(a, c))
                }
                _ => None,
            };
            let what = format!("VIF `{name}`");
            let router = self.customer_router(
                &what,
                s.span(),
                v.router.as_ref(),
                v.external.as_ref(),
                routers,
            );
            let configured_asn = v
                .customer_asn
                .as_ref()
                .and_then(|a| self.int::<u32>(a, "customer_asn", 1, i64::from(u32::MAX)));
            let customer_asn = match (&router, configured_asn, &v.customer_asn) {
                (Some((_, Some(r))), Some(c), Some(at)) if *r != c => {
                    self.err(
                        at.span(),
                        format!("{what} has `customer_asn` {c} but its router has ASN {r}"),
                    );
                    None
                }
                (Some((_, Some(r))), _, _) => Some(*r),
                (Some((CustomerRouter::External, None)), None, None) => {
                    self.err(
                        s.span(),
                        format!("{what} with `external = true` needs `customer_asn`"),
                    );
                    None
                }
                _ => configured_asn,
            };
            // Spec §5.2: the AWS end of a public VIF is AS 7224.
            let aws_asn = match (kind, &attach) {
                (Some(k), Some((_, attachment))) => Some(amazon_asn(k, *attachment)),
                (Some(VifKind::Public), None) => Some(u32::from(AWS_ASN)),
                _ => None,
            };
            if let (Some(aws_asn), Some(c)) = (aws_asn, customer_asn) {
                let at = v
                    .customer_asn
                    .as_ref()
                    .map_or_else(|| v.router.as_ref().map_or(s.span(), S::span), S::span);
                self.rule(at, validate_cgw_asn(c, aws_asn));
            }
            let md5 = match &v.md5 {
                None => {
                    self.err(
                        s.span(),
                        format!("{what} needs `md5`: Direct Connect always signs BGP with TCP MD5"),
                    );
                    None
                }
                Some(m) if m.get_ref().is_empty() || m.get_ref().len() > MD5_MAX_KEY_LEN => {
                    self.err(
                        m.span(),
                        format!("`md5` must be 1..={MD5_MAX_KEY_LEN} bytes long"),
                    );
                    None
                }
                Some(m) => Some(m.get_ref().clone()),
            };
            let bfd = self.vif_bfd(v.bfd.as_ref());
            let prefix_limit = match (&v.prefix_limit, kind) {
                (Some(p), _) => self
                    .int::<u32>(p, "prefix_limit", 0, i64::from(u32::MAX))
                    .and_then(|n| {
                        self.rule(p.span(), validate_vif_prefix_limit(n, limits).map(|()| n))
                    }),
                (None, Some(VifKind::Public)) => Some(limits.public_vif_prefixes),
                (None, _) => Some(limits.private_vif_prefixes),
            };
            if let (true, Some(kind), Some(vlan), Some(addresses), Some((customer, _))) =
                (fresh, kind, vlan, addresses, router)
            {
                if let (
                    Some(customer_asn),
                    Some(md5),
                    Some(bfd),
                    Some(prefix_limit),
                    Some(public),
                ) = (customer_asn, md5, bfd, prefix_limit, public)
                {
                    out.push(Vif {
                        name,
                        kind,
                        vlan,
                        attach: attach.map(|(a, _)| a),
                        addresses,
                        customer,
                        customer_asn,
                        md5,
                        bfd,
                        prefix_limit,
                        public,
                    });
                }
            }
        }
        out
    }

    /// A private VIF attaches to one VGW or one DX gateway; a public VIF to
    /// neither (spec §5).
    fn vif_attach(
        &mut self,
        s: &S<raw::Vif>,
        kind: Option<VifKind>,
        vgws: &[Vgw],
        dx_gateways: &[DxGateway],
    ) -> Option<(VifAttach, VifAttachment)> {
        let v = s.get_ref();
        let name = v.name.get_ref();
        match (kind?, &v.attach) {
            (VifKind::Public, None) => None,
            (VifKind::Public, Some(a)) => {
                self.err(
                    a.span(),
                    format!("public VIF `{name}` cannot attach to a VGW or a DX gateway"),
                );
                None
            }
            (_, None) => {
                self.err(
                    s.span(),
                    format!("private VIF `{name}` needs `attach = {{ vgw = \"NAME\" }}` or `attach = {{ dx_gateway = \"NAME\" }}`"),
                );
                None
            }
            (_, Some(a)) => match (&a.get_ref().vgw, &a.get_ref().dx_gateway) {
                (Some(g), None) => match vgws.iter().find(|x| &x.name == g.get_ref()) {
                    Some(x) => Some((
                        VifAttach::Vgw(x.name.clone()),
                        VifAttachment::Vgw { asn: x.asn },
                    )),
                    None => {
                        self.err(g.span(), format!("no [[vgw]] named `{}`", g.get_ref()));
                        None
                    }
                },
                (None, Some(d)) => match dx_gateways.iter().find(|x| &x.name == d.get_ref()) {
                    Some(x) => Some((
                        VifAttach::DxGateway(x.name.clone()),
                        VifAttachment::DxGateway { asn: x.asn },
                    )),
                    None => {
                        let n = d.get_ref();
                        self.err(d.span(), format!("no [[dx_gateway]] named `{n}`"));
                        None
                    }
                },
                _ => {
                    self.err(
                        a.span(),
                        "`attach` names exactly one of `vgw` and `dx_gateway`",
                    );
                    None
                }
            },
        }
    }

    /// `None` in the outer option: invalid; `Some(None)`: BFD off.
    fn vif_bfd(&mut self, raw: Option<&S<raw::VifBfd>>) -> Option<Option<VifBfd>> {
        let d = VifBfd::default();
        let Some(b) = raw else {
            return Some(Some(d));
        };
        match b.get_ref() {
            raw::VifBfd::On(false) => Some(None),
            raw::VifBfd::On(true) => Some(Some(d)),
            raw::VifBfd::Table(t) => {
                let interval = t.interval.map_or(Ok(300), u32::try_from);
                let multiplier = t.multiplier.map_or(Ok(3), u8::try_from);
                let (Ok(interval), Ok(multiplier)) = (interval, multiplier) else {
                    self.err(b.span(), "`bfd` interval or multiplier is out of range");
                    return None;
                };
                self.rule(b.span(), validate_bfd(interval, multiplier))?;
                Some(Some(VifBfd {
                    interval: Duration::from_millis(u64::from(interval)),
                    multiplier,
                }))
            }
        }
    }
}
