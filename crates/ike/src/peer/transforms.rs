//! Our proposals as SA payloads, and the peer's SA payloads as offers
//! (RFC 2409 Appendix A phase 1 attributes, RFC 2407 §4.5 phase 2
//! attributes, RFC 3947 §5 encapsulation modes).

use crate::proposal::{Cipher, DhGroup, Integrity, Offer, Phase1Proposal, Phase2Proposal};
use crate::wire::{self, Attribute, Proposal, Sa, Transform};
use std::time::Duration;

/// RFC 2409 Appendix A attribute classes.
mod p1 {
    pub const ENCRYPTION: u16 = 1;
    pub const HASH: u16 = 2;
    pub const AUTH_METHOD: u16 = 3;
    pub const GROUP: u16 = 4;
    pub const LIFE_TYPE: u16 = 11;
    pub const LIFE_DURATION: u16 = 12;
    pub const KEY_LENGTH: u16 = 14;
    /// RFC 3602 §5 (AES-CBC in IKE).
    pub const AES_CBC: u64 = 7;
    pub const PRE_SHARED_KEY: u64 = 1;
}

/// RFC 2407 §4.5 attribute classes.
mod p2 {
    pub const LIFE_TYPE: u16 = 1;
    pub const LIFE_DURATION: u16 = 2;
    pub const GROUP: u16 = 3;
    pub const ENCAPSULATION: u16 = 4;
    pub const AUTH: u16 = 5;
    pub const KEY_LENGTH: u16 = 6;
}

pub const SECONDS: u64 = 1;

/// RFC 2407 §4.5 Encapsulation Mode and RFC 3947 §5.
pub mod encap {
    pub const TUNNEL: u64 = 1;
    pub const UDP_TUNNEL: u64 = 3;
    /// The draft value older peers still send.
    pub const UDP_TUNNEL_DRAFT: u64 = 61443;
}

fn attr(kind: u16, value: u64) -> Attribute {
    Attribute { kind, value }
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

pub fn phase1_transform(number: u8, p: &Phase1Proposal, lifetime: Duration) -> Transform {
    Transform {
        number,
        id: wire::KEY_IKE,
        attributes: vec![
            attr(p1::ENCRYPTION, p1::AES_CBC),
            attr(p1::KEY_LENGTH, u64::from(p.cipher.key_bits())),
            attr(p1::HASH, u64::from(p.integrity.ike_hash_id())),
            attr(p1::AUTH_METHOD, p1::PRE_SHARED_KEY),
            attr(p1::GROUP, u64::from(p.group.number())),
            attr(p1::LIFE_TYPE, SECONDS),
            attr(p1::LIFE_DURATION, secs(lifetime)),
        ],
    }
}

/// One proposal, one transform per suite (alternatives, RFC 2408 §4.2).
pub fn phase1_sa(ours: &[Phase1Proposal], lifetime: Duration) -> Sa {
    Sa {
        doi: wire::DOI_IPSEC,
        situation: wire::SIT_IDENTITY_ONLY,
        proposals: vec![Proposal {
            number: 1,
            protocol: wire::PROTO_ISAKMP,
            spi: Vec::new(),
            transforms: ours
                .iter()
                .enumerate()
                .map(|(i, p)| phase1_transform(u8::try_from(i + 1).unwrap_or(u8::MAX), p, lifetime))
                .collect(),
        }],
    }
}

fn lifetime_of(t: &Transform, life_type: u16, duration: u16) -> Option<Duration> {
    match (t.attr(life_type), t.attr(duration)) {
        (Some(SECONDS), Some(d)) => Some(Duration::from_secs(d)),
        _ => None,
    }
}

pub fn phase1_suite(t: &Transform) -> Option<Phase1Proposal> {
    if t.id != wire::KEY_IKE
        || t.attr(p1::ENCRYPTION)? != p1::AES_CBC
        || t.attr(p1::AUTH_METHOD)? != p1::PRE_SHARED_KEY
    {
        return None;
    }
    let bits = t
        .attr(p1::KEY_LENGTH)
        .map(|b| u16::try_from(b).unwrap_or(0));
    Some(Phase1Proposal {
        cipher: Cipher::aes_from_bits(bits)?,
        integrity: Integrity::from_ike_hash_id(u16::try_from(t.attr(p1::HASH)?).ok()?)?,
        group: DhGroup::from_number(u16::try_from(t.attr(p1::GROUP)?).ok()?)?,
    })
}

pub fn phase1_offers(sa: &Sa) -> Vec<Offer<Phase1Proposal>> {
    sa.proposals
        .iter()
        .filter(|p| p.protocol == wire::PROTO_ISAKMP)
        .flat_map(|p| {
            p.transforms.iter().map(move |t| Offer {
                proposal_number: p.number,
                transform_number: t.number,
                suite: phase1_suite(t),
                lifetime: lifetime_of(t, p1::LIFE_TYPE, p1::LIFE_DURATION),
            })
        })
        .collect()
}

pub fn phase2_transform(
    number: u8,
    p: &Phase2Proposal,
    lifetime: Duration,
    mode: u64,
) -> Transform {
    let mut attributes = vec![
        attr(p2::LIFE_TYPE, SECONDS),
        attr(p2::LIFE_DURATION, secs(lifetime)),
    ];
    if let Some(g) = p.pfs {
        attributes.push(attr(p2::GROUP, u64::from(g.number())));
    }
    attributes.extend([
        attr(p2::ENCAPSULATION, mode),
        attr(p2::AUTH, u64::from(p.integrity.esp_auth_id())),
        attr(p2::KEY_LENGTH, u64::from(p.cipher.key_bits())),
    ]);
    Transform {
        number,
        id: wire::ESP_AES,
        attributes,
    }
}

pub fn phase2_sa(ours: &[Phase2Proposal], spi: u32, lifetime: Duration, mode: u64) -> Sa {
    Sa {
        doi: wire::DOI_IPSEC,
        situation: wire::SIT_IDENTITY_ONLY,
        proposals: vec![Proposal {
            number: 1,
            protocol: wire::PROTO_ESP,
            spi: spi.to_be_bytes().to_vec(),
            transforms: ours
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    phase2_transform(u8::try_from(i + 1).unwrap_or(u8::MAX), p, lifetime, mode)
                })
                .collect(),
        }],
    }
}

pub fn phase2_suite(t: &Transform) -> Option<Phase2Proposal> {
    if t.id != wire::ESP_AES {
        return None;
    }
    let bits = t
        .attr(p2::KEY_LENGTH)
        .map(|b| u16::try_from(b).unwrap_or(0));
    let pfs = match t.attr(p2::GROUP) {
        None => None,
        Some(g) => Some(DhGroup::from_number(u16::try_from(g).ok()?)?),
    };
    Some(Phase2Proposal {
        cipher: Cipher::aes_from_bits(bits)?,
        integrity: Integrity::from_esp_auth_id(u16::try_from(t.attr(p2::AUTH)?).ok()?)?,
        pfs,
    })
}

pub fn encapsulation(t: &Transform) -> Option<u64> {
    t.attr(p2::ENCAPSULATION)
}

/// One offered ESP transform with what is needed to answer it.
pub struct Phase2Offer {
    pub offer: Offer<Phase2Proposal>,
    pub spi: Option<u32>,
    pub transform: Transform,
}

pub fn phase2_offers(sa: &Sa) -> Vec<Phase2Offer> {
    sa.proposals
        .iter()
        .filter(|p| p.protocol == wire::PROTO_ESP)
        .flat_map(|p| {
            let spi = <[u8; 4]>::try_from(p.spi.as_slice())
                .ok()
                .map(u32::from_be_bytes);
            p.transforms.iter().map(move |t| Phase2Offer {
                offer: Offer {
                    proposal_number: p.number,
                    transform_number: t.number,
                    suite: phase2_suite(t),
                    lifetime: lifetime_of(t, p2::LIFE_TYPE, p2::LIFE_DURATION),
                },
                spi,
                transform: t.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase1_round_trip() {
        let ours = Phase1Proposal::cloud_defaults();
        let sa = phase1_sa(&ours, Duration::from_secs(28_800));
        let back = Sa::parse(&sa.encode()).unwrap();
        let offers = phase1_offers(&back);
        assert_eq!(offers.len(), ours.len());
        for (o, p) in offers.iter().zip(&ours) {
            assert_eq!(o.suite.as_ref(), Some(p));
            assert_eq!(o.lifetime, Some(Duration::from_secs(28_800)));
        }
    }

    #[test]
    fn phase2_round_trip() {
        let ours = Phase2Proposal::cloud_defaults();
        let sa = phase2_sa(
            &ours,
            0x1234_5678,
            Duration::from_secs(3_600),
            encap::TUNNEL,
        );
        let offers = phase2_offers(&Sa::parse(&sa.encode()).unwrap());
        assert_eq!(offers.len(), ours.len());
        assert_eq!(offers[3].offer.suite, Some(ours[3]));
        assert_eq!(offers[3].spi, Some(0x1234_5678));
        assert_eq!(encapsulation(&offers[0].transform), Some(encap::TUNNEL));
    }

    #[test]
    fn triple_des_is_no_suite() {
        let mut t = phase1_transform(
            1,
            &Phase1Proposal::cloud_defaults()[0],
            Duration::from_secs(1),
        );
        t.attributes[0].value = 5; // 3DES-CBC
        assert_eq!(phase1_suite(&t), None);
    }
}
