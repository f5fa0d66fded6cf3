//! An installed IPsec SA pair and its keys (RFC 2409 §5.5).

use super::{ChildSaInfo, Key};
use crate::crypto::Phase1Keys;
use crate::proposal::Phase2Proposal;
use zeroize::Zeroizing;

pub(super) struct Child {
    pub info: ChildSaInfo,
    /// A newer SA took over: no rekey of this one any more; it lives
    /// until the peer deletes it or its lifetime ends.
    pub replaced: bool,
    /// We started its replacement.
    pub rekeying: bool,
}

/// Both directions' keys: KEYMAT for an SA is computed with that SA's SPI,
/// encryption key first, then the integrity key (RFC 2409 §5.5, RFC 2407
/// §4.5 key lengths; HMAC-SHA1-96 keys are 160 bits, RFC 2404 §3).
pub(super) struct Keys {
    pub enc_in: Key,
    pub integ_in: Key,
    pub enc_out: Key,
    pub integ_out: Key,
}

pub(super) fn derive(
    proposal: &Phase2Proposal,
    keys: &Phase1Keys,
    gxy: Option<&[u8]>,
    spi_in: u32,
    spi_out: u32,
    ni: &[u8],
    nr: &[u8],
) -> Keys {
    let enc_len = proposal.cipher.key_len();
    let integ_len = proposal.integrity.output_len();
    let one = |spi| {
        let k = keys.esp_keys(gxy, spi, (ni, nr), enc_len, integ_len);
        (
            Key(Zeroizing::new(k.encryption.as_bytes().to_vec())),
            Key(Zeroizing::new(k.integrity.as_bytes().to_vec())),
        )
    };
    let (enc_in, integ_in) = one(spi_in);
    let (enc_out, integ_out) = one(spi_out);
    Keys {
        enc_in,
        integ_in,
        enc_out,
        integ_out,
    }
}
