//! UPDATE (RFC 4271 §4.3, RFC 4760) with the error handling of RFC 7606.
//!
//! | error | action | RFC |
//! |---|---|---|
//! | withdrawn or attribute length past the message | reset, Malformed Attribute List | 4271 §6.3, 7606 §3 b |
//! | prefix too long or overrunning in withdrawn/NLRI | reset, Invalid Network Field | 7606 §3 i, §5.3 |
//! | MP_REACH/MP_UNREACH twice | reset, Malformed Attribute List | 7606 §3 g |
//! | MP_REACH/MP_UNREACH unparsable (next-hop length, NLRI) | reset, Optional Attribute Error | 7606 §3 j, §7.11; 4760 §7 |
//! | unrecognised well-known attribute | reset, Unrecognized Well-known Attribute | 4271 §6.3 |
//! | attribute overrunning the attribute section | treat-as-withdraw | 7606 §4 |
//! | Optional/Transitive flags wrong for the type | treat-as-withdraw | 7606 §3 c |
//! | missing ORIGIN, AS_PATH (any NLRI), NEXT_HOP (NLRI field) | treat-as-withdraw | 7606 §3 d |
//! | malformed ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF | treat-as-withdraw | 7606 §3 e, §7.1-7.5 |
//! | NEXT_HOP not a unicast host address | treat-as-withdraw | 4271 §6.3 |
//! | malformed COMMUNITIES | treat-as-withdraw | 7606 §7.8 |
//! | malformed ATOMIC_AGGREGATE, AGGREGATOR | discard | 7606 §3 f, §7.6-7.7 |
//! | malformed AS4_PATH, AS4_AGGREGATOR; either from a 4-octet peer | discard | 6793 §6 |
//! | any other attribute repeated | discard all but the first | 7606 §3 g |
//! | MP attribute of a family not carried | discard | 4760 §7 |
//! | treat-as-withdraw error with no reachable NLRI | reset, the error's own subcode | 7606 §5.2 |
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

use super::{attributes, prefixes, Decoded};
use crate::packet::error::UpdateError;
use crate::packet::notification::update_subcode;
use crate::packet::{
    flags, type_code, AttributeAction, CodecContext, DecodeError, Family, Message, MpUnreach,
    PathAttributes, Prefix, Update,
};
use bytes::{BufMut, BytesMut};
use nom::multi::length_data;
use nom::number::complete::be_u16;
use std::net::Ipv4Addr;

type Res<'a, T> = nom::IResult<&'a [u8], T, ()>;

fn sections(body: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    let (rest, withdrawn) = length_data(be_u16)(body)?;
    let (nlri, attributes) = length_data(be_u16)(rest)?;
    Ok((nlri, (withdrawn, attributes)))
}

/// Decodes an UPDATE body (after the header).
pub(crate) fn decode(body: &[u8], ctx: &CodecContext) -> Result<Decoded, DecodeError> {
    // RFC 4271 §6.3, RFC 7606 §3 b: lengths that overrun the message leave
    // nothing to trust.
    let (nlri_field, (withdrawn_field, attribute_section)) = sections(body).map_err(|_| {
        DecodeError::Update(UpdateError::MalformedAttributeList {
            reason: "withdrawn routes or path attribute length runs past the message",
        })
    })?;

    // RFC 7606 §3 i and §5.3: a field of prefixes that cannot be parsed
    // hides which routes are meant; only a reset is safe.
    let invalid = |e: prefixes::PrefixError| {
        DecodeError::Update(UpdateError::InvalidNetworkField { reason: e.reason() })
    };
    let mut withdrawn = Vec::new();
    prefixes::decode_v4(withdrawn_field, &mut withdrawn).map_err(invalid)?;
    let mut nlri = Vec::new();
    prefixes::decode_v4(nlri_field, &mut nlri).map_err(invalid)?;

    let mut decoded = attributes::decode(attribute_section, ctx)?;
    let reachable = !nlri.is_empty()
        || decoded
            .mp_reach
            .as_ref()
            .is_some_and(|r| !r.nlri.is_empty());
    if reachable {
        check_mandatory(&mut decoded, !nlri.is_empty());
    }

    if decoded.treat_as_withdraw() && !reachable {
        // RFC 7606 §5.2: attributes other than MP_UNREACH_NLRI, an error
        // that is not attribute discard, and no reachable NLRI: reset.
        let first = decoded
            .errors
            .into_iter()
            .find(|e| e.action == AttributeAction::TreatAsWithdraw);
        if let Some(error) = first {
            return Err(DecodeError::Update(UpdateError::AttributeWithoutNlri(
                error,
            )));
        }
        return Err(DecodeError::Update(UpdateError::MalformedAttributeList {
            reason: "attribute error in an UPDATE without reachable NLRI",
        }));
    }

    let mut update = Update {
        withdrawn,
        attributes: decoded.attributes,
        nlri,
        mp_reach: decoded.mp_reach,
        mp_unreach: decoded.mp_unreach,
    };
    let withdraw = decoded
        .errors
        .iter()
        .any(|e| e.action == AttributeAction::TreatAsWithdraw);
    if withdraw {
        update = into_withdraw(update);
    }
    Ok(Decoded {
        message: Message::Update(update),
        attribute_errors: decoded.errors,
    })
}

/// RFC 7606 §3 d: ORIGIN and AS_PATH with any reachable NLRI, NEXT_HOP with
/// IPv4 NLRI in the NLRI field (RFC 4760 §3 exempts MP_REACH_NLRI alone).
/// Also the semantic NEXT_HOP check of RFC 4271 §6.3.
fn check_mandatory(decoded: &mut attributes::DecodedAttributes, classic_nlri: bool) {
    let missing = |code: u8, name: &str| {
        (
            code,
            format!("missing well-known attribute {name} (RFC 7606 §3 d)"),
        )
    };
    let attrs = &decoded.attributes;
    let mut absent = Vec::new();
    if attrs.origin.is_none() && !has_error_for(decoded, type_code::ORIGIN) {
        absent.push(missing(type_code::ORIGIN, "ORIGIN"));
    }
    if attrs.as_path.is_none() && !has_error_for(decoded, type_code::AS_PATH) {
        absent.push(missing(type_code::AS_PATH, "AS_PATH"));
    }
    if classic_nlri && attrs.next_hop.is_none() && !has_error_for(decoded, type_code::NEXT_HOP) {
        absent.push(missing(type_code::NEXT_HOP, "NEXT_HOP"));
    }
    let bad_next_hop = attrs
        .next_hop
        .filter(|nh| classic_nlri && !usable_next_hop(*nh));
    for (code, reason) in absent {
        // RFC 4271 §6.3: the data is the type code of the missing attribute.
        decoded.record(
            code,
            AttributeAction::TreatAsWithdraw,
            update_subcode::MISSING_WELL_KNOWN_ATTRIBUTE,
            &[code],
            reason,
        );
    }
    if let Some(nh) = bad_next_hop {
        let o = nh.octets();
        let attribute = [
            flags::TRANSITIVE,
            type_code::NEXT_HOP,
            4,
            o[0],
            o[1],
            o[2],
            o[3],
        ];
        decoded.record(
            type_code::NEXT_HOP,
            AttributeAction::TreatAsWithdraw,
            update_subcode::INVALID_NEXT_HOP_ATTRIBUTE,
            &attribute,
            format!("NEXT_HOP {nh} is not a unicast host address (RFC 4271 §6.3)"),
        );
    }
}

fn has_error_for(decoded: &attributes::DecodedAttributes, code: u8) -> bool {
    decoded.errors.iter().any(|e| e.type_code == code)
}

/// RFC 4271 §6.3 "syntactically correct": a unicast host address. Whether
/// it is the receiver's own address or on a shared subnet is for the
/// router to judge.
fn usable_next_hop(nh: Ipv4Addr) -> bool {
    !(nh.is_unspecified() || nh.is_broadcast() || nh.is_multicast() || nh.octets()[0] >= 240)
}

/// RFC 7606 §2 treat-as-withdraw: every prefix the UPDATE announced is
/// withdrawn instead, and its attributes mean nothing. IPv4 withdrawals go
/// in the Withdrawn Routes field, IPv6 ones in MP_UNREACH_NLRI.
fn into_withdraw(update: Update) -> Update {
    let mut withdrawn = update.withdrawn;
    withdrawn.extend(update.nlri);
    let mut withdrawn6 = Vec::new();
    let mp = update
        .mp_unreach
        .into_iter()
        .flat_map(|u| u.withdrawn)
        .chain(update.mp_reach.into_iter().flat_map(|r| r.nlri));
    for prefix in mp {
        match prefix {
            Prefix::V4(p) => withdrawn.push(p),
            Prefix::V6(_) => withdrawn6.push(prefix),
        }
    }
    Update {
        withdrawn,
        attributes: PathAttributes::default(),
        nlri: Vec::new(),
        mp_reach: None,
        mp_unreach: (!withdrawn6.is_empty()).then_some(MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: withdrawn6,
        }),
    }
}

/// Writes the UPDATE body. MP_REACH_NLRI and MP_UNREACH_NLRI come first
/// (RFC 7606 §5.1, so a receiver can find the NLRI whatever else is
/// malformed), the other attributes in type code order (RFC 4271 §5).
pub(crate) fn encode(update: &Update, ctx: &CodecContext, out: &mut BytesMut) {
    let at = out.len();
    out.put_u16(0);
    for p in &update.withdrawn {
        prefixes::encode_v4(p, out);
    }
    patch_len(out, at);

    let at = out.len();
    out.put_u16(0);
    if let Some(reach) = &update.mp_reach {
        attributes::encode_mp_reach(reach, out);
    }
    if let Some(unreach) = &update.mp_unreach {
        attributes::encode_mp_unreach(unreach, out);
    }
    attributes::encode(&update.attributes, ctx, out);
    patch_len(out, at);

    for p in &update.nlri {
        prefixes::encode_v4(p, out);
    }
}

/// Fills the 2-octet length at `at` with the octets written after it.
fn patch_len(out: &mut BytesMut, at: usize) {
    let len = out.len().saturating_sub(at + 2);
    // The message size check rejects anything this long.
    let len = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    if let Some(slot) = out.get_mut(at..at + 2) {
        slot.copy_from_slice(&len);
    }
}
