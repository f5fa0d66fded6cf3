//! What each side asked for and what is in force (RFC 5880 §6.8.2–§6.8.4).
//!
//! Per direction the slower side wins: we send every
//! max(our Desired Min TX, their Required Min RX), and they every
//! max(their Desired Min TX, our Required Min RX). All values are in
//! microseconds, as on the wire.

use crate::packet::ControlPacket;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intervals {
    /// bfd.DesiredMinTxInterval: what our packets say.
    desired_tx: u32,
    /// bfd.RequiredMinRxInterval: what our packets say.
    required_rx: u32,
    /// What our transmit and detection timers use. During a Poll Sequence
    /// they may lag the advertised values (§6.8.3).
    active_tx: u32,
    active_rx: u32,
    /// A Poll Sequence is running: our packets carry P until a Final.
    polling: bool,
    /// The last Desired Min TX Interval received; 0 before any.
    remote_desired_tx: u32,
    /// bfd.RemoteMinRxInterval; 1 µs before any packet (§6.8.1).
    remote_required_rx: u32,
    /// The last Detect Mult received; 0 before any.
    remote_detect_mult: u8,
}

/// RFC 5880 §6.8.1: the initial bfd.RemoteMinRxInterval.
const INITIAL_REMOTE_MIN_RX: u32 = 1;

impl Intervals {
    pub fn new(desired_tx: u32, required_rx: u32) -> Self {
        Intervals {
            desired_tx,
            required_rx,
            active_tx: desired_tx,
            active_rx: required_rx,
            polling: false,
            remote_desired_tx: 0,
            remote_required_rx: INITIAL_REMOTE_MIN_RX,
            remote_detect_mult: 0,
        }
    }

    /// Sets what our packets say. While Up a change starts a Poll Sequence,
    /// and a slower transmit rate or a faster expected receive rate waits for
    /// the Final: the peer must first learn of it (§6.8.3). Changes that
    /// cannot cause a false detection apply at once. Outside Up everything
    /// applies at once and no Poll runs.
    pub fn advertise(&mut self, desired_tx: u32, required_rx: u32, up: bool) {
        if (desired_tx, required_rx) == (self.desired_tx, self.required_rx) {
            return;
        }
        self.desired_tx = desired_tx;
        self.required_rx = required_rx;
        if !up {
            self.settle();
            return;
        }
        if desired_tx <= self.active_tx {
            self.active_tx = desired_tx;
        }
        if required_rx >= self.active_rx {
            self.active_rx = required_rx;
        }
        self.polling = true;
    }

    /// The Poll Sequence ended: everything advertised is in force (§6.5).
    pub fn final_received(&mut self) {
        if self.polling {
            self.settle();
        }
    }

    /// No Poll Sequence; the advertised values in force.
    pub fn settle(&mut self) {
        self.polling = false;
        self.active_tx = self.desired_tx;
        self.active_rx = self.required_rx;
    }

    /// RFC 5880 §6.8.6: the peer's values from an accepted packet.
    pub fn learn(&mut self, packet: &ControlPacket) {
        self.remote_desired_tx = packet.desired_min_tx_us;
        self.remote_required_rx = packet.required_min_rx_us;
        self.remote_detect_mult = packet.detect_mult;
    }

    /// The peer fell silent for a Detection Time: what it said no longer
    /// holds. Detection waits for its next packet.
    pub fn forget_remote(&mut self) {
        self.remote_desired_tx = 0;
        self.remote_required_rx = INITIAL_REMOTE_MIN_RX;
        self.remote_detect_mult = 0;
    }

    pub fn polling(&self) -> bool {
        self.polling
    }

    pub fn desired_tx(&self) -> u32 {
        self.desired_tx
    }

    pub fn required_rx(&self) -> u32 {
        self.required_rx
    }

    pub fn remote_desired_tx(&self) -> u32 {
        self.remote_desired_tx
    }

    pub fn remote_required_rx(&self) -> u32 {
        self.remote_required_rx
    }

    pub fn remote_detect_mult(&self) -> u8 {
        self.remote_detect_mult
    }

    /// RFC 5880 §6.8.7: the peer asked for no periodic packets.
    pub fn remote_wants_silence(&self) -> bool {
        self.remote_required_rx == 0
    }

    /// RFC 5880 §6.8.7: our transmit interval before jitter, in µs.
    pub fn tx_interval(&self) -> u32 {
        self.active_tx.max(self.remote_required_rx)
    }

    /// RFC 5880 §6.8.4, asynchronous mode: the peer's Detect Mult times the
    /// greater of our Required Min RX and its last Desired Min TX. `None`
    /// before the peer has spoken.
    pub fn detection_time(&self) -> Option<u64> {
        if self.remote_detect_mult == 0 {
            return None;
        }
        let agreed = self.active_rx.max(self.remote_desired_tx);
        Some(u64::from(self.remote_detect_mult) * u64::from(agreed))
    }
}

/// A configured duration as wire microseconds, saturating at the field's
/// limit (about 71 minutes).
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(desired_tx: u32, required_rx: u32, mult: u8) -> ControlPacket {
        ControlPacket {
            diagnostic: Default::default(),
            state: crate::packet::State::Up,
            poll: false,
            final_: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: mult,
            my_discriminator: 1,
            your_discriminator: 2,
            desired_min_tx_us: desired_tx,
            required_min_rx_us: required_rx,
            required_min_echo_rx_us: 0,
            authentication: None,
        }
    }

    #[test]
    fn slower_side_wins_per_direction() {
        let mut i = Intervals::new(300_000, 300_000);
        i.learn(&peer(100_000, 100_000, 5));
        assert_eq!(i.tx_interval(), 300_000);
        assert_eq!(i.detection_time(), Some(5 * 300_000));
        i.learn(&peer(700_000, 500_000, 2));
        assert_eq!(i.tx_interval(), 500_000);
        assert_eq!(i.detection_time(), Some(2 * 700_000));
    }

    #[test]
    fn no_detection_before_the_peer_speaks() {
        let i = Intervals::new(300_000, 300_000);
        assert_eq!(i.detection_time(), None);
        assert_eq!(i.tx_interval(), 300_000);
    }

    #[test]
    fn while_up_slower_tx_and_faster_rx_wait_for_final() {
        let mut i = Intervals::new(300_000, 300_000);
        i.learn(&peer(300_000, 300_000, 3));
        i.advertise(600_000, 200_000, true);
        assert!(i.polling());
        assert_eq!(i.tx_interval(), 300_000);
        assert_eq!(i.detection_time(), Some(900_000));
        i.final_received();
        assert!(!i.polling());
        assert_eq!(i.tx_interval(), 600_000);
        assert_eq!(i.detection_time(), Some(3 * 300_000));
    }

    #[test]
    fn while_up_faster_tx_and_slower_rx_apply_at_once() {
        let mut i = Intervals::new(600_000, 300_000);
        i.learn(&peer(300_000, 300_000, 3));
        i.advertise(400_000, 500_000, true);
        assert!(i.polling());
        assert_eq!(i.tx_interval(), 400_000);
        assert_eq!(i.detection_time(), Some(3 * 500_000));
    }

    #[test]
    fn outside_up_no_poll() {
        let mut i = Intervals::new(1_000_000, 300_000);
        i.advertise(2_000_000, 300_000, false);
        assert!(!i.polling());
        assert_eq!(i.tx_interval(), 2_000_000);
    }

    #[test]
    fn micros_saturate() {
        assert_eq!(micros(Duration::from_millis(300)), 300_000);
        assert_eq!(micros(Duration::MAX), u32::MAX);
    }
}
