//! OPEN (RFC 4271 §4.2) with optional parameters (RFC 5492, RFC 9072).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |  Optional Parameters (variable)
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 9072 extended form: Opt Parm Len non-zero, then a first parameter
//! type of 255, then a 2-octet length; every parameter then has a 2-octet
//! length too.

use super::Decoded;
use crate::packet::error::{EncodeError, OpenError};
use crate::packet::{Capability, DecodeError, Family, GracefulRestart, Message, Open};
use bytes::{BufMut, Bytes, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32, be_u8};
use std::net::Ipv4Addr;

type Res<'a, T> = nom::IResult<&'a [u8], T, ()>;

/// Optional parameter type of the Capabilities parameter (RFC 5492 §4).
const CAPABILITIES: u8 = 2;
/// Non-Ext OP Type announcing the extended form (RFC 9072 §2).
const EXTENDED: u8 = 255;

/// Capability codes (IANA "Capability Codes").
mod cap {
    pub const MULTIPROTOCOL: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const GRACEFUL_RESTART: u8 = 64;
    pub const FOUR_OCTET_AS: u8 = 65;
}

fn malformed(reason: &'static str) -> DecodeError {
    DecodeError::Open(OpenError::Malformed { reason })
}

/// Decodes an OPEN body (after the header; at least 10 octets, which the
/// header check guarantees).
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, DecodeError> {
    let fixed = |i| -> Res<'_, (u8, u16, u16, u32, u8)> {
        let (i, version) = be_u8(i)?;
        let (i, my_as) = be_u16(i)?;
        let (i, hold_time) = be_u16(i)?;
        let (i, bgp_id) = be_u32(i)?;
        let (i, opt_len) = be_u8(i)?;
        Ok((i, (version, my_as, hold_time, bgp_id, opt_len)))
    };
    // The version comes first: another version may lay out the rest
    // differently (RFC 4271 §6.2).
    if let Some(&version) = body.first().filter(|&&v| v != 4) {
        return Err(DecodeError::Open(OpenError::UnsupportedVersion { version }));
    }
    let (rest, (version, my_as, hold_time, bgp_id, opt_len)) =
        fixed(body).map_err(|_| malformed("shorter than its fixed fields"))?;
    // RFC 4271 §6.2: hold time 1 and 2 are never acceptable.
    if hold_time == 1 || hold_time == 2 {
        return Err(DecodeError::Open(OpenError::UnacceptableHoldTime {
            hold_time,
        }));
    }
    // RFC 6286 §2.2: any non-zero value.
    if bgp_id == 0 {
        return Err(DecodeError::Open(OpenError::BadBgpIdentifier {
            id: Ipv4Addr::UNSPECIFIED,
        }));
    }

    let mut open = Open {
        version,
        my_as,
        hold_time,
        bgp_id: Ipv4Addr::from(bgp_id),
        capabilities: Vec::new(),
        unknown_parameters: Vec::new(),
    };
    let extended = opt_len != 0 && rest.first() == Some(&EXTENDED);
    let params = if extended {
        let ext = |i| -> Res<'_, &[u8]> {
            let (i, _) = be_u8(i)?;
            let (i, len) = be_u16(i)?;
            take(len)(i)
        };
        let (tail, params) =
            ext(rest).map_err(|_| malformed("extended parameters run past the message"))?;
        check_tail(tail)?;
        params
    } else {
        let (tail, params) = take::<_, _, ()>(opt_len)(rest)
            .map_err(|_| malformed("optional parameters run past the message"))?;
        check_tail(tail)?;
        params
    };
    decode_parameters(params, extended, &mut open)?;
    Ok(Decoded {
        message: Message::Open(open),
        attribute_errors: Vec::new(),
    })
}

/// The message length and the parameters length must agree. No subcode
/// names this, so it is OPEN Message Error / Unspecific, as BIRD sends.
fn check_tail(tail: &[u8]) -> Result<(), DecodeError> {
    if tail.is_empty() {
        Ok(())
    } else {
        Err(malformed("octets after the optional parameters"))
    }
}

fn decode_parameters(
    mut params: &[u8],
    extended: bool,
    open: &mut Open,
) -> Result<(), DecodeError> {
    let param = |i| -> Res<'_, (u8, &[u8])> {
        let (i, kind) = be_u8(i)?;
        let (i, len) = if extended {
            be_u16(i)?
        } else {
            let (i, len) = be_u8(i)?;
            (i, u16::from(len))
        };
        let (i, value) = take(len)(i)?;
        Ok((i, (kind, value)))
    };
    while !params.is_empty() {
        let (tail, (kind, value)) =
            param(params).map_err(|_| malformed("optional parameter runs past its section"))?;
        params = tail;
        if kind == CAPABILITIES {
            decode_capabilities(value, &mut open.capabilities)?;
        } else {
            open.unknown_parameters
                .push((kind, Bytes::copy_from_slice(value)));
        }
    }
    Ok(())
}

/// Capabilities (RFC 5492 §4): code, length, value. A known capability of
/// the wrong length is a malformed OPEN (BIRD and FRR send subcode 0 too).
fn decode_capabilities(mut value: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    let one = |i| -> Res<'_, (u8, &[u8])> {
        let (i, code) = be_u8(i)?;
        let (i, len) = be_u8(i)?;
        let (i, v) = take(len)(i)?;
        Ok((i, (code, v)))
    };
    while !value.is_empty() {
        let (tail, (code, v)) =
            one(value).map_err(|_| malformed("capability runs past its parameter"))?;
        value = tail;
        out.push(decode_capability(code, v)?);
    }
    Ok(())
}

fn decode_capability(code: u8, v: &[u8]) -> Result<Capability, DecodeError> {
    Ok(match (code, v) {
        // RFC 4760 §8: AFI, reserved, SAFI.
        (cap::MULTIPROTOCOL, &[a, b, _, safi]) => {
            Capability::Multiprotocol(Family::new(u16::from_be_bytes([a, b]), safi))
        }
        (cap::MULTIPROTOCOL, _) => {
            return Err(malformed("multiprotocol capability length is not 4"))
        }
        (cap::ROUTE_REFRESH, []) => Capability::RouteRefresh,
        (cap::ROUTE_REFRESH, _) => {
            return Err(malformed("route refresh capability length is not 0"))
        }
        (cap::FOUR_OCTET_AS, &[a, b, c, d]) => {
            Capability::FourOctetAs(u32::from_be_bytes([a, b, c, d]))
        }
        (cap::FOUR_OCTET_AS, _) => return Err(malformed("4-octet AS capability length is not 4")),
        (cap::GRACEFUL_RESTART, v) => Capability::GracefulRestart(decode_graceful_restart(v)?),
        // Kept as sent, including the pre-standard route refresh code 128,
        // so an OPEN can be shown and re-sent byte for byte.
        (code, v) => Capability::Unknown {
            code,
            value: Bytes::copy_from_slice(v),
        },
    })
}

/// RFC 4724 §3:
///
/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits)                           |
/// +--------------------------------------------------+
/// | Restart Time in seconds (12 bits)                |
/// +--------------------------------------------------+
/// | AFI (16 bits) | SAFI (8 bits) | Flags for AF (8) |  repeated
/// +--------------------------------------------------+
/// ```
fn decode_graceful_restart(v: &[u8]) -> Result<GracefulRestart, DecodeError> {
    let [hi, lo, families @ ..] = v else {
        return Err(malformed("graceful restart capability shorter than 2"));
    };
    if !families.len().is_multiple_of(4) {
        return Err(malformed(
            "graceful restart capability length is not 2 + 4n",
        ));
    }
    Ok(GracefulRestart {
        restart_state: hi & 0x80 != 0,
        notification: hi & 0x40 != 0,
        restart_time: u16::from_be_bytes([hi & 0x0f, *lo]),
        families: families
            .chunks_exact(4)
            .map(|f| {
                let family = Family::new(u16::from_be_bytes([f[0], f[1]]), f[2]);
                (family, f[3] & 0x80 != 0)
            })
            .collect(),
    })
}

fn encode_capability(c: &Capability, out: &mut BytesMut) -> Result<(), EncodeError> {
    let mut put = |code: u8, value: &[u8]| {
        let len = u8::try_from(value.len()).map_err(|_| EncodeError::TooLarge {
            what: "a capability",
            needed: value.len(),
        })?;
        out.put_u8(code);
        out.put_u8(len);
        out.put_slice(value);
        Ok(())
    };
    match c {
        Capability::Multiprotocol(f) => {
            let [a, b] = f.afi.to_be_bytes();
            put(cap::MULTIPROTOCOL, &[a, b, 0, f.safi])
        }
        Capability::RouteRefresh => put(cap::ROUTE_REFRESH, &[]),
        Capability::FourOctetAs(asn) => put(cap::FOUR_OCTET_AS, &asn.to_be_bytes()),
        Capability::GracefulRestart(gr) => {
            let mut v = Vec::with_capacity(2 + 4 * gr.families.len());
            let r = if gr.restart_state { 0x8000 } else { 0 };
            let n = if gr.notification { 0x4000 } else { 0 };
            v.extend_from_slice(&(r | n | (gr.restart_time & 0x0fff)).to_be_bytes());
            for (family, forwarding) in &gr.families {
                v.extend_from_slice(&family.afi.to_be_bytes());
                v.push(family.safi);
                v.push(if *forwarding { 0x80 } else { 0 });
            }
            put(cap::GRACEFUL_RESTART, &v)
        }
        Capability::Unknown { code, value } => put(*code, value),
    }
}

/// Writes an OPEN body. Capabilities go in Capabilities parameters of at
/// most 255 octets; only when the parameters exceed 255 octets in all is
/// the RFC 9072 form used, as RFC 9072 §2 asks.
pub(crate) fn encode(open: &Open, out: &mut BytesMut) -> Result<(), EncodeError> {
    out.put_u8(open.version);
    out.put_u16(open.my_as);
    out.put_u16(open.hold_time);
    out.put_slice(&open.bgp_id.octets());

    // Each capability encoded alone, to group them into parameters.
    let mut caps: Vec<BytesMut> = Vec::with_capacity(open.capabilities.len());
    for c in &open.capabilities {
        let mut one = BytesMut::new();
        encode_capability(c, &mut one)?;
        caps.push(one);
    }
    let mut groups: Vec<Vec<&[u8]>> = Vec::new();
    let mut group_len = 0;
    for c in &caps {
        match groups.last_mut() {
            Some(g) if group_len + c.len() <= 255 => g.push(c),
            _ => {
                groups.push(vec![c]);
                group_len = 0;
            }
        }
        group_len += c.len();
    }
    let short_len: usize = groups
        .iter()
        .map(|g| 2 + g.iter().map(|c| c.len()).sum::<usize>())
        .chain(open.unknown_parameters.iter().map(|(_, v)| 2 + v.len()))
        .sum();
    let fits_short =
        short_len <= 255 && open.unknown_parameters.iter().all(|(_, v)| v.len() <= 255);

    if fits_short {
        out.put_u8(u8::try_from(short_len).unwrap_or(u8::MAX));
        for g in &groups {
            out.put_u8(CAPABILITIES);
            out.put_u8(u8::try_from(g.iter().map(|c| c.len()).sum::<usize>()).unwrap_or(u8::MAX));
            g.iter().for_each(|c| out.put_slice(c));
        }
        for (kind, v) in &open.unknown_parameters {
            out.put_u8(*kind);
            out.put_u8(u8::try_from(v.len()).unwrap_or(u8::MAX));
            out.put_slice(v);
        }
        return Ok(());
    }

    let too_large = |needed| EncodeError::TooLarge {
        what: "OPEN optional parameters",
        needed,
    };
    let caps_len: usize = caps.iter().map(|c| c.len()).sum();
    let ext_len = (if caps.is_empty() { 0 } else { 3 + caps_len })
        + open
            .unknown_parameters
            .iter()
            .map(|(_, v)| 3 + v.len())
            .sum::<usize>();
    out.put_u8(EXTENDED);
    out.put_u8(EXTENDED);
    out.put_u16(u16::try_from(ext_len).map_err(|_| too_large(ext_len))?);
    if !caps.is_empty() {
        out.put_u8(CAPABILITIES);
        out.put_u16(u16::try_from(caps_len).map_err(|_| too_large(caps_len))?);
        caps.iter().for_each(|c| out.put_slice(c));
    }
    for (kind, v) in &open.unknown_parameters {
        out.put_u8(*kind);
        out.put_u16(u16::try_from(v.len()).map_err(|_| too_large(v.len()))?);
        out.put_slice(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_body(opt: &[u8]) -> Vec<u8> {
        let mut b = vec![4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1];
        b.extend_from_slice(opt);
        b
    }

    fn decode_open(body: &[u8]) -> Result<Open, DecodeError> {
        match decode(body)?.message {
            Message::Open(o) => Ok(o),
            other => panic!("not an OPEN: {other:?}"),
        }
    }

    #[test]
    fn capabilities_in_several_parameters_are_joined() {
        let body = open_body(&[12, 2, 6, 1, 4, 0, 1, 0, 1, 2, 2, 2, 0]);
        let open = decode_open(&body).unwrap();
        assert_eq!(
            open.capabilities,
            vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::RouteRefresh
            ]
        );
    }

    #[test]
    fn extended_optional_parameters_are_read() {
        // RFC 9072: Non-Ext OP Len (any non-zero), 255, length 9, then a
        // Capabilities parameter with a 2-octet length: 4-octet AS 4200000001.
        let body = open_body(&[1, 255, 0, 9, 2, 0, 6, 65, 4, 0xfa, 0x56, 0xea, 0x01]);
        let open = decode_open(&body).unwrap();
        assert_eq!(
            open.capabilities,
            vec![Capability::FourOctetAs(4_200_000_001)]
        );
    }

    #[test]
    fn large_parameters_are_written_in_the_extended_form() {
        let open = Open {
            version: 4,
            my_as: 65000,
            hold_time: 90,
            bgp_id: Ipv4Addr::new(10, 0, 0, 1),
            capabilities: (0..3)
                .map(|i| Capability::Unknown {
                    code: 200 + i,
                    value: Bytes::from(vec![i; 100]),
                })
                .collect(),
            unknown_parameters: Vec::new(),
        };
        let mut out = BytesMut::new();
        encode(&open, &mut out).unwrap();
        assert_eq!(&out[9..15], &[255, 255, 0x01, 0x35, 2, 0x01]);
        assert_eq!(decode_open(&out).unwrap(), open);
    }

    #[test]
    fn open_errors() {
        let mut v3 = open_body(&[0]);
        v3[0] = 3;
        assert_eq!(
            decode_open(&v3),
            Err(DecodeError::Open(OpenError::UnsupportedVersion {
                version: 3
            }))
        );
        let mut hold = open_body(&[0]);
        hold[4] = 2;
        assert_eq!(
            decode_open(&hold),
            Err(DecodeError::Open(OpenError::UnacceptableHoldTime {
                hold_time: 2
            }))
        );
        let mut id = open_body(&[0]);
        id[5..9].copy_from_slice(&[0, 0, 0, 0]);
        assert!(matches!(
            decode_open(&id),
            Err(DecodeError::Open(OpenError::BadBgpIdentifier { .. }))
        ));
        assert!(
            decode_open(&open_body(&[4, 2, 2, 2])).is_err(),
            "opt len overrun"
        );
        assert!(
            decode_open(&open_body(&[2, 2, 3, 2, 0])).is_err(),
            "parameter overrun"
        );
        assert!(
            decode_open(&open_body(&[3, 2, 1, 2, 0])).is_err(),
            "capability overrun"
        );
        assert!(
            decode_open(&open_body(&[4, 2, 2, 65, 0])).is_err(),
            "bad AS4 length"
        );
        assert!(decode_open(&open_body(&[0, 1])).is_err(), "trailing octets");
    }

    #[test]
    fn graceful_restart_round_trips() {
        let gr = GracefulRestart {
            restart_state: true,
            notification: true,
            restart_time: 120,
            families: vec![(Family::IPV4_UNICAST, true), (Family::IPV6_UNICAST, false)],
        };
        let mut out = BytesMut::new();
        encode_capability(&Capability::GracefulRestart(gr.clone()), &mut out).unwrap();
        assert_eq!(&out[..], &[64, 10, 0xc0, 120, 0, 1, 1, 0x80, 0, 2, 1, 0]);
        assert_eq!(
            decode_capability(64, &out[2..]).unwrap(),
            Capability::GracefulRestart(gr)
        );
    }
}
