//! Vendor ID payload (RFC 2408 §3.16) and the Vendor IDs IKEv1 peers use to
//! announce capabilities. Recognition only: the bytes are kept as sent.

/// A Vendor ID payload body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VendorId(pub Vec<u8>);

/// RFC 3947 §3.1: MD5("RFC 3947").
pub const NAT_T_RFC3947: [u8; 16] = hex16(*b"4a131c81070358455c5728f20e95452f");
/// RFC 3706 §5 DPD: afcad71368a1f1c96b8696fc77570100 (last two octets are
/// the major/minor version 1.0).
pub const DPD: [u8; 16] = hex16(*b"afcad71368a1f1c96b8696fc77570100");
/// MD5("strongSwan"), sent when strongSwan's `send_vendor_id` is on.
pub const STRONGSWAN: [u8; 16] = hex16(*b"882fe56d6fd20dbc2251613b2ebe5beb");
/// XAUTH: the first 8 octets of MD5("draft-ietf-ipsra-isakmp-xauth-06.txt").
pub const XAUTH: [u8; 8] = [0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12];
/// Cisco Unity: MD5("CISCO-UNITY") with the last two octets replaced by
/// the version (1.0); matched on the first 14.
pub const CISCO_UNITY: [u8; 16] = hex16(*b"12f5f28c457168a9702d9fe274cc0100");
/// Cisco IKE fragmentation: MD5("FRAGMENTATION"), followed by 4 octets of
/// flags (strongSwan sends 80000000); matched on the first 16.
pub const FRAGMENTATION: [u8; 16] = hex16(*b"4048b7d56ebce88525e7de7f00d6c2d3");

/// The draft NAT-T Vendor IDs, MD5 of the draft names (strongSwan's
/// isakmp_vendor.c list). strongSwan 5.9.8 sends RFC 3947 and
/// draft-ietf-ipsec-nat-t-ike-02\n in Main Mode message 1.
pub const NAT_T_DRAFTS: [(NatTDraft, [u8; 16]); 13] = [
    (
        NatTDraft::Stenberg01,
        hex16(*b"27bab5dc01ea0760ea4e3190ac27c0d0"),
    ),
    (
        NatTDraft::Stenberg02,
        hex16(*b"6105c422e76847e43f9684801292aecd"),
    ),
    (NatTDraft::Ietf, hex16(*b"4df37928e9fc4fd1b3262170d515c662")),
    (
        NatTDraft::Ietf00,
        hex16(*b"4485152d18b6bbcd0be8a8469579ddcc"),
    ),
    (
        NatTDraft::Ietf01,
        hex16(*b"16f6ca16e4a4066d83821a0f0aeaa862"),
    ),
    (
        NatTDraft::Ietf02,
        hex16(*b"cd60464335df21f87cfdb2fc68b6a448"),
    ),
    (
        NatTDraft::Ietf02N,
        hex16(*b"90cb80913ebb696e086381b5ec427b1f"),
    ),
    (
        NatTDraft::Ietf03,
        hex16(*b"7d9419a65310ca6f2c179d9215529d56"),
    ),
    (
        NatTDraft::Ietf04,
        hex16(*b"9909b64eed937c6573de52ace952fa6b"),
    ),
    (
        NatTDraft::Ietf05,
        hex16(*b"80d0bb3def54565ee84645d4c85ce3ee"),
    ),
    (
        NatTDraft::Ietf06,
        hex16(*b"4d1e0e136deafa34c4f3ea9f02ec7285"),
    ),
    (
        NatTDraft::Ietf07,
        hex16(*b"439b59f8ba676c4c7737ae22eab8f582"),
    ),
    (
        NatTDraft::Ietf08,
        hex16(*b"8f8d83826d246b6fc7a8a6a428c11de8"),
    ),
];

/// Draft NAT-T specifications a Vendor ID may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatTDraft {
    Stenberg01,
    Stenberg02,
    /// "draft-ietf-ipsec-nat-t-ike" without a number.
    Ietf,
    Ietf00,
    Ietf01,
    Ietf02,
    /// "draft-ietf-ipsec-nat-t-ike-02\n": the draft's own typo, widely sent.
    Ietf02N,
    Ietf03,
    Ietf04,
    Ietf05,
    Ietf06,
    Ietf07,
    Ietf08,
}

impl NatTDraft {
    /// Drafts 02 and later use the NAT-D/NAT-OA numbers 130/131 and the
    /// encapsulation modes 61443/61444; earlier ones predate NAT-D.
    #[must_use]
    pub fn has_nat_d(self) -> bool {
        !matches!(
            self,
            Self::Stenberg01 | Self::Stenberg02 | Self::Ietf | Self::Ietf00 | Self::Ietf01
        )
    }
}

/// A Vendor ID this crate recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnownVendor {
    /// NAT-T per RFC 3947.
    NatTRfc3947,
    /// NAT-T per one of the drafts.
    NatTDraft(NatTDraft),
    /// Dead Peer Detection (RFC 3706).
    Dpd,
    StrongSwan,
    Xauth,
    CiscoUnity,
    Fragmentation,
}

impl KnownVendor {
    #[must_use]
    pub fn is_nat_t(self) -> bool {
        matches!(self, Self::NatTRfc3947 | Self::NatTDraft(_))
    }
}

impl VendorId {
    /// Which known Vendor ID this is, if any.
    #[must_use]
    pub fn known(&self) -> Option<KnownVendor> {
        let v = self.0.as_slice();
        if v == NAT_T_RFC3947 {
            return Some(KnownVendor::NatTRfc3947);
        }
        if let Some((draft, _)) = NAT_T_DRAFTS.iter().find(|(_, id)| v == id) {
            return Some(KnownVendor::NatTDraft(*draft));
        }
        // DPD's last two octets are a version; RFC 3706 defines 1.0 only but
        // the capability is the same.
        if v.len() == 16 && v.starts_with(&DPD[..14]) {
            return Some(KnownVendor::Dpd);
        }
        if v == STRONGSWAN {
            return Some(KnownVendor::StrongSwan);
        }
        if v.starts_with(&XAUTH) && (v.len() == 8 || v.len() == 16) {
            return Some(KnownVendor::Xauth);
        }
        if v.len() == 16 && v.starts_with(&CISCO_UNITY[..14]) {
            return Some(KnownVendor::CiscoUnity);
        }
        if v.starts_with(&FRAGMENTATION) {
            return Some(KnownVendor::Fragmentation);
        }
        None
    }

    #[must_use]
    pub fn rfc3947() -> Self {
        Self(NAT_T_RFC3947.to_vec())
    }

    #[must_use]
    pub fn dpd() -> Self {
        Self(DPD.to_vec())
    }
}

/// Hex digits to 16 octets at compile time (the constants above stay
/// readable as the hex everyone quotes).
const fn hex16(hex: [u8; 32]) -> [u8; 16] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(v: &[u8]) -> Option<KnownVendor> {
        VendorId(v.to_vec()).known()
    }

    #[test]
    fn recognises_what_strongswan_sends() {
        assert_eq!(known(&NAT_T_RFC3947), Some(KnownVendor::NatTRfc3947));
        assert_eq!(known(&DPD), Some(KnownVendor::Dpd));
        assert_eq!(known(&XAUTH), Some(KnownVendor::Xauth));
        assert_eq!(known(&STRONGSWAN), Some(KnownVendor::StrongSwan));
        let mut fragmentation = FRAGMENTATION.to_vec();
        fragmentation.extend_from_slice(&[0x80, 0, 0, 0]);
        assert_eq!(known(&fragmentation), Some(KnownVendor::Fragmentation));
        let mut unity = CISCO_UNITY;
        unity[15] = 0x01;
        assert_eq!(known(&unity), Some(KnownVendor::CiscoUnity));
        assert_eq!(known(&[0; 16]), None);
        assert_eq!(known(&[]), None);
    }

    #[test]
    fn draft_nat_t_ids() {
        for (draft, id) in NAT_T_DRAFTS {
            let k = known(&id);
            assert_eq!(k, Some(KnownVendor::NatTDraft(draft)));
            assert!(k.is_some_and(KnownVendor::is_nat_t));
        }
        assert!(NatTDraft::Ietf02N.has_nat_d());
        assert!(!NatTDraft::Ietf00.has_nat_d());
        // All distinct.
        let mut ids: Vec<_> = NAT_T_DRAFTS.iter().map(|(_, id)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), NAT_T_DRAFTS.len());
    }
}
