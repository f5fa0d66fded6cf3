//! Import and export policy.
//!
//! A [`Policy`] is an ordered list of [`Term`]s: the first term whose matches
//! all hold decides, and a route no term matched gets the policy's default.
//! Policies chain ([`Policy::chain`]): a route one policy accepts, with that
//! policy's changes, goes on to the next; a reject anywhere stops it.
//!
//! Evaluation is split in two so that the RIB can share attributes: first
//! [`Policy::evaluate`] decides and records which term of each policy fired
//! (a [`Trace`]); then [`Policy::apply`] makes that trace's changes. Every
//! prefix of an UPDATE with the same trace gets the same attributes, so the
//! changed attributes are built once, not once per prefix.

mod prefix_range;

pub use prefix_range::PrefixRange;

use crate::packet::{Community, PathAttributes, Prefix};
use smallvec::SmallVec;
use std::borrow::Cow;

/// What a policy does with a route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Action {
    #[default]
    Accept,
    Reject,
}

impl std::str::FromStr for Action {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "accept" => Ok(Action::Accept),
            "reject" => Ok(Action::Reject),
            _ => Err(PolicyError::Action {
                text: text.to_string(),
            }),
        }
    }
}

/// A bad word in a policy definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("`{text}` is not a prefix (expected ADDRESS/LENGTH)")]
    Prefix { text: String },
    #[error("`{text}` has host bits set; the network is `{network}`")]
    HostBits { text: String, network: Prefix },
    #[error("`{text}`: expected `PREFIX`, `PREFIX le N`, `PREFIX ge N` or `PREFIX ge N le M`")]
    RangeSyntax { text: String },
    #[error("`{text}`: lengths must satisfy {base} <= ge <= le <= {max}")]
    RangeLengths { text: String, base: u8, max: u8 },
    #[error("{reason}")]
    Community { reason: String },
    #[error("action `{text}` is neither `accept` nor `reject`")]
    Action { text: String },
}

/// Parses `65000:100` or a well-known name (`no-export`, `no-advertise`,
/// `no-export-subconfed`).
pub fn parse_community(text: &str) -> Result<Community, PolicyError> {
    text.parse()
        .map_err(|reason| PolicyError::Community { reason })
}

/// One rule: matches, then what to do with a route that meets them all.
/// An empty match list matches every route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Term {
    /// The route's prefix is in one of these ranges.
    pub prefixes: Vec<PrefixRange>,
    /// The route carries any of these communities.
    pub communities: Vec<Community>,
    pub action: Action,
    /// Extra copies of the local AS, on export to an external peer only:
    /// that peer sees the local AS `1 + prepend` times. Ignored on import and
    /// towards internal peers, which would see their own AS and drop the
    /// route as a loop.
    pub prepend: u8,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub add_communities: Vec<Community>,
    pub remove_communities: Vec<Community>,
}

impl Term {
    fn matches(&self, prefix: &Prefix, communities: &[Community]) -> bool {
        (self.prefixes.is_empty() || self.prefixes.iter().any(|r| r.matches(prefix)))
            && (self.communities.is_empty()
                || self.communities.iter().any(|c| communities.contains(c)))
    }

    fn edits_communities(&self) -> bool {
        !self.add_communities.is_empty() || !self.remove_communities.is_empty()
    }

    fn modifies(&self) -> bool {
        self.prepend > 0
            || self.med.is_some()
            || self.local_pref.is_some()
            || self.edits_communities()
    }

    fn edit_communities(&self, communities: &mut Vec<Community>) {
        communities.retain(|c| !self.remove_communities.contains(c));
        for c in &self.add_communities {
            if !communities.contains(c) {
                communities.push(*c);
            }
        }
    }

    fn apply(&self, attrs: &mut PathAttributes, prepend_as: Option<u32>) {
        if let Some(med) = self.med {
            attrs.med = Some(med);
        }
        if let Some(local_pref) = self.local_pref {
            attrs.local_pref = Some(local_pref);
        }
        self.edit_communities(&mut attrs.communities);
        if let (Some(asn), n) = (prepend_as, self.prepend) {
            if n > 0 {
                attrs
                    .as_path
                    .get_or_insert_with(Default::default)
                    .prepend(asn, usize::from(n));
            }
        }
    }
}

/// Which term of each policy on a chain decided, in evaluation order;
/// [`Trace::DEFAULT`] where the policy's default did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Trace(SmallVec<[u32; 4]>);

impl Trace {
    pub const DEFAULT: u32 = u32::MAX;

    pub fn steps(&self) -> &[u32] {
        &self.0
    }
}

/// An ordered list of terms; the first matching term decides. The default
/// policy accepts every route unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub terms: Vec<Term>,
    /// For routes no term matched.
    pub default: Action,
    /// Policies that routes accepted here go through next, in order.
    pub then: Vec<Policy>,
}

impl Policy {
    pub fn new(name: impl Into<String>, terms: Vec<Term>, default: Action) -> Self {
        Policy {
            name: name.into(),
            terms,
            default,
            then: Vec::new(),
        }
    }

    /// Several policies applied in order, as a peer's `import = ["a", "b"]`.
    /// No policies: accept everything.
    pub fn chain(policies: Vec<Policy>) -> Self {
        let name = policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        Policy {
            name,
            terms: Vec::new(),
            default: Action::Accept,
            then: policies,
        }
    }

    /// True when every route passes untouched: the RIB skips evaluation.
    pub fn accepts_all_unchanged(&self) -> bool {
        self.default == Action::Accept
            && self
                .terms
                .iter()
                .all(|t| t.action == Action::Accept && !t.modifies())
            && self.then.iter().all(Policy::accepts_all_unchanged)
    }

    /// Decides the route's fate. `None`: rejected. Communities added by an
    /// earlier policy of the chain are seen by the later ones.
    pub fn evaluate(&self, prefix: &Prefix, attrs: &PathAttributes) -> Option<Trace> {
        let mut trace = Trace::default();
        let mut communities = Cow::Borrowed(attrs.communities.as_slice());
        self.evaluate_into(prefix, &mut communities, false, &mut trace)
            .then_some(trace)
    }

    fn evaluate_into(
        &self,
        prefix: &Prefix,
        communities: &mut Cow<'_, [Community]>,
        more_after: bool,
        trace: &mut Trace,
    ) -> bool {
        let chosen = self
            .terms
            .iter()
            .enumerate()
            .find(|(_, t)| t.matches(prefix, communities));
        match chosen {
            Some((index, term)) => {
                trace.0.push(u32::try_from(index).unwrap_or(Trace::DEFAULT));
                if term.action == Action::Reject {
                    return false;
                }
                // Only a later policy can look at the edited communities.
                if term.edits_communities() && (more_after || !self.then.is_empty()) {
                    term.edit_communities(communities.to_mut());
                }
            }
            None => {
                trace.0.push(Trace::DEFAULT);
                if self.default == Action::Reject {
                    return false;
                }
            }
        }
        let last = self.then.len().saturating_sub(1);
        for (i, next) in self.then.iter().enumerate() {
            if !next.evaluate_into(prefix, communities, more_after || i < last, trace) {
                return false;
            }
        }
        true
    }

    /// Whether [`Policy::apply`] would change anything for this trace.
    pub fn modifies(&self, trace: &Trace) -> bool {
        let mut steps = trace.0.iter();
        self.modifies_from(&mut steps)
    }

    fn modifies_from(&self, steps: &mut std::slice::Iter<'_, u32>) -> bool {
        let Some(&step) = steps.next() else {
            return false;
        };
        let here = self.terms.get(step as usize).is_some_and(Term::modifies);
        // Walk every later stage even after a hit, to stay aligned with the trace.
        let mut later = false;
        for next in &self.then {
            later |= next.modifies_from(steps);
        }
        here || later
    }

    /// Makes the changes of the terms in `trace`. `prepend_as`: the local AS
    /// when exporting to an external peer, `None` elsewhere.
    pub fn apply(&self, trace: &Trace, attrs: &mut PathAttributes, prepend_as: Option<u32>) {
        let mut steps = trace.0.iter();
        self.apply_from(&mut steps, attrs, prepend_as);
    }

    fn apply_from(
        &self,
        steps: &mut std::slice::Iter<'_, u32>,
        attrs: &mut PathAttributes,
        prepend_as: Option<u32>,
    ) {
        let Some(&step) = steps.next() else {
            return;
        };
        if let Some(term) = self.terms.get(step as usize) {
            term.apply(attrs, prepend_as);
        }
        for next in &self.then {
            next.apply_from(steps, attrs, prepend_as);
        }
    }

    /// Evaluate and apply in one go, for callers that do not share attributes.
    pub fn run(
        &self,
        prefix: &Prefix,
        attrs: &PathAttributes,
        prepend_as: Option<u32>,
    ) -> Option<PathAttributes> {
        let trace = self.evaluate(prefix, attrs)?;
        let mut attrs = attrs.clone();
        self.apply(&trace, &mut attrs, prepend_as);
        Some(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::AsPath;

    fn p(text: &str) -> Prefix {
        text.parse().unwrap()
    }

    fn c(text: &str) -> Community {
        parse_community(text).unwrap()
    }

    fn term(prefixes: &[&str]) -> Term {
        Term {
            prefixes: prefixes.iter().map(|t| t.parse().unwrap()).collect(),
            ..Term::default()
        }
    }

    #[test]
    fn default_policy_accepts_all_unchanged() {
        let policy = Policy::default();
        assert!(policy.accepts_all_unchanged());
        let attrs = PathAttributes::default();
        assert_eq!(policy.run(&p("10.0.0.0/8"), &attrs, Some(1)), Some(attrs));
    }

    #[test]
    fn first_matching_term_decides_else_default() {
        let policy = Policy::new(
            "only-10",
            vec![
                Term {
                    action: Action::Reject,
                    ..term(&["10.66.0.0/16 le 32"])
                },
                term(&["10.0.0.0/8 le 24"]),
            ],
            Action::Reject,
        );
        let attrs = PathAttributes::default();
        assert!(policy.evaluate(&p("10.66.1.0/24"), &attrs).is_none());
        assert_eq!(
            policy.evaluate(&p("10.1.0.0/16"), &attrs).unwrap().steps(),
            &[1]
        );
        assert!(policy.evaluate(&p("10.1.0.0/25"), &attrs).is_none());
        assert!(policy.evaluate(&p("192.0.2.0/24"), &attrs).is_none());
    }

    #[test]
    fn community_match_is_match_any() {
        let policy = Policy::new(
            "tagged",
            vec![Term {
                communities: vec![c("65000:1"), c("65000:2")],
                local_pref: Some(200),
                ..Term::default()
            }],
            Action::Reject,
        );
        let mut attrs = PathAttributes {
            communities: vec![c("65000:9"), c("65000:2")],
            ..PathAttributes::default()
        };
        let out = policy.run(&p("10.0.0.0/8"), &attrs, None).unwrap();
        assert_eq!(out.local_pref, Some(200));
        attrs.communities = vec![c("65000:9")];
        assert!(policy.run(&p("10.0.0.0/8"), &attrs, None).is_none());
    }

    #[test]
    fn actions_set_med_local_pref_communities_and_prepend() {
        let policy = Policy::new(
            "backup-path",
            vec![Term {
                prepend: 3,
                med: Some(200),
                local_pref: Some(50),
                add_communities: vec![c("64512:7"), c("no-export")],
                remove_communities: vec![c("65000:1")],
                ..term(&["10.10.0.0/16"])
            }],
            Action::Accept,
        );
        let attrs = PathAttributes {
            as_path: Some(AsPath::from_sequence([64512])),
            communities: vec![c("65000:1"), c("65000:2")],
            ..PathAttributes::default()
        };
        let out = policy.run(&p("10.10.0.0/16"), &attrs, Some(64512)).unwrap();
        assert_eq!(out.med, Some(200));
        assert_eq!(out.local_pref, Some(50));
        assert_eq!(
            out.communities,
            vec![c("65000:2"), c("64512:7"), Community::NO_EXPORT]
        );
        assert_eq!(out.as_path.unwrap().asns().collect::<Vec<_>>(), [64512; 4]);
        // Without an AS to prepend (import, internal peer) the path stays.
        let out = policy.run(&p("10.10.0.0/16"), &attrs, None).unwrap();
        assert_eq!(out.as_path, attrs.as_path);
        // Other prefixes fall to the default: accepted untouched.
        assert_eq!(
            policy.run(&p("10.11.0.0/16"), &attrs, Some(64512)),
            Some(attrs)
        );
    }

    #[test]
    fn chain_passes_accepted_routes_on_and_stops_at_reject() {
        let tag = Policy::new(
            "tag",
            vec![Term {
                add_communities: vec![c("64512:100")],
                ..term(&["10.0.0.0/8 le 32"])
            }],
            Action::Accept,
        );
        let only_tagged = Policy::new(
            "only-tagged",
            vec![Term {
                communities: vec![c("64512:100")],
                med: Some(5),
                ..Term::default()
            }],
            Action::Reject,
        );
        let chain = Policy::chain(vec![tag, only_tagged]);
        assert_eq!(chain.name, "tag, only-tagged");
        assert!(!chain.accepts_all_unchanged());
        let attrs = PathAttributes::default();
        // The second policy sees the community the first one added.
        let out = chain.run(&p("10.1.0.0/16"), &attrs, None).unwrap();
        assert_eq!(out.communities, vec![c("64512:100")]);
        assert_eq!(out.med, Some(5));
        assert!(chain.run(&p("192.0.2.0/24"), &attrs, None).is_none());
    }

    #[test]
    fn same_trace_same_changes() {
        let policy = Policy::new(
            "p",
            vec![Term {
                med: Some(7),
                ..term(&["10.0.0.0/8 le 24"])
            }],
            Action::Accept,
        );
        let attrs = PathAttributes::default();
        let a = policy.evaluate(&p("10.1.0.0/16"), &attrs).unwrap();
        let b = policy.evaluate(&p("10.2.0.0/16"), &attrs).unwrap();
        let other = policy.evaluate(&p("11.0.0.0/8"), &attrs).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert!(policy.modifies(&a));
        assert!(!policy.modifies(&other));
    }

    #[test]
    fn parse_errors_are_typed() {
        assert!(matches!(
            parse_community("65000"),
            Err(PolicyError::Community { .. })
        ));
        assert!(matches!(
            "drop".parse::<Action>(),
            Err(PolicyError::Action { .. })
        ));
        assert_eq!(parse_community("no-export"), Ok(Community::NO_EXPORT));
    }
}
