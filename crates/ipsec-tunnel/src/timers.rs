//! IKE's timers as deadlines on the caller's clock.
//!
//! The IKE core asks for "replace on re-arm" semantics (`hybridlab_ike::
//! TimerKind` docs): one deadline per kind, a new arming replaces the old
//! one, and a stopped or replaced arming never fires. A map keyed by kind
//! gives exactly that.

use hybridlab_ike::TimerKind;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    deadlines: BTreeMap<TimerKind, Duration>,
}

impl TimerQueue {
    pub fn arm(&mut self, kind: TimerKind, at: Duration) {
        self.deadlines.insert(kind, at);
    }

    pub fn stop(&mut self, kind: TimerKind) {
        self.deadlines.remove(&kind);
    }

    pub fn next(&self) -> Option<Duration> {
        self.deadlines.values().min().copied()
    }

    /// The earliest timer due at `now`, removed. Taken one at a time:
    /// handling one expiry may re-arm or stop the others.
    pub fn pop_due(&mut self, now: Duration) -> Option<TimerKind> {
        let (&kind, _) = self
            .deadlines
            .iter()
            .filter(|(_, &at)| at <= now)
            .min_by_key(|(_, &at)| at)?;
        self.deadlines.remove(&kind);
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearming_replaces_and_stopping_cancels() {
        let mut q = TimerQueue::default();
        let s = Duration::from_secs;
        q.arm(TimerKind::Dpd, s(10));
        q.arm(TimerKind::Phase2Rekey { spi_in: 7 }, s(5));
        q.arm(TimerKind::Dpd, s(20));
        assert_eq!(q.next(), Some(s(5)));
        assert_eq!(q.pop_due(s(4)), None);
        assert_eq!(q.pop_due(s(30)), Some(TimerKind::Phase2Rekey { spi_in: 7 }));
        q.stop(TimerKind::Dpd);
        assert_eq!(q.pop_due(s(30)), None);
        assert_eq!(q.next(), None);
    }
}
