//! Path attributes (RFC 4271 §4.3, §5; RFC 1997; RFC 6793).

use bytes::Bytes;
use serde::Serialize;
use std::net::Ipv4Addr;

/// Attribute flags (RFC 4271 §4.3).
pub mod flags {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes.
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
}

/// The path attributes of an UPDATE, decoded. MP_REACH/MP_UNREACH live in
/// [`super::Update`]; AS4_PATH/AS4_AGGREGATOR are merged into `as_path` and
/// `aggregator` (RFC 6793 §4.2.3) and never appear here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    pub as_path: Option<AsPath>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    /// RFC 1997. Empty when the attribute is absent.
    pub communities: Vec<Community>,
    /// Optional attributes we do not understand, in type code order.
    /// Transitive ones are passed
    /// on with the Partial bit set (RFC 4271 §5); non-transitive ones are
    /// dropped by the speaker before re-advertising.
    pub unknown: Vec<RawAttribute>,
}

/// ORIGIN (RFC 4271 §5.1.1). Lower is preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// AS_PATH (RFC 4271 §4.3, §5.1.2), always with 4-octet AS numbers in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AsSegment {
    pub kind: SegmentKind,
    pub asns: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    /// RFC 5065.
    ConfedSequence = 3,
    ConfedSet = 4,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn from_sequence(asns: impl IntoIterator<Item = u32>) -> Self {
        let asns: Vec<u32> = asns.into_iter().collect();
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns,
            }],
        }
    }

    /// Length for the decision process (RFC 4271 §9.1.2.2 a): each AS in a
    /// sequence counts one, a whole AS_SET counts one, confederation
    /// segments count nothing (RFC 5065 §5.3).
    pub fn path_len(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Sequence => s.asns.len(),
                SegmentKind::Set => 1,
                SegmentKind::ConfedSequence | SegmentKind::ConfedSet => 0,
            })
            .sum()
    }

    /// The neighbouring AS: the first AS of a leading AS_SEQUENCE
    /// (RFC 4271 §9.1.2.2 c, for comparing MED).
    pub fn first_as(&self) -> Option<u32> {
        self.segments
            .iter()
            .find(|s| !matches!(s.kind, SegmentKind::ConfedSequence | SegmentKind::ConfedSet))
            .and_then(|s| match s.kind {
                SegmentKind::Sequence => s.asns.first().copied(),
                _ => None,
            })
    }

    /// The originating AS: the last AS of a trailing AS_SEQUENCE.
    pub fn origin_as(&self) -> Option<u32> {
        self.segments.last().and_then(|s| match s.kind {
            SegmentKind::Sequence => s.asns.last().copied(),
            _ => None,
        })
    }

    pub fn contains(&self, asn: u32) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// Put `asn` in front `count` times (RFC 4271 §5.1.2 when sending to an
    /// external peer; more than once for AS_PATH prepending). A leading
    /// AS_SEQUENCE grows; at 255 ASes a new segment starts.
    pub fn prepend(&mut self, asn: u32, count: usize) {
        for _ in 0..count {
            match self.segments.first_mut() {
                Some(seg) if seg.kind == SegmentKind::Sequence && seg.asns.len() < 255 => {
                    seg.asns.insert(0, asn)
                }
                _ => self.segments.insert(
                    0,
                    AsSegment {
                        kind: SegmentKind::Sequence,
                        asns: vec![asn],
                    },
                ),
            }
        }
    }

    /// Plain list of every AS in order, sets flattened; for display and JSON.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().flat_map(|s| s.asns.iter().copied())
    }
}

impl std::fmt::Display for AsPath {
    /// The usual text form: `65001 65002 {65003 65004}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let list: Vec<String> = seg.asns.iter().map(u32::to_string).collect();
            match seg.kind {
                SegmentKind::Sequence => write!(f, "{}", list.join(" "))?,
                SegmentKind::Set => write!(f, "{{{}}}", list.join(" "))?,
                SegmentKind::ConfedSequence => write!(f, "({})", list.join(" "))?,
                SegmentKind::ConfedSet => write!(f, "[{}]", list.join(" "))?,
            }
        }
        Ok(())
    }
}

/// AGGREGATOR (RFC 4271 §5.1.7), with the 4-octet AS after RFC 6793 merging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// A COMMUNITIES value (RFC 1997): high 16 bits AS, low 16 bits value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// RFC 1997 well-known communities.
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);

    pub fn new(asn: u16, value: u16) -> Self {
        Community((u32::from(asn) << 16) | u32::from(value))
    }
}

impl std::fmt::Display for Community {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Community::NO_EXPORT => f.write_str("no-export"),
            Community::NO_ADVERTISE => f.write_str("no-advertise"),
            Community::NO_EXPORT_SUBCONFED => f.write_str("no-export-subconfed"),
            Community(v) => write!(f, "{}:{}", v >> 16, v & 0xFFFF),
        }
    }
}

impl std::str::FromStr for Community {
    type Err = String;
    /// `65000:100`, or a well-known name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "no-export" | "NO_EXPORT" => return Ok(Community::NO_EXPORT),
            "no-advertise" | "NO_ADVERTISE" => return Ok(Community::NO_ADVERTISE),
            "no-export-subconfed" | "NO_EXPORT_SUBCONFED" => {
                return Ok(Community::NO_EXPORT_SUBCONFED)
            }
            _ => {}
        }
        let (a, v) = s
            .split_once(':')
            .ok_or_else(|| format!("community `{s}` is not ASN:VALUE"))?;
        let a: u16 = a
            .parse()
            .map_err(|_| format!("community `{s}`: `{a}` is not a 16-bit number"))?;
        let v: u16 = v
            .parse()
            .map_err(|_| format!("community `{s}`: `{v}` is not a 16-bit number"))?;
        Ok(Community::new(a, v))
    }
}

/// An attribute kept as bytes: flags as received (the speaker sets Partial
/// when passing a transitive one on), type code, value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Bytes,
}
