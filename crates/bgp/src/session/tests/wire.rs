//! Messages built and cut by hand from RFC 4271 §4, independently of the
//! crate's codec, so the tests check the bytes a real peer would see.

pub const OPEN: u8 = 1;
pub const UPDATE: u8 = 2;
pub const NOTIFICATION: u8 = 3;
pub const KEEPALIVE: u8 = 4;

/// A NOTIFICATION's code, subcode and data.
pub type Notif = (u8, u8, Vec<u8>);

/// One message: its type and what follows the 19-octet header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub ty: u8,
    pub body: Vec<u8>,
}

impl Msg {
    /// NOTIFICATION (code, subcode, data).
    pub fn notification(&self) -> Option<Notif> {
        if self.ty != NOTIFICATION || self.body.len() < 2 {
            return None;
        }
        Some((self.body[0], self.body[1], self.body[2..].to_vec()))
    }
}

/// Cuts a byte string into messages; panics on anything malformed, which
/// would be a bug in what the session sent.
pub fn split(mut data: &[u8]) -> Vec<Msg> {
    let mut msgs = Vec::new();
    while !data.is_empty() {
        assert!(data.len() >= 19, "short header: {data:02x?}");
        assert_eq!(&data[..16], &[0xff; 16], "marker");
        let len = usize::from(u16::from_be_bytes([data[16], data[17]]));
        assert!(len >= 19 && len <= data.len(), "length {len}");
        msgs.push(Msg {
            ty: data[18],
            body: data[19..len].to_vec(),
        });
        data = &data[len..];
    }
    msgs
}

/// Like [`split`], but says `None` instead of panicking.
pub fn try_split(mut data: &[u8]) -> Option<Vec<Msg>> {
    let mut msgs = Vec::new();
    while !data.is_empty() {
        let header = data.get(..19)?;
        if header[..16] != [0xff; 16] {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([header[16], header[17]]));
        if len < 19 {
            return None;
        }
        msgs.push(Msg {
            ty: header[18],
            body: data.get(19..len)?.to_vec(),
        });
        data = &data[len..];
    }
    Some(msgs)
}

pub fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(19 + body.len()).expect("test message too long");
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&len.to_be_bytes());
    m.push(ty);
    m.extend_from_slice(body);
    m
}

pub fn keepalive() -> Vec<u8> {
    message(KEEPALIVE, &[])
}

pub fn notification(code: u8, subcode: u8, data: &[u8]) -> Vec<u8> {
    let mut body = vec![code, subcode];
    body.extend_from_slice(data);
    message(NOTIFICATION, &body)
}

/// An UPDATE with nothing in it (the IPv4 End-of-RIB marker).
pub fn empty_update() -> Vec<u8> {
    message(UPDATE, &[0, 0, 0, 0])
}

/// Capability TLVs (RFC 5492 §4).
pub fn cap_four_octet_as(asn: u32) -> Vec<u8> {
    let mut c = vec![65, 4];
    c.extend_from_slice(&asn.to_be_bytes());
    c
}

pub fn cap_multiprotocol(afi: u16, safi: u8) -> Vec<u8> {
    let mut c = vec![1, 4];
    c.extend_from_slice(&afi.to_be_bytes());
    c.extend_from_slice(&[0, safi]);
    c
}

pub fn cap_route_refresh() -> Vec<u8> {
    vec![2, 0]
}

/// One Capabilities optional parameter (type 2) holding `caps`.
pub fn capabilities_param(caps: &[Vec<u8>]) -> Vec<u8> {
    let inner: Vec<u8> = caps.concat();
    let mut p = vec![2, u8::try_from(inner.len()).expect("too many capabilities")];
    p.extend_from_slice(&inner);
    p
}

/// OPEN (RFC 4271 §4.2) with raw optional parameters.
pub fn open(version: u8, my_as: u16, hold: u16, id: [u8; 4], params: &[u8]) -> Vec<u8> {
    let mut body = vec![version];
    body.extend_from_slice(&my_as.to_be_bytes());
    body.extend_from_slice(&hold.to_be_bytes());
    body.extend_from_slice(&id);
    body.push(u8::try_from(params.len()).expect("parameters too long"));
    body.extend_from_slice(params);
    message(OPEN, &body)
}

/// A modern peer's OPEN: AS, hold time, identifier, IPv4 + IPv6 unicast,
/// route refresh, 4-octet AS.
pub fn peer_open(asn: u32, hold: u16, id: [u8; 4]) -> Vec<u8> {
    let my_as = u16::try_from(asn).unwrap_or(23456);
    let params = capabilities_param(&[
        cap_multiprotocol(1, 1),
        cap_multiprotocol(2, 1),
        cap_route_refresh(),
        cap_four_octet_as(asn),
    ]);
    open(4, my_as, hold, id, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_splits() {
        let mut stream = keepalive();
        stream.extend(notification(6, 2, &[]));
        let msgs = split(&stream);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].ty, KEEPALIVE);
        assert_eq!(msgs[1].notification(), Some((6, 2, vec![])));
        let o = open(4, 65001, 90, [10, 0, 0, 2], &[]);
        assert_eq!(o.len(), 29);
    }
}
