//! From the file as written to the validated [`Topology`]: ranges, names,
//! pairing of virtual links, address assignment. Every problem found is
//! reported with its position; validation goes on after the first so that
//! one run shows them all.

use crate::error::{Diagnostic, Locator, Report};
use crate::ipsec_options;
use crate::model::*;
use crate::prefix::parse_prefix;
use crate::raw::{self, S};
use hybridlab_bgp::packet::{Community, Family};
use hybridlab_bgp::policy::{parse_community, Action, Policy, PrefixRange, Term};

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

/// Virtual links take their addresses from here unless configured
/// (RFC 6598 shared address space, unlikely to clash with a lab's own).
const VIRTUAL_LINK_POOL: Ipv4Addr = Ipv4Addr::new(100, 127, 0, 0);
const VIRTUAL_LINK_POOL_LEN: u8 = 16;

const DEFAULT_HOLD_TIME: u16 = 90;
const DEFAULT_CONNECT_RETRY: u64 = 5;
/// Longest TCP MD5 key Linux accepts (TCP_MD5SIG_MAXKEYLEN).
const MD5_MAX_KEY_LEN: usize = 80;
/// BFD intervals travel in microseconds in 32 bits (RFC 5880 §4.1): a
/// little over 71 minutes.
const BFD_MAX_INTERVAL_MS: i64 = (u32::MAX / 1000) as i64;

pub(crate) fn validate(
    file: &str,
    text: &str,
    raw: raw::File,
    options: &ParseOptions,
) -> Result<Topology, Vec<Diagnostic>> {
    let mut c = Checker {
        loc: Locator::new(file, text),
        errors: Vec::new(),
    };
    let lab = c.lab(file, raw.lab.as_ref());
    let policies = c.policies(&raw.policy);
    let mut routers = c.routers(&raw.router);
    c.pair_virtual_links(&raw.router, &mut routers);
    c.check_policy_names(&raw.router, &policies);
    let (cloud, cloud_errors) = crate::cloud::check(&c.loc, &raw);
    c.errors.extend(cloud_errors);
    if !c.errors.is_empty() {
        c.errors.sort_by_key(|d| (d.line, d.column));
        return Err(c.errors);
    }
    let mut routers: Vec<Router> = routers
        .into_iter()
        .map(|r| Router {
            name: r.name,
            asn: r.asn,
            router_id: r.router_id,
            networks: r.networks,
            always_compare_med: r.always_compare_med,
            listen: r.listen,
            bfd_min_interval: r.bfd_min_interval,
            neighbors: r.neighbors.into_iter().filter_map(|n| n.finish()).collect(),
            role: RouterRole::Router,
        })
        .collect();
    let mut errors = crate::cloud::lower(&c.loc, &raw, &cloud, &mut routers, &options.external);
    // Expectations name the generated sessions: checked against a lab
    // whose lowering worked, or they would only repeat its errors.
    let mut expectations = Vec::new();
    if errors.is_empty() {
        let nodes = crate::expect::Nodes {
            cloud: &cloud,
            routers: &routers,
            external: &options.external,
        };
        let (found, expect_errors) = crate::expect::check(&c.loc, &raw.expect, &nodes);
        expectations = found;
        errors = expect_errors;
    }
    if !errors.is_empty() {
        errors.sort_by_key(|d| (d.line, d.column));
        return Err(errors);
    }
    Ok(Topology {
        file: file.to_string(),
        lab,
        routers,
        policies,
        cloud,
        external: options.external.clone(),
        expectations,
    })
}

struct Checker<'a> {
    loc: Locator<'a>,
    errors: Vec<Diagnostic>,
}

/// A router while its virtual links are not yet paired.
struct PendingRouter {
    name: String,
    asn: u32,
    router_id: Ipv4Addr,
    networks: Vec<hybridlab_bgp::packet::Prefix>,
    always_compare_med: bool,
    listen: Vec<SocketAddr>,
    bfd_min_interval: Duration,
    neighbors: Vec<PendingNeighbor>,
}

struct PendingNeighbor {
    name: String,
    kind: Option<NeighborKind>,
    mode: Mode,
    remote_asn: Option<u32>,
    md5_password: Option<String>,
    ttl: u8,
    hold_time: u16,
    keepalive: Option<u16>,
    connect_retry: Duration,
    families: Vec<Family>,
    next_hop6: Option<std::net::Ipv6Addr>,
    max_prefix: Option<MaxPrefix>,
    bfd: Option<Bfd>,
    import: Vec<String>,
    export: Vec<String>,
    /// `ipsec = { ... }`: the initiator's end of a tunnel to a real peer.
    tunnel: Option<crate::cloud::TunnelEnd>,
}

impl PendingNeighbor {
    fn finish(self) -> Option<Neighbor> {
        Some(Neighbor {
            name: self.name,
            kind: self.kind?,
            mode: self.mode,
            remote_asn: self.remote_asn?,
            md5_password: self.md5_password,
            ttl: self.ttl,
            hold_time: self.hold_time,
            keepalive: self.keepalive,
            connect_retry: self.connect_retry,
            families: self.families,
            next_hop6: self.next_hop6,
            max_prefix: self.max_prefix,
            bfd: self.bfd,
            import: self.import,
            export: self.export,
            router_id: None,
            cloud_path: None,
            tunnel: self.tunnel,
            bgp: true,
        })
    }
}

impl Report for Checker<'_> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(self.loc.diagnostic(span, message));
    }
}

impl Checker<'_> {
    fn communities(&mut self, list: &[S<String>]) -> Vec<Community> {
        list.iter()
            .filter_map(|s| match parse_community(s.get_ref()) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.err(
                        s.span(),
                        format!("{e} (expected ASN:VALUE or a well-known name such as no-export)"),
                    );
                    None
                }
            })
            .collect()
    }

    fn lab(&mut self, file: &str, lab: Option<&S<raw::Lab>>) -> Lab {
        let stem = std::path::Path::new(file)
            .file_stem()
            .map_or_else(|| "lab".to_string(), |s| s.to_string_lossy().into_owned());
        let mut out = Lab {
            name: stem,
            api: DEFAULT_API,
            seed: 1,
            jitter: true,
        };
        let Some(lab) = lab.map(S::get_ref) else {
            return out;
        };
        if let Some(name) = &lab.name {
            out.name = name.get_ref().clone();
        }
        if let Some(api) = &lab.api {
            if let Some(a) = self.parsed(api, "an ADDRESS:PORT for `api`") {
                out.api = a;
            }
        }
        if let Some(seed) = &lab.seed {
            if let Some(s) = self.int(seed, "seed", 0, i64::MAX) {
                out.seed = s;
            }
        }
        if let Some(j) = &lab.jitter {
            out.jitter = *j.get_ref();
        }
        out
    }

    fn policies(&mut self, raw: &[S<raw::Policy>]) -> Vec<Policy> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut out = Vec::new();
        for p in raw.iter().map(S::get_ref) {
            let name = p.name.get_ref();
            if let Some(first) = seen.get(name) {
                let line = self.loc.line_of(*first);
                self.err(
                    p.name.span(),
                    format!("policy `{name}` is defined twice (first on line {line})"),
                );
                continue;
            }
            seen.insert(name.clone(), p.name.span().start);
            let default = match &p.default {
                Some(d) => self.action(d).unwrap_or(Action::Accept),
                None => Action::Accept,
            };
            let terms = p.term.iter().map(|t| self.term(t.get_ref())).collect();
            out.push(Policy::new(name.clone(), terms, default));
        }
        out
    }

    fn action(&mut self, v: &S<String>) -> Option<Action> {
        match v.get_ref().parse() {
            Ok(a) => Some(a),
            Err(e) => {
                self.err(v.span(), format!("{e}"));
                None
            }
        }
    }

    fn term(&mut self, t: &raw::Term) -> Term {
        let prefixes = t
            .prefixes
            .iter()
            .filter_map(|s| match s.get_ref().parse::<PrefixRange>() {
                Ok(m) => Some(m),
                Err(e) => {
                    self.err(s.span(), format!("bad prefix-list entry: {e}"));
                    None
                }
            })
            .collect();
        Term {
            prefixes,
            communities: self.communities(&t.communities),
            action: t
                .action
                .as_ref()
                .and_then(|a| self.action(a))
                .unwrap_or_default(),
            prepend: t
                .prepend
                .as_ref()
                .and_then(|v| self.int(v, "prepend", 0, 64))
                .unwrap_or(0),
            med: t
                .med
                .as_ref()
                .and_then(|v| self.int(v, "med", 0, i64::from(u32::MAX))),
            local_pref: t
                .local_pref
                .as_ref()
                .and_then(|v| self.int(v, "local_pref", 0, i64::from(u32::MAX))),
            add_communities: self.communities(&t.add_communities),
            remove_communities: self.communities(&t.remove_communities),
        }
    }

    fn routers(&mut self, raw: &[S<raw::Router>]) -> Vec<PendingRouter> {
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut listens: HashMap<SocketAddr, usize> = HashMap::new();
        let mut out = Vec::new();
        for r in raw.iter().map(S::get_ref) {
            let name = r.name.get_ref().clone();
            if let Some(first) = names.get(&name) {
                let line = self.loc.line_of(*first);
                self.err(
                    r.name.span(),
                    format!("router `{name}` is defined twice (first on line {line})"),
                );
            } else {
                names.insert(name.clone(), r.name.span().start);
            }
            let asn = self.int(&r.asn, "asn", 1, i64::from(u32::MAX)).unwrap_or(0);
            let router_id = self.parsed(&r.router_id, "an IPv4 address for `router_id`");
            if router_id == Some(Ipv4Addr::UNSPECIFIED) {
                // RFC 6286 §2.1: the BGP Identifier is a non-zero value.
                self.err(r.router_id.span(), "`router_id` must not be 0.0.0.0");
            }
            let networks = r
                .networks
                .iter()
                .filter_map(|n| match parse_prefix(n.get_ref()) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.err(n.span(), e);
                        None
                    }
                })
                .collect();
            let mut listen = Vec::new();
            for l in &r.listen {
                let Some(addr) = self.parsed::<SocketAddr>(l, "an ADDRESS:PORT to listen on")
                else {
                    continue;
                };
                if let Some(first) = listens.get(&addr) {
                    let line = self.loc.line_of(*first);
                    self.err(
                        l.span(),
                        format!("listen address {addr} is used twice (first on line {line})"),
                    );
                } else {
                    listens.insert(addr, l.span().start);
                    listen.push(addr);
                }
            }
            let bfd_min_interval = r
                .bfd_min_interval
                .as_ref()
                .and_then(|v| self.int::<u64>(v, "bfd_min_interval", 1, BFD_MAX_INTERVAL_MS))
                .map_or(DEFAULT_BFD_MIN_INTERVAL, Duration::from_millis);
            let neighbors = self.neighbors(&name, &r.neighbor, !listen.is_empty());
            out.push(PendingRouter {
                name,
                asn,
                router_id: router_id.unwrap_or(Ipv4Addr::UNSPECIFIED),
                networks,
                always_compare_med: r.always_compare_med.as_ref().is_some_and(|b| *b.get_ref()),
                listen,
                bfd_min_interval,
                neighbors,
            });
        }
        out
    }

    fn neighbors(
        &mut self,
        router: &str,
        raw: &[S<raw::Neighbor>],
        listens: bool,
    ) -> Vec<PendingNeighbor> {
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut addresses: HashMap<IpAddr, usize> = HashMap::new();
        let mut out = Vec::new();
        for n in raw {
            let span = n.span();
            let n = n.get_ref();
            let mut p = self.neighbor_settings(router, span.clone(), n, listens);
            if let Some(NeighborKind::External { address, .. }) = &p.kind {
                if let (Some(first), Some(a)) = (addresses.get(address), &n.address) {
                    let line = self.loc.line_of(*first);
                    self.err(
                        a.span(),
                        format!("`{router}` has two neighbors at {address} (first on line {line})"),
                    );
                } else if let Some(a) = &n.address {
                    addresses.insert(*address, a.span().start);
                }
            }
            let name_at = n.name.as_ref().map_or(span.start, |s| s.span().start);
            if let Some(first) = names.get(&p.name) {
                let line = self.loc.line_of(*first);
                self.err(
                    name_at..name_at,
                    format!(
                        "`{router}` has two neighbors named `{}` (first on line {line}); give them distinct `name`s",
                        p.name
                    ),
                );
                p.kind = None;
            } else {
                names.insert(p.name.clone(), name_at);
            }
            out.push(p);
        }
        out
    }

    /// Everything of one neighbour that does not depend on other routers.
    /// Emulated neighbours come out with `kind: None`; pairing fills it in.
    fn neighbor_settings(
        &mut self,
        router: &str,
        span: Range<usize>,
        n: &raw::Neighbor,
        listens: bool,
    ) -> PendingNeighbor {
        let mode = match &n.mode {
            None => Mode::Both,
            Some(m) => {
                match m.get_ref().as_str() {
                    "active" => Mode::Active,
                    "passive" => Mode::Passive,
                    "both" => Mode::Both,
                    other => {
                        self.err(m.span(), format!("`{other}` is not a mode: expected \"active\", \"passive\" or \"both\""));
                        Mode::Both
                    }
                }
            }
        };
        let local_address = n
            .local_address
            .as_ref()
            .and_then(|a| self.parsed::<IpAddr>(a, "an IP address for `local_address`"));
        let (kind, default_name) = match (&n.router, &n.address) {
            (Some(r), Some(_)) => {
                self.err(r.span(), format!("neighbor of `{router}` has both `router` and `address`: a neighbor is emulated or external, not both"));
                (None, r.get_ref().clone())
            }
            (None, None) => {
                self.err(span.clone(), format!("neighbor of `{router}` needs `router = \"NAME\"` (emulated) or `address = \"IP\"` (external)"));
                (None, String::new())
            }
            (Some(r), None) => {
                for (field, given) in [
                    ("port", n.port.as_ref().map(S::span)),
                    ("md5_password", n.md5_password.as_ref().map(S::span)),
                ] {
                    if let Some(s) = given {
                        self.err(
                            s,
                            format!("`{field}` applies to external neighbors (kernel TCP) only"),
                        );
                    }
                }
                (None, r.get_ref().clone())
            }
            (None, Some(a)) => {
                let address = self.parsed::<IpAddr>(a, "an IP address for `address`");
                let port = n
                    .port
                    .as_ref()
                    .and_then(|p| self.int(p, "port", 1, 65535))
                    .unwrap_or(179);
                if n.remote_asn.is_none() {
                    self.err(
                        span.clone(),
                        format!(
                            "external neighbor {} of `{router}` needs `remote_asn`",
                            a.get_ref()
                        ),
                    );
                }
                // Inside a tunnel BGP listens in the tunnel's own stack.
                if mode == Mode::Passive && !listens && n.ipsec.is_none() {
                    self.err(
                        n.mode.as_ref().map_or(span.clone(), S::span),
                        format!("passive neighbor {} of `{router}` can only be reached if `{router}` has a `listen` address", a.get_ref()),
                    );
                }
                let kind = address.map(|address| NeighborKind::External {
                    address,
                    port,
                    local_address,
                });
                (kind, a.get_ref().clone())
            }
        };
        let hold_time = match &n.hold_time {
            None => DEFAULT_HOLD_TIME,
            Some(h) => match self.int::<u16>(h, "hold_time", 0, 65535) {
                // RFC 4271 §4.2: zero, or at least three seconds.
                Some(1 | 2) => {
                    self.err(
                        h.span(),
                        "`hold_time` must be 0 or at least 3 seconds (RFC 4271 §4.2)",
                    );
                    DEFAULT_HOLD_TIME
                }
                Some(v) => v,
                None => DEFAULT_HOLD_TIME,
            },
        };
        let keepalive = n.keepalive.as_ref().and_then(|k| {
            let v = self.int::<u16>(k, "keepalive", 0, 65535)?;
            if hold_time != 0 && v >= hold_time {
                self.err(
                    k.span(),
                    format!("`keepalive` ({v}) must be shorter than `hold_time` ({hold_time})"),
                );
            }
            Some(v)
        });
        let families = match &n.families {
            None => vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            Some(list) => {
                if list.get_ref().is_empty() {
                    self.err(list.span(), "`families` is empty: offer at least one");
                }
                let mut seen = BTreeSet::new();
                list.get_ref()
                    .iter()
                    .filter_map(|f| {
                        let family = match f.get_ref().as_str() {
                            "ipv4-unicast" => Family::IPV4_UNICAST,
                            "ipv6-unicast" => Family::IPV6_UNICAST,
                            other => {
                                self.err(f.span(), format!("`{other}` is not a family: expected \"ipv4-unicast\" or \"ipv6-unicast\""));
                                return None;
                            }
                        };
                        seen.insert(family).then_some(family)
                    })
                    .collect()
            }
        };
        let md5_password = n.md5_password.as_ref().and_then(|p| {
            let len = p.get_ref().len();
            if len == 0 || len > MD5_MAX_KEY_LEN {
                self.err(
                    p.span(),
                    format!("`md5_password` must be 1..={MD5_MAX_KEY_LEN} bytes long, not {len}"),
                );
                return None;
            }
            Some(p.get_ref().clone())
        });
        let max_prefix = n.max_prefix.as_ref().and_then(|m| self.max_prefix(m));
        let bfd = n.bfd.as_ref().and_then(|b| self.bfd(b));
        let tunnel = n
            .ipsec
            .as_ref()
            .and_then(|t| self.neighbor_ipsec(router, n, t));
        PendingNeighbor {
            name: n
                .name
                .as_ref()
                .map_or(default_name, |s| s.get_ref().clone()),
            kind,
            mode,
            remote_asn: n
                .remote_asn
                .as_ref()
                .and_then(|a| self.int(a, "remote_asn", 1, i64::from(u32::MAX))),
            md5_password,
            ttl: n
                .ttl
                .as_ref()
                .and_then(|t| self.int(t, "ttl", 1, 255))
                .unwrap_or(1),
            hold_time,
            keepalive,
            connect_retry: Duration::from_secs(
                n.connect_retry
                    .as_ref()
                    .and_then(|c| self.int(c, "connect_retry", 1, 65535))
                    .unwrap_or(DEFAULT_CONNECT_RETRY),
            ),
            families,
            next_hop6: n
                .next_hop6
                .as_ref()
                .and_then(|a| self.parsed(a, "an IPv6 address for `next_hop6`")),
            max_prefix,
            bfd,
            import: n.import.iter().map(|s| s.get_ref().clone()).collect(),
            export: n.export.iter().map(|s| s.get_ref().clone()).collect(),
            tunnel,
        }
    }

    /// `ipsec = { ... }` on an external neighbour: this router is the IKE
    /// initiator (as an emulated customer gateway is) toward a real
    /// responder at `remote_outside`, and BGP runs inside the tunnel to
    /// `address`, the other host of the inside /30.
    fn neighbor_ipsec(
        &mut self,
        router: &str,
        n: &raw::Neighbor,
        t: &S<raw::NeighborIpsec>,
    ) -> Option<crate::cloud::TunnelEnd> {
        use crate::cloud::{TunnelEnd, TunnelOptions, TunnelRole};
        let Some(address) = &n.address else {
            self.err(
                t.span(),
                format!("`ipsec` on a neighbor of `{router}` needs `address` (the peer's inside address): tunnels between emulated routers come from `[[vpn]]`"),
            );
            return None;
        };
        // The session's TCP runs in the tunnel's own stack: no kernel
        // socket to bind, sign or pair with BFD.
        for (field, given) in [
            ("port", n.port.as_ref().map(S::span)),
            ("local_address", n.local_address.as_ref().map(S::span)),
            ("md5_password", n.md5_password.as_ref().map(S::span)),
            ("bfd", n.bfd.as_ref().map(S::span)),
        ] {
            if let Some(s) = given {
                self.err(
                    s,
                    format!("`{field}` does not apply to a neighbor inside an `ipsec` tunnel"),
                );
            }
        }
        let t = t.get_ref();
        // As a VPN tunnel's (spec §1.2): what AWS would accept.
        let psk = ipsec_options::psk(self, &t.psk);
        let local_outside: Option<Ipv4Addr> =
            self.parsed(&t.local_outside, "an IPv4 address for `local_outside`");
        let remote_outside: Option<Ipv4Addr> =
            self.parsed(&t.remote_outside, "an IPv4 address for `remote_outside`");
        if let (Some(l), Some(r)) = (local_outside, remote_outside) {
            if l == r {
                self.err(
                    t.remote_outside.span(),
                    format!("`remote_outside` is `local_outside` ({l}): the tunnel's ends need distinct outside addresses"),
                );
            }
        }
        let inside = self.neighbor_inside(&t.inside);
        let remote: Option<Ipv4Addr> =
            match self.parsed::<IpAddr>(address, "an IP address for `address`") {
                Some(IpAddr::V4(a)) => Some(a),
                Some(IpAddr::V6(_)) | None => {
                    self.err(
                    address.span(),
                    "an `ipsec` neighbor's `address` must be the IPv4 inside address of the peer",
                );
                    None
                }
            };
        if let (Some((local, len)), Some(remote)) = (inside, remote) {
            // A /30 has two hosts: network + 1 and + 2 (RFC 3021 aside).
            let other = Ipv4Addr::from(u32::from(local) ^ 0b11);
            if remote != other {
                self.err(
                    address.span(),
                    format!("`address` must be the other host of `inside` {local}/{len}, {other}"),
                );
            }
        }
        let d = TunnelOptions::default();
        // The ranges of a VPN tunnel's options (spec §1.2).
        let (phase1, phase2) =
            ipsec_options::lifetimes(self, &t.phase1_lifetime, &t.phase2_lifetime);
        let dpd = ipsec_options::dpd_timeout(self, &t.dpd_timeout);
        let (local, len) = inside?;
        let remote = remote?;
        if remote != Ipv4Addr::from(u32::from(local) ^ 0b11) || local_outside == remote_outside {
            return None;
        }
        Some(TunnelEnd {
            role: TunnelRole::Initiator,
            local_outside: local_outside?,
            remote_outside: remote_outside?,
            psk: psk?,
            options: TunnelOptions {
                phase1_lifetime: phase1?,
                phase2_lifetime: phase2?,
                dpd_timeout: dpd?,
                ..d
            },
            inside_local: local,
            inside_remote: remote,
            inside_prefix_len: len,
            vpc_cidrs: Vec::new(),
        })
    }

    /// `inside = "A.B.C.D/30"`: this end's host address of a /30, neither
    /// its network (+0) nor its broadcast (+3) address.
    fn neighbor_inside(&mut self, v: &S<String>) -> Option<(Ipv4Addr, u8)> {
        let text = v.get_ref();
        let parsed = text
            .split_once('/')
            .and_then(|(a, l)| Some((a.parse::<Ipv4Addr>().ok()?, l.parse::<u8>().ok()?)));
        match parsed {
            Some((a, 30)) if matches!(u32::from(a) & 0b11, 1 | 2) => Some((a, 30)),
            Some((a, 30)) => {
                self.err(
                    v.span(),
                    format!("`inside` {text}: {a} is the /30's network or broadcast address; use its first or second host"),
                );
                None
            }
            Some((_, len)) => {
                self.err(v.span(), format!("`inside` {text} must be a /30 (not /{len}), as a VPN tunnel's inside network is"));
                None
            }
            None => {
                self.err(v.span(), format!("`{text}` is not an IPv4 address with prefix length (`inside`, e.g. \"169.254.10.2/30\")"));
                None
            }
        }
    }

    fn max_prefix(&mut self, m: &S<raw::MaxPrefix>) -> Option<MaxPrefix> {
        let (limit, restart) = match m.get_ref() {
            raw::MaxPrefix::Limit(l) => (*l, None),
            raw::MaxPrefix::Table(t) => (t.limit, t.restart_after),
        };
        let hi = i64::from(u32::MAX);
        for (what, v) in [("limit", Some(limit)), ("restart_after", restart)] {
            if let Some(v) = v.filter(|v| !(1..=hi).contains(v)) {
                self.err(
                    m.span(),
                    format!("`max_prefix` {what} must be 1..={hi}, not {v}"),
                );
                return None;
            }
        }
        Some(MaxPrefix {
            limit: u32::try_from(limit).ok()?,
            restart_after: restart
                .and_then(|r| u64::try_from(r).ok())
                .map(Duration::from_secs),
        })
    }

    /// `bfd = true`, `bfd = false` or a table of settings in milliseconds.
    fn bfd(&mut self, b: &S<raw::Bfd>) -> Option<Bfd> {
        let t = match b.get_ref() {
            raw::Bfd::On(on) => return on.then(Bfd::default),
            raw::Bfd::Table(t) => t,
        };
        let mut out = Bfd::default();
        let mut ok = true;
        for (field, value, slot) in [
            ("min_tx", t.min_tx, &mut out.min_tx),
            ("min_rx", t.min_rx, &mut out.min_rx),
        ] {
            let Some(ms) = value else { continue };
            // Zero would mean "send nothing" (RFC 5880 §4.1 Required Min RX)
            // or is reserved (Desired Min TX): neither is a configuration.
            match u64::try_from(ms) {
                Ok(v) if (1..=BFD_MAX_INTERVAL_MS).contains(&ms) => {
                    *slot = Duration::from_millis(v)
                }
                _ => {
                    self.err(
                        b.span(),
                        format!("`bfd` {field} must be 1..={BFD_MAX_INTERVAL_MS} milliseconds, not {ms}"),
                    );
                    ok = false;
                }
            }
        }
        if let Some(m) = t.multiplier {
            // RFC 5880 §4.1: Detect Mult zero is invalid (§6.8.6 drops it).
            match u8::try_from(m) {
                Ok(m @ 1..=u8::MAX) => out.multiplier = m,
                _ => {
                    self.err(
                        b.span(),
                        format!("`bfd` multiplier must be 1..=255, not {m}"),
                    );
                    ok = false;
                }
            }
        }
        out.passive = t.passive.unwrap_or(false);
        ok.then_some(out)
    }

    /// Pairs emulated neighbours: the k-th neighbour of A naming B with the
    /// k-th neighbour of B naming A (two routers may be linked more than
    /// once: parallel paths). Then gives every side its address.
    fn pair_virtual_links(&mut self, raw: &[S<raw::Router>], routers: &mut [PendingRouter]) {
        let index: HashMap<&str, usize> = raw
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.get_ref().name.get_ref().as_str(), i))
            .collect();
        // (router, neighbor) -> (far router, far neighbor)
        let mut pairs: Vec<((usize, usize), (usize, usize))> = Vec::new();
        for (ri, r) in raw.iter().enumerate() {
            let r = r.get_ref();
            let me = r.name.get_ref();
            for (ni, n) in r.neighbor.iter().enumerate() {
                let n = n.get_ref();
                let (Some(far), None) = (&n.router, &n.address) else {
                    continue;
                };
                let Some(&fi) = index.get(far.get_ref().as_str()) else {
                    self.err(
                        far.span(),
                        format!(
                            "router `{}` in neighbor of `{me}` is not defined",
                            far.get_ref()
                        ),
                    );
                    continue;
                };
                if fi == ri {
                    self.err(
                        far.span(),
                        format!("router `{me}` cannot be its own neighbor"),
                    );
                    continue;
                }
                let nth = r.neighbor[..ni]
                    .iter()
                    .filter(|m| m.get_ref().router.as_ref().map(S::get_ref) == Some(far.get_ref()))
                    .count();
                let back = raw[fi]
                    .get_ref()
                    .neighbor
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| {
                        m.get_ref()
                            .router
                            .as_ref()
                            .is_some_and(|x| x.get_ref() == me)
                            && m.get_ref().address.is_none()
                    })
                    .nth(nth);
                let Some((fni, _)) = back else {
                    let which = if nth == 0 {
                        String::new()
                    } else {
                        format!(" (link {} between them)", nth + 1)
                    };
                    self.err(
                        far.span(),
                        format!("`{me}` names `{}` as a neighbor but `{}` has no matching neighbor with router = \"{me}\"{which}; emulated neighbors are declared on both sides", far.get_ref(), far.get_ref()),
                    );
                    continue;
                };
                pairs.push(((ri, ni), (fi, fni)));
            }
        }
        let taken: BTreeSet<IpAddr> = raw
            .iter()
            .flat_map(|r| r.get_ref().neighbor.iter())
            .filter(|n| n.get_ref().router.is_some())
            .filter_map(|n| n.get_ref().local_address.as_ref()?.get_ref().parse().ok())
            .collect();
        let mut pool = AddressPool::new(taken);
        let mut addresses: HashMap<(usize, usize), IpAddr> = HashMap::new();
        for &(near, far) in &pairs {
            for side in [near, far] {
                if addresses.contains_key(&side) {
                    continue;
                }
                let configured = raw[side.0].get_ref().neighbor[side.1]
                    .get_ref()
                    .local_address
                    .as_ref()
                    .and_then(|a| a.get_ref().parse().ok());
                let addr = match configured.or_else(|| pool.next()) {
                    Some(a) => a,
                    None => {
                        self.err(
                            raw[side.0].span(),
                            "ran out of virtual link addresses in 100.127.0.0/16",
                        );
                        return;
                    }
                };
                addresses.insert(side, addr);
            }
        }
        for ((ri, ni), (fi, fni)) in pairs {
            let (Some(&local), Some(&remote)) =
                (addresses.get(&(ri, ni)), addresses.get(&(fi, fni)))
            else {
                continue;
            };
            let far_asn = routers[fi].asn;
            let far_name = routers[fi].name.clone();
            let far_mode = routers[fi].neighbors.get(fni).map(|n| n.mode);
            let Some(n) = routers[ri].neighbors.get_mut(ni) else {
                continue;
            };
            if n.mode == Mode::Passive && far_mode == Some(Mode::Passive) && ri < fi {
                let span = raw[ri].get_ref().neighbor[ni].span();
                self.err(span, format!("`{}` and `{far_name}` are both passive on their link: neither would connect", routers[ri].name));
            }
            // As written, so that a `bfd` refused for its values is not
            // also reported as missing on the other end.
            let runs_bfd = |r: usize, n: usize| {
                !matches!(
                    raw[r].get_ref().neighbor[n]
                        .get_ref()
                        .bfd
                        .as_ref()
                        .map(S::get_ref),
                    None | Some(raw::Bfd::On(false))
                )
            };
            if runs_bfd(ri, ni) && !runs_bfd(fi, fni) {
                let near = raw[ri].get_ref().neighbor[ni].get_ref();
                let span = near
                    .bfd
                    .as_ref()
                    .map_or_else(|| raw[ri].get_ref().neighbor[ni].span(), S::span);
                self.err(span, format!("`{}` runs BFD to `{far_name}` but `{far_name}` does not run it back: set `bfd` on both ends of the link", routers[ri].name));
            }
            let Some(n) = routers[ri].neighbors.get_mut(ni) else {
                continue;
            };
            n.remote_asn = n.remote_asn.or(Some(far_asn));
            if n.name.is_empty() {
                n.name = far_name.clone();
            }
            n.kind = Some(NeighborKind::Emulated(VirtualLink {
                router: far_name,
                far_router: fi,
                far_neighbor: fni,
                local_address: local,
                remote_address: remote,
            }));
        }
    }

    fn check_policy_names(&mut self, raw: &[S<raw::Router>], policies: &[Policy]) {
        for r in raw.iter().map(S::get_ref) {
            let neighbors = r
                .neighbor
                .iter()
                .map(|n| (&n.get_ref().import, &n.get_ref().export));
            let cloud = r
                .cloud_session
                .iter()
                .map(|c| (&c.get_ref().import, &c.get_ref().export));
            for (import, export) in neighbors.chain(cloud) {
                for (field, names) in [("import", import), ("export", export)] {
                    for name in names {
                        if !policies.iter().any(|p| &p.name == name.get_ref()) {
                            self.err(
                                name.span(),
                                format!(
                                    "{field} policy `{}` of a neighbor of `{}` is not defined",
                                    name.get_ref(),
                                    r.name.get_ref()
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Hands out host addresses of 100.127.0.0/16 in order, skipping any that
/// the file assigns by hand.
struct AddressPool {
    next: u32,
    taken: BTreeSet<IpAddr>,
}

impl AddressPool {
    fn new(taken: BTreeSet<IpAddr>) -> Self {
        AddressPool {
            next: u32::from(VIRTUAL_LINK_POOL) + 1,
            taken,
        }
    }

    fn next(&mut self) -> Option<IpAddr> {
        let end = u32::from(VIRTUAL_LINK_POOL) + (1u32 << (32 - VIRTUAL_LINK_POOL_LEN)) - 1;
        while self.next < end {
            let addr = IpAddr::V4(Ipv4Addr::from(self.next));
            self.next += 1;
            if !self.taken.contains(&addr) {
                return Some(addr);
            }
        }
        None
    }
}
