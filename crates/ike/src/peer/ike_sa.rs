//! One phase 1 SA: cookies, the exchange's state, the keys of RFC 2409 §5
//! and the protection of messages (§5.3 / Appendix B: AES-CBC with IV
//! chaining).

use super::{NatStatus, Role};
use crate::crypto::{self, CryptoError, Dh, Phase1Keys, AES_BLOCK};
use crate::proposal::{Cipher, Integrity, Phase1Proposal};
use crate::wire::{Header, HEADER_LEN};
use bytes::{BufMut, Bytes, BytesMut};
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
    pub iv: Vec<u8>,
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
            iv: Vec::new(),
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
    pub fn derive_keys(&mut self, psk: &[u8], gxy: &[u8]) {
        let i = self.integrity();
        self.keys = Some(Phase1Keys::derive(
            i,
            self.cipher(),
            psk,
            &self.ni,
            &self.nr,
            gxy,
            self.icookie,
            self.rcookie,
        ));
        let mut iv = crypto::hash(i, &[&self.ke_i, &self.ke_r]);
        iv.truncate(AES_BLOCK);
        self.iv = iv;
    }

    /// RFC 2409 Appendix B: the IV of a phase 2 or informational exchange,
    /// hash(last phase 1 CBC block | M-ID).
    pub fn exchange_iv(&self, message_id: u32) -> Vec<u8> {
        let mut iv = crypto::hash(self.integrity(), &[&self.iv, &message_id.to_be_bytes()]);
        iv.truncate(AES_BLOCK);
        iv
    }

    /// RFC 2409 §5.4 HASH_I / HASH_R with pre-shared keys:
    /// prf(SKEYID, g^x(own) | g^x(other) | CKY-own | CKY-other | SAi_b | ID_b).
    pub fn auth_hash(&self, of: Role, id_body: &[u8]) -> Vec<u8> {
        let Some(keys) = &self.keys else {
            return Vec::new();
        };
        let (ci, cr) = (self.icookie.to_be_bytes(), self.rcookie.to_be_bytes());
        let parts: [&[u8]; 6] = match of {
            Role::Initiator => [&self.ke_i, &self.ke_r, &ci, &cr, &self.sa_i_b, id_body],
            Role::Responder => [&self.ke_r, &self.ke_i, &cr, &ci, &self.sa_i_b, id_body],
        };
        crypto::prf(self.integrity(), &keys.skeyid, &parts).to_vec()
    }

    /// prf(SKEYID_a, parts): the hashes of Quick Mode and Informational.
    pub fn prf_a(&self, parts: &[&[u8]]) -> Vec<u8> {
        match &self.keys {
            Some(k) => crypto::prf(self.integrity(), &k.skeyid_a, parts).to_vec(),
            None => Vec::new(),
        }
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
        iv: &[u8],
    ) -> Result<(Bytes, Vec<u8>), CryptoError> {
        let keys = self.keys.as_ref().ok_or(CryptoError::KeyLength)?;
        let mut plain = chain.to_vec();
        // Zero padding to the block size (RFC 2408 §3.1 / §3.3); the
        // receiver finds the end through the payload chain.
        let pad = (AES_BLOCK - plain.len() % AES_BLOCK) % AES_BLOCK;
        plain.resize(plain.len() + pad, 0);
        crypto::encrypt(&keys.enc_key, iv, &mut plain)?;
        let last = plain
            .get(plain.len().saturating_sub(AES_BLOCK)..)
            .unwrap_or_default()
            .to_vec();
        header.next_payload = first;
        header.flags |= crate::wire::FLAG_ENCRYPTION;
        let mut out = BytesMut::with_capacity(HEADER_LEN + plain.len());
        header.write(HEADER_LEN + plain.len(), &mut out);
        out.put_slice(&plain);
        Ok((out.freeze(), last))
    }

    /// Decrypt a message body under `iv`: the plaintext and the last
    /// ciphertext block.
    pub fn open(&self, body: &[u8], iv: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let keys = self.keys.as_ref().ok_or(CryptoError::KeyLength)?;
        let mut plain = body.to_vec();
        crypto::decrypt(&keys.enc_key, iv, &mut plain)?;
        let last = body
            .get(body.len().saturating_sub(AES_BLOCK)..)
            .unwrap_or_default()
            .to_vec();
        Ok((plain, last))
    }
}
