//! The BGP messages bgp-feeder sends, encoded by hand, and just enough
//! decoding of what it receives: headers, the peer's 4-octet AS capability,
//! and NOTIFICATION codes for error messages.

use std::net::Ipv4Addr;

/// RFC 4271 §4.1.
pub const HEADER_LEN: usize = 19;
/// RFC 4271 §4.1: no extended messages (RFC 8654) here.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 6793 §9.
pub const AS_TRANS: u16 = 23456;

pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("bad marker in message header")]
    BadMarker,
    #[error("bad message length {0}")]
    BadLength(u16),
    #[error("malformed OPEN: {0}")]
    BadOpen(&'static str),
}

/// Writes the 19-byte header (RFC 4271 §4.1) for a message of `len` bytes.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Marker (16 octets of 0xff)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
pub fn put_header(out: &mut Vec<u8>, len: u16, kind: u8) {
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(kind);
}

pub fn keepalive() -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN);
    put_header(&mut out, HEADER_LEN as u16, KEEPALIVE);
    out
}

/// OPEN (RFC 4271 §4.2) offering IPv4 unicast (RFC 4760) and 4-octet AS
/// numbers (RFC 6793).
pub fn open(asn: u32, hold_time: u16, router_id: Ipv4Addr) -> Vec<u8> {
    let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
    let caps: [u8; 12] = {
        let a = asn.to_be_bytes();
        [1, 4, 0, 1, 0, 1, 65, 4, a[0], a[1], a[2], a[3]]
    };
    // One Capabilities optional parameter (RFC 5492 §4) holding both.
    let params_len = 2 + caps.len();
    let len = HEADER_LEN + 10 + params_len;
    let mut out = Vec::with_capacity(len);
    put_header(&mut out, len as u16, OPEN);
    out.push(4);
    out.extend_from_slice(&my_as.to_be_bytes());
    out.extend_from_slice(&hold_time.to_be_bytes());
    out.extend_from_slice(&router_id.octets());
    out.push(params_len as u8);
    out.push(2);
    out.push(caps.len() as u8);
    out.extend_from_slice(&caps);
    out
}

/// NOTIFICATION Cease / Administrative Shutdown (RFC 4486 §4), to leave
/// politely once the measurement is done.
pub fn cease_shutdown() -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 2);
    put_header(&mut out, (HEADER_LEN + 2) as u16, NOTIFICATION);
    out.extend_from_slice(&[6, 2]);
    out
}

/// Type and total length of the message at the start of `buf`, or `None`
/// until the whole header has arrived.
pub fn parse_header(buf: &[u8]) -> Result<Option<(u8, usize)>, WireError> {
    let Some(header) = buf
        .get(..HEADER_LEN)
        .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
    else {
        return Ok(None);
    };
    if header[..16].iter().any(|b| *b != 0xff) {
        return Err(WireError::BadMarker);
    }
    let len = u16::from_be_bytes([header[16], header[17]]);
    if usize::from(len) < HEADER_LEN || usize::from(len) > MAX_MESSAGE_LEN {
        return Err(WireError::BadLength(len));
    }
    Ok(Some((header[18], usize::from(len))))
}

/// Whether the OPEN body (after the header) carries the 4-octet AS
/// capability (RFC 6793 §3), looked for in every Capabilities parameter.
pub fn open_has_four_octet_as(body: &[u8]) -> Result<bool, WireError> {
    let params_len = *body.get(9).ok_or(WireError::BadOpen("short"))?;
    let params = body
        .get(10..10 + usize::from(params_len))
        .ok_or(WireError::BadOpen("parameters overrun"))?;
    let mut rest = params;
    while let [ptype, plen, tail @ ..] = rest {
        let value = tail
            .get(..usize::from(*plen))
            .ok_or(WireError::BadOpen("parameter overruns"))?;
        if *ptype == 2 {
            let mut caps = value;
            while let [code, clen, ctail @ ..] = caps {
                if *code == 65 {
                    return Ok(true);
                }
                caps = ctail
                    .get(usize::from(*clen)..)
                    .ok_or(WireError::BadOpen("capability overruns"))?;
            }
        }
        rest = tail
            .get(usize::from(*plen)..)
            .ok_or(WireError::BadOpen("parameter overruns"))?;
    }
    Ok(false)
}

/// `code/subcode` of a NOTIFICATION body, for error messages.
pub fn notification_codes(body: &[u8]) -> String {
    match body {
        [code, subcode, ..] => format!("{code}/{subcode}"),
        _ => "malformed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_is_well_formed_and_offers_four_octet_as() {
        let msg = open(4_200_000_000, 180, Ipv4Addr::new(10, 255, 0, 1));
        assert_eq!(parse_header(&msg), Ok(Some((OPEN, msg.len()))));
        let body = &msg[HEADER_LEN..];
        assert_eq!(&body[1..3], &AS_TRANS.to_be_bytes());
        assert_eq!(&body[3..5], &180u16.to_be_bytes());
        assert_eq!(open_has_four_octet_as(body), Ok(true));
    }

    #[test]
    fn open_without_capabilities_is_two_octet() {
        let body = [4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1, 0];
        assert_eq!(open_has_four_octet_as(&body), Ok(false));
    }

    #[test]
    fn truncated_open_is_an_error_not_a_panic() {
        assert!(open_has_four_octet_as(&[4, 0, 1]).is_err());
        let body = [4, 0xfd, 0xe8, 0, 90, 10, 0, 0, 1, 6, 2, 9, 65, 4];
        assert_eq!(
            open_has_four_octet_as(&body),
            Err(WireError::BadOpen("parameters overrun"))
        );
    }

    #[test]
    fn header_waits_for_bytes_and_rejects_bad_ones() {
        let ka = keepalive();
        assert_eq!(parse_header(&ka[..10]), Ok(None));
        assert_eq!(parse_header(&ka), Ok(Some((KEEPALIVE, HEADER_LEN))));
        let mut bad = ka.clone();
        bad[0] = 0;
        assert_eq!(parse_header(&bad), Err(WireError::BadMarker));
        let mut short = ka;
        short[17] = 18;
        assert_eq!(parse_header(&short), Err(WireError::BadLength(18)));
    }
}
