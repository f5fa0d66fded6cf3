//! Known answers from real strongSwan 5.9.8: two charons (main mode + quick
//! mode with PFS, PSK) captured by `tests/capture/capture.sh`, turned into
//! `tests/capture/*.kat` by `extract.py`. Each file holds the ISAKMP
//! messages as they crossed the wire and the keys charon logged at level 4.
//!
//! From the wire inputs alone (PSK, nonces, cookies, KE values, SA and ID
//! payloads, SPIs) plus the logged g^xy (our side cannot know strongSwan's
//! private exponents), this crate must reproduce SKEYID, SKEYID_d/_a/_e, the
//! encryption key, the phase-1 IV, NAT-D, HASH_I/HASH_R, the IV chain over
//! main mode, quick mode and informational exchanges, the quick-mode and
//! informational hashes, and both ESP SAs' keys — and it must decrypt every
//! encrypted message strongSwan sent.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use hybridlab_ike_crypto::ikev1::{
    phase1_iv, phase2_iv, AuthContext, Cookie, IvStore, Phase1Keys, Phase1Material,
};
use hybridlab_ike_crypto::natd::nat_d_hash;
use hybridlab_ike_crypto::{CipherAlg, DhGroup, HashAlg, Iv};

/// aes128-sha1-modp1024 for both phases: AWS's VPN parameters.
const AES128_SHA1_MODP1024: &str = include_str!("capture/aes128-sha1-modp1024.kat");
/// aes256-sha1-modp2048 for IKE (SKEYID_e is 20 bytes: Appendix B
/// expansion to 32), aes256-sha256-modp2048 for ESP (64 bytes of KEYMAT
/// from a 20-byte PRF: four blocks).
const AES256_SHA1_MODP2048: &str = include_str!("capture/aes256-sha1-modp2048.kat");

// ISAKMP payload types (RFC 2408 §3.1).
const SA: u8 = 1;
const KE: u8 = 4;
const ID: u8 = 5;
const HASH: u8 = 8;
const NONCE: u8 = 10;
const DELETE: u8 = 12;
const NAT_D: u8 = 20;

struct Kat {
    values: HashMap<String, Vec<String>>,
    messages: Vec<(String, Vec<u8>)>,
}

impl Kat {
    fn parse(text: &str) -> Self {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        let mut messages = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (key, value) = line.split_once(" = ").expect("key = value");
            if key == "msg" {
                let (dir, hex) = value.split_once(' ').expect("msg = DIR HEX");
                messages.push((dir.to_string(), hex::decode(hex).unwrap()));
            } else {
                values
                    .entry(key.to_string())
                    .or_default()
                    .push(value.to_string());
            }
        }
        Kat { values, messages }
    }

    fn all(&self, key: &str) -> Vec<Vec<u8>> {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing"))
            .iter()
            .map(|v| hex::decode(v).unwrap())
            .collect()
    }

    fn one(&self, key: &str) -> Vec<u8> {
        self.all(key).remove(0)
    }

    fn text(&self, key: &str) -> &str {
        &self.values[key][0]
    }
}

/// One ISAKMP message: header fields and its payload area.
struct Message<'a> {
    raw: &'a [u8],
}

impl<'a> Message<'a> {
    fn cky_i(&self) -> Cookie {
        self.raw[0..8].try_into().unwrap()
    }
    fn cky_r(&self) -> Cookie {
        self.raw[8..16].try_into().unwrap()
    }
    fn next_payload(&self) -> u8 {
        self.raw[16]
    }
    fn exchange(&self) -> u8 {
        self.raw[18]
    }
    fn encrypted(&self) -> bool {
        self.raw[19] & 1 == 1
    }
    fn message_id(&self) -> u32 {
        u32::from_be_bytes(self.raw[20..24].try_into().unwrap())
    }
    fn body(&self) -> &'a [u8] {
        let len = u32::from_be_bytes(self.raw[24..28].try_into().unwrap()) as usize;
        assert_eq!(len, self.raw.len(), "ISAKMP length");
        &self.raw[28..len]
    }
}

/// A payload: type, whole bytes (generic header included), body.
struct Payload<'a> {
    kind: u8,
    whole: &'a [u8],
    body: &'a [u8],
}

/// Walks a payload chain starting with type `first`; returns the payloads
/// and where the chain ends (anything after is padding).
fn payloads(first: u8, data: &[u8]) -> (Vec<Payload<'_>>, usize) {
    let mut out = Vec::new();
    let (mut kind, mut off) = (first, 0);
    while kind != 0 {
        let next = data[off];
        let len = u16::from_be_bytes([data[off + 2], data[off + 3]]) as usize;
        out.push(Payload {
            kind,
            whole: &data[off..off + len],
            body: &data[off + 4..off + len],
        });
        kind = next;
        off += len;
    }
    (out, off)
}

fn find<'a>(ps: &'a [Payload<'a>], kind: u8) -> &'a Payload<'a> {
    ps.iter()
        .find(|p| p.kind == kind)
        .unwrap_or_else(|| panic!("no payload {kind}"))
}

/// The SPI of the single proposal in an SA payload body (RFC 2408 §3.4-3.5:
/// DOI, situation, then a proposal payload with its SPI).
fn proposal_spi(sa_body: &[u8]) -> u32 {
    let proposal = &sa_body[8..];
    assert_eq!(proposal[5], 3, "PROTO_IPSEC_ESP");
    assert_eq!(proposal[6], 4, "SPI size");
    u32::from_be_bytes(proposal[8..12].try_into().unwrap())
}

fn last_block(data: &[u8]) -> Iv {
    data[data.len() - 16..].try_into().unwrap()
}

struct Suite {
    group: DhGroup,
    hash: HashAlg,
    cipher: CipherAlg,
    esp_enc_len: usize,
    esp_integ_len: usize,
}

fn suite(kat: &Kat) -> Suite {
    let (group, hash, cipher) = match kat.text("ike_proposal") {
        "aes128-sha1-modp1024" => (DhGroup::Modp1024, HashAlg::Sha1, CipherAlg::Aes128Cbc),
        "aes256-sha1-modp2048" => (DhGroup::Modp2048, HashAlg::Sha1, CipherAlg::Aes256Cbc),
        other => panic!("unknown proposal {other}"),
    };
    let (esp_enc_len, esp_integ_len) = match kat.text("esp_proposal") {
        "aes128-sha1-modp1024" => (16, 20),
        "aes256-sha256-modp2048" => (32, 32),
        other => panic!("unknown ESP proposal {other}"),
    };
    Suite {
        group,
        hash,
        cipher,
        esp_enc_len,
        esp_integ_len,
    }
}

/// Replays one capture from the initiator's side and checks every value.
fn check(text: &str) {
    let kat = Kat::parse(text);
    let s = suite(&kat);
    let msgs: Vec<Message> = kat
        .messages
        .iter()
        .map(|(_, m)| Message { raw: m })
        .collect();
    let dirs: Vec<&str> = kat.messages.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(
        &dirs[..9],
        ["i2r", "r2i", "i2r", "r2i", "i2r", "r2i", "i2r", "r2i", "i2r"]
    );

    // Main mode 1-4 travel in the clear.
    let (cky_i, cky_r) = (msgs[1].cky_i(), msgs[1].cky_r());
    let (mm1, _) = payloads(msgs[0].next_payload(), msgs[0].body());
    let sai_b = find(&mm1, SA).body;
    let (mm3, _) = payloads(msgs[2].next_payload(), msgs[2].body());
    let (mm4, _) = payloads(msgs[3].next_payload(), msgs[3].body());
    let (g_xi, ni_b) = (find(&mm3, KE).body, find(&mm3, NONCE).body);
    let (g_xr, nr_b) = (find(&mm4, KE).body, find(&mm4, NONCE).body);

    // strongSwan's public values pass our validation (length and range).
    let probe = s.group.private_from_exponent(&[3]).unwrap();
    probe.shared(g_xi).expect("initiator KE accepted");
    probe.shared(g_xr).expect("responder KE accepted");

    // NAT-D (RFC 3947 §3.2): first the receiver's address, then the sender's.
    // The sender's own hash is random here: with kernel-libipsec (UDP-only
    // ESP) charon fakes a NAT so the peer floats to port 4500 and
    // encapsulates ESP; so only the first hash of each side is checked.
    let (addr_i, addr_r): (IpAddr, IpAddr) = (
        Ipv4Addr::new(10, 199, 0, 1).into(),
        Ipv4Addr::new(10, 199, 0, 2).into(),
    );
    let natd = |ps: &[Payload]| -> Vec<Vec<u8>> {
        ps.iter()
            .filter(|p| p.kind == NAT_D)
            .map(|p| p.body.to_vec())
            .collect()
    };
    let (natd3, natd4) = (natd(&mm3), natd(&mm4));
    assert_eq!(natd3[0], nat_d_hash(s.hash, &cky_i, &cky_r, addr_r, 500));
    assert_ne!(natd3[1], nat_d_hash(s.hash, &cky_i, &cky_r, addr_i, 500));
    assert_eq!(natd4[0], nat_d_hash(s.hash, &cky_i, &cky_r, addr_i, 500));
    assert_ne!(natd4[1], nat_d_hash(s.hash, &cky_i, &cky_r, addr_r, 500));
    assert!(kat.all("log.natd_hash").contains(&natd3[0]));

    // Keys (RFC 2409 §5, Appendix B).
    let g_xy = kat.one("log.shared_diffie_hellman_secret");
    assert_eq!(g_xy.len(), s.group.modulus_len());
    let material = Phase1Material {
        ni_b,
        nr_b,
        g_xy: &g_xy,
        cky_i: &cky_i,
        cky_r: &cky_r,
    };
    let keys = Phase1Keys::derive_psk(s.hash.prf(), &kat.one("psk"), &material, s.cipher).unwrap();
    assert_eq!(keys.skeyid().as_bytes(), kat.one("log.skeyid"), "SKEYID");
    assert_eq!(
        keys.skeyid_d().as_bytes(),
        kat.one("log.skeyid_d"),
        "SKEYID_d"
    );
    assert_eq!(
        keys.skeyid_a().as_bytes(),
        kat.one("log.skeyid_a"),
        "SKEYID_a"
    );
    assert_eq!(
        keys.skeyid_e().as_bytes(),
        kat.one("log.skeyid_e"),
        "SKEYID_e"
    );
    assert_eq!(
        keys.enc_key().as_bytes(),
        kat.one("log.encryption_key_ka"),
        "Ka"
    );
    let iv0 = phase1_iv(s.hash, g_xi, g_xr);
    assert_eq!(iv0.to_vec(), kat.one("log.initial_iv"), "phase-1 IV");

    // MM5 / MM6: decrypt, find ID and HASH, check HASH_I / HASH_R.
    let cipher = keys.cipher();
    let mut ivs = IvStore::new(s.hash, iv0);
    let auth = AuthContext {
        g_xi,
        g_xr,
        cky_i: &cky_i,
        cky_r: &cky_r,
        sai_b,
    };
    let logged_mm_ivs = kat.all("log.next_iv.0");
    for (n, (msg, expected_hash)) in [(&msgs[4], "log.hash_i"), (&msgs[5], "log.hash_r")]
        .into_iter()
        .enumerate()
    {
        assert!(msg.encrypted());
        let (plain, next) = cipher.decrypt(&ivs.get(0), msg.body()).unwrap();
        let (ps, end) = payloads(msg.next_payload(), &plain);
        assert!(plain.len() - end <= 16, "at most a block of padding");
        let id_b = find(&ps, ID).body;
        let hash = find(&ps, HASH).body;
        let ours = if n == 0 {
            assert!(keys.verify_hash_i(&auth, id_b, hash));
            keys.hash_i(&auth, id_b)
        } else {
            assert!(keys.verify_hash_r(&auth, id_b, hash));
            keys.hash_r(&auth, id_b)
        };
        assert_eq!(ours, hash);
        assert_eq!(ours, kat.one(expected_hash));
        // The ID is the sender's address (ID_IPV4_ADDR).
        assert_eq!(id_b[0], 1);
        ivs.set(0, next);
        assert_eq!(next.to_vec(), logged_mm_ivs[n], "IV after MM{}", 5 + n);
        // Encrypting the plaintext again gives strongSwan's ciphertext.
        let iv = if n == 0 {
            iv0
        } else {
            last_block(msgs[4].body())
        };
        assert_eq!(cipher.encrypt(&iv, &plain).unwrap().0, msg.body());
    }
    let last_phase1_block = last_block(msgs[5].body());

    // Quick mode (RFC 2409 §5.5).
    let mid = msgs[6].message_id();
    assert_eq!(msgs[6].exchange(), 32);
    let qm_ivs = kat.all(&format!("log.next_iv.{mid}"));
    let iv = ivs.get(mid);
    assert_eq!(iv, phase2_iv(s.hash, &last_phase1_block, mid));
    assert_eq!(iv.to_vec(), qm_ivs[0], "phase-2 IV");

    let mut qm = Vec::new();
    for (k, msg) in msgs[6..9].iter().enumerate() {
        assert_eq!(msg.message_id(), mid);
        let (plain, next) = cipher.decrypt(&ivs.get(mid), msg.body()).unwrap();
        ivs.set(mid, next);
        assert_eq!(next.to_vec(), qm_ivs[k + 1], "IV after QM{}", k + 1);
        qm.push(plain);
    }
    let (qm1, end1) = payloads(msgs[6].next_payload(), &qm[0]);
    let (qm2, end2) = payloads(msgs[7].next_payload(), &qm[1]);
    let (qm3, _) = payloads(msgs[8].next_payload(), &qm[2]);
    assert_eq!(qm1[0].kind, HASH);
    let after_hash = |ps: &[Payload], plain: &[u8], end: usize| {
        let start = ps[0].whole.len();
        plain[start..end].to_vec()
    };
    let qm_ni = find(&qm1, NONCE).body;
    let qm_nr = find(&qm2, NONCE).body;
    let h1 = keys.quick_hash1(mid, &after_hash(&qm1, &qm[0], end1));
    assert_eq!(h1, qm1[0].body);
    assert_eq!(h1, kat.one("log.hash_1"));
    let h2 = keys.quick_hash2(mid, qm_ni, &after_hash(&qm2, &qm[1], end2));
    assert_eq!(h2, qm2[0].body);
    assert_eq!(h2, kat.one("log.hash_2"));
    let h3 = keys.quick_hash3(mid, qm_ni, qm_nr);
    assert_eq!(qm3.len(), 1);
    assert_eq!(h3, qm3[0].body);
    assert_eq!(h3, kat.one("log.hash_3"));

    // KEYMAT with PFS: g(qm)^xy from the log, SPIs from the SA payloads. The
    // initiator's outbound SA uses the SPI the responder chose, and back.
    let g_qm = kat.one("log.dh_secret");
    assert_eq!(g_qm.len(), s.group.modulus_len());
    probe.shared(find(&qm1, KE).body).expect("QM KE accepted");
    let spi_i = proposal_spi(find(&qm1, SA).body);
    let spi_r = proposal_spi(find(&qm2, SA).body);
    let seed = [&g_qm[..], &[3], &spi_r.to_be_bytes(), qm_ni, qm_nr].concat();
    assert_eq!(seed, kat.one("log.initiator_sa_seed"));
    let out = keys.esp_keys(
        Some(&g_qm),
        spi_r,
        (qm_ni, qm_nr),
        s.esp_enc_len,
        s.esp_integ_len,
    );
    assert_eq!(
        out.encryption.as_bytes(),
        kat.one("log.encryption_initiator_key")
    );
    assert_eq!(
        out.integrity.as_bytes(),
        kat.one("log.integrity_initiator_key")
    );
    let back = keys.esp_keys(
        Some(&g_qm),
        spi_i,
        (qm_ni, qm_nr),
        s.esp_enc_len,
        s.esp_integ_len,
    );
    assert_eq!(
        back.encryption.as_bytes(),
        kat.one("log.encryption_responder_key")
    );
    assert_eq!(
        back.integrity.as_bytes(),
        kat.one("log.integrity_responder_key")
    );
    // Without PFS the seed simply lacks g(qm)^xy: a different key.
    let no_pfs = keys.esp_keys(None, spi_r, (qm_ni, qm_nr), s.esp_enc_len, s.esp_integ_len);
    assert_ne!(no_pfs, out);

    // Informational deletes sent when the initiator stopped (RFC 2409 §5.7):
    // each has its own M-ID and IV from the last phase-1 block.
    let infos: Vec<&Message> = msgs[9..].iter().filter(|m| m.exchange() == 5).collect();
    assert_eq!(
        infos.len(),
        2,
        "a Delete for the CHILD_SA and one for the IKE_SA"
    );
    let logged_hashes = kat.all("log.hash");
    for (n, msg) in infos.iter().enumerate() {
        let mid = msg.message_id();
        let iv = ivs.get(mid);
        assert_eq!(iv, phase2_iv(s.hash, &last_phase1_block, mid));
        // charon logs the exchange's first IV when it creates it; the SA is
        // gone before it would log the next one.
        assert_eq!(iv.to_vec(), kat.one(&format!("log.next_iv.{mid}")));
        let (plain, _) = cipher.decrypt(&iv, msg.body()).unwrap();
        let (ps, end) = payloads(msg.next_payload(), &plain);
        assert_eq!(ps[0].kind, HASH);
        assert_eq!(ps[1].kind, DELETE);
        let h = keys.informational_hash(mid, &after_hash(&ps, &plain, end));
        assert_eq!(h, ps[0].body);
        assert_eq!(h, logged_hashes[n]);
        ivs.forget(mid);
    }
}

#[test]
fn strongswan_aes128_sha1_modp1024() {
    check(AES128_SHA1_MODP1024);
}

#[test]
fn strongswan_aes256_sha1_modp2048() {
    check(AES256_SHA1_MODP2048);
}
