//! Behaviours the spec marks unconfirmed, each a setting whose default is
//! the spec's stated assumption. A lab can flip one to see what changes.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Assumptions {
    /// CloudHub puts the VGW ASN in front of relayed routes, so sites that
    /// share an ASN drop each other's routes (spec §4: inferred).
    pub cloudhub_prepends_vgw_asn: bool,
    /// CloudHub relays a static VPN's prefixes to BGP peers too (spec §4:
    /// believed, unconfirmed).
    pub cloudhub_relays_static_routes: bool,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            cloudhub_prepends_vgw_asn: true,
            cloudhub_relays_static_routes: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumptions_default_to_the_specs_stated_beliefs() {
        let a = Assumptions::default();
        assert!(a.cloudhub_prepends_vgw_asn);
        assert!(a.cloudhub_relays_static_routes);
        let off: Assumptions = toml::from_str("cloudhub_prepends_vgw_asn = false").unwrap();
        assert!(!off.cloudhub_prepends_vgw_asn);
        assert!(off.cloudhub_relays_static_routes);
    }
}
