//! hybridlab's VGW against the customer gateway AWS publishes for
//! strongSwan, run exactly as published: route-based VTIs with marks
//! 100/200 and the kernel's own ESP (xfrm SAs), which this host kernel
//! lacks. So the whole scenario runs in a user-mode-linux guest (a 6.1
//! kernel with ESP, booted as an ordinary process): `interop/uml/run-guest
//! interop/uml/scenario-hybridlab.sh`, see interop/uml/README.md.
//!
//! Runs with `HYBRIDLAB_INTEROP=1`, as root, with Debian's
//! `user-mode-linux` installed; otherwise it prints why it is skipped. The
//! result-file parser is tested everywhere.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The whole run, guest boot included, is bounded by run-guest's timeout;
/// the test adds a margin for run-guest's own start and clean-up.
const GUEST_TIMEOUT_S: u64 = 150;
const TEST_DEADLINE: Duration = Duration::from_secs(GUEST_TIMEOUT_S + 20);
static GUESTS: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    let on = std::env::var_os("HYBRIDLAB_INTEROP").is_some_and(|v| !v.is_empty() && v != "0");
    if !on {
        return Some("set HYBRIDLAB_INTEROP=1 (needs root and user-mode-linux)".into());
    }
    let root = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false);
    if !root {
        return Some("not root (interop tests run as root)".into());
    }
    if !Path::new("/usr/bin/linux.uml").exists() {
        return Some("user-mode-linux not installed (apt-get install user-mode-linux kmod)".into());
    }
    if !Path::new("/usr/lib/ipsec/starter").exists() {
        return Some("strongswan-starter not installed (ipsec.conf via `ipsec start`)".into());
    }
    None
}

/// `KEY=VALUE` lines of a guest's result.txt; later lines win.
fn parse_results(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Kills the UML process group on drop (run-guest does it itself on its
/// timeout; this covers a test that panics or times out first).
struct GuestGuard {
    out: PathBuf,
}

impl Drop for GuestGuard {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.out.join("uml.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                if pid > 1 {
                    // The group id is linux.uml's PID (run-guest starts it with setsid).
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
    }
}

#[test]
fn result_lines_parse() {
    let r = parse_results(
        "scenario=hybridlab-nat\nxfrm_sa_1=192.168.1.2>198.51.100.1/0xc6c48fe7 0->30\nvti_marks=ikey 0.0.0.100 ikey 0.0.0.200 \nping_vpc_avg_ms=\n",
    );
    assert_eq!(r["scenario"], "hybridlab-nat");
    assert_eq!(r["xfrm_sa_1"], "192.168.1.2>198.51.100.1/0xc6c48fe7 0->30");
    assert_eq!(r["vti_marks"], "ikey 0.0.0.100 ikey 0.0.0.200");
    assert_eq!(r["ping_vpc_avg_ms"], "");
}

/// Behind a NAT: IKE floats to 4500 and ESP rides in UDP (RFC 3948).
#[test]
fn hybridlab_vgw_against_aws_strongswan_download_with_kernel_esp() {
    run_scenario("nat");
}

/// No NAT: the download does not force encapsulation, so ESP is IP
/// protocol 50 and hybridlab's VGW answers on its raw socket.
#[test]
fn hybridlab_vgw_against_aws_strongswan_download_with_plain_esp() {
    run_scenario("direct");
}

/// `scenario-hybridlab.sh MODE` in a guest, and the assertions both modes
/// share.
fn run_scenario(mode: &str) {
    if let Some(why) = skip_reason() {
        eprintln!("hybridlab_vgw ({mode}): skipped: {why}");
        return;
    }
    // One guest at a time: two on the shared cores slow each other's
    // timeouts (and a poisoned lock only means the other case failed).
    let _one = GUESTS.lock().unwrap_or_else(|e| e.into_inner());
    let out =
        std::env::temp_dir().join(format!("hybridlab-uml-test-{mode}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).expect("create the guest's output folder");
    let guard = GuestGuard { out: out.clone() };
    let uml = repo().join("interop/uml");
    let started = Instant::now();
    let mut child = Command::new(uml.join("run-guest"))
        .args(["--timeout", &GUEST_TIMEOUT_S.to_string(), "--out"])
        .arg(&out)
        .arg(uml.join("scenario-hybridlab.sh"))
        .arg(mode)
        .arg(env!("CARGO_BIN_EXE_hybridlab"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start interop/uml/run-guest");
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for run-guest") {
            break s;
        }
        if started.elapsed() > TEST_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            drop(guard);
            panic!(
                "run-guest still running after {TEST_DEADLINE:?}; output in {}",
                out.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(guard);
    let log = fs::read_to_string(out.join("guest.log")).unwrap_or_default();
    let results = parse_results(&fs::read_to_string(out.join("result.txt")).unwrap_or_default());
    let context = || {
        format!(
            "guest output in {}\n--- result.txt ---\n{results:#?}\n--- guest.log (tail) ---\n{}",
            out.display(),
            log.lines()
                .rev()
                .take(60)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    assert!(status.success(), "run-guest: {status}\n{}", context());
    let get = |k: &str| results.get(k).map(String::as_str).unwrap_or("");

    println!(
        "guest ready {} s; CHILD SAs {} s, BGP on both VTIs {} s after `ipsec start`; host wall {:.1} s",
        get("guest_boot_s"),
        get("establish_s"),
        get("bgp_established_s"),
        started.elapsed().as_secs_f64()
    );
    for k in ["ping_tunnel1", "ping_tunnel2", "ping_vpc"] {
        println!(
            "{k}: {}/{} avg {} ms",
            get(&format!("{k}_rx")),
            get(&format!("{k}_tx")),
            get(&format!("{k}_avg_ms"))
        );
    }

    assert_eq!(
        get("done"),
        "1",
        "the scenario did not finish\n{}",
        context()
    );
    assert_ne!(get("establish_s"), "timeout", "no CHILD SAs\n{}", context());
    assert_eq!(
        get("xfrm_states"),
        "4",
        "two kernel SAs per tunnel\n{}",
        context()
    );
    assert_eq!(
        get("xfrm_sas_moved"),
        "4/4",
        "every xfrm SA's packet counter moves\n{}",
        context()
    );
    // Behind the NAT all four SAs are ESP-in-UDP; without it none is.
    assert_eq!(
        get("esp_encap"),
        if mode == "nat" { "4" } else { "0" },
        "encap type espinudp SAs\n{}",
        context()
    );
    let marks = get("vti_marks");
    assert!(
        marks.contains("0.0.0.100") && marks.contains("0.0.0.200"),
        "VTIs keyed 100 and 200: {marks}\n{}",
        context()
    );
    for peer in ["169.254.10.1", "169.254.10.5"] {
        assert_eq!(
            get(&format!("frr_bgp_{peer}")),
            "Established",
            "FRR's session with {peer}\n{}",
            context()
        );
    }
    assert_eq!(
        get("hl_sessions_established"),
        "2",
        "the VGW's sessions\n{}",
        context()
    );
    assert_eq!(
        get("hl_vpc_route_172_16"),
        "1",
        "the VPC's route to the customer prefix\n{}",
        context()
    );
    for k in ["ping_tunnel1", "ping_tunnel2", "ping_vpc"] {
        let tx = get(&format!("{k}_tx"));
        assert!(
            !tx.is_empty() && tx == get(&format!("{k}_rx")),
            "{k} lost packets\n{}",
            context()
        );
    }
    let _ = fs::remove_dir_all(&out);
}
