//! The ESP SA pairs IKE installed, and the choice among them.
//!
//! A rekey (RFC 2409 §5.5 Quick Mode under the same IKE SA) overlaps two
//! pairs. The newest carries outbound traffic once the peer has it: at
//! once when the peer started the rekey (it installed the pair before
//! sending Quick Mode message 2), but when we started it only once the
//! peer is heard on the new pair, or after [`PEER_INSTALL_GRACE`] — the
//! peer installs on our message 3, and its ESP path may run ahead of its
//! IKE thread (strongSwan with kernel-libipsec drops ESP for an SPI it has
//! not installed yet). Meanwhile the older inbound SA keeps opening
//! whatever the peer still sends on it until IKE deletes it (the peer's
//! Delete, ours after `RETIRE_REKEYED_AFTER`, or its lifetime). So a rekey
//! drops nothing in either direction.

use hybridlab_esp::{Counters, SaParams, SecurityAssociation};
use hybridlab_ike::{ChildSaInfo, Integrity, Phase2Proposal};
use std::net::SocketAddr;
use std::time::Duration;

/// How long a replaced inbound SA still opens packets after IKE deleted
/// it: generous against a lab wire's latency, short against an attacker
/// (who would need the old keys anyway).
pub const DRAIN: Duration = Duration::from_secs(2);

/// How long a pair from a rekey we started waits for the peer to be heard
/// on it before it carries outbound traffic anyway: well inside IKE's
/// `RETIRE_REKEYED_AFTER`, so the old pair is still there at the peer.
pub const PEER_INSTALL_GRACE: Duration = Duration::from_secs(2);

/// One installed pair: the inbound SA (`spi_in`, the peer seals into it)
/// and the outbound one (`spi_out`).
pub(crate) struct ChildSa {
    pub spi_in: u32,
    pub spi_out: u32,
    pub proposal: Phase2Proposal,
    pub inbound: SecurityAssociation,
    pub outbound: SecurityAssociation,
    /// RFC 3948 UDP encapsulation on 4500; otherwise plain ESP (IP 50).
    pub udp_encapsulation: bool,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub installed_at: Duration,
    pub lifetime: Duration,
    /// Deleted by IKE after a rekey: inbound only, until then.
    pub draining_until: Option<Duration>,
    /// From a rekey we started, the peer not yet heard on it: outbound
    /// traffic stays on the older pair until then (see the module doc).
    pub unconfirmed_until: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum InstallError {
    #[error("ESP cannot carry integrity {0:?}")]
    Integrity(Integrity),
    #[error("ESP refused the keys: {0}")]
    Esp(#[from] hybridlab_esp::ConfigError),
}

impl ChildSa {
    /// `rekey_of_ours`: `info` replaces a live pair in a rekey we started.
    pub fn install(
        info: &ChildSaInfo,
        replay_window: u32,
        rekey_of_ours: bool,
        now: Duration,
    ) -> Result<Self, InstallError> {
        let cipher = match info.proposal.cipher {
            hybridlab_ike::Cipher::Aes128Cbc => hybridlab_esp::Cipher::Aes128Cbc,
            hybridlab_ike::Cipher::Aes256Cbc => hybridlab_esp::Cipher::Aes256Cbc,
        };
        let integrity = match info.proposal.integrity {
            // RFC 2404 and RFC 4868 §2.6: the truncated ICVs ESP uses.
            Integrity::Sha1 => hybridlab_esp::Integrity::HmacSha1_96,
            Integrity::Sha256 => hybridlab_esp::Integrity::HmacSha256_128,
            other => return Err(InstallError::Integrity(other)),
        };
        // Lifetimes are IKE's business: it rekeys and deletes on its own
        // timers (Phase2Rekey / Phase2Expire). The ESP SA carries no time
        // limit so that the two clocks can never disagree about the end.
        let sa = |spi: u32, enc: &[u8], auth: &[u8]| {
            let mut params = SaParams::new(spi, cipher, enc, integrity, auth);
            params.replay_window = replay_window;
            params.created_at = now;
            SecurityAssociation::new(&params)
        };
        Ok(ChildSa {
            spi_in: info.spi_in,
            spi_out: info.spi_out,
            proposal: info.proposal,
            inbound: sa(
                info.spi_in,
                info.enc_key_in.as_bytes(),
                info.integ_key_in.as_bytes(),
            )?,
            outbound: sa(
                info.spi_out,
                info.enc_key_out.as_bytes(),
                info.integ_key_out.as_bytes(),
            )?,
            udp_encapsulation: info.udp_encapsulation,
            local: info.local,
            remote: info.remote,
            installed_at: now,
            lifetime: info.lifetime,
            draining_until: None,
            unconfirmed_until: rekey_of_ours.then_some(now + PEER_INSTALL_GRACE),
        })
    }

    pub fn is_live(&self) -> bool {
        self.draining_until.is_none()
    }

    /// May carry outbound traffic when it is the newest such pair.
    pub fn carries_outbound(&self, now: Duration) -> bool {
        self.is_live() && self.unconfirmed_until.is_none_or(|until| now >= until)
    }

    pub fn lifetime_left(&self, now: Duration) -> Duration {
        (self.installed_at + self.lifetime).saturating_sub(now)
    }

    /// Both directions' counters in one: traffic in from the inbound SA,
    /// out from the outbound one, drops from the inbound one.
    pub fn counters(&self) -> Counters {
        let i = self.inbound.counters();
        let o = self.outbound.counters();
        Counters {
            packets_out: o.packets_out,
            bytes_out: o.bytes_out,
            packets_in: i.packets_in,
            bytes_in: i.bytes_in,
            replay_drops: i.replay_drops,
            icv_failures: i.icv_failures,
            malformed: i.malformed,
        }
    }
}

pub(crate) fn add(total: &mut Counters, c: &Counters) {
    total.packets_out += c.packets_out;
    total.bytes_out += c.bytes_out;
    total.packets_in += c.packets_in;
    total.bytes_in += c.bytes_in;
    total.replay_drops += c.replay_drops;
    total.icv_failures += c.icv_failures;
    total.malformed += c.malformed;
}
