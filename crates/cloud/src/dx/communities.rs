//! Direct Connect BGP communities (spec §5.5).
//!
//! Private VIF: the customer sets 7224:7100/7200/7300 to steer which VIF AWS
//! sends traffic to. Public VIF: the customer scopes its prefixes with
//! 7224:9100/9200/9300; AWS tags its own with NO_EXPORT and 7224:8100/8200.

use hybridlab_bgp::packet::{AsPath, Community, PathAttributes};
use serde::Serialize;

/// AWS's own ASN on public VIFs and in every DX community (spec §5.2, §5.5).
pub const AWS_ASN: u16 = 7224;

/// Local preference AWS gives a route learned on a private VIF. `Ord`: the
/// higher preference is the greater value; the maximum wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalPreference {
    /// 7224:7100.
    Low,
    /// No community, learned at a DX location whose home Region is not the
    /// VPC's: "a lower local preference" (spec §5.5). Placed between Low
    /// and Medium: an assumption, AWS gives no value.
    RemoteRegion,
    /// 7224:7200, and the default when no community is set.
    Medium,
    /// 7224:7300.
    High,
}

impl LocalPreference {
    /// Read the local-preference community of a private VIF route
    /// (spec §5.5). The three are mutually exclusive; when a route carries
    /// more than one, AWS does not say what happens: we take the lowest,
    /// the cautious reading.
    pub fn from_communities(communities: &[Community], same_home_region: bool) -> Self {
        let tagged = communities.iter().filter_map(|c| match *c {
            c if c == Community::new(AWS_ASN, 7100) => Some(LocalPreference::Low),
            c if c == Community::new(AWS_ASN, 7200) => Some(LocalPreference::Medium),
            c if c == Community::new(AWS_ASN, 7300) => Some(LocalPreference::High),
            _ => None,
        });
        match tagged.min() {
            Some(pref) => pref,
            None if same_home_region => LocalPreference::Medium,
            None => LocalPreference::RemoteRegion,
        }
    }
}

/// How far AWS propagates a customer prefix learned on a public VIF
/// (spec §5.5, inbound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// 7224:9100.
    LocalRegion,
    /// 7224:9200.
    Continent,
    /// 7224:9300, and the default with no tag.
    Global,
}

impl Scope {
    pub fn community(self) -> Community {
        Community::new(
            AWS_ASN,
            match self {
                Scope::LocalRegion => 9100,
                Scope::Continent => 9200,
                Scope::Global => 9300,
            },
        )
    }
}

/// A customer route on a public VIF after AWS's inbound treatment: its scope
/// honoured, every other community stripped (spec §5.5).
pub fn public_vif_inbound(attributes: &PathAttributes) -> (Scope, PathAttributes) {
    let scope = [Scope::LocalRegion, Scope::Continent, Scope::Global]
        .into_iter()
        .find(|s| attributes.communities.contains(&s.community()))
        .unwrap_or(Scope::Global);
    let mut kept = attributes.clone();
    kept.communities.retain(|c| *c == scope.community());
    (scope, kept)
}

/// Where the receiving DX location sits relative to an AWS prefix's Region
/// (spec §5.5, outbound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Locality {
    SameRegion,
    SameContinent,
    Global,
}

/// The minimum AS_PATH length of AWS's public announcements (spec §5.5).
const PUBLIC_MIN_PATH_LEN: usize = 3;

/// Attributes of an AWS prefix announced on a public VIF: AS_PATH from 7224,
/// at least three long; NO_EXPORT always; 7224:8100 or 8200 by locality
/// (spec §5.5, checklist 19).
pub fn public_vif_announcement(as_path: &AsPath, locality: Locality) -> PathAttributes {
    let mut path = as_path.clone();
    if path.first_as() != Some(u32::from(AWS_ASN)) {
        path.prepend(u32::from(AWS_ASN), 1);
    }
    let missing = PUBLIC_MIN_PATH_LEN.saturating_sub(path.path_len());
    path.prepend(u32::from(AWS_ASN), missing);
    let mut communities = vec![Community::NO_EXPORT];
    match locality {
        Locality::SameRegion => communities.push(Community::new(AWS_ASN, 8100)),
        Locality::SameContinent => communities.push(Community::new(AWS_ASN, 8200)),
        Locality::Global => {}
    }
    communities.sort();
    PathAttributes {
        origin: Some(hybridlab_bgp::packet::Origin::Igp),
        as_path: Some(path),
        communities,
        ..PathAttributes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: u16) -> Community {
        Community::new(AWS_ASN, v)
    }

    #[test]
    fn dx_local_preference_communities_map_low_medium_high() {
        assert_eq!(
            LocalPreference::from_communities(&[c(7100)], true),
            LocalPreference::Low
        );
        assert_eq!(
            LocalPreference::from_communities(&[c(7200)], true),
            LocalPreference::Medium
        );
        assert_eq!(
            LocalPreference::from_communities(&[c(7300)], true),
            LocalPreference::High
        );
        assert!(LocalPreference::High > LocalPreference::Medium);
        assert!(LocalPreference::Medium > LocalPreference::Low);
    }

    #[test]
    fn dx_local_preference_defaults_to_medium_without_community() {
        assert_eq!(
            LocalPreference::from_communities(&[], true),
            LocalPreference::Medium
        );
        let other = Community::new(65000, 1);
        assert_eq!(
            LocalPreference::from_communities(&[other], true),
            LocalPreference::Medium
        );
    }

    #[test]
    fn dx_remote_region_location_gets_lower_preference_without_community() {
        let remote = LocalPreference::from_communities(&[], false);
        assert!(remote < LocalPreference::Medium && remote > LocalPreference::Low);
        assert_eq!(
            LocalPreference::from_communities(&[c(7300)], false),
            LocalPreference::High
        );
    }

    #[test]
    fn public_vif_scope_communities_are_honoured_and_others_stripped() {
        let attrs = PathAttributes {
            communities: vec![Community::new(65000, 1), c(9100), c(1)],
            ..PathAttributes::default()
        };
        let (scope, kept) = public_vif_inbound(&attrs);
        assert_eq!(scope, Scope::LocalRegion);
        assert_eq!(kept.communities, vec![c(9100)]);
        let (scope, kept) = public_vif_inbound(&PathAttributes::default());
        assert_eq!(scope, Scope::Global);
        assert!(kept.communities.is_empty());
    }

    #[test]
    fn public_vif_announcements_carry_no_export_and_locality_community() {
        let a = public_vif_announcement(&AsPath::default(), Locality::SameRegion);
        assert_eq!(a.communities, vec![c(8100), Community::NO_EXPORT]);
        let a = public_vif_announcement(&AsPath::default(), Locality::SameContinent);
        assert!(a.communities.contains(&c(8200)));
        let a = public_vif_announcement(&AsPath::default(), Locality::Global);
        assert_eq!(a.communities, vec![Community::NO_EXPORT]);
    }

    #[test]
    fn public_vif_announcements_have_as_path_of_at_least_three_from_7224() {
        let a = public_vif_announcement(&AsPath::default(), Locality::Global);
        let path = a.as_path.unwrap();
        assert_eq!(path.asns().collect::<Vec<_>>(), vec![7224, 7224, 7224]);
        let long = AsPath::from_sequence([7224, 16509, 16509, 16509]);
        let a = public_vif_announcement(&long, Locality::Global);
        assert_eq!(a.as_path.unwrap().path_len(), 4);
    }
}
