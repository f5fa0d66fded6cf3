//! Decode (nom) and encode (bytes) of whole messages, and framing.
//!
//! Decoding never panics: every input gives a message, a message with the
//! RFC 7606 actions taken on it, or the [`DecodeError`] whose NOTIFICATION
//! ends the session.

mod attributes;
mod framing;
mod open;
pub(crate) mod prefixes;
mod update;

pub(crate) use attributes::encode as encode_path_attributes;
pub use framing::FrameReader;

use super::error::{EncodeError, HeaderError, RouteRefreshError};
use super::{
    AttributeError, CodecContext, DecodeError, Family, Message, MessageType, Notification,
    RouteRefresh, Update, HEADER_LEN, MAX_MESSAGE_LEN,
};
use bytes::{BufMut, Bytes, BytesMut};

/// A decoded message and the RFC 7606 actions taken on its attributes. When
/// an UPDATE was *treated as withdraw*, `message` is already that withdraw:
/// its NLRI moved into the withdrawn fields and its attributes emptied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub attribute_errors: Vec<AttributeError>,
}

impl Decoded {
    fn plain(message: Message) -> Self {
        Decoded {
            message,
            attribute_errors: Vec::new(),
        }
    }
}

/// Decodes one whole message (header included), as cut by [`FrameReader`].
pub fn decode_message(frame: &[u8], ctx: &CodecContext) -> Result<Decoded, DecodeError> {
    let Some((len, msg_type)) = framing::check_header(frame)? else {
        return Err(DecodeError::Header(HeaderError::BadMessageLength {
            length: u16::try_from(frame.len()).unwrap_or(u16::MAX),
            msg_type: frame.get(18).copied().unwrap_or(0),
        }));
    };
    if frame.len() != len {
        return Err(DecodeError::Header(HeaderError::BadMessageLength {
            length: u16::try_from(len).unwrap_or(u16::MAX),
            msg_type: msg_type as u8,
        }));
    }
    let body = &frame[HEADER_LEN..];
    match msg_type {
        MessageType::Open => open::decode(body),
        MessageType::Update => update::decode(body, ctx),
        MessageType::Notification => Ok(Decoded::plain(Message::Notification(
            decode_notification(body),
        ))),
        MessageType::Keepalive => Ok(Decoded::plain(Message::Keepalive)),
        MessageType::RouteRefresh => decode_route_refresh(frame).map(Decoded::plain),
    }
}

/// NOTIFICATION (RFC 4271 §4.5): code, subcode, data to the end.
fn decode_notification(body: &[u8]) -> Notification {
    match body {
        [code, subcode, data @ ..] => Notification {
            code: *code,
            subcode: *subcode,
            data: Bytes::copy_from_slice(data),
        },
        // The header check guarantees two octets; an empty one reads as 0/0.
        _ => Notification {
            code: 0,
            subcode: 0,
            data: Bytes::new(),
        },
    }
}

/// ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3): AFI (2), subtype (1), SAFI (1).
fn decode_route_refresh(frame: &[u8]) -> Result<Message, DecodeError> {
    let [.., a, b, subtype, safi] = frame[..frame.len().min(HEADER_LEN + 4)] else {
        return Err(DecodeError::Header(HeaderError::BadMessageLength {
            length: u16::try_from(frame.len()).unwrap_or(u16::MAX),
            msg_type: MessageType::RouteRefresh as u8,
        }));
    };
    let length = u16::try_from(frame.len()).unwrap_or(u16::MAX);
    if frame.len() != HEADER_LEN + 4 {
        return Err(match subtype {
            // RFC 7313 §5: the whole message goes back as the data.
            1 | 2 => DecodeError::RouteRefresh(RouteRefreshError::InvalidMessageLength {
                length,
                message: Bytes::copy_from_slice(frame),
            }),
            // Subtype 0 is fixed-size without ORF (RFC 5291), which is not
            // negotiated: the length is wrong for the type (RFC 4271 §6.1).
            _ => DecodeError::Header(HeaderError::BadMessageLength {
                length,
                msg_type: MessageType::RouteRefresh as u8,
            }),
        });
    }
    // RFC 7313 §5: other subtypes are ignored by the receiver, which is the
    // session's call; the decoder keeps the subtype.
    Ok(Message::RouteRefresh(RouteRefresh {
        family: Family::new(u16::from_be_bytes([a, b]), safi),
        subtype,
    }))
}

/// Appends the wire form of `msg` to `out`.
///
/// An UPDATE too large for one message is sent as several (withdrawals
/// first). A message that cannot fit at all (see [`try_encode_message`]) is
/// not written and is logged.
pub fn encode_message(msg: &Message, ctx: &CodecContext, out: &mut BytesMut) {
    if let Err(error) = try_encode_message(msg, ctx, out) {
        tracing::error!(%error, "message not sent: it cannot be encoded");
    }
}

/// Appends the wire form of `msg` to `out`, or leaves `out` as it was and
/// says why the message cannot be encoded.
pub fn try_encode_message(
    msg: &Message,
    ctx: &CodecContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let start = out.len();
    let result = encode_one(msg, ctx, out);
    let written = out.len() - start;
    match (result, msg) {
        (Ok(()), _) if written <= MAX_MESSAGE_LEN => {
            patch_header(out, start);
            Ok(())
        }
        (Ok(()), Message::Update(update)) => {
            out.truncate(start);
            encode_split(update, ctx, out)
        }
        (Ok(()), _) => {
            out.truncate(start);
            Err(EncodeError::TooLarge {
                what: "message",
                needed: written,
            })
        }
        (Err(e), _) => {
            out.truncate(start);
            Err(e)
        }
    }
}

fn encode_one(msg: &Message, ctx: &CodecContext, out: &mut BytesMut) -> Result<(), EncodeError> {
    let msg_type = match msg {
        Message::Open(_) => MessageType::Open,
        Message::Update(_) => MessageType::Update,
        Message::Notification(_) => MessageType::Notification,
        Message::Keepalive => MessageType::Keepalive,
        Message::RouteRefresh(_) => MessageType::RouteRefresh,
    };
    out.reserve(HEADER_LEN);
    out.put_bytes(0xff, 16);
    out.put_u16(0);
    out.put_u8(msg_type as u8);
    match msg {
        Message::Open(o) => open::encode(o, out)?,
        Message::Update(u) => update::encode(u, ctx, out),
        Message::Notification(n) => {
            out.put_u8(n.code);
            out.put_u8(n.subcode);
            // Data that would overflow the message is cut: its head (the
            // offending attribute or field) is what matters.
            let room = MAX_MESSAGE_LEN - HEADER_LEN - 2;
            out.put_slice(&n.data[..n.data.len().min(room)]);
        }
        Message::Keepalive => {}
        Message::RouteRefresh(r) => {
            out.put_u16(r.family.afi);
            out.put_u8(r.subtype);
            out.put_u8(r.family.safi);
        }
    }
    Ok(())
}

/// Fills the length field of the message that starts at `start`.
fn patch_header(out: &mut BytesMut, start: usize) {
    let len = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
    if let Some(slot) = out.get_mut(start + 16..start + 18) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
}

/// An UPDATE over 4096 octets, as several that each fit.
fn encode_split(
    update: &Update,
    ctx: &CodecContext,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let parts = super::pack::split_update(update, ctx)?;
    let start = out.len();
    for part in &parts {
        let at = out.len();
        if let Err(e) = encode_one(&Message::Update(part.clone()), ctx, out) {
            out.truncate(start);
            return Err(e);
        }
        patch_header(out, at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(t: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 16];
        f.extend_from_slice(&u16::try_from(19 + body.len()).unwrap().to_be_bytes());
        f.push(t);
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn route_refresh_lengths() {
        let ctx = CodecContext::default();
        let ok = decode_message(&frame(5, &[0, 2, 1, 1]), &ctx).unwrap();
        assert_eq!(
            ok.message,
            Message::RouteRefresh(RouteRefresh {
                family: Family::IPV6_UNICAST,
                subtype: 1
            })
        );
        let long = frame(5, &[0, 1, 2, 1, 0]);
        let err = decode_message(&long, &ctx).unwrap_err();
        let n = err.to_notification();
        assert_eq!((n.code, n.subcode), (7, 1));
        assert_eq!(&n.data[..], &long[..]);
        let long0 = decode_message(&frame(5, &[0, 1, 0, 1, 0]), &ctx).unwrap_err();
        assert_eq!(long0.to_notification().subcode, 2);
    }

    #[test]
    fn notification_data_is_cut_to_fit() {
        let n = Notification {
            code: 3,
            subcode: 2,
            data: Bytes::from(vec![7; 5000]),
        };
        let mut out = BytesMut::new();
        encode_message(
            &Message::Notification(n),
            &CodecContext::default(),
            &mut out,
        );
        assert_eq!(out.len(), MAX_MESSAGE_LEN);
    }

    #[test]
    fn frame_and_length_field_must_agree() {
        let mut f = frame(4, &[]);
        f.push(0);
        assert!(decode_message(&f, &CodecContext::default()).is_err());
        assert!(decode_message(&f[..10], &CodecContext::default()).is_err());
    }
}
