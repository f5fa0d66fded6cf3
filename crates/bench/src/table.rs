//! The synthetic table: `count` consecutive IPv4 /24s from `first`, packed
//! into as few UPDATEs as 4096 bytes allow (1 013 prefixes each with the
//! single attribute set, 1 011 with one set per UPDATE).
//!
//! UPDATE (RFC 4271 §4.3) as encoded here:
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets) = 0            |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   ORIGIN IGP | AS_PATH (local AS) | NEXT_HOP [| MED] |
//! +-----------------------------------------------------+
//! |   NLRI: (24, a, b, c) repeated                      |
//! +-----------------------------------------------------+
//! ```

use crate::wire::{put_header, HEADER_LEN, MAX_MESSAGE_LEN, UPDATE};
use std::net::Ipv4Addr;

/// How attribute sets are spread over the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AttrMode {
    /// Every UPDATE carries the same attributes: one path for the whole
    /// table, the cheapest case for a RIB that shares attribute sets.
    Single,
    /// Each UPDATE has its own MED, so each ~1 000 prefixes share one set:
    /// closer to a real table, where many paths exist.
    PerUpdate,
}

#[derive(Clone, Debug)]
pub struct TableSpec {
    pub count: u32,
    /// First prefix; must be /24-aligned.
    pub first: Ipv4Addr,
    pub local_as: u32,
    pub next_hop: Ipv4Addr,
    /// Both sides offered 4-octet AS numbers (RFC 6793): AS_PATH entries
    /// are 4 octets, else 2.
    pub four_octet_as: bool,
    pub attrs: AttrMode,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TableError {
    #[error("first prefix {0} is not /24-aligned")]
    Unaligned(Ipv4Addr),
    #[error("{count} /24s from {first} run past 255.255.255.0")]
    Overflow { first: Ipv4Addr, count: u32 },
    #[error("AS {0} does not fit a 2-octet AS_PATH; the peer must support 4-octet AS numbers")]
    WideAs(u32),
}

/// The whole table, encoded: UPDATEs grouped into write batches of whole
/// messages, so a KEEPALIVE can be slipped in between two batches.
#[derive(Debug)]
pub struct EncodedTable {
    pub batches: Vec<Vec<u8>>,
    pub updates: usize,
    pub prefixes: u32,
    pub bytes: usize,
}

/// Roughly what one `write` call hands the kernel.
const BATCH_BYTES: usize = 64 * 1024;
const NLRI_LEN: usize = 4;

pub fn encode(spec: &TableSpec) -> Result<EncodedTable, TableError> {
    let first = u32::from(spec.first);
    if first & 0xff != 0 {
        return Err(TableError::Unaligned(spec.first));
    }
    let span = u64::from(spec.count) * 256;
    if u64::from(first) + span > u64::from(u32::MAX) + 1 {
        return Err(TableError::Overflow {
            first: spec.first,
            count: spec.count,
        });
    }
    let as_len = if spec.four_octet_as { 4 } else { 2 };
    if !spec.four_octet_as && spec.local_as > u32::from(u16::MAX) {
        return Err(TableError::WideAs(spec.local_as));
    }
    let med_len = match spec.attrs {
        AttrMode::Single => 0,
        AttrMode::PerUpdate => 7,
    };
    // ORIGIN 4 + AS_PATH (3 + 2 + as_len) + NEXT_HOP 7 + MED.
    let attrs_len = 4 + 5 + as_len + 7 + med_len;
    let per_update = (MAX_MESSAGE_LEN - HEADER_LEN - 4 - attrs_len) / NLRI_LEN;

    let mut table = EncodedTable {
        batches: Vec::new(),
        updates: 0,
        prefixes: 0,
        bytes: 0,
    };
    let mut batch = Vec::with_capacity(BATCH_BYTES + MAX_MESSAGE_LEN);
    let mut next = 0u32;
    while next < spec.count {
        let n = (spec.count - next).min(per_update as u32);
        let len = HEADER_LEN + 4 + attrs_len + n as usize * NLRI_LEN;
        put_header(&mut batch, len as u16, UPDATE);
        batch.extend_from_slice(&0u16.to_be_bytes());
        batch.extend_from_slice(&(attrs_len as u16).to_be_bytes());
        // Well-known mandatory attributes (RFC 4271 §5.1.1-3), transitive.
        batch.extend_from_slice(&[0x40, 1, 1, 0]);
        batch.extend_from_slice(&[0x40, 2, (2 + as_len) as u8, 2, 1]);
        if spec.four_octet_as {
            batch.extend_from_slice(&spec.local_as.to_be_bytes());
        } else {
            batch.extend_from_slice(&(spec.local_as as u16).to_be_bytes());
        }
        batch.extend_from_slice(&[0x40, 3, 4]);
        batch.extend_from_slice(&spec.next_hop.octets());
        if spec.attrs == AttrMode::PerUpdate {
            // MULTI_EXIT_DISC (RFC 4271 §5.1.4): optional, non-transitive.
            batch.extend_from_slice(&[0x80, 4, 4]);
            batch.extend_from_slice(&(table.updates as u32).to_be_bytes());
        }
        for i in next..next + n {
            // Checked above: first + count * 256 fits in 32 bits.
            let p = (first + i * 256).to_be_bytes();
            batch.extend_from_slice(&[24, p[0], p[1], p[2]]);
        }
        next += n;
        table.updates += 1;
        table.prefixes += n;
        table.bytes += len;
        if batch.len() >= BATCH_BYTES {
            table.batches.push(std::mem::take(&mut batch));
        }
    }
    if !batch.is_empty() {
        table.batches.push(batch);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_header;

    fn spec(count: u32, attrs: AttrMode) -> TableSpec {
        TableSpec {
            count,
            first: Ipv4Addr::new(16, 0, 0, 0),
            local_as: 65100,
            next_hop: Ipv4Addr::new(192, 0, 2, 2),
            four_octet_as: true,
            attrs,
        }
    }

    /// Splits the batches back into messages and returns every NLRI.
    fn nlri_of(table: &EncodedTable) -> Vec<[u8; 4]> {
        let mut all = Vec::new();
        for batch in &table.batches {
            let mut rest = batch.as_slice();
            while !rest.is_empty() {
                let (kind, len) = parse_header(rest).unwrap().unwrap();
                assert_eq!(kind, UPDATE);
                let msg = &rest[..len];
                let attrs_len = u16::from_be_bytes([msg[21], msg[22]]) as usize;
                for n in msg[23 + attrs_len..].chunks(4) {
                    all.push([n[0], n[1], n[2], n[3]]);
                }
                rest = &rest[len..];
            }
        }
        all
    }

    #[test]
    fn single_set_packs_1013_prefixes_per_full_update() {
        let t = encode(&spec(2026, AttrMode::Single)).unwrap();
        assert_eq!(t.updates, 2);
        // 19 + 4 + 20 + 1013 * 4: one byte short of the limit.
        assert_eq!(t.bytes, 2 * (MAX_MESSAGE_LEN - 1));
        let nlri = nlri_of(&t);
        assert_eq!(nlri.len(), 2026);
        assert_eq!(nlri[0], [24, 16, 0, 0]);
        assert_eq!(nlri[1], [24, 16, 0, 1]);
        assert_eq!(nlri[2025], [24, 16, 7, 233]);
    }

    #[test]
    fn per_update_sets_carry_a_distinct_med_each() {
        let t = encode(&spec(3000, AttrMode::PerUpdate)).unwrap();
        assert_eq!(t.updates, 3);
        assert_eq!(nlri_of(&t).len(), 3000);
        let (_, first_len) = parse_header(&t.batches[0]).unwrap().unwrap();
        assert_eq!(first_len, HEADER_LEN + 4 + 27 + 1011 * 4);
        let second = &t.batches[0][first_len..];
        // Header 19 + lengths 4 + ORIGIN 4 + AS_PATH 9 + NEXT_HOP 7 = 43.
        assert_eq!(&second[43..50], &[0x80, 4, 4, 0, 0, 0, 1]);
    }

    #[test]
    fn a_million_prefixes_fit_and_stay_in_4096_byte_messages() {
        let t = encode(&spec(1_000_000, AttrMode::Single)).unwrap();
        assert_eq!(t.prefixes, 1_000_000);
        assert_eq!(t.updates, 988);
        assert!(t
            .batches
            .iter()
            .all(|b| b.len() < BATCH_BYTES + MAX_MESSAGE_LEN));
    }

    #[test]
    fn two_octet_as_path_when_the_peer_lacks_the_capability() {
        let mut s = spec(1, AttrMode::Single);
        s.four_octet_as = false;
        let t = encode(&s).unwrap();
        assert_eq!(&t.batches[0][27..34], &[0x40, 2, 4, 2, 1, 0xfe, 0x4c]);
        s.local_as = 70000;
        assert_eq!(encode(&s).unwrap_err(), TableError::WideAs(70000));
    }

    #[test]
    fn bad_ranges_are_errors() {
        let mut s = spec(1, AttrMode::Single);
        s.first = Ipv4Addr::new(16, 0, 0, 1);
        assert!(matches!(encode(&s), Err(TableError::Unaligned(_))));
        s.first = Ipv4Addr::new(255, 255, 255, 0);
        s.count = 2;
        assert!(matches!(encode(&s), Err(TableError::Overflow { .. })));
        s.count = 1;
        assert!(encode(&s).is_ok());
    }
}
