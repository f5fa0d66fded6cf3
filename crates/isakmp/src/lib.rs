//! ISAKMP (RFC 2408) codec as IKEv1 (RFC 2409) uses it, with the IPsec DOI
//! (RFC 2407), NAT-T (RFC 3947, RFC 3948) and DPD (RFC 3706) pieces.
//! Sans-IO and crypto-free: bytes in, structures out, and back.
//!
//! # The header (RFC 2408 §3.1)
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Initiator                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Responder                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Message ID                           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                            Length                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! # Receiving
//!
//! 1. On UDP 4500, [`classify_udp4500`] separates IKE (after the non-ESP
//!    marker), ESP and NAT-keepalives (RFC 3948 §2).
//! 2. [`parse_header`] reads the cleartext header and returns the body the
//!    header's Length covers. Look the SA up by the cookies.
//! 3. If `header.flags.encrypted()`, decrypt the body (AES-CBC with the
//!    IKEv1 IV chain: not this crate). Then [`parse_payloads`] with
//!    `header.next_payload` decodes the chain; block padding after the last
//!    payload is ignored (RFC 2409 §5.3).
//! 4. For hashes over what the peer sent (SAi_b, IDii_b, Quick Mode's
//!    HASH(1..3)), [`split_payloads`] gives each payload's raw octets.
//!
//! Every decode failure is an [`Error`] whose [`Error::notify_type`] is the
//! RFC 2408 §5 notification to answer with, or `None` to drop silently.
//!
//! # Sending
//!
//! [`encode_payloads`] writes the chain (each Next Payload set from the
//! following one); encrypt it if the SA has keys; then [`encode_header`]
//! with the body's final length (Length = 28 + body) and
//! [`first_payload_type`] as Next Payload. [`Message::encode_cleartext`]
//! does all of it for unencrypted messages. On port 4500 prepend the marker
//! ([`with_non_esp_marker`]).
//!
//! # Payloads
//!
//! [`Payload`] covers SA (§3.4) with Proposals (§3.5), Transforms (§3.6)
//! and data attributes (§3.3, named in [`attribute::ike`] for phase 1 and
//! [`attribute::ipsec`] for phase 2), KE (§3.7), ID (§3.8, RFC 2407
//! §4.6.2), CERT and CR (§3.9, §3.10, opaque), HASH (§3.11), SIG (§3.12,
//! opaque), Nonce (§3.13), Notification (§3.14 with [`NotifyType`] incl.
//! INITIAL-CONTACT, RESPONDER-LIFETIME, REPLAY-STATUS, R-U-THERE(-ACK)),
//! Delete (§3.15), Vendor ID (§3.16, recognised by [`VendorId::known`]),
//! NAT-D and NAT-OA (RFC 3947, RFC or draft numbering). Unknown payload
//! types are rejected as INVALID-PAYLOAD-TYPE: ISAKMP has no critical bit
//! that would let a receiver skip them safely.
//!
//! # NAT-D
//!
//! [`nat_d_input`] builds CKY-I | CKY-R | IP | Port; hashing it with the
//! negotiated hash is the crypto crate's job.

pub mod attribute;
pub mod error;
pub mod header;
pub mod message;
pub mod natt;
pub mod payload;
mod wire;

pub use attribute::{Attribute, AttributeValue};
pub use error::{EncodeError, Error, ProposalSyntax};
pub use header::{encode_header, parse_header, ExchangeType, Flags, Header, HEADER_LEN};
pub use message::Message;
pub use natt::{classify_udp4500, nat_d_input, with_non_esp_marker, Udp4500};
pub use payload::delete::Delete;
pub use payload::identification::{IdType, Identification};
pub use payload::nat::{NatD, NatOa, NatTNumbering};
pub use payload::notification::{Notification, NotifyType};
pub use payload::sa::{Proposal, ProtocolId, SecurityAssociation, Transform};
pub use payload::vendor::{KnownVendor, NatTDraft, VendorId};
pub use payload::{
    encode_payloads, first_payload_type, parse_payloads, split_payloads, Payload, PayloadType,
    RawPayload,
};
