//! Prefix-list entries: a prefix and the lengths it admits.
//!
//! The text forms follow the usual router syntax: `10.0.0.0/8` (exactly that
//! prefix), `10.0.0.0/8 le 24` (it and every more specific one down to /24),
//! `10.0.0.0/8 ge 16` (/16 to /32 inside it), `10.0.0.0/8 ge 16 le 24`.

use super::PolicyError;
use crate::packet::Prefix;
use std::fmt;
use std::str::FromStr;

/// Routes whose prefix lies inside `prefix` with a length in
/// `min_len..=max_len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrefixRange {
    pub prefix: Prefix,
    pub min_len: u8,
    pub max_len: u8,
}

impl PrefixRange {
    /// Matches `prefix` and nothing else.
    pub fn exact(prefix: Prefix) -> Self {
        let len = prefix.prefix_len();
        PrefixRange {
            prefix,
            min_len: len,
            max_len: len,
        }
    }

    pub fn matches(&self, route: &Prefix) -> bool {
        let len = route.prefix_len();
        len >= self.min_len && len <= self.max_len && self.prefix.contains(route)
    }
}

impl FromStr for PrefixRange {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        let bad_syntax = || PolicyError::RangeSyntax {
            text: text.to_string(),
        };
        let prefix_text = words.next().ok_or_else(bad_syntax)?;
        let prefix: Prefix = prefix_text.parse().map_err(|_| PolicyError::Prefix {
            text: prefix_text.to_string(),
        })?;
        if prefix.trunc() != prefix {
            return Err(PolicyError::HostBits {
                text: prefix_text.to_string(),
                network: prefix.trunc(),
            });
        }

        let mut ge = None;
        let mut le = None;
        while let Some(keyword) = words.next() {
            let slot = match keyword {
                "ge" if ge.is_none() && le.is_none() => &mut ge,
                "le" if le.is_none() => &mut le,
                _ => return Err(bad_syntax()),
            };
            let value = words.next().ok_or_else(bad_syntax)?;
            let len: u8 = value.parse().map_err(|_| bad_syntax())?;
            *slot = Some(len);
        }

        let base = prefix.prefix_len();
        let max = prefix.max_prefix_len();
        // A bare `ge N` runs to the longest prefix of the family; a bare
        // `le N` starts at the prefix itself.
        let min_len = ge.unwrap_or(base);
        let max_len = le.unwrap_or(if ge.is_some() { max } else { base });
        if min_len < base || max_len > max || min_len > max_len {
            return Err(PolicyError::RangeLengths {
                text: text.to_string(),
                base,
                max,
            });
        }
        Ok(PrefixRange {
            prefix,
            min_len,
            max_len,
        })
    }
}

impl fmt::Display for PrefixRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.prefix.prefix_len();
        let max = self.prefix.max_prefix_len();
        write!(f, "{}", self.prefix)?;
        match (self.min_len == base, self.max_len) {
            (true, m) if m == base => Ok(()),
            (true, m) => write!(f, " le {m}"),
            (false, m) if m == max => write!(f, " ge {}", self.min_len),
            (false, m) => write!(f, " ge {} le {m}", self.min_len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> PrefixRange {
        text.parse().unwrap()
    }

    fn p(text: &str) -> Prefix {
        text.parse().unwrap()
    }

    #[test]
    fn exact_prefix_matches_only_itself() {
        let r = range("10.0.0.0/8");
        assert!(r.matches(&p("10.0.0.0/8")));
        assert!(!r.matches(&p("10.1.0.0/16")));
        assert!(!r.matches(&p("0.0.0.0/0")));
        assert!(!r.matches(&p("11.0.0.0/8")));
    }

    #[test]
    fn le_admits_the_prefix_and_more_specifics_up_to_the_bound() {
        let r = range("10.0.0.0/8 le 24");
        assert!(r.matches(&p("10.0.0.0/8")));
        assert!(r.matches(&p("10.1.2.0/24")));
        assert!(!r.matches(&p("10.1.2.0/25")));
        assert!(!r.matches(&p("192.0.2.0/24")));
    }

    #[test]
    fn ge_runs_to_the_family_maximum() {
        let r = range("10.0.0.0/8 ge 16");
        assert!(!r.matches(&p("10.0.0.0/8")));
        assert!(!r.matches(&p("10.0.0.0/15")));
        assert!(r.matches(&p("10.1.0.0/16")));
        assert!(r.matches(&p("10.1.2.3/32")));
    }

    #[test]
    fn ge_le_is_a_closed_interval() {
        let r = range("10.0.0.0/8 ge 16 le 24");
        assert!(!r.matches(&p("10.0.0.0/15")));
        assert!(r.matches(&p("10.1.0.0/16")));
        assert!(r.matches(&p("10.1.1.0/24")));
        assert!(!r.matches(&p("10.1.1.0/25")));
    }

    #[test]
    fn ipv6_ranges_and_cross_family() {
        let r = range("2001:db8::/32 le 48");
        assert!(r.matches(&p("2001:db8:10::/48")));
        assert!(!r.matches(&p("2001:db8:10::/64")));
        assert!(!r.matches(&p("10.0.0.0/8")));
        assert!(!range("0.0.0.0/0 le 32").matches(&p("::/0")));
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "10.0.0.0/8",
            "10.0.0.0/8 le 24",
            "10.0.0.0/8 ge 16",
            "10.0.0.0/8 ge 16 le 24",
        ] {
            assert_eq!(range(text).to_string(), text);
        }
    }

    #[test]
    fn bad_text_gives_typed_errors() {
        assert!(matches!(
            "10.0.0/8".parse::<PrefixRange>(),
            Err(PolicyError::Prefix { .. })
        ));
        assert!(matches!(
            "10.0.0.1/8".parse::<PrefixRange>(),
            Err(PolicyError::HostBits { .. })
        ));
        for text in [
            "",
            "10.0.0.0/8 le",
            "10.0.0.0/8 lt 9",
            "10.0.0.0/8 le 24 ge 16",
            "10.0.0.0/8 le x",
        ] {
            assert!(
                matches!(
                    text.parse::<PrefixRange>(),
                    Err(PolicyError::RangeSyntax { .. })
                ),
                "{text}"
            );
        }
        for text in [
            "10.0.0.0/8 le 33",
            "10.0.0.0/16 ge 8",
            "10.0.0.0/8 ge 24 le 16",
        ] {
            assert!(
                matches!(
                    text.parse::<PrefixRange>(),
                    Err(PolicyError::RangeLengths { .. })
                ),
                "{text}"
            );
        }
    }
}
