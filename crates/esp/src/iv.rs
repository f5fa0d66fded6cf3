//! Where per-packet IVs come from.
//!
//! RFC 3602 §2.1: the IV MUST be chosen at random and MUST be unpredictable;
//! a counter or the previous ciphertext block would open CBC to chosen-
//! plaintext attacks. So IVs are drawn from a `ring::rand::SecureRandom`
//! passed in by the caller, not from the seeded simulation PRNG
//! (`hybridlab-prng`): replayable runs must not have predictable IVs.
//! Tests plug in fixed IVs through the same trait to check RFC vectors.

use ring::rand::SecureRandom;
use zeroize::Zeroize;

use crate::algorithms::IV_LEN;

/// A source of 16-byte IVs for [`crate::SecurityAssociation::seal`].
pub trait IvSource {
    /// Fills `iv`; `Err(())` makes `seal` fail without sending.
    #[allow(clippy::result_unit_err)]
    fn fill_iv(&mut self, iv: &mut [u8; IV_LEN]) -> Result<(), ()>;
}

/// Any closure can serve, e.g. a fixed IV in a known-answer test.
impl<F: FnMut(&mut [u8; IV_LEN]) -> Result<(), ()>> IvSource for F {
    fn fill_iv(&mut self, iv: &mut [u8; IV_LEN]) -> Result<(), ()> {
        self(iv)
    }
}

/// How many IVs one call to the random source buys.
const BATCH: usize = 256;

/// IVs from a secure random source, fetched [`BATCH`] at a time: one
/// `getrandom` call per 256 packets instead of one per packet, which is a
/// measurable share of the per-packet budget at small packet sizes.
pub struct RandomIvs<R> {
    rng: R,
    buf: Box<[u8; IV_LEN * BATCH]>,
    /// Next unused byte in `buf`; `buf.len()` means empty.
    pos: usize,
}

impl<R: SecureRandom> RandomIvs<R> {
    pub fn new(rng: R) -> Self {
        RandomIvs {
            rng,
            buf: Box::new([0; IV_LEN * BATCH]),
            pos: IV_LEN * BATCH,
        }
    }
}

impl<R: SecureRandom> IvSource for RandomIvs<R> {
    fn fill_iv(&mut self, iv: &mut [u8; IV_LEN]) -> Result<(), ()> {
        if self.pos >= self.buf.len() {
            self.rng.fill(&mut self.buf[..]).map_err(|_| ())?;
            self.pos = 0;
        }
        let chunk = self.buf.get(self.pos..self.pos + IV_LEN).ok_or(())?;
        iv.copy_from_slice(chunk);
        self.pos += IV_LEN;
        Ok(())
    }
}

/// IVs not yet used are future wire bytes: wipe them rather than leave them
/// in freed memory where they would be predictable to a memory reader.
impl<R> Drop for RandomIvs<R> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn random_ivs_differ_and_refill_across_batches() {
        let mut ivs = RandomIvs::new(SystemRandom::new());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(BATCH * 3 + 5) {
            let mut iv = [0u8; IV_LEN];
            ivs.fill_iv(&mut iv).unwrap();
            assert!(seen.insert(iv), "repeated IV");
        }
    }
}
