//! Everything that takes bytes from the network refuses bad input with an
//! error and never panics: KE payload data, ciphertext, IVs.

use hybridlab_ike_crypto::ikev1::{IvStore, Phase1Keys, Phase1Material};
use hybridlab_ike_crypto::{CipherAlg, CryptoError, DhGroup, HashAlg, IkeCipher};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn dh_peer_values_never_panic(peer in proptest::collection::vec(any::<u8>(), 0..300), group14 in any::<bool>()) {
        let group = if group14 { DhGroup::Modp2048 } else { DhGroup::Modp1024 };
        let me = group.private_from_exponent(&[0x42; 32]).unwrap();
        match me.shared(&peer) {
            Ok(s) => prop_assert_eq!(s.as_bytes().len(), group.modulus_len()),
            Err(CryptoError::PublicValueLength { .. })
            | Err(CryptoError::PublicValueRange)
            | Err(CryptoError::DegenerateSharedSecret) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn decrypt_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), iv in any::<[u8; 16]>()) {
        let c = IkeCipher::new(CipherAlg::Aes256Cbc, &[1; 32]).unwrap();
        match c.decrypt(&iv, &data) {
            Ok((plain, next)) => {
                prop_assert_eq!(plain.len(), data.len());
                prop_assert_eq!(&next[..], &data[data.len() - 16..]);
                // Round trip: what decrypts re-encrypts to the same bytes.
                prop_assert_eq!(c.encrypt(&iv, &plain).unwrap().0, data);
            }
            Err(CryptoError::NotBlockAligned { .. }) => prop_assert!(data.is_empty() || data.len() % 16 != 0),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn key_derivation_takes_any_lengths(
        psk in proptest::collection::vec(any::<u8>(), 0..100),
        ni in proptest::collection::vec(any::<u8>(), 0..300),
        g in proptest::collection::vec(any::<u8>(), 0..300),
        mid in any::<u32>(),
    ) {
        let m = Phase1Material { ni_b: &ni, nr_b: &ni, g_xy: &g, cky_i: &[1; 8], cky_r: &[2; 8] };
        for cipher in [CipherAlg::Aes128Cbc, CipherAlg::Aes192Cbc, CipherAlg::Aes256Cbc] {
            let k = Phase1Keys::derive_psk(HashAlg::Sha1.prf(), &psk, &m, cipher).unwrap();
            prop_assert_eq!(k.enc_key().len(), cipher.key_len());
            let mut ivs = IvStore::new(HashAlg::Sha1, [0; 16]);
            let _ = ivs.get(mid);
            let esp = k.esp_keys(None, mid, (&ni, &ni), 32, 32);
            prop_assert_eq!(esp.encryption.len() + esp.integrity.len(), 64);
        }
    }
}
