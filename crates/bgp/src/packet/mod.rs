//! BGP-4 wire codec: `nom` parses, `bytes` writes.
//!
//! The data model in this module is what the rest of the crate speaks. It is
//! the *meaning* of a message, not its bytes: AS4_PATH and AS4_AGGREGATOR
//! (RFC 6793) exist only on the wire and are merged into [`AsPath`] and
//! [`Aggregator`] on decode, and generated again on encode for a 2-octet peer.

pub mod attribute;
pub mod capability;
pub mod codec;
pub mod error;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod pack;

pub use attribute::*;
pub use capability::*;
pub use codec::*;
pub use error::*;
pub use message::*;
pub use nlri::*;
pub use notification::*;
pub use pack::*;

/// Negotiated facts a message's encoding depends on. Passed explicitly to
/// every encode and decode: the codec reaches for no global state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecContext {
    /// Both sides sent the 4-octet AS capability (RFC 6793 §3).
    pub four_octet_as: bool,
}

impl Default for CodecContext {
    /// Until OPENs are exchanged nothing is negotiated: 2-octet AS numbers.
    fn default() -> Self {
        CodecContext {
            four_octet_as: false,
        }
    }
}
