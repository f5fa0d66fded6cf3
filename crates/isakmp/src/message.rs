//! A whole ISAKMP message: header and decoded payloads. For cleartext
//! messages (Main Mode 1-4, unprotected informational notices) and for
//! tests; encrypted ones go through `parse_header`, the crypto crate and
//! `parse_payloads`.

use bytes::{Bytes, BytesMut};

use crate::error::{EncodeError, Error};
use crate::header::{encode_header, parse_header, Header};
use crate::payload::{encode_payloads, first_payload_type, parse_payloads, Payload};

/// A header with its payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Decodes a datagram whose body is not encrypted.
    pub fn decode_cleartext(datagram: &[u8]) -> Result<Self, Error> {
        let (header, body) = parse_header(datagram)?;
        if header.flags.encrypted() {
            return Err(Error::Encrypted);
        }
        let payloads = parse_payloads(header.next_payload, body)?;
        Ok(Self { header, payloads })
    }

    /// Encodes header and payloads unencrypted. The header's Next Payload
    /// and Length are derived from the payloads.
    pub fn encode_cleartext(&self) -> Result<Bytes, EncodeError> {
        let body = encode_payloads(&self.payloads)?;
        let header = Header {
            next_payload: first_payload_type(&self.payloads),
            ..self.header
        };
        let fixed = encode_header(&header, body.len())?;
        let mut out = BytesMut::with_capacity(fixed.len() + body.len());
        out.extend_from_slice(&fixed);
        out.extend_from_slice(&body);
        Ok(out.freeze())
    }
}
