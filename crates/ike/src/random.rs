//! Where the peer's randomness comes from: cookies, nonces, DH private
//! values, SPIs, Message IDs and the rekey fuzz.
//!
//! Injected, so a test run replays exactly. In service the runtime hands in
//! [`SystemRandom`] (the operating system's generator through `ring`);
//! tests hand in [`SeededRandom`], which must never key a real tunnel.

/// A source of random octets.
pub trait Random {
    fn fill(&mut self, buf: &mut [u8]);

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_be_bytes(b)
    }

    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        u32::from_be_bytes(b)
    }

    /// Uniform enough in `0..=high` for timer fuzz.
    fn below_or_equal(&mut self, high: u64) -> u64 {
        match high.checked_add(1) {
            Some(span) => self.next_u64() % span,
            None => self.next_u64(),
        }
    }
}

impl<F: FnMut(&mut [u8])> Random for F {
    fn fill(&mut self, buf: &mut [u8]) {
        self(buf)
    }
}

/// Deterministic: SplitMix64 from one seed. For tests and replays only.
#[derive(Clone, Debug)]
pub struct SeededRandom(hybridlab_prng::SplitMix64);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom(hybridlab_prng::SplitMix64::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.0.next_u64().to_be_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// The operating system's generator. A failure of the OS generator is not
/// something a tunnel can work around: it aborts rather than key with
/// predictable bytes.
#[derive(Debug)]
pub struct SystemRandom(ring::rand::SystemRandom);

impl SystemRandom {
    pub fn new() -> Self {
        SystemRandom(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl Random for SystemRandom {
    #[allow(clippy::panic)]
    fn fill(&mut self, buf: &mut [u8]) {
        use ring::rand::SecureRandom;
        if self.0.fill(buf).is_err() {
            panic!("the operating system's random generator failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_repeatable() {
        let mut a = SeededRandom::new(5);
        let mut b = SeededRandom::new(5);
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
    }

    #[test]
    fn closures_are_sources() {
        let mut zero = |b: &mut [u8]| b.fill(7);
        assert_eq!(zero.next_u32(), 0x0707_0707);
    }
}
