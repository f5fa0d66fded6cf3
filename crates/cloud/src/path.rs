//! A path the cloud can send traffic on: where it leaves (a VPN tunnel or a
//! DX VIF) and the attributes the cloud's selection reads.

use crate::dx::communities::LocalPreference;
use crate::source::RouteSource;
use hybridlab_bgp::packet::{AsPath, Community, PathAttributes};
use ipnet::IpNet;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// One tunnel of a VPN connection: the connection's name and 1 or 2.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TunnelId {
    pub connection: String,
    pub tunnel: u8,
}

impl TunnelId {
    pub fn new(connection: impl Into<String>, tunnel: u8) -> Self {
        TunnelId {
            connection: connection.into(),
            tunnel,
        }
    }
}

impl fmt::Display for TunnelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/tunnel{}", self.connection, self.tunnel)
    }
}

/// Where a packet leaves the VGW, and so where it learned the route.
/// `Ord` gives the deterministic tie-break: VIFs before tunnels, then by
/// name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Egress {
    /// A private VIF attached directly to the VGW.
    Vif(String),
    /// A VIF of a DX gateway associated with the VGW.
    DxGatewayVif { gateway: String, vif: String },
    /// A VPN tunnel, BGP or static.
    Tunnel(TunnelId),
}

impl Egress {
    /// The VIF's name for either kind of VIF.
    pub fn vif(&self) -> Option<&str> {
        match self {
            Egress::Vif(vif) | Egress::DxGatewayVif { vif, .. } => Some(vif),
            Egress::Tunnel(_) => None,
        }
    }
}

impl fmt::Display for Egress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Egress::Vif(name) => f.write_str(name),
            Egress::DxGatewayVif { gateway, vif } => write!(f, "{gateway}/{vif}"),
            Egress::Tunnel(t) => t.fmt(f),
        }
    }
}

/// A route toward on-premises as the cloud's selection sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub prefix: IpNet,
    pub egress: Egress,
    pub source: RouteSource,
    #[serde(serialize_with = "as_path_list")]
    pub as_path: AsPath,
    pub med: Option<u32>,
    /// From 7224:7x00 on DX routes; `Medium` for VPN routes, where it plays
    /// no part (spec §5.5 applies to VIFs only).
    pub local_pref: LocalPreference,
    /// As received, for `show routes` and expectations.
    #[serde(serialize_with = "community_list")]
    pub communities: Vec<Community>,
}

impl Candidate {
    /// A candidate from a received route's attributes. `same_home_region`
    /// matters only for DX routes without a local-preference community.
    pub fn from_attributes(
        prefix: IpNet,
        egress: Egress,
        source: RouteSource,
        attributes: &PathAttributes,
        same_home_region: bool,
    ) -> Self {
        let local_pref = match source {
            RouteSource::DirectConnect => {
                LocalPreference::from_communities(&attributes.communities, same_home_region)
            }
            _ => LocalPreference::Medium,
        };
        Candidate {
            prefix,
            egress,
            source,
            as_path: attributes.as_path.clone().unwrap_or_default(),
            med: attributes.med,
            local_pref,
            communities: attributes.communities.clone(),
        }
    }

    /// A static VPN route: no AS_PATH, no MED.
    pub fn vpn_static(prefix: IpNet, tunnel: TunnelId) -> Self {
        Candidate {
            prefix,
            egress: Egress::Tunnel(tunnel),
            source: RouteSource::VpnStatic,
            as_path: AsPath::default(),
            med: None,
            local_pref: LocalPreference::Medium,
            communities: Vec::new(),
        }
    }
}

/// A route to send on one session, with the attributes as they go on the
/// wire: the cloud's ASN is already in the AS_PATH, so the runtime sends
/// them as they are instead of letting its speaker prepend again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    pub prefix: IpNet,
    pub attributes: PathAttributes,
}

/// JSON view: prefix, AS_PATH as numbers, MED, communities as "a:b".
impl Serialize for Announcement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let as_path: Vec<u32> = self
            .attributes
            .as_path
            .iter()
            .flat_map(|p| p.asns())
            .collect();
        let communities: Vec<String> = self
            .attributes
            .communities
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut st = s.serialize_struct("Announcement", 4)?;
        st.serialize_field("prefix", &self.prefix)?;
        st.serialize_field("as_path", &as_path)?;
        st.serialize_field("med", &self.attributes.med)?;
        st.serialize_field("communities", &communities)?;
        st.end()
    }
}

/// Communities as "a:b" strings for JSON views.
fn community_list<S: Serializer>(communities: &[Community], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(communities.iter().map(|c| c.to_string()))
}

/// AS_PATH as a flat list of AS numbers for JSON views.
pub(crate) fn as_path_list<S: Serializer>(path: &AsPath, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(path.asns())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_bgp::packet::Community;

    #[test]
    fn announcement_view_shows_as_path_med_and_communities() {
        let a = Announcement {
            prefix: "10.0.0.0/16".parse().unwrap(),
            attributes: PathAttributes {
                as_path: Some(AsPath::from_sequence([64512])),
                med: Some(100),
                communities: vec![Community::new(7224, 8100)],
                ..PathAttributes::default()
            },
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["prefix"], "10.0.0.0/16");
        assert_eq!(v["as_path"], serde_json::json!([64512]));
        assert_eq!(v["med"], 100);
        assert_eq!(v["communities"], serde_json::json!(["7224:8100"]));
    }

    #[test]
    fn egress_orders_vifs_before_tunnels_then_by_name() {
        let mut e = [
            Egress::Tunnel(TunnelId::new("vpn-1", 2)),
            Egress::Tunnel(TunnelId::new("vpn-1", 1)),
            Egress::Vif("dx-2".into()),
        ];
        e.sort();
        assert_eq!(e[0], Egress::Vif("dx-2".into()));
        assert_eq!(e[1].to_string(), "vpn-1/tunnel1");
    }
}
