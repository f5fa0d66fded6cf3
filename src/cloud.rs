//! How `show routes`, `show vgw` and `trace` print a cloud node: one row
//! shape for every kind of node, the rule that decided in words.

use crate::table::Table;
use hybridlab_cloud::decision::Rule;
use hybridlab_cloud::fabric::{NodeRoute, Trace, VgwView};
use hybridlab_runtime::view::NodeRoutes;

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn as_path(path: &[u32]) -> String {
    if path.is_empty() {
        "-".to_string()
    } else {
        path.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A rule as expectations name it (`rule = "source_preference"`); `trace`
/// says it in words.
fn rule_name(rule: Rule) -> String {
    serde_json::to_value(rule)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{rule:?}"))
}

/// PREFIX VIA EGRESS ORIGIN AS_PATH MED RULE; `*` marks active rows.
pub fn routes_table(routes: &[NodeRoute]) -> String {
    let mut t = Table::new(&[
        "", "PREFIX", "VIA", "EGRESS", "ORIGIN", "AS_PATH", "MED", "RULE",
    ]);
    for r in routes {
        t.row(vec![
            if r.active { "*" } else { "" }.to_string(),
            r.prefix.to_string(),
            r.via.clone(),
            or_dash(r.egress.as_ref()),
            r.origin.clone(),
            as_path(&r.as_path),
            or_dash(r.med),
            r.rule.map_or_else(|| "-".to_string(), rule_name),
        ]);
    }
    t.render()
}

pub fn node_routes(r: &NodeRoutes) -> String {
    let kind = serde_json::to_value(r.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
        .replace('_', " ");
    format!(
        "routes of {} ({kind}, {} routes; * active)\n{}",
        r.node,
        r.routes.len(),
        routes_table(&r.routes)
    )
}

/// Tunnels (the primary marked), then every candidate route.
pub fn vgw(v: &VgwView) -> String {
    let mut out = format!("VGW {} (AS {}", v.name, v.asn);
    if let Some(vpc) = &v.vpc {
        out.push_str(&format!(", VPC {vpc}"));
    }
    out.push_str(")\n");
    if v.tunnels.is_empty() {
        out.push_str("no VPN tunnels\n");
    } else {
        let mut t = Table::new(&["TUNNEL", "STATUS", "MESSAGE", "ACCEPTED", ""]);
        for tunnel in &v.tunnels {
            let status = serde_json::to_value(tunnel.status.status)
                .ok()
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default();
            t.row(vec![
                tunnel.tunnel.to_string(),
                status,
                if tunnel.status.status_message.is_empty() {
                    "-".to_string()
                } else {
                    tunnel.status.status_message.clone()
                },
                tunnel.status.accepted_route_count.to_string(),
                if v.primary_tunnel.as_ref() == Some(&tunnel.tunnel) {
                    "primary".to_string()
                } else {
                    String::new()
                },
            ]);
        }
        out.push_str(&t.render());
    }
    out.push_str(&format!(
        "\nroutes ({}; * selected; RULE: what decided, or what it lost to)\n",
        v.routes.len()
    ));
    out.push_str(&routes_table(&v.routes));
    out
}

/// One hop a line: node, kind, matched prefix, what it chose and the rule
/// in words; then the candidates that lost; last the outcome, which says
/// delivered, dropped or where the packet left the lab.
pub fn trace(t: &Trace) -> String {
    let mut out = format!("trace {} -> {}\n", t.from, t.to);
    for (i, hop) in t.hops.iter().enumerate() {
        let kind = serde_json::to_value(hop.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut line = format!("{:>2}  {} ({kind})", i + 1, hop.node);
        if let Some(m) = hop.matched {
            line.push_str(&format!(" matched {m}"));
        }
        if !hop.chose.is_empty() {
            line.push_str(&format!(" -> {}", hop.chose));
        }
        if let Some(rule) = hop.rule {
            line.push_str(&format!(": {rule}"));
        }
        out.push_str(&line);
        out.push('\n');
        for lost in &hop.losers {
            out.push_str(&format!("      lost: {lost}\n"));
        }
    }
    out.push_str(&t.outcome);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_cloud::fabric::{Hop, NodeKind};

    fn route(prefix: &str, via: &str, active: bool) -> NodeRoute {
        NodeRoute {
            prefix: prefix.parse().unwrap_or_else(|e| panic!("{prefix}: {e}")),
            via: via.to_string(),
            egress: None,
            origin: "propagated".to_string(),
            as_path: Vec::new(),
            med: None,
            communities: Vec::new(),
            rule: None,
            active,
        }
    }

    #[test]
    fn route_rows_mark_active_and_show_egress_and_rule() {
        let mut propagated = route("172.16.0.0/16", "vgw1", true);
        propagated.egress = Some("primary".to_string());
        let mut lost = route("172.16.0.0/16", "backup/tunnel1", false);
        lost.origin = "vpn_bgp".to_string();
        lost.as_path = vec![65000, 65000];
        lost.med = Some(10);
        lost.rule = Some(Rule::SourcePreference);
        let text = routes_table(&[propagated, lost]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["PREFIX", "VIA", "EGRESS", "ORIGIN", "AS_PATH", "MED", "RULE"]
        );
        assert_eq!(
            lines[1].split_whitespace().collect::<Vec<_>>(),
            [
                "*",
                "172.16.0.0/16",
                "vgw1",
                "primary",
                "propagated",
                "-",
                "-",
                "-"
            ]
        );
        assert!(lines[2].starts_with(' '), "{text}");
        for cell in [
            "backup/tunnel1",
            "vpn_bgp",
            "65000 65000",
            "10",
            "source_preference",
        ] {
            assert!(lines[2].contains(cell), "{cell} in {text}");
        }
    }

    #[test]
    fn node_routes_names_the_kind() {
        let r = NodeRoutes {
            node: "gw".to_string(),
            kind: NodeKind::DxGateway,
            routes: vec![route("10.0.0.0/8", "vif-a", true)],
        };
        assert!(node_routes(&r).starts_with("routes of gw (dx gateway, 1 routes; * active)\n"));
    }

    #[test]
    fn a_trace_prints_each_hop_its_losers_and_the_outcome() {
        let hop = |node: &str, kind, chose: &str, rule| Hop {
            node: node.to_string(),
            kind,
            matched: None,
            chose: chose.to_string(),
            rule,
            losers: Vec::new(),
        };
        let mut vpc = hop("prod", NodeKind::Vpc, "vgw1", Some(Rule::LongestPrefix));
        vpc.matched = Some("172.16.0.0/16".parse().unwrap_or_else(|e| panic!("{e}")));
        let mut vgw = hop(
            "vgw1",
            NodeKind::Vgw,
            "primary",
            Some(Rule::SourcePreference),
        );
        vgw.losers = vec!["backup/tunnel1 (Direct Connect BGP > VPN static > VPN BGP)".into()];
        let t = Trace {
            from: "prod".to_string(),
            to: [172, 16, 1, 1].into(),
            hops: vec![
                vpc,
                vgw,
                hop("primary", NodeKind::Vif, "onprem", None),
                hop("onprem", NodeKind::Router, "", None),
            ],
            delivered: true,
            outcome: "delivered to onprem via primary".to_string(),
        };
        assert_eq!(
            trace(&t),
            "trace prod -> 172.16.1.1\n\
             \x201  prod (vpc) matched 172.16.0.0/16 -> vgw1: longest prefix match\n\
             \x202  vgw1 (vgw) -> primary: Direct Connect BGP > VPN static > VPN BGP\n\
             \x20     lost: backup/tunnel1 (Direct Connect BGP > VPN static > VPN BGP)\n\
             \x203  primary (vif) -> onprem\n\
             \x204  onprem (router)\n\
             delivered to onprem via primary\n"
        );
    }
}
