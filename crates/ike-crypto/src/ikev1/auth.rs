//! Main-mode authentication hashes HASH_I and HASH_R (RFC 2409 §5).

use crate::ikev1::{Cookie, Phase1Keys};

/// The values both main-mode hashes cover besides the identity payload.
#[derive(Debug, Clone, Copy)]
pub struct AuthContext<'a> {
    /// g^xi: the initiator's KE data.
    pub g_xi: &'a [u8],
    /// g^xr: the responder's KE data.
    pub g_xr: &'a [u8],
    /// CKY-I.
    pub cky_i: &'a Cookie,
    /// CKY-R.
    pub cky_r: &'a Cookie,
    /// SAi_b: the whole body of the initiator's SA payload (without the
    /// generic payload header) — the offer, also when the responder checks.
    pub sai_b: &'a [u8],
}

impl Phase1Keys {
    /// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
    /// `idii_b` is the initiator's ID payload body (ID type, protocol, port
    /// and data, without the generic header).
    pub fn hash_i(&self, c: &AuthContext<'_>, idii_b: &[u8]) -> Vec<u8> {
        self.prf()
            .compute(
                self.skeyid().as_bytes(),
                &[c.g_xi, c.g_xr, c.cky_i, c.cky_r, c.sai_b, idii_b],
            )
            .as_bytes()
            .to_vec()
    }

    /// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b):
    /// the Diffie-Hellman values and the cookies swap, SAi_b stays.
    pub fn hash_r(&self, c: &AuthContext<'_>, idir_b: &[u8]) -> Vec<u8> {
        self.prf()
            .compute(
                self.skeyid().as_bytes(),
                &[c.g_xr, c.g_xi, c.cky_r, c.cky_i, c.sai_b, idir_b],
            )
            .as_bytes()
            .to_vec()
    }

    /// Checks a received HASH_I in constant time.
    pub fn verify_hash_i(&self, c: &AuthContext<'_>, idii_b: &[u8], received: &[u8]) -> bool {
        crate::constant_time_eq(&self.hash_i(c, idii_b), received)
    }

    /// Checks a received HASH_R in constant time.
    pub fn verify_hash_r(&self, c: &AuthContext<'_>, idir_b: &[u8], received: &[u8]) -> bool {
        crate::constant_time_eq(&self.hash_r(c, idir_b), received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::CipherAlg;
    use crate::hash::HashAlg;
    use crate::ikev1::Phase1Material;

    #[test]
    fn hashes_swap_dh_values_and_cookies() {
        let prf = HashAlg::Sha1.prf();
        let (cky_i, cky_r) = ([1; 8], [2; 8]);
        let m = Phase1Material {
            ni_b: b"ni",
            nr_b: b"nr",
            g_xy: &[3; 128],
            cky_i: &cky_i,
            cky_r: &cky_r,
        };
        let keys = Phase1Keys::derive_psk(prf, b"k", &m, CipherAlg::Aes128Cbc).unwrap();
        let c = AuthContext {
            g_xi: &[4; 128],
            g_xr: &[5; 128],
            cky_i: &cky_i,
            cky_r: &cky_r,
            sai_b: b"sa",
        };
        let skeyid = keys.skeyid().as_bytes();
        let i = prf.compute(
            skeyid,
            &[&[4; 128], &[5; 128], &[1; 8], &[2; 8], b"sa", b"idi"],
        );
        let r = prf.compute(
            skeyid,
            &[&[5; 128], &[4; 128], &[2; 8], &[1; 8], b"sa", b"idr"],
        );
        assert_eq!(keys.hash_i(&c, b"idi"), i.as_bytes());
        assert_eq!(keys.hash_r(&c, b"idr"), r.as_bytes());
        assert!(keys.verify_hash_i(&c, b"idi", i.as_bytes()));
        assert!(!keys.verify_hash_i(&c, b"idr", i.as_bytes()));
        assert!(keys.verify_hash_r(&c, b"idr", r.as_bytes()));
        assert!(!keys.verify_hash_r(&c, b"idr", &r.as_bytes()[..19]));
    }
}
