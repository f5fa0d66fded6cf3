//! The cryptography of IKEv1 this peer needs: HMAC PRFs, MODP
//! Diffie-Hellman, RFC 2409 §5 key derivation, AES-CBC and the KEYMAT
//! expansion of §5.5.
//!
//! A private shim: `hybridlab-ike-crypto` was being written at the same
//! time. The primitives are `ring` (HMAC, digests), RustCrypto `aes` +
//! `cbc`, and `crypto-bigint` (constant-time Montgomery exponentiation).
//! Secrets live in `Zeroizing` buffers.

use crate::proposal::{Cipher, DhGroup, Integrity};
use crate::random::Random;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::Uint;
use ring::{digest, hmac};
use zeroize::Zeroizing;

pub type Secret = Zeroizing<Vec<u8>>;

pub const AES_BLOCK: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the peer's Diffie-Hellman public value is out of range")]
    BadPublicValue,
    #[error("ciphertext is not a whole number of blocks")]
    NotBlockAligned,
    #[error("wrong key or IV length")]
    KeyLength,
}

fn hmac_alg(i: Integrity) -> hmac::Algorithm {
    match i {
        Integrity::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        Integrity::Sha256 => hmac::HMAC_SHA256,
        Integrity::Sha384 => hmac::HMAC_SHA384,
        Integrity::Sha512 => hmac::HMAC_SHA512,
    }
}

fn digest_alg(i: Integrity) -> &'static digest::Algorithm {
    match i {
        Integrity::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        Integrity::Sha256 => &digest::SHA256,
        Integrity::Sha384 => &digest::SHA384,
        Integrity::Sha512 => &digest::SHA512,
    }
}

/// RFC 2409 §4: the PRF is the HMAC version of the negotiated hash.
pub fn prf(i: Integrity, key: &[u8], parts: &[&[u8]]) -> Secret {
    let key = hmac::Key::new(hmac_alg(i), key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    Zeroizing::new(ctx.sign().as_ref().to_vec())
}

pub fn hash(i: Integrity, parts: &[&[u8]]) -> Vec<u8> {
    let mut ctx = digest::Context::new(digest_alg(i));
    for p in parts {
        ctx.update(p);
    }
    ctx.finish().as_ref().to_vec()
}

/// Constant-time comparison for received hashes.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// RFC 2409 §6.2 (group 2) and RFC 3526 §3 (group 14) primes, generator 2.
const MODP1024: &str = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff";
const MODP2048: &str = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff";

fn prime(group: DhGroup) -> Vec<u8> {
    let hex = match group {
        DhGroup::Modp1024 => MODP1024,
        DhGroup::Modp2048 => MODP2048,
    };
    (0..hex.len())
        .step_by(2)
        .filter_map(|i| hex.get(i..i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect()
}

fn words_be<const L: usize>(x: &Uint<L>) -> Vec<u8> {
    x.as_words()
        .iter()
        .rev()
        .flat_map(|w| w.to_be_bytes())
        .collect()
}

/// `base^exp mod p`, all big-endian of the group's length.
fn modexp<const L: usize>(p: &[u8], base: &[u8], exp: &[u8]) -> Secret {
    let p = Uint::<L>::from_be_slice(p);
    let params = DynResidueParams::new(&p);
    let b = DynResidue::new(&Uint::<L>::from_be_slice(base), params);
    let e = Zeroizing::new(Uint::<L>::from_be_slice(exp));
    Zeroizing::new(words_be(&b.pow(&e).retrieve()))
}

fn group_modexp(group: DhGroup, base: &[u8], exp: &[u8]) -> Secret {
    let p = prime(group);
    match group {
        DhGroup::Modp1024 => modexp::<{ 1024 / 64 }>(&p, base, exp),
        DhGroup::Modp2048 => modexp::<{ 2048 / 64 }>(&p, base, exp),
    }
}

/// One side's Diffie-Hellman values for one exchange.
pub struct Dh {
    pub group: DhGroup,
    private: Secret,
    pub public: Vec<u8>,
}

impl std::fmt::Debug for Dh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dh").field("group", &self.group).finish()
    }
}

impl Dh {
    pub fn new(group: DhGroup, rng: &mut dyn Random) -> Dh {
        let mut private = Zeroizing::new(vec![0u8; group.public_len()]);
        rng.fill(&mut private);
        // Below p: p's top octet is 0xff, so clearing the top bit suffices.
        if let Some(top) = private.first_mut() {
            *top &= 0x7f;
        }
        let mut g = vec![0u8; group.public_len()];
        if let Some(last) = g.last_mut() {
            *last = 2;
        }
        let public = group_modexp(group, &g, &private).to_vec();
        Dh {
            group,
            private,
            public,
        }
    }

    /// g^xy. The peer's value must be exactly the group's length and in
    /// 2 ..= p − 2 (a value of 1 or p − 1 would force a known secret).
    pub fn shared(&self, peer: &[u8]) -> Result<Secret, CryptoError> {
        let p = prime(self.group);
        if peer.len() != p.len() {
            return Err(CryptoError::BadPublicValue);
        }
        let mut one = vec![0u8; p.len()];
        if let Some(last) = one.last_mut() {
            *last = 1;
        }
        let mut p_minus_1 = p.clone();
        if let Some(last) = p_minus_1.last_mut() {
            *last = last.wrapping_sub(1);
        }
        if peer <= &one[..] || peer >= &p_minus_1[..] {
            return Err(CryptoError::BadPublicValue);
        }
        Ok(group_modexp(self.group, peer, &self.private))
    }
}

/// RFC 2409 §5 and Appendix B: the phase 1 keying material.
pub struct Phase1Keys {
    pub skeyid: Secret,
    pub skeyid_d: Secret,
    pub skeyid_a: Secret,
    #[allow(dead_code)]
    pub skeyid_e: Secret,
    /// The encryption key: SKEYID_e, expanded when too short (App. B).
    pub enc_key: Secret,
}

impl Phase1Keys {
    /// Pre-shared keys: SKEYID = prf(pre-shared-key, Ni_b | Nr_b).
    #[allow(clippy::too_many_arguments)]
    pub fn derive(
        i: Integrity,
        cipher: Cipher,
        psk: &[u8],
        ni: &[u8],
        nr: &[u8],
        gxy: &[u8],
        icookie: u64,
        rcookie: u64,
    ) -> Phase1Keys {
        let ci = icookie.to_be_bytes();
        let cr = rcookie.to_be_bytes();
        let skeyid = prf(i, psk, &[ni, nr]);
        let skeyid_d = prf(i, &skeyid, &[gxy, &ci, &cr, &[0]]);
        let skeyid_a = prf(i, &skeyid, &[&skeyid_d, gxy, &ci, &cr, &[1]]);
        let skeyid_e = prf(i, &skeyid, &[&skeyid_a, gxy, &ci, &cr, &[2]]);
        let enc_key = expand_appendix_b(i, &skeyid_e, cipher.key_len());
        Phase1Keys {
            skeyid,
            skeyid_d,
            skeyid_a,
            skeyid_e,
            enc_key,
        }
    }
}

/// RFC 2409 Appendix B: K = K1 | K2 | …, K1 = prf(SKEYID_e, 0),
/// Kn = prf(SKEYID_e, Kn-1), used only when SKEYID_e is too short.
fn expand_appendix_b(i: Integrity, skeyid_e: &[u8], len: usize) -> Secret {
    if skeyid_e.len() >= len {
        return Zeroizing::new(skeyid_e.get(..len).unwrap_or(skeyid_e).to_vec());
    }
    let mut out = Zeroizing::new(Vec::with_capacity(len + 64));
    let mut k = prf(i, skeyid_e, &[&[0]]);
    while out.len() < len {
        out.extend_from_slice(&k);
        k = prf(i, skeyid_e, &[&k]);
    }
    out.truncate(len);
    out
}

/// RFC 2409 §5.5: KEYMAT = K1 | K2 | …, K1 = prf(SKEYID_d, [g(qm)^xy |]
/// protocol | SPI | Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |]
/// protocol | SPI | Ni_b | Nr_b).
#[allow(clippy::too_many_arguments)]
pub fn keymat(
    i: Integrity,
    skeyid_d: &[u8],
    gxy: Option<&[u8]>,
    protocol: u8,
    spi: u32,
    ni: &[u8],
    nr: &[u8],
    len: usize,
) -> Secret {
    let spi = spi.to_be_bytes();
    let g = gxy.unwrap_or_default();
    let mut out = Zeroizing::new(Vec::with_capacity(len + 64));
    let mut k = prf(i, skeyid_d, &[g, &[protocol], &spi, ni, nr]);
    while out.len() < len {
        out.extend_from_slice(&k);
        k = prf(i, skeyid_d, &[&k, g, &[protocol], &spi, ni, nr]);
    }
    out.truncate(len);
    out
}

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// AES-CBC over whole blocks, in place; IKEv1 pads its own messages.
pub fn encrypt(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
    use aes::cipher::block_padding::NoPadding;
    let len = data.len();
    if !len.is_multiple_of(AES_BLOCK) {
        return Err(CryptoError::NotBlockAligned);
    }
    let r = match key.len() {
        16 => Aes128CbcEnc::new_from_slices(key, iv)
            .map_err(|_| CryptoError::KeyLength)?
            .encrypt_padded_mut::<NoPadding>(data, len)
            .map(|_| ()),
        32 => Aes256CbcEnc::new_from_slices(key, iv)
            .map_err(|_| CryptoError::KeyLength)?
            .encrypt_padded_mut::<NoPadding>(data, len)
            .map(|_| ()),
        _ => return Err(CryptoError::KeyLength),
    };
    r.map_err(|_| CryptoError::NotBlockAligned)
}

pub fn decrypt(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), CryptoError> {
    use aes::cipher::block_padding::NoPadding;
    if !data.len().is_multiple_of(AES_BLOCK) || data.is_empty() {
        return Err(CryptoError::NotBlockAligned);
    }
    let r = match key.len() {
        16 => Aes128CbcDec::new_from_slices(key, iv)
            .map_err(|_| CryptoError::KeyLength)?
            .decrypt_padded_mut::<NoPadding>(data)
            .map(|_| ()),
        32 => Aes256CbcDec::new_from_slices(key, iv)
            .map_err(|_| CryptoError::KeyLength)?
            .decrypt_padded_mut::<NoPadding>(data)
            .map(|_| ()),
        _ => return Err(CryptoError::KeyLength),
    };
    r.map_err(|_| CryptoError::NotBlockAligned)
}

/// RFC 3947 §3.2: HASH = HASH(CKY-I | CKY-R | IP | Port), the negotiated
/// hash (not the PRF).
pub fn nat_d(i: Integrity, icookie: u64, rcookie: u64, addr: &std::net::SocketAddr) -> Vec<u8> {
    let ip: Vec<u8> = match addr.ip() {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    };
    hash(
        i,
        &[
            &icookie.to_be_bytes(),
            &rcookie.to_be_bytes(),
            &ip,
            &addr.port().to_be_bytes(),
        ],
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
            let a = Dh::new(g, &mut rng);
            let b = Dh::new(g, &mut rng);
            assert_eq!(a.public.len(), g.public_len());
            let ab = a.shared(&b.public).unwrap();
            let ba = b.shared(&a.public).unwrap();
            assert_eq!(*ab, *ba);
            assert!(a.shared(&vec![0u8; g.public_len()]).is_err());
            assert!(a.shared(&prime(g)).is_err());
            assert!(a.shared(&[1, 2, 3]).is_err());
        }
    }

    #[test]
    fn prime_lengths() {
        assert_eq!(prime(DhGroup::Modp1024).len(), 128);
        assert_eq!(prime(DhGroup::Modp2048).len(), 256);
    }

    #[test]
    fn hmac_sha1_rfc2202_case_2() {
        let mac = prf(
            Integrity::Sha1,
            b"Jefe",
            &[b"what do ya want ", b"for nothing?"],
        );
        assert_eq!(
            mac.to_vec(),
            [
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
            ]
        );
    }

    #[test]
    fn aes_cbc_round_trip() {
        let key = [7u8; 32];
        let iv = [1u8; 16];
        let mut data = [42u8; 48];
        encrypt(&key, &iv, &mut data).unwrap();
        assert_ne!(data, [42u8; 48]);
        decrypt(&key, &iv, &mut data).unwrap();
        assert_eq!(data, [42u8; 48]);
        assert!(decrypt(&key, &iv, &mut [0u8; 15]).is_err());
    }

    #[test]
    fn expansion_only_when_short() {
        let e = [5u8; 20];
        assert_eq!(
            expand_appendix_b(Integrity::Sha1, &e, 16).to_vec(),
            vec![5u8; 16]
        );
        let long = expand_appendix_b(Integrity::Sha1, &e, 32);
        assert_eq!(long.len(), 32);
        assert_eq!(&long[..20], &prf(Integrity::Sha1, &e, &[&[0]])[..]);
    }
}
