//! Throughput of `seal` and `open` on one core (a benchmark, not a test).
//!
//!     cargo run --release -p hybridlab-esp --example esp_bench [seconds-per-case]
//!
//! For each transform pair and inner packet size, seals packets into one
//! reused buffer, then opens them; prints inner-packet Gbit/s for seal
//! (encrypt-then-MAC: what one tunnel direction costs the sender), open
//! (MAC then decrypt) and seal+open back to back (one core doing both ends).
//! IVs come from `RandomIvs` over `ring`'s system random, as in production.
//! Each case runs in [`TRIALS`] trials and reports the median seal and open
//! time, which a burst of other work on a shared machine moves less than
//! the mean.
//! One line per case, `key=value`, for interop/bench-esp to parse.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hybridlab_esp::{
    Cipher, Integrity, RandomIvs, SaParams, SecurityAssociation, NEXT_HEADER_IPV4,
};
use ring::rand::SystemRandom;

fn main() {
    let per_case = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_millis(1500));
    let pairs = [
        (
            "aes128-cbc+hmac-sha1-96",
            Cipher::Aes128Cbc,
            Integrity::HmacSha1_96,
        ),
        (
            "aes256-cbc+hmac-sha256-128",
            Cipher::Aes256Cbc,
            Integrity::HmacSha256_128,
        ),
    ];
    for (name, cipher, integrity) in pairs {
        for size in [64usize, 512, 1400] {
            let trials: Vec<PerPacket> = (0..TRIALS)
                .map(|_| run(cipher, integrity, size, per_case / TRIALS))
                .collect();
            let r = PerPacket {
                seal_ns: median(trials.iter().map(|t| t.seal_ns)),
                open_ns: median(trials.iter().map(|t| t.open_ns)),
            };
            println!(
                "transform={name} inner_bytes={size} seal_gbps={:.3} open_gbps={:.3} seal_open_gbps={:.3} seal_ns={:.0} open_ns={:.0}",
                gbps(size, r.seal_ns),
                gbps(size, r.open_ns),
                gbps(size, r.seal_ns + r.open_ns),
                r.seal_ns,
                r.open_ns,
            );
        }
    }
}

const TRIALS: u32 = 8;

struct PerPacket {
    seal_ns: f64,
    open_ns: f64,
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn gbps(size: usize, ns_per_packet: f64) -> f64 {
    (size * 8) as f64 / ns_per_packet
}

fn run(cipher: Cipher, integrity: Integrity, size: usize, per_case: Duration) -> PerPacket {
    let ekey = [0x42u8; 32];
    let ikey = [0x24u8; 32];
    let params = SaParams::new(
        0x1000_0001,
        cipher,
        &ekey[..cipher.key_len()],
        integrity,
        &ikey[..integrity.key_len()],
    );
    let mut params_rx = params;
    // The bench replays the same packet stream into fresh receivers; a
    // window the size of a batch keeps every packet in order and new.
    params_rx.replay_window = 1024;
    let mut tx = SecurityAssociation::new(&params).expect("bench keys");
    let mut ivs = RandomIvs::new(SystemRandom::new());
    let inner: Vec<u8> = (0..size).map(|i| i as u8).collect();

    // Batches of packets: seal a batch into one buffer, then open it.
    const BATCH: usize = 1024;
    let sealed_len = tx.sealed_len(size);
    let mut wire = BytesMut::with_capacity(sealed_len * BATCH);
    let mut out = BytesMut::with_capacity(2048);
    let (mut seal_time, mut open_time, mut packets) = (Duration::ZERO, Duration::ZERO, 0u64);
    let deadline = Instant::now() + per_case;
    while packets == 0 || Instant::now() < deadline {
        let mut rx = SecurityAssociation::new(&params_rx).expect("bench keys");
        wire.clear();
        let t0 = Instant::now();
        for _ in 0..BATCH {
            tx.seal(black_box(&inner), NEXT_HEADER_IPV4, &mut ivs, &mut wire)
                .expect("seal");
        }
        let t1 = Instant::now();
        for packet in wire.chunks_exact(sealed_len) {
            out.clear();
            let opened = rx.open(black_box(packet), &mut out).expect("open");
            black_box(opened);
        }
        let t2 = Instant::now();
        seal_time += t1 - t0;
        open_time += t2 - t1;
        packets += BATCH as u64;
    }
    PerPacket {
        seal_ns: seal_time.as_nanos() as f64 / packets as f64,
        open_ns: open_time.as_nanos() as f64 / packets as f64,
    }
}
