//! Small helpers shared by the payload codecs: nom field readers whose
//! "not enough input" becomes the caller's typed error, and length-checked
//! writers.

use bytes::{BufMut, BytesMut};
use nom::IResult;

use crate::error::EncodeError;

/// Runs a nom parser over `input`; any nom failure (only ever "too short"
/// for the fixed-width readers used here) becomes `on_short()`.
pub(crate) fn read<'a, O, E>(
    input: &'a [u8],
    mut parser: impl FnMut(&'a [u8]) -> IResult<&'a [u8], O>,
    on_short: impl FnOnce() -> E,
) -> Result<(&'a [u8], O), E> {
    parser(input).map_err(|_| on_short())
}

/// A 16-bit length field for `len` octets.
pub(crate) fn len16(len: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong(what))
}

/// An 8-bit count or size field.
pub(crate) fn count8(n: usize, what: &'static str) -> Result<u8, EncodeError> {
    u8::try_from(n).map_err(|_| EncodeError::CountOverflow(what))
}

/// Writes a generic payload header (RFC 2408 §3.2) in front of `body`:
/// Next Payload, RESERVED (zero), Payload Length (header included).
pub(crate) fn put_generic(
    out: &mut BytesMut,
    next: u8,
    body: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    let length = len16(body.len() + 4, what)?;
    out.reserve(body.len() + 4);
    out.put_u8(next);
    out.put_u8(0);
    out.put_u16(length);
    out.put_slice(body);
    Ok(())
}
