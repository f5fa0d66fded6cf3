//! The message header (RFC 4271 §4.1) and cutting a byte stream into
//! messages.

use crate::packet::error::HeaderError;
use crate::packet::{DecodeError, MessageType, HEADER_LEN, MAX_MESSAGE_LEN};
use bytes::{Buf, Bytes, BytesMut};

/// Smallest message of each type (RFC 4271 §4.2-4.5, RFC 2918 §3).
fn min_len(t: MessageType) -> usize {
    match t {
        MessageType::Open => 29,
        MessageType::Update => 23,
        MessageType::Notification => 21,
        MessageType::Keepalive => HEADER_LEN,
        MessageType::RouteRefresh => 23,
    }
}

pub(crate) fn message_type(t: u8) -> Option<MessageType> {
    Some(match t {
        1 => MessageType::Open,
        2 => MessageType::Update,
        3 => MessageType::Notification,
        4 => MessageType::Keepalive,
        5 => MessageType::RouteRefresh,
        _ => return None,
    })
}

/// Checks what is there of a header; `Ok(None)` when more octets are needed
/// to judge. A bad marker is reported from its first wrong octet.
pub(crate) fn check_header(buf: &[u8]) -> Result<Option<(usize, MessageType)>, DecodeError> {
    let marker = &buf[..buf.len().min(16)];
    if marker.iter().any(|&b| b != 0xff) {
        return Err(DecodeError::Header(HeaderError::ConnectionNotSynchronized));
    }
    let [_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, hi, lo, t, ..] = *buf else {
        return Ok(None);
    };
    let length = u16::from_be_bytes([hi, lo]);
    let len = usize::from(length);
    let bad_length = DecodeError::Header(HeaderError::BadMessageLength {
        length,
        msg_type: t,
    });
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
        return Err(bad_length);
    }
    let msg_type = message_type(t).ok_or(DecodeError::Header(HeaderError::BadMessageType {
        msg_type: t,
    }))?;
    // A KEEPALIVE is exactly the header (RFC 4271 §4.4); the others have a
    // minimum. ROUTE-REFRESH's exact length is checked on the whole message
    // because RFC 7313 §5 wants the message itself in the NOTIFICATION.
    let fits = match msg_type {
        MessageType::Keepalive => len == HEADER_LEN,
        other => len >= min_len(other),
    };
    if !fits {
        return Err(bad_length);
    }
    Ok(Some((len, msg_type)))
}

/// Cuts a byte stream into messages: push what the transport delivered,
/// then take whole frames. A bad marker or length is an error at once
/// (RFC 4271 §6.1) rather than waiting for more bytes.
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: BytesMut,
}

impl FrameReader {
    pub fn new() -> Self {
        FrameReader::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Octets received and not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole message, header included, or `None` until more octets
    /// arrive. After an error the stream cannot be resynchronised: the
    /// same error comes back until the reader is dropped.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let Some((len, _)) = check_header(&self.buf)? else {
            return Ok(None);
        };
        if self.buf.len() < len {
            // Whole frames are usually next to each other; room for this one
            // avoids growing the buffer octet by octet.
            self.buf.reserve(len - self.buf.len());
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(len).freeze()))
    }

    /// Drops what is buffered, e.g. when the connection is replaced.
    pub fn clear(&mut self) {
        self.buf.advance(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u16, t: u8) -> Vec<u8> {
        let mut h = vec![0xff; 16];
        h.extend_from_slice(&len.to_be_bytes());
        h.push(t);
        h
    }

    #[test]
    fn cuts_frames_across_pushes() {
        let mut r = FrameReader::new();
        let mut stream = header(19, 4);
        stream.extend(header(19, 4));
        r.push(&stream[..10]);
        assert_eq!(r.next_frame(), Ok(None));
        r.push(&stream[10..25]);
        assert_eq!(r.next_frame().unwrap().unwrap().len(), 19);
        assert_eq!(r.next_frame(), Ok(None));
        r.push(&stream[25..]);
        assert_eq!(r.next_frame().unwrap().unwrap().len(), 19);
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn bad_marker_is_reported_before_the_header_is_complete() {
        let mut r = FrameReader::new();
        r.push(&[0xff, 0xff, 0x00]);
        assert_eq!(
            r.next_frame(),
            Err(DecodeError::Header(HeaderError::ConnectionNotSynchronized))
        );
    }

    #[test]
    fn bad_length_is_reported_without_waiting_for_the_body() {
        let mut r = FrameReader::new();
        r.push(&header(4097, 2));
        assert_eq!(
            r.next_frame(),
            Err(DecodeError::Header(HeaderError::BadMessageLength {
                length: 4097,
                msg_type: 2
            }))
        );
        let mut r = FrameReader::new();
        r.push(&header(20, 4));
        assert!(r.next_frame().is_err(), "KEEPALIVE must be 19");
        let mut r = FrameReader::new();
        r.push(&header(28, 1));
        assert!(r.next_frame().is_err(), "OPEN is at least 29");
        let mut r = FrameReader::new();
        r.push(&header(19, 9));
        assert_eq!(
            r.next_frame(),
            Err(DecodeError::Header(HeaderError::BadMessageType {
                msg_type: 9
            }))
        );
    }
}
