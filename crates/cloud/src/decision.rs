//! Step-by-step elimination among candidates, remembering who lost and why.
//!
//! Every selection in the cloud (VGW, VPC route table, DX VIF choice) is a
//! sequence of rules. `hybridlab trace` and `show routes` must say which rule
//! decided and which candidates lost to which rule, so each step records the
//! candidates it removes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A rule of the cloud's route selection, named as `trace` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Only one candidate existed.
    OnlyCandidate,
    /// A longer prefix matched (spec §3.1 item 1).
    LongestPrefix,
    /// The VPC's local route covers the destination (spec §3.1 item 2).
    LocalRoute,
    /// Static beats propagated at equal length (spec §3.1 item 3).
    StaticOverPropagated,
    /// Direct Connect BGP > VPN static > VPN BGP (spec §2.5, §3.1 item 5).
    SourcePreference,
    /// 7224:7100/7200/7300 local preference (spec §5.5).
    LocalPreferenceCommunity,
    /// Shorter AS_PATH (spec §2.5 item 4, §5.5).
    ShortestAsPath,
    /// Lower MED among routes with the same first AS (spec §2.5 item 5).
    LowestMed,
    /// The VGW-wide primary egress tunnel (spec §2.5, no ECMP).
    PrimaryTunnel,
    /// Deterministic last resort: the lowest egress name.
    LowestName,
    /// Equal-cost VIFs: the flow hash picked one (spec §5.5).
    FlowHash,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::OnlyCandidate => "only candidate",
            Rule::LongestPrefix => "longest prefix match",
            Rule::LocalRoute => "VPC local route wins for the VPC CIDR",
            Rule::StaticOverPropagated => "static route beats propagated route",
            Rule::SourcePreference => "Direct Connect BGP > VPN static > VPN BGP",
            Rule::LocalPreferenceCommunity => "higher local-preference community (7224:7x00)",
            Rule::ShortestAsPath => "shortest AS_PATH",
            Rule::LowestMed => "lowest MED (same first AS)",
            Rule::PrimaryTunnel => "VGW primary egress tunnel",
            Rule::LowestName => "lowest name (deterministic tie-break)",
            Rule::FlowHash => "flow hash among equal paths",
        })
    }
}

/// A candidate that lost, and the rule it lost to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lost<T> {
    pub candidate: T,
    pub rule: Rule,
}

/// Candidates still in the race, and everything decided so far.
#[derive(Clone, Debug)]
pub(crate) struct Elimination<T> {
    pub remaining: Vec<T>,
    pub losers: Vec<Lost<T>>,
    /// The last rule that removed someone: what separated the winner from
    /// the runner-up.
    pub deciding: Option<Rule>,
}

impl<T> Elimination<T> {
    pub fn new(candidates: Vec<T>) -> Self {
        Elimination {
            remaining: candidates,
            losers: Vec::new(),
            deciding: None,
        }
    }

    /// Keep the candidates with the smallest key; the others lose to `rule`.
    pub fn keep_min_by_key<K: Ord>(&mut self, rule: Rule, key: impl Fn(&T) -> K) {
        let Some(best) = self.remaining.iter().map(&key).min() else {
            return;
        };
        let (kept, lost): (Vec<T>, Vec<T>) = self.remaining.drain(..).partition(|c| key(c) == best);
        self.remaining = kept;
        self.lose(lost, rule);
    }

    /// Keep the candidates `keep` says yes to, unless that would keep none.
    pub fn keep_if_any(&mut self, rule: Rule, keep: impl Fn(&T) -> bool) {
        if !self.remaining.iter().any(&keep) {
            return;
        }
        let (kept, lost): (Vec<T>, Vec<T>) = self.remaining.drain(..).partition(|c| keep(c));
        self.remaining = kept;
        self.lose(lost, rule);
    }

    pub fn lose(&mut self, lost: Vec<T>, rule: Rule) {
        if lost.is_empty() {
            return;
        }
        self.deciding = Some(rule);
        self.losers
            .extend(lost.into_iter().map(|candidate| Lost { candidate, rule }));
    }

    /// The rule to report: `OnlyCandidate` when nothing had to be decided.
    pub fn deciding_rule(&self) -> Rule {
        self.deciding.unwrap_or(Rule::OnlyCandidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elimination_reports_last_rule_that_removed_a_candidate() {
        let mut e = Elimination::new(vec![(1, 5), (1, 3), (2, 1)]);
        e.keep_min_by_key(Rule::SourcePreference, |c| c.0);
        e.keep_min_by_key(Rule::ShortestAsPath, |c| c.1);
        e.keep_min_by_key(Rule::LowestName, |c| c.1);
        assert_eq!(e.remaining, vec![(1, 3)]);
        assert_eq!(e.deciding_rule(), Rule::ShortestAsPath);
        assert_eq!(e.losers.len(), 2);
        assert_eq!(e.losers[0].rule, Rule::SourcePreference);
    }

    #[test]
    fn keep_if_any_never_empties_the_race() {
        let mut e = Elimination::new(vec![1, 2]);
        e.keep_if_any(Rule::PrimaryTunnel, |c| *c == 9);
        assert_eq!(e.remaining, vec![1, 2]);
        assert_eq!(e.deciding_rule(), Rule::OnlyCandidate);
    }
}
