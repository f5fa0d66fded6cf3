//! Import and export policies as the topology file states them, and the
//! parsing of their small string languages (prefix-list entries).

use hybridlab_bgp::packet::{Community, Prefix};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDef {
    pub name: String,
    /// What happens to a route no term matched.
    pub default: Action,
    pub terms: Vec<Term>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    Reject,
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "accept" => Ok(Action::Accept),
            "reject" => Ok(Action::Reject),
            _ => Err(format!(
                "`{s}` is not an action: expected \"accept\" or \"reject\""
            )),
        }
    }
}

/// The first term whose matches all hold decides. An empty match list
/// matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Term {
    /// Match when the route's prefix is in this list (any entry).
    pub prefixes: Vec<PrefixMatch>,
    /// Match when the route carries any of these.
    pub communities: Vec<Community>,
    pub action: Option<Action>,
    /// Extra copies of the local AS (export).
    pub prepend: u8,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub add_communities: Vec<Community>,
    pub remove_communities: Vec<Community>,
}

impl Term {
    /// `accept` unless the term says otherwise.
    pub fn action(&self) -> Action {
        self.action.unwrap_or(Action::Accept)
    }
}

/// A prefix-list entry: `PREFIX`, `PREFIX le N`, `PREFIX ge N`, `PREFIX ge N le M`.
///
/// Without `ge`/`le` only the prefix itself matches. With them, any prefix
/// inside `prefix` whose length is in `ge..=le` (`ge` defaults to the
/// prefix's own length, `le` to the family's maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixMatch {
    pub prefix: Prefix,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixMatch {
    /// The range of prefix lengths this entry accepts.
    pub fn lengths(&self) -> std::ops::RangeInclusive<u8> {
        let own = self.prefix.prefix_len();
        match (self.ge, self.le) {
            (None, None) => own..=own,
            (ge, le) => ge.unwrap_or(own)..=le.unwrap_or(self.prefix.max_prefix_len()),
        }
    }

    pub fn matches(&self, candidate: &Prefix) -> bool {
        self.prefix.contains(candidate) && self.lengths().contains(&candidate.prefix_len())
    }
}

impl fmt::Display for PrefixMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.prefix)?;
        if let Some(ge) = self.ge {
            write!(f, " ge {ge}")?;
        }
        if let Some(le) = self.le {
            write!(f, " le {le}")?;
        }
        Ok(())
    }
}

impl FromStr for PrefixMatch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.split_whitespace();
        let prefix = parse_prefix(words.next().unwrap_or(""))?;
        let max = prefix.max_prefix_len();
        let mut ge = None;
        let mut le = None;
        while let Some(word) = words.next() {
            let slot = match word {
                "ge" if ge.is_none() && le.is_none() => &mut ge,
                "le" if le.is_none() => &mut le,
                "ge" | "le" => {
                    return Err(format!(
                        "`{s}`: `{word}` out of place (write `PREFIX ge N le M`)"
                    ))
                }
                _ => return Err(format!("`{s}`: expected `ge N` or `le N`, found `{word}`")),
            };
            let n = words
                .next()
                .ok_or_else(|| format!("`{s}`: `{word}` needs a prefix length"))?;
            let n: u8 = n
                .parse()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("`{s}`: `{n}` is not a prefix length 0..={max}"))?;
            *slot = Some(n);
        }
        let entry = PrefixMatch { prefix, ge, le };
        let lengths = entry.lengths();
        if *lengths.start() < prefix.prefix_len() {
            return Err(format!(
                "`{s}`: ge {} is shorter than the prefix length {}",
                lengths.start(),
                prefix.prefix_len()
            ));
        }
        if lengths.start() > lengths.end() {
            return Err(format!(
                "`{s}`: ge {} is greater than le {}",
                lengths.start(),
                lengths.end()
            ));
        }
        Ok(entry)
    }
}

/// A prefix with its host bits zero: `10.0.0.1/8` is refused rather than
/// silently read as `10.0.0.0/8`.
pub fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let prefix: Prefix = s
        .parse()
        .map_err(|_| format!("`{s}` is not a prefix (expected ADDRESS/LENGTH)"))?;
    if prefix.trunc() != prefix {
        return Err(format!(
            "`{s}` has host bits set; did you mean `{}`?",
            prefix.trunc()
        ));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(s: &str) -> PrefixMatch {
        match s.parse() {
            Ok(e) => e,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn p(s: &str) -> Prefix {
        match s.parse() {
            Ok(p) => p,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn exact_entry_matches_only_itself() {
        let e = entry("10.0.0.0/8");
        assert!(e.matches(&p("10.0.0.0/8")));
        assert!(!e.matches(&p("10.1.0.0/16")));
    }

    #[test]
    fn le_widens_to_longer_prefixes() {
        let e = entry("10.0.0.0/8 le 16");
        assert!(e.matches(&p("10.0.0.0/8")));
        assert!(e.matches(&p("10.1.0.0/16")));
        assert!(!e.matches(&p("10.1.1.0/24")));
        assert!(!e.matches(&p("11.0.0.0/8")));
    }

    #[test]
    fn ge_le_bounds_both_ends() {
        let e = entry("2001:db8::/32 ge 48 le 64");
        assert!(!e.matches(&p("2001:db8::/32")));
        assert!(e.matches(&p("2001:db8:1::/48")));
        assert!(e.matches(&p("2001:db8:1:2::/64")));
        assert!(!e.matches(&p("2001:db8:1:2::/96")));
        assert_eq!(e.to_string(), "2001:db8::/32 ge 48 le 64");
    }

    #[test]
    fn ge_alone_runs_to_the_family_maximum() {
        assert_eq!(entry("10.0.0.0/8 ge 24").lengths(), 24..=32);
    }

    #[test]
    fn bad_entries_say_why() {
        let cases = [
            ("10.0.0.0/33", "is not a prefix"),
            ("10.0.0.1/8", "host bits"),
            ("10.0.0.0/8 le 33", "not a prefix length"),
            ("10.0.0.0/16 ge 8", "shorter than the prefix length"),
            ("10.0.0.0/16 le 8", "greater than le 8"),
            ("10.0.0.0/8 ge 24 le 16", "greater than le"),
            ("10.0.0.0/8 le 16 ge 12", "out of place"),
            ("10.0.0.0/8 lt 16", "expected `ge N` or `le N`"),
            ("10.0.0.0/8 le", "needs a prefix length"),
            ("", "is not a prefix"),
        ];
        for (text, want) in cases {
            let err = text.parse::<PrefixMatch>().err().unwrap_or_default();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
