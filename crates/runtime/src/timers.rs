//! The timers a router's sessions asked for, keyed by (peer, kind): one
//! queue for BGP, one for BFD.
//!
//! Kept inside the router task rather than as spawned sleeps: a stopped or
//! re-armed timer can never fire late, and `tokio::time::pause` turns every
//! deadline into virtual time.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Timers<Key> {
    /// Ordered by deadline; the sequence number keeps arming order among
    /// equal deadlines, so expiries replay in the same order every run.
    queue: BTreeSet<(Instant, u64, Key)>,
    armed: HashMap<Key, (Instant, u64)>,
    seq: u64,
}

impl<Key> Default for Timers<Key> {
    fn default() -> Self {
        Timers {
            queue: BTreeSet::new(),
            armed: HashMap::new(),
            seq: 0,
        }
    }
}

impl<Key: Copy + Ord + Hash> Timers<Key> {
    /// Arms (or re-arms) a timer.
    pub(crate) fn start(&mut self, key: Key, now: Instant, after: Duration) {
        self.stop(key);
        let at = now + after;
        self.seq = self.seq.wrapping_add(1);
        self.queue.insert((at, self.seq, key));
        self.armed.insert(key, (at, self.seq));
    }

    pub(crate) fn stop(&mut self, key: Key) {
        if let Some((at, seq)) = self.armed.remove(&key) {
            self.queue.remove(&(at, seq, key));
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.queue.first().map(|(at, _, _)| *at)
    }

    /// Removes and returns the earliest timer due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Key> {
        let (at, _, key) = *self.queue.first()?;
        if at > now {
            return None;
        }
        self.stop(key);
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybridlab_bgp::session::TimerKind;

    #[tokio::test(start_paused = true)]
    async fn rearming_replaces_and_order_is_by_deadline() {
        let now = Instant::now();
        let mut t: Timers<(usize, TimerKind)> = Timers::default();
        t.start((0, TimerKind::Hold), now, Duration::from_secs(9));
        t.start((1, TimerKind::Keepalive), now, Duration::from_secs(3));
        t.start((0, TimerKind::Hold), now, Duration::from_secs(5));
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(3)));
        assert_eq!(t.pop_due(now + Duration::from_secs(2)), None);
        let later = now + Duration::from_secs(10);
        assert_eq!(t.pop_due(later), Some((1, TimerKind::Keepalive)));
        assert_eq!(t.pop_due(later), Some((0, TimerKind::Hold)));
        assert_eq!(t.pop_due(later), None);
    }

    #[tokio::test(start_paused = true)]
    async fn stopped_timers_never_fire() {
        let now = Instant::now();
        let mut t: Timers<(usize, TimerKind)> = Timers::default();
        t.start((0, TimerKind::ConnectRetry), now, Duration::from_secs(1));
        t.start((0, TimerKind::Hold), now, Duration::from_secs(1));
        t.stop((0, TimerKind::ConnectRetry));
        let later = now + Duration::from_secs(2);
        assert_eq!(t.pop_due(later), Some((0, TimerKind::Hold)));
        assert_eq!(t.pop_due(later), None);
        assert_eq!(t.next_deadline(), None);
    }
}
