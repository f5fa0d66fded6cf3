//! One phase 1 SA: cookies, the exchange's state, the keys of RFC 2409 §5
//! and the protection of messages (§5.3 / Appendix B: AES-CBC with IV
//! chaining).

use super::{NatStatus, Role};
use crate::crypto::{self, AuthContext, CryptoError, Dh, Iv, Phase1Keys};
use crate::proposal::{Cipher, Integrity, Phase1Proposal};
use crate::wire::{payload, Chain, Header, HEADER_LEN};
use bytes::{BufMut, Bytes, BytesMut};
use hybridlab_ike_crypto::cipher::pad;
use hybridlab_ike_crypto::ikev1::{phase1_iv, phase2_iv};
use std::net::SocketAddr;
use std::time::Duration;

/// Our last message of an exchange, kept to resend until the answer comes.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub bytes: Bytes,
    pub tries: u32,
}

/// The last request answered and our answer: a retransmitted request gets
/// the same answer again, not a new exchange (RFC 2408 §5.x, RFC 2409 §5).
#[derive(Clone, Debug, Default)]
pub(super) struct ReplyCache {
    request: Vec<u8>,
    reply: Option<(SocketAddr, Bytes)>,
}

impl ReplyCache {
    pub fn remember(&mut self, request: &[u8], from: SocketAddr, reply: Bytes) {
        self.request = request.to_vec();
        self.reply = Some((from, reply));
    }

    pub fn lookup(&self, request: &[u8]) -> Option<&(SocketAddr, Bytes)> {
        if self.request == request {
            self.reply.as_ref()
        } else {
            None
        }
    }
}

/// Where Main Mode stands (RFC 2409 §5.4 message numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MainMode {
    SentMessage1,
    SentMessage3,
    SentMessage5,
    SentMessage2,
    SentMessage4,
    Established,
}

pub(super) struct IkeSa {
    pub role: Role,
    pub icookie: u64,
    pub rcookie: u64,
    pub state: MainMode,
    /// Our address and port for this SA; follows the float to 4500.
    pub local: SocketAddr,
    /// Where the peer is: follows its packets (NAT, float).
    pub remote: SocketAddr,
    /// The body of the initiator's SA payload (SAi_b, RFC 2409 §5).
    pub sa_i_b: Vec<u8>,
    pub proposal: Option<Phase1Proposal>,
    pub lifetime: Duration,
    pub dh: Option<Dh>,
    pub ke_i: Vec<u8>,
    pub ke_r: Vec<u8>,
    pub ni: Vec<u8>,
    pub nr: Vec<u8>,
    pub keys: Option<Phase1Keys>,
    /// The phase 1 IV: chained through Main Mode; after message 6 the last
    /// ciphertext block, from which phase 2 IVs are derived.
    pub iv: Iv,
    /// The peer sent the RFC 3947 vendor ID.
    pub peer_nat_t: bool,
    /// The peer sent the RFC 3706 vendor ID.
    pub peer_dpd: bool,
    pub nat: NatStatus,
    pub pending: Option<Pending>,
    pub cache: ReplyCache,
    /// We started this one to replace an established SA.
    pub is_rekey: bool,
}

impl IkeSa {
    pub fn new(role: Role, icookie: u64, local: SocketAddr, remote: SocketAddr) -> Self {
        IkeSa {
            role,
            icookie,
            rcookie: 0,
            state: match role {
                Role::Initiator => MainMode::SentMessage1,
                Role::Responder => MainMode::SentMessage2,
            },
            local,
            remote,
            sa_i_b: Vec::new(),
            proposal: None,
            lifetime: Duration::ZERO,
            dh: None,
            ke_i: Vec::new(),
            ke_r: Vec::new(),
            ni: Vec::new(),
            nr: Vec::new(),
            keys: None,
            iv: [0; crypto::BLOCK_LEN],
            peer_nat_t: false,
            peer_dpd: false,
            nat: NatStatus::default(),
            pending: None,
            cache: ReplyCache::default(),
            is_rekey: false,
        }
    }

    pub fn is_established(&self) -> bool {
        self.state == MainMode::Established
    }

    pub fn integrity(&self) -> Integrity {
        self.proposal.map_or(Integrity::Sha1, |p| p.integrity)
    }

    pub fn cipher(&self) -> Cipher {
        self.proposal.map_or(Cipher::Aes128Cbc, |p| p.cipher)
    }

    /// RFC 2409 §5 and Appendix B: SKEYID… from g^xy, and the first IV,
    /// hash(g^xi | g^xr) cut to the block size.
    pub fn derive_keys(&mut self, psk: &[u8], gxy: &[u8]) -> Result<(), CryptoError> {
        let i = self.integrity();
        self.keys = Some(crypto::derive_phase1(
            i,
            self.cipher(),
            psk,
            &self.ni,
            &self.nr,
            gxy,
            self.icookie,
            self.rcookie,
        )?);
        self.iv = phase1_iv(crypto::hash_alg(i), &self.ke_i, &self.ke_r);
        Ok(())
    }

    /// RFC 2409 Appendix B: the IV of a phase 2 or informational exchange,
    /// hash(last phase 1 CBC block | M-ID).
    pub fn exchange_iv(&self, message_id: u32) -> Iv {
        phase2_iv(crypto::hash_alg(self.integrity()), &self.iv, message_id)
    }

    /// RFC 2409 §5.4 HASH_I or HASH_R with pre-shared keys.
    pub fn auth_hash(&self, of: Role, id_body: &[u8]) -> Vec<u8> {
        let Some(keys) = &self.keys else {
            return Vec::new();
        };
        let (ci, cr) = (self.icookie.to_be_bytes(), self.rcookie.to_be_bytes());
        let c = AuthContext {
            g_xi: &self.ke_i,
            g_xr: &self.ke_r,
            cky_i: &ci,
            cky_r: &cr,
            sai_b: &self.sa_i_b,
        };
        match of {
            Role::Initiator => keys.hash_i(&c, id_body),
            Role::Responder => keys.hash_r(&c, id_body),
        }
    }

    /// RFC 2409 §5.5 HASH(1) and §5.7 Informational HASH(1):
    /// prf(SKEYID_a, M-ID | payloads after the HASH).
    pub fn hash1(&self, message_id: u32, after_hash: &[u8]) -> Vec<u8> {
        self.keys
            .as_ref()
            .map(|k| k.quick_hash1(message_id, after_hash))
            .unwrap_or_default()
    }

    /// The first message of a new exchange under this SA (Quick Mode
    /// message 1, an Informational): HASH(1) over the Message ID and
    /// `rest`, then `rest`, encrypted from the exchange's own IV (RFC 2409
    /// §5.5, §5.7, Appendix B). The message and the IV after it.
    pub fn seal_with_hash1(
        &self,
        exchange: u8,
        message_id: u32,
        rest: Chain,
    ) -> Result<(Bytes, Iv), CryptoError> {
        let mut chain = Chain::default();
        chain.push(payload::HASH, self.hash1(message_id, &rest.encode()));
        chain.0.extend(rest.0);
        self.seal(
            self.header(exchange, message_id, 0),
            chain.first(),
            &chain.encode(),
            &self.exchange_iv(message_id),
        )
    }

    /// RFC 2409 §5.5 HASH(2) = prf(SKEYID_a, M-ID | Ni_b | payloads after).
    pub fn hash2(&self, message_id: u32, ni: &[u8], after_hash: &[u8]) -> Vec<u8> {
        self.keys
            .as_ref()
            .map(|k| k.quick_hash2(message_id, ni, after_hash))
            .unwrap_or_default()
    }

    /// RFC 2409 §5.5 HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
    pub fn hash3(&self, message_id: u32, ni: &[u8], nr: &[u8]) -> Vec<u8> {
        self.keys
            .as_ref()
            .map(|k| k.quick_hash3(message_id, ni, nr))
            .unwrap_or_default()
    }

    pub fn header(&self, exchange: u8, message_id: u32, flags: u8) -> Header {
        Header {
            icookie: self.icookie,
            rcookie: self.rcookie,
            next_payload: 0,
            exchange,
            flags,
            message_id,
        }
    }

    /// Encrypt a payload chain under `iv`: the whole message and the last
    /// ciphertext block (the next IV of the exchange).
    pub fn seal(
        &self,
        mut header: Header,
        first: u8,
        chain: &[u8],
        iv: &Iv,
    ) -> Result<(Bytes, Iv), CryptoError> {
        let keys = self.keys.as_ref().ok_or(CryptoError::Cipher)?;
        let mut plain = chain.to_vec();
        // Zero padding, always at least one octet, as strongSwan pads; the
        // receiver finds the end through the payload chain.
        pad(&mut plain);
        let (cipher, next) = keys.cipher().encrypt(iv, &plain)?;
        header.next_payload = first;
        header.flags |= crate::wire::FLAG_ENCRYPTION;
        let mut out = BytesMut::with_capacity(HEADER_LEN + cipher.len());
        header.write(cipher.len(), &mut out);
        out.put_slice(&cipher);
        Ok((out.freeze(), next))
    }

    /// Decrypt a message body under `iv`: the plaintext and the last
    /// ciphertext block.
    pub fn open(&self, body: &[u8], iv: &Iv) -> Result<(Vec<u8>, Iv), CryptoError> {
        let keys = self.keys.as_ref().ok_or(CryptoError::Cipher)?;
        keys.cipher().decrypt(iv, body)
    }
}
