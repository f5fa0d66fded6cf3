//! AES-CBC for ISAKMP messages, with IKEv1's IV chaining.
//!
//! IKEv1 sends no IV on the wire (RFC 2409 Appendix B): both peers derive the
//! first IV of each exchange and then chain it, the last ciphertext block of
//! one message being the IV of the next message of the same exchange. So
//! both `encrypt` and `decrypt` return that last block as the next IV; the
//! caller keeps one IV per exchange (see [`crate::ikev1::IvStore`]) and
//! commits the new IV only once a message is accepted, so a forged or
//! corrupted message cannot desynchronise the chain.
//!
//! No padding mode: IKE pads its own plaintext. strongSwan 5.9 pads with
//! 1..=16 zero bytes (a whole zero block when the payloads are already
//! aligned) and never strips padding on receipt: the payload chain and the
//! ISAKMP header say where the content ends. [`pad`] does the same, and
//! `decrypt` accepts any padding because it never interprets it.

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyIvInit};

use crate::error::{CryptoError, Result};
use crate::secret::SecretBytes;

/// AES block length, the CBC IV length.
pub const BLOCK_LEN: usize = 16;

/// A CBC IV (one AES block).
pub type Iv = [u8; BLOCK_LEN];

/// The IKEv1 encryption algorithms supported: AES-CBC (RFC 3602, IKEv1
/// attribute value 7) with its Key Length attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CipherAlg {
    /// AES-128-CBC (AWS's default).
    Aes128Cbc,
    /// AES-192-CBC.
    Aes192Cbc,
    /// AES-256-CBC.
    Aes256Cbc,
}

impl CipherAlg {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            CipherAlg::Aes128Cbc => 16,
            CipherAlg::Aes192Cbc => 24,
            CipherAlg::Aes256Cbc => 32,
        }
    }

    /// The algorithm for an IKEv1 Key Length attribute in bits.
    pub const fn aes_from_key_bits(bits: u16) -> Option<Self> {
        match bits {
            128 => Some(CipherAlg::Aes128Cbc),
            192 => Some(CipherAlg::Aes192Cbc),
            256 => Some(CipherAlg::Aes256Cbc),
            _ => None,
        }
    }
}

/// An AES-CBC key for ISAKMP messages. The key bytes are wiped on drop; the
/// AES key schedule lives only during a call (the `aes` crate wipes it).
#[derive(Debug, Clone)]
pub struct IkeCipher {
    alg: CipherAlg,
    key: SecretBytes,
}

impl IkeCipher {
    /// A cipher with `key`, which must be `alg.key_len()` bytes.
    pub fn new(alg: CipherAlg, key: &[u8]) -> Result<Self> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::KeyLength {
                expected: alg.key_len(),
                got: key.len(),
            });
        }
        Ok(Self {
            alg,
            key: SecretBytes::from_slice(key),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> CipherAlg {
        self.alg
    }

    /// Encrypts already padded `plaintext` (a non-empty multiple of
    /// [`BLOCK_LEN`]) with `iv`; returns the ciphertext and the next IV of
    /// this exchange (its last block).
    pub fn encrypt(&self, iv: &Iv, plaintext: &[u8]) -> Result<(Vec<u8>, Iv)> {
        check_aligned(plaintext.len())?;
        let mut buf = plaintext.to_vec();
        let key = self.key.as_bytes();
        match self.alg {
            CipherAlg::Aes128Cbc => encrypt_in::<Aes128>(key, iv, &mut buf)?,
            CipherAlg::Aes192Cbc => encrypt_in::<Aes192>(key, iv, &mut buf)?,
            CipherAlg::Aes256Cbc => encrypt_in::<Aes256>(key, iv, &mut buf)?,
        }
        let next = last_block(&buf)?;
        Ok((buf, next))
    }

    /// Decrypts `ciphertext` (a non-empty multiple of [`BLOCK_LEN`], as taken
    /// from the wire) with `iv`; returns the plaintext, padding included,
    /// and the next IV of this exchange (the ciphertext's last block).
    pub fn decrypt(&self, iv: &Iv, ciphertext: &[u8]) -> Result<(Vec<u8>, Iv)> {
        check_aligned(ciphertext.len())?;
        let next = last_block(ciphertext)?;
        let mut buf = ciphertext.to_vec();
        let key = self.key.as_bytes();
        match self.alg {
            CipherAlg::Aes128Cbc => decrypt_in::<Aes128>(key, iv, &mut buf)?,
            CipherAlg::Aes192Cbc => decrypt_in::<Aes192>(key, iv, &mut buf)?,
            CipherAlg::Aes256Cbc => decrypt_in::<Aes256>(key, iv, &mut buf)?,
        }
        Ok((buf, next))
    }
}

/// Pads `body` to a whole number of blocks the way strongSwan does: 1 to
/// [`BLOCK_LEN`] zero bytes, so there is always padding.
pub fn pad(body: &mut Vec<u8>) {
    let padding = BLOCK_LEN - body.len() % BLOCK_LEN;
    body.resize(body.len() + padding, 0);
}

fn check_aligned(len: usize) -> Result<()> {
    if len == 0 || len % BLOCK_LEN != 0 {
        return Err(CryptoError::NotBlockAligned {
            len,
            block: BLOCK_LEN,
        });
    }
    Ok(())
}

fn last_block(data: &[u8]) -> Result<Iv> {
    let start = data
        .len()
        .checked_sub(BLOCK_LEN)
        .ok_or(CryptoError::NotBlockAligned {
            len: data.len(),
            block: BLOCK_LEN,
        })?;
    let mut iv = [0u8; BLOCK_LEN];
    iv.copy_from_slice(&data[start..]);
    Ok(iv)
}

// `IkeCipher` checked the key and data lengths, the only things the cipher
// crates refuse; their errors are still mapped, never ignored, so a failure
// can never leave plaintext in a buffer meant for the wire.

fn encrypt_in<C>(key: &[u8], iv: &Iv, buf: &mut [u8]) -> Result<()>
where
    C: BlockEncryptMut + BlockCipher,
    cbc::Encryptor<C>: KeyIvInit + BlockEncryptMut,
{
    let len = buf.len();
    cbc::Encryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| CryptoError::Cipher)?
        .encrypt_padded_mut::<NoPadding>(buf, len)
        .map_err(|_| CryptoError::Cipher)?;
    Ok(())
}

fn decrypt_in<C>(key: &[u8], iv: &Iv, buf: &mut [u8]) -> Result<()>
where
    C: BlockDecryptMut + BlockCipher,
    cbc::Decryptor<C>: KeyIvInit + BlockDecryptMut,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| CryptoError::Cipher)?
        .decrypt_padded_mut::<NoPadding>(buf)
        .map_err(|_| CryptoError::Cipher)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    fn iv(s: &str) -> Iv {
        hex(s).try_into().unwrap()
    }

    /// RFC 3602 §4 test cases 1-4 (AES-128-CBC).
    #[test]
    fn rfc3602_vectors() {
        let cases = [
            (
                "06a9214036b8a15b512e03d534120006",
                "3dafba429d9eb430b422da802c9fac41",
                "53696e676c6520626c6f636b206d7367",
                "e353779c1079aeb82708942dbe77181a",
            ),
            (
                "c286696d887c9aa0611bbb3e2025a45a",
                "562e17996d093d28ddb3ba695a2e6f58",
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1",
            ),
            (
                "6c3ea0477630ce21a2ce334aa746c2cd",
                "c782dc4c098c66cbd9cd27d825682c81",
                "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320626c6f636b7329",
                "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684",
            ),
            (
                "56e47a38c5598974bc46903dba290349",
                "8ce82eefbea0da3c44699ed7db51b7d9",
                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
                 c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
                "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e\
                 35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55",
            ),
        ];
        for (key, iv_hex, plain, cipher) in cases {
            let c = IkeCipher::new(CipherAlg::Aes128Cbc, &hex(key)).unwrap();
            let (ct, next) = c.encrypt(&iv(iv_hex), &hex(plain)).unwrap();
            assert_eq!(ct, hex(cipher));
            assert_eq!(&next[..], &ct[ct.len() - 16..]);
            let (pt, next2) = c.decrypt(&iv(iv_hex), &ct).unwrap();
            assert_eq!(pt, hex(plain));
            assert_eq!(next, next2);
        }
    }

    /// NIST SP 800-38A F.2.3 / F.2.5 (AES-192/256-CBC), first two blocks.
    #[test]
    fn sp800_38a_aes192_aes256() {
        let iv0 = iv("000102030405060708090a0b0c0d0e0f");
        let plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
        let c192 = IkeCipher::new(
            CipherAlg::Aes192Cbc,
            &hex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"),
        )
        .unwrap();
        assert_eq!(
            c192.encrypt(&iv0, &plain).unwrap().0,
            hex("4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a")
        );
        let c256 = IkeCipher::new(
            CipherAlg::Aes256Cbc,
            &hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"),
        )
        .unwrap();
        assert_eq!(
            c256.encrypt(&iv0, &plain).unwrap().0,
            hex("f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d")
        );
    }

    /// Chaining: two messages encrypted in turn equal one CBC run.
    #[test]
    fn next_iv_chains_messages() {
        let c = IkeCipher::new(CipherAlg::Aes128Cbc, &[7; 16]).unwrap();
        let (whole, _) = c.encrypt(&[1; 16], &[9; 64]).unwrap();
        let (first, next) = c.encrypt(&[1; 16], &[9; 32]).unwrap();
        let (second, _) = c.encrypt(&next, &[9; 32]).unwrap();
        assert_eq!([first, second].concat(), whole);
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            IkeCipher::new(CipherAlg::Aes256Cbc, &[0; 16]).unwrap_err(),
            CryptoError::KeyLength {
                expected: 32,
                got: 16
            }
        );
        let c = IkeCipher::new(CipherAlg::Aes128Cbc, &[0; 16]).unwrap();
        for len in [0, 1, 15, 17, 31] {
            assert!(c.decrypt(&[0; 16], &vec![0; len]).is_err(), "{len}");
            assert!(c.encrypt(&[0; 16], &vec![0; len]).is_err(), "{len}");
        }
    }

    #[test]
    fn pad_like_strongswan() {
        for (len, padded) in [(1, 16), (15, 16), (16, 32), (17, 32), (28, 32)] {
            let mut v = vec![0xaa; len];
            pad(&mut v);
            assert_eq!(v.len(), padded, "{len}");
            assert!(v[len..].iter().all(|b| *b == 0));
        }
    }

    #[test]
    fn key_bits() {
        assert_eq!(
            CipherAlg::aes_from_key_bits(192),
            Some(CipherAlg::Aes192Cbc)
        );
        assert_eq!(CipherAlg::aes_from_key_bits(64), None);
    }
}
