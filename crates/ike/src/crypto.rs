//! The bridge to `hybridlab-ike-crypto`: our algorithm names to its types,
//! our injected randomness to its DH generator, its secrets to ours.
//! Every formula of RFC 2409 (SKEYID…, HASH_I/R, the Quick Mode and
//! Informational hashes, IVs, KEYMAT) lives there, checked against
//! strongSwan's own keys; this file only adapts.

use crate::proposal::{Cipher, DhGroup, Integrity};
use crate::random::Random;
use hybridlab_ike_crypto as ikc;
use zeroize::Zeroizing;

pub use ikc::ikev1::{AuthContext, Phase1Keys, Phase1Material};
pub use ikc::{CryptoError, Iv, BLOCK_LEN};

pub type Secret = Zeroizing<Vec<u8>>;

pub fn hash_alg(i: Integrity) -> ikc::HashAlg {
    match i {
        Integrity::Sha1 => ikc::HashAlg::Sha1,
        Integrity::Sha256 => ikc::HashAlg::Sha2_256,
        Integrity::Sha384 => ikc::HashAlg::Sha2_384,
        Integrity::Sha512 => ikc::HashAlg::Sha2_512,
    }
}

pub fn cipher_alg(c: Cipher) -> ikc::CipherAlg {
    match c {
        Cipher::Aes128Cbc => ikc::CipherAlg::Aes128Cbc,
        Cipher::Aes256Cbc => ikc::CipherAlg::Aes256Cbc,
    }
}

fn group(g: DhGroup) -> ikc::DhGroup {
    match g {
        DhGroup::Modp1024 => ikc::DhGroup::Modp1024,
        DhGroup::Modp2048 => ikc::DhGroup::Modp2048,
    }
}

/// Constant-time comparison for received hashes.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    ikc::constant_time_eq(a, b)
}

/// One side's Diffie-Hellman values for one exchange.
pub struct Dh {
    private: ikc::DhPrivate,
    pub public: Vec<u8>,
}

impl std::fmt::Debug for Dh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dh")
            .field("group", &self.private.group())
            .finish()
    }
}

impl Dh {
    /// The private exponent from the peer's injected source.
    pub fn new(g: DhGroup, rng: &mut dyn Random) -> Result<Dh, CryptoError> {
        let private = group(g).generate_with(|buf| {
            rng.fill(buf);
            Ok(())
        })?;
        let public = private.public_value().to_vec();
        Ok(Dh { private, public })
    }

    /// g^xy; the peer's value is checked (length, 2 ..= p − 2).
    pub fn shared(&self, peer: &[u8]) -> Result<Secret, CryptoError> {
        let s = self.private.shared(peer)?;
        Ok(Zeroizing::new(s.as_bytes().to_vec()))
    }
}

/// RFC 2409 §5, pre-shared keys.
#[allow(clippy::too_many_arguments)]
pub fn derive_phase1(
    i: Integrity,
    cipher: Cipher,
    psk: &[u8],
    ni: &[u8],
    nr: &[u8],
    gxy: &[u8],
    icookie: u64,
    rcookie: u64,
) -> Result<Phase1Keys, CryptoError> {
    let (ci, cr) = (icookie.to_be_bytes(), rcookie.to_be_bytes());
    Phase1Keys::derive_psk(
        hash_alg(i).prf(),
        psk,
        &Phase1Material {
            ni_b: ni,
            nr_b: nr,
            g_xy: gxy,
            cky_i: &ci,
            cky_r: &cr,
        },
        cipher_alg(cipher),
    )
}

/// RFC 3947 §3.2: HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash.
pub fn nat_d(i: Integrity, icookie: u64, rcookie: u64, addr: &std::net::SocketAddr) -> Vec<u8> {
    ikc::natd::nat_d_hash(
        hash_alg(i),
        &icookie.to_be_bytes(),
        &rcookie.to_be_bytes(),
        addr.ip(),
        addr.port(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn dh_agrees_both_groups() {
        let mut rng = SeededRandom::new(3);
        for g in [DhGroup::Modp1024, DhGroup::Modp2048] {
            let a = Dh::new(g, &mut rng).unwrap();
            let b = Dh::new(g, &mut rng).unwrap();
            assert_eq!(a.public.len(), g.public_len());
            assert_eq!(*a.shared(&b.public).unwrap(), *b.shared(&a.public).unwrap());
            assert!(a.shared(&vec![0u8; g.public_len()]).is_err());
            assert!(a.shared(&[1, 2, 3]).is_err());
        }
    }

    #[test]
    fn seeded_dh_is_reproducible() {
        let a = Dh::new(DhGroup::Modp1024, &mut SeededRandom::new(9)).unwrap();
        let b = Dh::new(DhGroup::Modp1024, &mut SeededRandom::new(9)).unwrap();
        assert_eq!(a.public, b.public);
    }
}
