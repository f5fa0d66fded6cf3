//! Algorithms, proposals and the choice among them.
//!
//! A responder walks ITS OWN list in order and takes the first suite the
//! initiator offered (spec §1.2: the cloud picks among acceptable proposals
//! by its own lowest-first order, whatever order the peer proposes in). An
//! initiator offers its list in order.

use std::time::Duration;

/// Encryption, both phases. Only AES-CBC: IKEv1 phase 1 has no AEAD, and
/// ESP here is AES-CBC with HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Cipher {
    Aes128Cbc,
    Aes256Cbc,
}

impl Cipher {
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc => 16,
            Cipher::Aes256Cbc => 32,
        }
    }

    pub fn key_bits(self) -> u16 {
        match self {
            Cipher::Aes128Cbc => 128,
            Cipher::Aes256Cbc => 256,
        }
    }

    /// From the AES key-length attribute (RFC 3602 §5: mandatory, but a
    /// missing one means 128 for strongSwan too).
    pub fn aes_from_bits(bits: Option<u16>) -> Option<Cipher> {
        match bits {
            None | Some(128) => Some(Cipher::Aes128Cbc),
            Some(256) => Some(Cipher::Aes256Cbc),
            _ => None,
        }
    }
}

/// The hash of phase 1 (HMAC-based PRF, RFC 2409 §4) or the ESP
/// integrity algorithm of phase 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Integrity {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Integrity {
    /// RFC 2409 Appendix A, "Hash Algorithm" attribute value.
    pub fn ike_hash_id(self) -> u16 {
        match self {
            Integrity::Sha1 => 2,
            Integrity::Sha256 => 4,
            Integrity::Sha384 => 5,
            Integrity::Sha512 => 6,
        }
    }

    pub fn from_ike_hash_id(id: u16) -> Option<Self> {
        match id {
            2 => Some(Integrity::Sha1),
            4 => Some(Integrity::Sha256),
            5 => Some(Integrity::Sha384),
            6 => Some(Integrity::Sha512),
            _ => None,
        }
    }

    /// RFC 2407 §4.5 "Authentication Algorithm" (HMAC-SHA2: RFC 4868 §2.4).
    pub fn esp_auth_id(self) -> u16 {
        match self {
            Integrity::Sha1 => 2,
            Integrity::Sha256 => 5,
            Integrity::Sha384 => 6,
            Integrity::Sha512 => 7,
        }
    }

    pub fn from_esp_auth_id(id: u16) -> Option<Self> {
        match id {
            2 => Some(Integrity::Sha1),
            5 => Some(Integrity::Sha256),
            6 => Some(Integrity::Sha384),
            7 => Some(Integrity::Sha512),
            _ => None,
        }
    }

    /// Hash output length: the PRF output and the ESP integrity key length
    /// (RFC 2404 §2: 160 bits for HMAC-SHA1; RFC 4868 §2.1).
    pub fn output_len(self) -> usize {
        match self {
            Integrity::Sha1 => 20,
            Integrity::Sha256 => 32,
            Integrity::Sha384 => 48,
            Integrity::Sha512 => 64,
        }
    }
}

/// MODP groups (RFC 2409 §6.2, RFC 3526 §3). The cloud allows more; these
/// are the ones this implementation computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DhGroup {
    Modp1024,
    Modp2048,
}

impl DhGroup {
    pub fn number(self) -> u16 {
        match self {
            DhGroup::Modp1024 => 2,
            DhGroup::Modp2048 => 14,
        }
    }

    pub fn from_number(n: u16) -> Option<Self> {
        match n {
            2 => Some(DhGroup::Modp1024),
            14 => Some(DhGroup::Modp2048),
            _ => None,
        }
    }

    /// Public value length in octets (KE payload data).
    pub fn public_len(self) -> usize {
        match self {
            DhGroup::Modp1024 => 128,
            DhGroup::Modp2048 => 256,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Phase1Proposal {
    pub cipher: Cipher,
    pub integrity: Integrity,
    pub group: DhGroup,
}

impl std::fmt::Display for Phase1Proposal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "aes{}-{}-modp{}",
            self.cipher.key_bits(),
            integrity_name(self.integrity),
            self.group.public_len() * 8
        )
    }
}

/// Every supported (cipher, integrity, group), weakest first: cipher, then
/// integrity, then group (spec §1.2: the cloud walks its list lowest
/// first). The same list serves phase 1 and phase 2 (its group as PFS).
fn supported_suites() -> impl Iterator<Item = (Cipher, Integrity, DhGroup)> {
    const CIPHERS: [Cipher; 2] = [Cipher::Aes128Cbc, Cipher::Aes256Cbc];
    const INTEGRITIES: [Integrity; 4] = [
        Integrity::Sha1,
        Integrity::Sha256,
        Integrity::Sha384,
        Integrity::Sha512,
    ];
    const GROUPS: [DhGroup; 2] = [DhGroup::Modp1024, DhGroup::Modp2048];
    CIPHERS.into_iter().flat_map(|cipher| {
        INTEGRITIES.into_iter().flat_map(move |integrity| {
            GROUPS
                .into_iter()
                .map(move |group| (cipher, integrity, group))
        })
    })
}

impl Phase1Proposal {
    /// Every supported suite, weakest first (see `supported_suites`).
    pub fn cloud_defaults() -> Vec<Self> {
        supported_suites()
            .map(|(cipher, integrity, group)| Phase1Proposal {
                cipher,
                integrity,
                group,
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Phase2Proposal {
    pub cipher: Cipher,
    pub integrity: Integrity,
    /// Quick Mode PFS group; `None` means no KE payload.
    pub pfs: Option<DhGroup>,
}

impl std::fmt::Display for Phase2Proposal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "esp-aes{}-{}",
            self.cipher.key_bits(),
            integrity_name(self.integrity)
        )?;
        if let Some(g) = self.pfs {
            write!(f, "-modp{}", g.public_len() * 8)?;
        }
        Ok(())
    }
}

fn integrity_name(i: Integrity) -> &'static str {
    match i {
        Integrity::Sha1 => "sha1",
        Integrity::Sha256 => "sha256",
        Integrity::Sha384 => "sha384",
        Integrity::Sha512 => "sha512",
    }
}

impl Phase2Proposal {
    /// Every supported suite with PFS, weakest first (see
    /// `supported_suites`).
    pub fn cloud_defaults() -> Vec<Self> {
        supported_suites()
            .map(|(cipher, integrity, group)| Phase2Proposal {
                cipher,
                integrity,
                pfs: Some(group),
            })
            .collect()
    }
}

/// One transform the initiator offered, decoded. `suite` is `None` when it
/// names something we do not implement; it can never be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer<S> {
    pub proposal_number: u8,
    pub transform_number: u8,
    pub suite: Option<S>,
    pub lifetime: Option<Duration>,
}

/// Walk `ours` in order; the first suite offered wins, and with it the
/// first offer that carries it. `None`: NO-PROPOSAL-CHOSEN.
pub fn select<'o, S: PartialEq>(
    ours: &[S],
    offered: &'o [Offer<S>],
) -> Option<(usize, &'o Offer<S>)> {
    ours.iter().enumerate().find_map(|(i, suite)| {
        offered
            .iter()
            .find(|o| o.suite.as_ref() == Some(suite))
            .map(|o| (i, o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(n: u8, s: Phase1Proposal) -> Offer<Phase1Proposal> {
        Offer {
            proposal_number: 1,
            transform_number: n,
            suite: Some(s),
            lifetime: None,
        }
    }

    #[test]
    fn responder_picks_by_its_own_order() {
        let ours = Phase1Proposal::cloud_defaults();
        let strong = Phase1Proposal {
            cipher: Cipher::Aes256Cbc,
            integrity: Integrity::Sha256,
            group: DhGroup::Modp2048,
        };
        let weak = Phase1Proposal {
            cipher: Cipher::Aes128Cbc,
            integrity: Integrity::Sha1,
            group: DhGroup::Modp1024,
        };
        // The peer prefers the strong suite; the cloud's list starts low.
        let offered = [offer(1, strong), offer(2, weak)];
        let (index, chosen) = select(&ours, &offered).unwrap();
        assert_eq!(index, 0);
        assert_eq!(chosen.transform_number, 2);
        assert_eq!(chosen.suite, Some(weak));
    }

    #[test]
    fn unknown_and_unlisted_suites_never_match() {
        let ours = vec![Phase1Proposal {
            cipher: Cipher::Aes128Cbc,
            integrity: Integrity::Sha1,
            group: DhGroup::Modp1024,
        }];
        let offered = [
            Offer {
                proposal_number: 1,
                transform_number: 1,
                suite: None,
                lifetime: None,
            },
            offer(
                2,
                Phase1Proposal {
                    cipher: Cipher::Aes256Cbc,
                    integrity: Integrity::Sha1,
                    group: DhGroup::Modp1024,
                },
            ),
        ];
        assert!(select(&ours, &offered).is_none());
    }

    #[test]
    fn names() {
        let p = Phase2Proposal {
            cipher: Cipher::Aes128Cbc,
            integrity: Integrity::Sha1,
            pfs: Some(DhGroup::Modp1024),
        };
        assert_eq!(p.to_string(), "esp-aes128-sha1-modp1024");
    }
}
