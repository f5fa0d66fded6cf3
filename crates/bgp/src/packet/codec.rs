//! STUB: decode (nom) and encode (bytes) of whole messages, and framing.

use super::{AttributeError, CodecContext, DecodeError, Message};
use bytes::{Bytes, BytesMut};

/// A decoded message and the RFC 7606 actions taken on its attributes. When
/// an UPDATE was *treated as withdraw*, `message` is already that withdraw:
/// its NLRI moved into the withdrawn fields and its attributes emptied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    pub attribute_errors: Vec<AttributeError>,
}

/// Decodes one whole message (header included), as cut by [`FrameReader`].
pub fn decode_message(_frame: &[u8], _ctx: &CodecContext) -> Result<Decoded, DecodeError> {
    Err(DecodeError::Header("codec not written yet".into()))
}

/// Appends the wire form of `msg` to `out`.
pub fn encode_message(_msg: &Message, _ctx: &CodecContext, _out: &mut BytesMut) {}

/// Cuts a byte stream into messages: push what the transport delivered,
/// then take whole frames. A bad marker or length is an error at once
/// (RFC 4271 §6.1) rather than waiting for more bytes.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: BytesMut,
}

impl FrameReader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        Ok(None)
    }
}
