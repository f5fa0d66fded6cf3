//! Anti-replay window (RFC 4303 §3.4.3 and Appendix A).
//!
//! A bitmap of any size W, kept as a ring of 64-bit words in the style of
//! RFC 6479: the bit of sequence number `s` lives in word `(s / 64) mod N`,
//! bit `s mod 64`. Sliding the window right clears only the words it enters,
//! so a jump costs at most N word writes and an in-order packet costs none.
//! N is a power of two at least one word larger than W needs, so that the
//! word holding the right edge never aliases a word still inside the window.
//!
//! No ESN (RFC 4303 §2.2.1 64-bit numbers are not negotiated by IKEv1 with
//! AWS): sequence numbers are 32-bit, start at 1, and 0 is never valid.

use std::fmt;

use crate::error::ConfigError;

/// Default window: what AWS VPN endpoints use (1024 packets).
pub const DEFAULT_WINDOW: u32 = 1024;
/// Largest window accepted: 2^20 packets is 128 KiB of bitmap per SA.
pub const MAX_WINDOW: u32 = 1 << 20;

/// Why a sequence number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// Sequence number 0 is never sent: RFC 4303 §3.3.3 starts at 1.
    Zero,
    /// Left of the window: older than the newest packet minus W - 1.
    TooOld,
    /// Inside the window and already received.
    Duplicate,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReplayError::Zero => "zero",
            ReplayError::TooOld => "left of the window",
            ReplayError::Duplicate => "duplicate",
        })
    }
}

impl std::error::Error for ReplayError {}

#[derive(Debug, Clone)]
pub struct ReplayWindow {
    size: u32,
    /// Highest sequence number accepted so far; 0 before the first.
    top: u32,
    words: Vec<u64>,
    /// `words.len() - 1`; `words.len()` is a power of two.
    mask: usize,
}

impl ReplayWindow {
    /// A window of `size` packets (1 ..= [`MAX_WINDOW`]).
    pub fn new(size: u32) -> Result<Self, ConfigError> {
        if size == 0 || size > MAX_WINDOW {
            return Err(ConfigError::ReplayWindowSize(size));
        }
        // One spare word: the word holding `top` may be partly ahead of it.
        let needed = (size as usize).div_ceil(64) + 1;
        let len = needed.next_power_of_two();
        Ok(ReplayWindow {
            size,
            top: 0,
            words: vec![0; len],
            mask: len - 1,
        })
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    /// Highest sequence number accepted so far (0: none yet).
    pub fn highest(&self) -> u32 {
        self.top
    }

    /// Would `seq` be accepted? Does not change the window: RFC 4303
    /// §3.4.3 allows this check before the ICV, but the window may only move
    /// once the ICV has been verified.
    pub fn check(&self, seq: u32) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::Zero);
        }
        if seq > self.top {
            return Ok(());
        }
        // seq <= top here, so no underflow.
        if self.top - seq >= self.size {
            return Err(ReplayError::TooOld);
        }
        let (word, bit) = self.position(seq);
        if self.words[word] & bit != 0 {
            return Err(ReplayError::Duplicate);
        }
        Ok(())
    }

    /// Check `seq` again and, if it passes, record it (RFC 4303 §3.4.3:
    /// "the receive window is updated only if the integrity verification
    /// succeeds").
    pub fn check_and_update(&mut self, seq: u32) -> Result<(), ReplayError> {
        self.check(seq)?;
        if seq > self.top {
            self.slide_to(seq);
        }
        let (word, bit) = self.position(seq);
        self.words[word] |= bit;
        Ok(())
    }

    /// Moves the right edge to `seq` (> top), clearing every word the window
    /// enters so that stale bits from a previous lap read as "not seen".
    fn slide_to(&mut self, seq: u32) {
        let old_word = (self.top >> 6) as usize;
        let new_word = (seq >> 6) as usize;
        let entered = new_word - old_word;
        if entered > self.mask {
            self.words.fill(0);
        } else {
            for i in 1..=entered {
                self.words[(old_word + i) & self.mask] = 0;
            }
        }
        self.top = seq;
    }

    fn position(&self, seq: u32) -> (usize, u64) {
        (((seq >> 6) as usize) & self.mask, 1u64 << (seq & 63))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_prng::SplitMix64;

    fn window(size: u32) -> ReplayWindow {
        ReplayWindow::new(size).unwrap()
    }

    #[test]
    fn in_order_sequence_is_accepted_once() {
        let mut w = window(DEFAULT_WINDOW);
        for seq in 1..=5000 {
            assert_eq!(w.check_and_update(seq), Ok(()), "seq {seq}");
            assert_eq!(w.check(seq), Err(ReplayError::Duplicate));
        }
        assert_eq!(w.highest(), 5000);
    }

    #[test]
    fn zero_is_never_valid() {
        let mut w = window(64);
        assert_eq!(w.check(0), Err(ReplayError::Zero));
        w.check_and_update(10).unwrap();
        assert_eq!(w.check_and_update(0), Err(ReplayError::Zero));
    }

    #[test]
    fn out_of_order_within_window_is_accepted() {
        let mut w = window(DEFAULT_WINDOW);
        w.check_and_update(100).unwrap();
        for seq in (1..100).rev() {
            assert_eq!(w.check_and_update(seq), Ok(()), "seq {seq}");
        }
        for seq in 1..=100 {
            assert_eq!(w.check(seq), Err(ReplayError::Duplicate));
        }
        // Holes stay open after the edge moves a little.
        w.check_and_update(200).unwrap();
        assert_eq!(w.check_and_update(150), Ok(()));
        assert_eq!(w.check(150), Err(ReplayError::Duplicate));
        assert_eq!(w.check(151), Ok(()));
    }

    #[test]
    fn window_1024_edges() {
        let mut w = window(1024);
        w.check_and_update(5000).unwrap();
        // 5000 - 1023 = 3977 is the oldest number still inside.
        assert_eq!(w.check(3977), Ok(()));
        assert_eq!(w.check(3976), Err(ReplayError::TooOld));
        w.check_and_update(3977).unwrap();
        assert_eq!(w.check(3977), Err(ReplayError::Duplicate));
        // Moving the edge by one pushes 3977 out: now too old, not duplicate.
        w.check_and_update(5001).unwrap();
        assert_eq!(w.check(3977), Err(ReplayError::TooOld));
        assert_eq!(w.check(3978), Ok(()));
    }

    #[test]
    fn early_packets_when_top_is_below_window() {
        let mut w = window(1024);
        w.check_and_update(1000).unwrap();
        for seq in 1..1000 {
            assert_eq!(w.check(seq), Ok(()));
        }
    }

    #[test]
    fn large_jump_clears_old_bits() {
        let mut w = window(1024);
        for seq in 1..=1024 {
            w.check_and_update(seq).unwrap();
        }
        // A jump of several window lengths: every number inside the new
        // window must read as unseen even where the ring aliases old bits.
        let far = 1024 * 40 + 17;
        w.check_and_update(far).unwrap();
        for seq in far - 1023..far {
            assert_eq!(w.check(seq), Ok(()), "seq {seq}");
        }
        assert_eq!(w.check(far - 1024), Err(ReplayError::TooOld));
        assert_eq!(w.check(1024), Err(ReplayError::TooOld));
    }

    #[test]
    fn jump_of_exactly_the_ring_length_clears_aliases() {
        // Ring of 32 words (2048 bits) for W = 1024: a jump of exactly 2048
        // lands on the word of the old top.
        let mut w = window(1024);
        for seq in 1000..=1100 {
            w.check_and_update(seq).unwrap();
        }
        w.check_and_update(1100 + 2048).unwrap();
        for seq in (1100 + 2048 - 1023)..(1100 + 2048) {
            assert_eq!(w.check(seq), Ok(()), "seq {seq}");
        }
    }

    #[test]
    fn u32_max_is_accepted_and_window_holds_below_it() {
        let mut w = window(1024);
        w.check_and_update(u32::MAX - 5).unwrap();
        w.check_and_update(u32::MAX).unwrap();
        assert_eq!(w.check(u32::MAX), Err(ReplayError::Duplicate));
        assert_eq!(w.check(u32::MAX - 5), Err(ReplayError::Duplicate));
        assert_eq!(w.check(u32::MAX - 1), Ok(()));
        assert_eq!(w.check(u32::MAX - 1023), Ok(()));
        assert_eq!(w.check(u32::MAX - 1024), Err(ReplayError::TooOld));
        assert_eq!(w.check(1), Err(ReplayError::TooOld));
    }

    #[test]
    fn odd_window_sizes_are_exact() {
        for size in [1u32, 2, 31, 63, 64, 65, 100, 1000, 4097] {
            let mut w = window(size);
            w.check_and_update(10_000).unwrap();
            assert_eq!(
                w.check(10_000 - (size - 1)),
                if size == 1 {
                    Err(ReplayError::Duplicate)
                } else {
                    Ok(())
                },
                "size {size}"
            );
            assert_eq!(
                w.check(10_000 - size),
                Err(ReplayError::TooOld),
                "size {size}"
            );
        }
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        assert!(ReplayWindow::new(0).is_err());
        assert!(ReplayWindow::new(MAX_WINDOW + 1).is_err());
        assert!(ReplayWindow::new(MAX_WINDOW).is_ok());
    }

    /// Reference model: a set of seen numbers and the highest one.
    #[test]
    fn matches_a_naive_model_on_random_traffic() {
        use std::collections::BTreeSet;
        let mut prng = SplitMix64::new(7);
        let mut rng = move || prng.next_u64();
        for size in [32u32, 64, 1024, 1500] {
            let mut w = window(size);
            let mut seen = BTreeSet::new();
            let mut top = 0u32;
            for _ in 0..20_000 {
                let r = rng();
                let seq = match r % 4 {
                    0 => top.saturating_add((r >> 8) as u32 % 4),
                    1 => top.saturating_sub((r >> 8) as u32 % (size + 10)),
                    2 => top.saturating_add((r >> 8) as u32 % (3 * size)),
                    _ => top.saturating_sub((r >> 8) as u32 % 5),
                };
                let expected = if seq == 0 {
                    Err(ReplayError::Zero)
                } else if seq > top {
                    Ok(())
                } else if top - seq >= size {
                    Err(ReplayError::TooOld)
                } else if seen.contains(&seq) {
                    Err(ReplayError::Duplicate)
                } else {
                    Ok(())
                };
                assert_eq!(
                    w.check_and_update(seq),
                    expected,
                    "size {size} seq {seq} top {top}"
                );
                if expected.is_ok() {
                    seen.insert(seq);
                    top = top.max(seq);
                }
            }
        }
    }
}
