//! Phase-2 hashes and key material: quick mode (RFC 2409 §5.5) and
//! informational exchanges (RFC 2409 §5.7).

use crate::ikev1::Phase1Keys;
use crate::secret::SecretBytes;

/// The IPsec DOI protocol ID of ESP (RFC 2407 §4.4.1), the `protocol` octet
/// of KEYMAT.
pub const PROTO_IPSEC_ESP: u8 = 3;

/// Keys of one ESP SA (one direction): encryption key first, then the
/// integrity key, both cut from the same KEYMAT in that order (RFC 2409
/// §5.5 leaves the split to the algorithms; strongSwan and the kernel take
/// encryption first). Wiped on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspKeys {
    /// The cipher key.
    pub encryption: SecretBytes,
    /// The HMAC key.
    pub integrity: SecretBytes,
}

impl Phase1Keys {
    /// Quick-mode HASH(1) = prf(SKEYID_a, M-ID | Message after HASH),
    /// where "message after HASH" is every payload after the HASH payload,
    /// generic headers included, as sent.
    pub fn quick_hash1(&self, message_id: u32, after_hash: &[u8]) -> Vec<u8> {
        self.skeyid_a_prf(&[&message_id.to_be_bytes(), after_hash])
    }

    /// Quick-mode HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Message after HASH).
    pub fn quick_hash2(&self, message_id: u32, ni_b: &[u8], after_hash: &[u8]) -> Vec<u8> {
        self.skeyid_a_prf(&[&message_id.to_be_bytes(), ni_b, after_hash])
    }

    /// Quick-mode HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
    pub fn quick_hash3(&self, message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> Vec<u8> {
        self.skeyid_a_prf(&[&[0], &message_id.to_be_bytes(), ni_b, nr_b])
    }

    /// Informational HASH(1) = prf(SKEYID_a, M-ID | N/D) (RFC 2409 §5.7):
    /// the Notify or Delete payload after the HASH, generic header included.
    pub fn informational_hash(&self, message_id: u32, after_hash: &[u8]) -> Vec<u8> {
        self.quick_hash1(message_id, after_hash)
    }

    /// KEYMAT for one SA (RFC 2409 §5.5):
    ///
    /// ```text
    /// KEYMAT = K1 | K2 | K3 | ...
    /// K1 = prf(SKEYID_d, [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
    /// Ki = prf(SKEYID_d, Ki-1 | [ g(qm)^xy | ] protocol | SPI | Ni_b | Nr_b)
    /// ```
    ///
    /// `pfs_g_xy` is quick mode's own shared secret when PFS is on. `spi` is
    /// the SPI of the SA the keys are for, i.e. the one its *receiver*
    /// chose: initiator-to-responder traffic uses the SPI from the
    /// responder's SA payload. Returns the first `len` bytes.
    pub fn keymat(
        &self,
        pfs_g_xy: Option<&[u8]>,
        protocol: u8,
        spi: u32,
        nonces: (&[u8], &[u8]),
        len: usize,
    ) -> SecretBytes {
        let prf = self.prf();
        let key = self.skeyid_d().as_bytes();
        let g = pfs_g_xy.unwrap_or(&[]);
        let spi = spi.to_be_bytes();
        let (ni_b, nr_b) = nonces;
        let mut out = SecretBytes::new(Vec::with_capacity(len + prf.output_len()));
        let mut block = prf.compute(key, &[g, &[protocol], &spi, ni_b, nr_b]);
        loop {
            out = SecretBytes::new([out.as_bytes(), block.as_bytes()].concat());
            if out.len() >= len {
                break;
            }
            block = prf.compute(key, &[block.as_bytes(), g, &[protocol], &spi, ni_b, nr_b]);
        }
        SecretBytes::from_slice(&out.as_bytes()[..len])
    }

    /// ESP keys for the SA with `spi`: `enc_len` bytes of encryption key then
    /// `integ_len` bytes of integrity key from one KEYMAT.
    pub fn esp_keys(
        &self,
        pfs_g_xy: Option<&[u8]>,
        spi: u32,
        nonces: (&[u8], &[u8]),
        enc_len: usize,
        integ_len: usize,
    ) -> EspKeys {
        let keymat = self.keymat(pfs_g_xy, PROTO_IPSEC_ESP, spi, nonces, enc_len + integ_len);
        let (enc, integ) = keymat.as_bytes().split_at(enc_len);
        EspKeys {
            encryption: SecretBytes::from_slice(enc),
            integrity: SecretBytes::from_slice(integ),
        }
    }

    fn skeyid_a_prf(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.prf()
            .compute(self.skeyid_a().as_bytes(), parts)
            .as_bytes()
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::CipherAlg;
    use crate::hash::HashAlg;
    use crate::ikev1::Phase1Material;

    fn keys(hash: HashAlg) -> Phase1Keys {
        let m = Phase1Material {
            ni_b: b"ni",
            nr_b: b"nr",
            g_xy: &[3; 128],
            cky_i: &[1; 8],
            cky_r: &[2; 8],
        };
        Phase1Keys::derive_psk(hash.prf(), b"k", &m, CipherAlg::Aes128Cbc).unwrap()
    }

    #[test]
    fn quick_mode_hashes() {
        let k = keys(HashAlg::Sha1);
        let prf = k.prf();
        let a = k.skeyid_a().as_bytes();
        let mid = [0xde, 0xad, 0xbe, 0xef];
        assert_eq!(
            k.quick_hash1(0xdeadbeef, b"SA|Ni"),
            prf.compute(a, &[&mid, b"SA|Ni"]).as_bytes()
        );
        assert_eq!(
            k.quick_hash2(0xdeadbeef, b"ni", b"SA|Nr"),
            prf.compute(a, &[&mid, b"ni", b"SA|Nr"]).as_bytes()
        );
        assert_eq!(
            k.quick_hash3(0xdeadbeef, b"ni", b"nr"),
            prf.compute(a, &[&[0], &mid, b"ni", b"nr"]).as_bytes()
        );
        assert_eq!(k.informational_hash(7, b"D"), k.quick_hash1(7, b"D"));
    }

    #[test]
    fn keymat_expands_with_and_without_pfs() {
        let k = keys(HashAlg::Sha1);
        let prf = k.prf();
        let d = k.skeyid_d().as_bytes();
        let spi = 0xc001_d00d_u32.to_be_bytes();
        for pfs in [None, Some(&[9u8; 128][..])] {
            let g = pfs.unwrap_or(&[]);
            let k1 = prf.compute(d, &[g, &[3], &spi, b"ni", b"nr"]);
            let k2 = prf.compute(d, &[k1.as_bytes(), g, &[3], &spi, b"ni", b"nr"]);
            let k3 = prf.compute(d, &[k2.as_bytes(), g, &[3], &spi, b"ni", b"nr"]);
            let expected = [k1.as_bytes(), k2.as_bytes(), k3.as_bytes()].concat();
            let got = k.keymat(pfs, PROTO_IPSEC_ESP, 0xc001_d00d, (b"ni", b"nr"), 52);
            assert_eq!(got.as_bytes(), &expected[..52]);
            // AES-128 + HMAC-SHA1-96 keys: 16 + 20 bytes in that order.
            let esp = k.esp_keys(pfs, 0xc001_d00d, (b"ni", b"nr"), 16, 20);
            assert_eq!(esp.encryption.as_bytes(), &expected[..16]);
            assert_eq!(esp.integrity.as_bytes(), &expected[16..36]);
        }
    }
}
