//! SKEYID and its three children, and the phase-1 encryption key
//! (RFC 2409 §5 and Appendix B), for pre-shared-key authentication.

use crate::cipher::{CipherAlg, IkeCipher};
use crate::error::Result;
use crate::hash::Prf;
use crate::ikev1::Cookie;
use crate::secret::SecretBytes;

/// What main mode has exchanged by message 4: the inputs of the key
/// derivation besides the pre-shared key.
#[derive(Debug, Clone, Copy)]
pub struct Phase1Material<'a> {
    /// Ni_b: the body of the initiator's nonce payload.
    pub ni_b: &'a [u8],
    /// Nr_b: the body of the responder's nonce payload.
    pub nr_b: &'a [u8],
    /// g^xy, modulus-length big-endian ([`crate::dh::SharedSecret`]).
    pub g_xy: &'a [u8],
    /// CKY-I, the initiator's cookie.
    pub cky_i: &'a Cookie,
    /// CKY-R, the responder's cookie.
    pub cky_r: &'a Cookie,
}

/// The keys of an ISAKMP SA. Every field is wiped on drop.
#[derive(Debug, Clone)]
pub struct Phase1Keys {
    prf: Prf,
    skeyid: SecretBytes,
    skeyid_d: SecretBytes,
    skeyid_a: SecretBytes,
    skeyid_e: SecretBytes,
    enc_key: SecretBytes,
    cipher: IkeCipher,
}

impl Phase1Keys {
    /// Derives the ISAKMP SA keys for pre-shared-key authentication
    /// (RFC 2409 §5):
    ///
    /// ```text
    /// SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)
    /// SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
    /// SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
    /// SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
    /// ```
    ///
    /// and the encryption key from SKEYID_e (Appendix B, see
    /// [`Phase1Keys::enc_key`]).
    pub fn derive_psk(
        prf: Prf,
        psk: &[u8],
        m: &Phase1Material<'_>,
        cipher: CipherAlg,
    ) -> Result<Self> {
        let skeyid = prf.compute(psk, &[m.ni_b, m.nr_b]);
        let k = skeyid.as_bytes();
        let skeyid_d = prf.compute(k, &[m.g_xy, m.cky_i, m.cky_r, &[0]]);
        let skeyid_a = prf.compute(k, &[skeyid_d.as_bytes(), m.g_xy, m.cky_i, m.cky_r, &[1]]);
        let skeyid_e = prf.compute(k, &[skeyid_a.as_bytes(), m.g_xy, m.cky_i, m.cky_r, &[2]]);
        let enc_key = expand_skeyid_e(prf, &skeyid_e, cipher.key_len());
        let cipher = IkeCipher::new(cipher, enc_key.as_bytes())?;
        Ok(Self {
            prf,
            skeyid,
            skeyid_d,
            skeyid_a,
            skeyid_e,
            enc_key,
            cipher,
        })
    }

    /// The PRF every later formula uses.
    pub fn prf(&self) -> Prf {
        self.prf
    }

    /// SKEYID: keys HASH_I and HASH_R.
    pub fn skeyid(&self) -> &SecretBytes {
        &self.skeyid
    }

    /// SKEYID_d: keys the KEYMAT of phase-2 SAs.
    pub fn skeyid_d(&self) -> &SecretBytes {
        &self.skeyid_d
    }

    /// SKEYID_a: keys the phase-2 and informational HASH payloads.
    pub fn skeyid_a(&self) -> &SecretBytes {
        &self.skeyid_a
    }

    /// SKEYID_e: the source of the encryption key.
    pub fn skeyid_e(&self) -> &SecretBytes {
        &self.skeyid_e
    }

    /// The ISAKMP SA's encryption key ("Ka" in strongSwan's logs).
    ///
    /// RFC 2409 Appendix B: the first bytes of SKEYID_e when it is long
    /// enough; otherwise the first bytes of K1 | K2 | ... with
    /// K1 = prf(SKEYID_e, 0) (a single zero byte) and Ki = prf(SKEYID_e,
    /// Ki-1) — e.g. AES-256 with SHA-1.
    pub fn enc_key(&self) -> &SecretBytes {
        &self.enc_key
    }

    /// The cipher keyed with [`Phase1Keys::enc_key`].
    pub fn cipher(&self) -> &IkeCipher {
        &self.cipher
    }
}

fn expand_skeyid_e(prf: Prf, skeyid_e: &SecretBytes, key_len: usize) -> SecretBytes {
    let e = skeyid_e.as_bytes();
    if e.len() >= key_len {
        return SecretBytes::from_slice(&e[..key_len]);
    }
    let mut out = SecretBytes::new(Vec::with_capacity(key_len + prf.output_len()));
    let mut block = prf.compute(e, &[&[0]]);
    loop {
        out = SecretBytes::new([out.as_bytes(), block.as_bytes()].concat());
        if out.len() >= key_len {
            break;
        }
        block = prf.compute(e, &[block.as_bytes()]);
    }
    SecretBytes::from_slice(&out.as_bytes()[..key_len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashAlg;

    fn material<'a>(g_xy: &'a [u8]) -> Phase1Material<'a> {
        Phase1Material {
            ni_b: b"initiator nonce.",
            nr_b: b"responder nonce.",
            g_xy,
            cky_i: &[1, 2, 3, 4, 5, 6, 7, 8],
            cky_r: &[9, 10, 11, 12, 13, 14, 15, 16],
        }
    }

    /// The chain written out with the PRF itself, so a reordered or
    /// missing input is caught even without a captured vector.
    #[test]
    fn derivation_follows_rfc2409_section5() {
        let prf = HashAlg::Sha1.prf();
        let g_xy = [0x5a; 128];
        let m = material(&g_xy);
        let keys = Phase1Keys::derive_psk(prf, b"psk", &m, CipherAlg::Aes128Cbc).unwrap();
        let skeyid = prf.compute(b"psk", &[b"initiator nonce.responder nonce."]);
        assert_eq!(keys.skeyid(), &skeyid);
        let cookies = [m.cky_i.as_slice(), m.cky_r.as_slice()].concat();
        let d = prf.compute(skeyid.as_bytes(), &[&g_xy, &cookies, &[0]]);
        assert_eq!(keys.skeyid_d(), &d);
        let a = prf.compute(skeyid.as_bytes(), &[d.as_bytes(), &g_xy, &cookies, &[1]]);
        assert_eq!(keys.skeyid_a(), &a);
        let e = prf.compute(skeyid.as_bytes(), &[a.as_bytes(), &g_xy, &cookies, &[2]]);
        assert_eq!(keys.skeyid_e(), &e);
        assert_eq!(keys.enc_key().as_bytes(), &e.as_bytes()[..16]);
    }

    #[test]
    fn appendix_b_expansion() {
        let prf = HashAlg::Sha1.prf();
        let g_xy = [0x5a; 128];
        let keys =
            Phase1Keys::derive_psk(prf, b"psk", &material(&g_xy), CipherAlg::Aes256Cbc).unwrap();
        let e = keys.skeyid_e().as_bytes();
        let k1 = prf.compute(e, &[&[0]]);
        let k2 = prf.compute(e, &[k1.as_bytes()]);
        let expected = [k1.as_bytes(), &k2.as_bytes()[..12]].concat();
        assert_eq!(keys.enc_key().as_bytes(), &expected[..]);
        // With SHA2-256 SKEYID_e is already 32 bytes: no expansion.
        let prf = HashAlg::Sha2_256.prf();
        let keys =
            Phase1Keys::derive_psk(prf, b"psk", &material(&g_xy), CipherAlg::Aes256Cbc).unwrap();
        assert_eq!(keys.enc_key(), keys.skeyid_e());
    }
}
