//! Hash functions and the HMAC PRFs IKEv1 negotiates, over `ring`.
//!
//! IKEv1 negotiates a hash algorithm in the phase-1 SA (RFC 2409 Appendix A,
//! attribute class 2). Without an explicit PRF attribute — and strongSwan
//! sends none — the PRF is the HMAC version of that hash (RFC 2409 §4).

use ring::{digest, hmac};

use crate::secret::SecretBytes;

/// A hash algorithm IKEv1 may negotiate (RFC 2409 Appendix A hash values
/// 2 = SHA, 4 = SHA2-256, 5 = SHA2-384, 6 = SHA2-512 per RFC 4868 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1, 20-byte output (AWS's default).
    Sha1,
    /// SHA2-256, 32-byte output.
    Sha2_256,
    /// SHA2-384, 48-byte output.
    Sha2_384,
    /// SHA2-512, 64-byte output.
    Sha2_512,
}

impl HashAlg {
    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha2_256 => 32,
            HashAlg::Sha2_384 => 48,
            HashAlg::Sha2_512 => 64,
        }
    }

    /// The IKEv1 hash attribute value (RFC 2409 Appendix A, RFC 4868 §4).
    pub const fn ikev1_id(self) -> u16 {
        match self {
            HashAlg::Sha1 => 2,
            HashAlg::Sha2_256 => 4,
            HashAlg::Sha2_384 => 5,
            HashAlg::Sha2_512 => 6,
        }
    }

    /// The algorithm for an IKEv1 hash attribute value, if supported.
    pub const fn from_ikev1_id(id: u16) -> Option<Self> {
        match id {
            2 => Some(HashAlg::Sha1),
            4 => Some(HashAlg::Sha2_256),
            5 => Some(HashAlg::Sha2_384),
            6 => Some(HashAlg::Sha2_512),
            _ => None,
        }
    }

    /// Hash of the concatenation of `parts` (IKEv1 writes `hash(a | b)`).
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = digest::Context::new(self.digest_alg());
        for part in parts {
            ctx.update(part);
        }
        ctx.finish().as_ref().to_vec()
    }

    /// The HMAC PRF built on this hash.
    pub const fn prf(self) -> Prf {
        Prf { hash: self }
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            HashAlg::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha2_256 => &digest::SHA256,
            HashAlg::Sha2_384 => &digest::SHA384,
            HashAlg::Sha2_512 => &digest::SHA512,
        }
    }

    fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            HashAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlg::Sha2_256 => hmac::HMAC_SHA256,
            HashAlg::Sha2_384 => hmac::HMAC_SHA384,
            HashAlg::Sha2_512 => hmac::HMAC_SHA512,
        }
    }
}

/// The IKEv1 PRF: HMAC over a [`HashAlg`] (RFC 2104).
///
/// The key is handed in on every call and the `ring` key schedule lives only
/// for that call: `ring::hmac::Key` cannot be zeroized, so keeping one around
/// would keep key-equivalent state in memory after the keys are dropped.
/// IKE makes a handful of PRF calls per exchange, so the cost is irrelevant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prf {
    hash: HashAlg,
}

impl Prf {
    /// HMAC over `hash`.
    pub const fn hmac(hash: HashAlg) -> Self {
        Self { hash }
    }

    /// The underlying hash.
    pub const fn hash_alg(self) -> HashAlg {
        self.hash
    }

    /// Output length in bytes (the hash's).
    pub const fn output_len(self) -> usize {
        self.hash.output_len()
    }

    /// `prf(key, parts[0] | parts[1] | ...)`.
    pub fn compute(self, key: &[u8], parts: &[&[u8]]) -> SecretBytes {
        let key = hmac::Key::new(self.hash.hmac_alg(), key);
        let mut ctx = hmac::Context::with_key(&key);
        for part in parts {
            ctx.update(part);
        }
        SecretBytes::from_slice(ctx.sign().as_ref())
    }

    /// Checks a received `tag` against `prf(key, parts...)` in constant time.
    pub fn verify(self, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
        self.compute(key, parts).ct_eq(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    // RFC 3174 §7.3 / FIPS 180 "abc".
    #[test]
    fn sha_abc() {
        assert_eq!(
            HashAlg::Sha1.hash(&[b"a", b"bc"]),
            hex("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            HashAlg::Sha2_256.hash(&[b"abc"]),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    // RFC 2202 §3 test cases 1, 2 and 6 (key longer than the block).
    #[test]
    fn hmac_sha1_rfc2202() {
        let prf = HashAlg::Sha1.prf();
        assert_eq!(
            prf.compute(&[0x0b; 20], &[b"Hi There"]).as_bytes(),
            hex("b617318655057264e28bc0b6fb378c8ef146be00")
        );
        assert_eq!(
            prf.compute(b"Jefe", &[b"what do ya want ", b"for nothing?"])
                .as_bytes(),
            hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        assert_eq!(
            prf.compute(
                &[0xaa; 80],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )
            .as_bytes(),
            hex("aa4ae5e15272d00e95705637ce8a3b55ed402112")
        );
    }

    // RFC 4231 §4.2 (test case 1) and §4.3 (test case 2) for all three SHA-2 sizes.
    #[test]
    fn hmac_sha2_rfc4231() {
        let cases: [(HashAlg, &str, &str); 3] = [
            (
                HashAlg::Sha2_256,
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                HashAlg::Sha2_384,
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                 faea9ea9076ede7f4af152e8b2fa9cb6",
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                 8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                HashAlg::Sha2_512,
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ];
        for (alg, tc1, tc2) in cases {
            let prf = alg.prf();
            assert_eq!(
                prf.compute(&[0x0b; 20], &[b"Hi There"]).as_bytes(),
                hex(tc1),
                "{alg:?} tc1"
            );
            assert_eq!(
                prf.compute(b"Jefe", &[b"what do ya want for nothing?"])
                    .as_bytes(),
                hex(tc2),
                "{alg:?} tc2"
            );
            assert_eq!(prf.output_len(), hex(tc1).len());
        }
    }

    #[test]
    fn verify_is_exact() {
        let prf = HashAlg::Sha1.prf();
        let tag = hex("b617318655057264e28bc0b6fb378c8ef146be00");
        assert!(prf.verify(&[0x0b; 20], &[b"Hi ", b"There"], &tag));
        assert!(!prf.verify(&[0x0b; 20], &[b"Hi There"], &tag[..12]));
        let mut bad = tag.clone();
        bad[19] ^= 1;
        assert!(!prf.verify(&[0x0b; 20], &[b"Hi There"], &bad));
    }

    #[test]
    fn ikev1_ids_round_trip() {
        for alg in [
            HashAlg::Sha1,
            HashAlg::Sha2_256,
            HashAlg::Sha2_384,
            HashAlg::Sha2_512,
        ] {
            assert_eq!(HashAlg::from_ikev1_id(alg.ikev1_id()), Some(alg));
        }
        assert_eq!(HashAlg::from_ikev1_id(1), None, "MD5 is not supported");
    }
}
