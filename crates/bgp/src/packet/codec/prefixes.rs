//! Prefixes on the wire (RFC 4271 §4.3, RFC 4760 §5): a length in bits,
//! then the fewest octets that hold that many bits.
//!
//! ```text
//! +---------------------------+
//! |   Length (1 octet)        |
//! +---------------------------+
//! |   Prefix (variable)       |
//! +---------------------------+
//! ```
//!
//! This is the hot path of a full-table load, so it is a plain loop over
//! the slice: no allocation per prefix, no combinator overhead.

use crate::packet::{Prefix, Prefix4, Prefix6};
use bytes::BufMut;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What is wrong with a run of prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrefixError {
    /// A length beyond the family's address size.
    TooLong,
    /// The octets of the last prefix run past the field.
    Overrun,
}

impl PrefixError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            PrefixError::TooLong => "prefix length beyond the address size",
            PrefixError::Overrun => "prefix runs past the end of its field",
        }
    }
}

/// Octets a prefix of `bits` takes after its length octet.
fn octets_for(bits: u8) -> usize {
    usize::from(bits).div_ceil(8)
}

/// Reads one prefix of at most `MAX` bits: (length, address bits left-aligned
/// in the first octets of a 16-octet array, rest of the input).
fn read_prefix<const MAX: u8>(field: &[u8]) -> Result<(u8, [u8; 16], &[u8]), PrefixError> {
    let (&bits, rest) = field.split_first().ok_or(PrefixError::Overrun)?;
    if bits > MAX {
        return Err(PrefixError::TooLong);
    }
    let n = octets_for(bits);
    let (octets, rest) = rest.split_at_checked(n).ok_or(PrefixError::Overrun)?;
    let mut addr = [0u8; 16];
    addr[..n].copy_from_slice(octets);
    Ok((bits, addr, rest))
}

/// Host bits are masked: a peer may send `10.0.0.1/8`; it means `10.0.0.0/8`.
fn v4(bits: u8, addr: [u8; 16]) -> Result<Prefix4, PrefixError> {
    let raw = u32::from_be_bytes([addr[0], addr[1], addr[2], addr[3]]);
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    Prefix4::new(Ipv4Addr::from(raw & mask), bits).map_err(|_| PrefixError::TooLong)
}

fn v6(bits: u8, addr: [u8; 16]) -> Result<Prefix6, PrefixError> {
    let raw = u128::from_be_bytes(addr);
    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
    Prefix6::new(Ipv6Addr::from(raw & mask), bits).map_err(|_| PrefixError::TooLong)
}

/// Decodes a whole field of IPv4 prefixes (withdrawn routes, NLRI).
pub(crate) fn decode_v4(mut field: &[u8], out: &mut Vec<Prefix4>) -> Result<(), PrefixError> {
    // A /24 takes 4 octets: reserve for a dense table load, the common case.
    out.reserve(field.len() / 4);
    while !field.is_empty() {
        let (bits, addr, rest) = read_prefix::<32>(field)?;
        out.push(v4(bits, addr)?);
        field = rest;
    }
    Ok(())
}

/// Decodes a whole field of prefixes of `afi` (1 or 2) into `out`.
pub(crate) fn decode_mp(
    afi: u16,
    mut field: &[u8],
    out: &mut Vec<Prefix>,
) -> Result<(), PrefixError> {
    out.reserve(field.len() / 4);
    while !field.is_empty() {
        let prefix = if afi == crate::packet::Family::AFI_IPV6 {
            let (bits, addr, rest) = read_prefix::<128>(field)?;
            field = rest;
            Prefix::V6(v6(bits, addr)?)
        } else {
            let (bits, addr, rest) = read_prefix::<32>(field)?;
            field = rest;
            Prefix::V4(v4(bits, addr)?)
        };
        out.push(prefix);
    }
    Ok(())
}

/// Octets `prefix` takes on the wire, length octet included.
pub(crate) fn wire_len(prefix: &Prefix) -> usize {
    1 + octets_for(prefix.prefix_len())
}

pub(crate) fn wire_len_v4(prefix: &Prefix4) -> usize {
    1 + octets_for(prefix.prefix_len())
}

pub(crate) fn encode_v4(prefix: &Prefix4, out: &mut impl BufMut) {
    let bits = prefix.prefix_len();
    out.put_u8(bits);
    out.put_slice(&prefix.network().octets()[..octets_for(bits)]);
}

pub(crate) fn encode(prefix: &Prefix, out: &mut impl BufMut) {
    match prefix {
        Prefix::V4(p) => encode_v4(p, out),
        Prefix::V6(p) => {
            let bits = p.prefix_len();
            out.put_u8(bits);
            out.put_slice(&p.network().octets()[..octets_for(bits)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_masks_host_bits() {
        let mut out = Vec::new();
        decode_v4(&[8, 10, 24, 192, 168, 1, 0, 32, 1, 2, 3, 4], &mut out).unwrap();
        let want: Vec<Prefix4> = ["10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "1.2.3.4/32"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(out, want);

        out.clear();
        decode_v4(&[9, 10, 0xff], &mut out).unwrap();
        assert_eq!(out, vec!["10.128.0.0/9".parse::<Prefix4>().unwrap()]);
    }

    #[test]
    fn rejects_long_and_truncated_prefixes() {
        let mut out = Vec::new();
        assert_eq!(
            decode_v4(&[33, 1, 2, 3, 4, 5], &mut out),
            Err(PrefixError::TooLong)
        );
        assert_eq!(decode_v4(&[24, 10, 0], &mut out), Err(PrefixError::Overrun));
        let mut mp = Vec::new();
        assert_eq!(decode_mp(2, &[129], &mut mp), Err(PrefixError::TooLong));
        assert_eq!(
            decode_mp(2, &[64, 0x20, 1], &mut mp),
            Err(PrefixError::Overrun)
        );
    }

    #[test]
    fn v6_round_trip() {
        let p: Prefix = "2001:db8:1::/48".parse().unwrap();
        let mut buf = Vec::new();
        encode(&p, &mut buf);
        assert_eq!(buf, [48, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01]);
        assert_eq!(wire_len(&p), buf.len());
        let mut out = Vec::new();
        decode_mp(2, &buf, &mut out).unwrap();
        assert_eq!(out, vec![p]);
    }
}
