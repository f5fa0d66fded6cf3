//! Harness for the end-to-end tests: network namespaces, veth links, real
//! FRR and BIRD daemons, and hybridlab itself, each in its own namespace.
//!
//! Every test builds a [`Lab`] first. The lab owns the namespaces and a
//! scratch directory; daemons are values the test owns and drops before the
//! lab, so processes die (by PID) before their namespaces are deleted. When a
//! test panics, the lab prints the tail of every daemon log it knows and
//! keeps the scratch directory for a post-mortem.
//!
//! Waiting for real daemons is wall-clock polling by necessity: their clocks
//! are not ours to pause. Every wait has an explicit deadline and reports
//! what it last observed.

// Each test binary uses a different subset of the harness.
#![allow(dead_code)]

pub mod bfd;
pub mod bfd_scenarios;
pub mod bird;
pub mod frr;
pub mod hybridlab;
pub mod in_process;
pub mod peer;
pub mod scenario_configs;
pub mod scenarios;
pub mod strongswan;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The variable that turns the interop tests on.
pub const INTEROP_ENV: &str = "HYBRIDLAB_INTEROP";

/// Whether interop tests run. Without [`INTEROP_ENV`] they are skipped with a
/// message, so a plain `cargo test` works unprivileged. With it, a missing
/// prerequisite fails the test: CI must never pass by skipping.
pub fn interop_enabled(test: &str) -> bool {
    let on = std::env::var_os(INTEROP_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    if !on {
        eprintln!("{test}: skipped: set {INTEROP_ENV}=1 (needs root, frr, bird2)");
        return false;
    }
    let missing = missing_prerequisites();
    assert!(
        missing.is_empty(),
        "{test}: {INTEROP_ENV} is set but prerequisites are missing: {}\n\
         run interop/test-all (as root) to install them",
        missing.join(", ")
    );
    true
}

fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !running_as_root() {
        missing.push("root (network namespaces, TCP port 179)".to_string());
    }
    for path in [frr::BGPD, frr::VTYSH, bird::BIRD, bird::BIRDC] {
        if !Path::new(path).exists() {
            missing.push(path.to_string());
        }
    }
    if !succeeds(Command::new("ip").arg("-V")) {
        missing.push("ip (iproute2)".to_string());
    }
    if !succeeds(Command::new("id").args(["-u", "frr"])) {
        missing.push("user frr (package frr)".to_string());
    }
    missing
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Namespaces, scratch files and logs of one test.
pub struct Lab {
    pub name: String,
    dir: PathBuf,
    namespaces: RefCell<Vec<String>>,
    logs: RefCell<Vec<(String, PathBuf)>>,
}

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);

impl Lab {
    /// `tag` is a short word naming the test; the lab adds the PID and a
    /// counter so tests running in parallel threads, or leftovers of an
    /// earlier run, never collide.
    pub fn new(tag: &str) -> Lab {
        let n = LAB_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("hlt{}{}-{tag}", std::process::id(), n);
        let dir = std::env::temp_dir().join("hybridlab-interop").join(&name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Lab {
            name,
            dir,
            namespaces: RefCell::new(Vec::new()),
            logs: RefCell::new(Vec::new()),
        }
    }

    /// A scratch directory for one daemon, inside the lab's.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
        d
    }

    /// A new namespace with loopback up. Deleted when the lab drops.
    pub fn netns(&self, role: &str) -> Netns {
        let name = format!("{}-{role}", self.name);
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        self.namespaces.borrow_mut().push(name.clone());
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Registers a log so failures show its tail.
    pub fn track_log(&self, label: &str, path: &Path) {
        self.logs
            .borrow_mut()
            .push((label.to_string(), path.to_path_buf()));
    }

    /// The last lines of every tracked log, for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut s = String::new();
        for (label, path) in self.logs.borrow().iter() {
            let _ = writeln!(
                s,
                "----- {label}: {} (last {DIAGNOSTIC_LINES} lines)",
                path.display()
            );
            let _ = writeln!(s, "{}", tail(path, DIAGNOSTIC_LINES));
        }
        s
    }

    /// Polls `probe` until it returns `Ok`, at most `timeout`. On timeout,
    /// panics with what was last observed (and the lab, dropping, prints the
    /// daemons' logs).
    pub fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        let mut last;
        loop {
            match probe() {
                Ok(v) => return v,
                Err(observed) => last = observed,
            }
            if start.elapsed() >= timeout {
                panic!("timed out after {timeout:?} waiting for {what}\nlast observed: {last}");
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Asserts `probe` keeps returning `Ok` for the whole `period`: for
    /// "the session stays Idle" kinds of claims.
    pub fn hold(
        &self,
        what: &str,
        period: Duration,
        mut probe: impl FnMut() -> Result<(), String>,
    ) {
        let start = Instant::now();
        while start.elapsed() < period {
            if let Err(observed) = probe() {
                panic!(
                    "expected {what} for {period:?}, broken after {:?}: {observed}",
                    start.elapsed()
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Panics with `msg`; the lab then prints the daemons' logs as it drops.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{msg}")
    }
}

const POLL_INTERVAL: Duration = Duration::from_millis(200);
const DIAGNOSTIC_LINES: usize = 30;

impl Drop for Lab {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if failed {
            eprintln!(
                "lab {} failed; files kept in {}",
                self.name,
                self.dir.display()
            );
            eprintln!("{}", self.diagnostics());
        }
        for ns in self.namespaces.borrow().iter() {
            kill_namespace_processes(ns);
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        if !failed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Anything still running in a namespace of ours was started by this test
/// (a daemon that forked, say): end it by PID before deleting the namespace.
fn kill_namespace_processes(ns: &str) {
    let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill")
            .args(["-KILL", pid])
            .stderr(Stdio::null())
            .status();
    }
}

/// A network namespace of the lab.
#[derive(Clone, Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// `ip -n NS ARGS`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        run_ok(Command::new("ip").arg("-n").arg(&self.name).args(args));
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// `ping -q` from `from` to `to` inside the namespace, one second's
    /// patience per reply: its summary (see `strongswan::parse_ping_*`).
    pub fn ping(
        &self,
        from: impl std::fmt::Display,
        to: impl std::fmt::Display,
        count: u32,
        interval: &str,
    ) -> String {
        let out = self
            .command("ping")
            .args([
                "-n",
                "-q",
                "-c",
                &count.to_string(),
                "-i",
                interval,
                "-W",
                "1",
            ])
            .args(["-I", &from.to_string(), &to.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("run ping: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Addresses of one veth link: side A is `.1` / `::1`, side B `.2` / `::2`.
#[derive(Clone, Debug)]
pub struct Link {
    pub a_if: String,
    pub b_if: String,
    pub a4: String,
    pub b4: String,
    pub a6: String,
    pub b6: String,
}

impl Link {
    /// The addresses [`veth`] gives link 0, with no link behind them: for
    /// unprivileged tests that only write topology files.
    pub fn unplugged() -> Link {
        let (v4, v6) = LINK_SUBNETS[0];
        Link {
            a_if: "to-peer".into(),
            b_if: "to-hl".into(),
            a4: format!("{v4}.1"),
            b4: format!("{v4}.2"),
            a6: format!("{v6}::1"),
            b6: format!("{v6}::2"),
        }
    }
}

/// Documentation prefixes (RFC 5737, RFC 3849) for up to three links; they
/// only ever exist inside the lab's namespaces.
const LINK_SUBNETS: [(&str, &str); 3] = [
    ("192.0.2", "2001:db8:0:1"),
    ("198.51.100", "2001:db8:0:2"),
    ("203.0.113", "2001:db8:0:3"),
];

/// A veth pair between `a` and `b`, created straight inside the namespaces
/// so its names only need to be unique there. `index` picks the subnet.
pub fn veth(a: &Netns, b: &Netns, a_if: &str, b_if: &str, index: usize) -> Link {
    let (v4, v6) = LINK_SUBNETS[index];
    let link = Link {
        a_if: a_if.to_string(),
        b_if: b_if.to_string(),
        a4: format!("{v4}.1"),
        b4: format!("{v4}.2"),
        a6: format!("{v6}::1"),
        b6: format!("{v6}::2"),
    };
    a.ip(&[
        "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", &b.name,
    ]);
    for (ns, ifname, v4addr, v6addr) in
        [(a, a_if, &link.a4, &link.a6), (b, b_if, &link.b4, &link.b6)]
    {
        ns.ip(&["addr", "add", &format!("{v4addr}/24"), "dev", ifname]);
        // nodad: the address is usable at once, not after duplicate detection.
        ns.ip(&[
            "addr",
            "add",
            &format!("{v6addr}/64"),
            "dev",
            ifname,
            "nodad",
        ]);
        ns.ip(&["link", "set", ifname, "up"]);
    }
    link
}

/// A process started by a test, ended by PID when dropped.
pub struct Daemon {
    pub label: String,
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(lab: &Lab, label: &str, mut cmd: Command, log: &Path) -> Daemon {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("dup {}: {e}", log.display()));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {label} ({cmd:?}): {e}"));
        lab.track_log(&format!("{label} output"), log);
        Daemon {
            label: label.to_string(),
            child,
            log: log.to_path_buf(),
        }
    }

    /// `ip netns exec` execs the program, so this is the daemon's own PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Err` with the exit status if the process has ended.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited: {status}", self.label)),
            Err(e) => Err(format!("{}: {e}", self.label)),
        }
    }

    /// Peak resident set size (VmHWM) in KiB, if the process still runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // SIGTERM first so the daemon flushes its log and closes sessions.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command that must succeed; panics with its output otherwise.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The last `lines` lines of a file, or why it could not be read.
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read: {e})"),
    }
}

/// Fills `{{key}}` placeholders of a template under `interop/`. A
/// placeholder left unfilled is a bug in the test, caught here.
pub fn render_template(relative: &str, values: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("interop")
        .join(relative);
    let mut text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(at) = text.find("{{") {
        let rest: String = text[at..].chars().take(40).collect();
        panic!("{}: unfilled placeholder at `{rest}`", path.display());
    }
    text
}

/// Parses JSON printed by a tool, with the text in the error.
pub fn parse_json(what: &str, text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{what}: not JSON ({e}): {text}"))
}
