//! Cloud nodes from the command line: `validate` summarises them, `run`
//! runs them (in-process, unprivileged: the only socket is the control API
//! on an ephemeral loopback port), and `show routes`, `show vgw` and
//! `trace` read them over the API. Ctrl-C stops the lab with exit 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/topologies/dx-with-vpn-backup.toml"
);

fn hybridlab(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hybridlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hybridlab");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Kills the lab if the test fails before stopping it.
struct Lab(Option<Child>);

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn validate_accepts_and_summarises_cloud_nodes() {
    let (code, stdout, stderr) = hybridlab(&["validate", FILE]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("cloud: 1 VPCs, 1 VGWs, 1 VPN connections, 0 DX gateways, 1 VIFs\n"),
        "{stdout}"
    );
}

#[test]
fn run_serves_cloud_nodes_until_ctrl_c() {
    let mut lab = Lab(Some(
        Command::new(env!("CARGO_BIN_EXE_hybridlab"))
            .args(["run", "--api", "127.0.0.1:0", FILE])
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hybridlab"),
    ));
    let stderr = lab
        .0
        .as_mut()
        .and_then(|c| c.stderr.take())
        .expect("piped stderr");
    // The bound API address is in the "lab running" log line; read the log
    // in a thread so the wait is bounded.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("lab running") {
                let api = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("api="))
                    .map(str::to_string);
                let _ = tx.send(api);
            }
        }
    });
    let api = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hybridlab never said it runs")
        .expect("an api= field");

    // What holds from the start, converged or not: the VPC's local route,
    // the VGW's tunnels, a trace inside the VPC, none to nowhere.
    let (code, stdout, stderr) = hybridlab(&["show", "routes", "prod", "--api", &api]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("routes of prod (vpc, "), "{stdout}");
    let local = stdout
        .lines()
        .find(|l| l.contains("10.0.0.0/16"))
        .expect("the local route");
    assert_eq!(
        local.split_whitespace().collect::<Vec<_>>(),
        ["*", "10.0.0.0/16", "local", "-", "local", "-", "-", "-"],
        "{stdout}"
    );
    let (code, stdout, _) = hybridlab(&["show", "routes", "prod", "--json", "--api", &api]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["kind"], "vpc", "{json}");

    let (code, stdout, stderr) = hybridlab(&["show", "vgw", "vgw1", "--api", &api]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("VGW vgw1 (AS 64512, VPC prod)\n"),
        "{stdout}"
    );
    for header in [
        "TUNNEL", "STATUS", "MESSAGE", "ACCEPTED", "PREFIX", "EGRESS",
    ] {
        assert!(stdout.contains(header), "{header} in {stdout}");
    }
    assert!(stdout.contains("backup/tunnel1"), "{stdout}");
    assert!(stdout.contains("backup/tunnel2"), "{stdout}");

    let (code, stdout, stderr) = hybridlab(&["trace", "prod", "10.0.1.5", "--api", &api]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "trace prod -> 10.0.1.5\n\
         \x201  prod (vpc) matched 10.0.0.0/16 -> local: only candidate\n\
         delivered inside prod (local route)\n"
    );
    let (code, stdout, _) = hybridlab(&["trace", "prod", "192.168.1.1", "--api", &api]);
    assert_eq!(code, Some(1), "not delivered: exit 1\n{stdout}");
    assert!(
        stdout.ends_with("dropped at prod: no route in table private\n"),
        "{stdout}"
    );
    let (code, _, stderr) = hybridlab(&["show", "routes", "nowhere", "--api", &api]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no node `nowhere`"), "{stderr}");

    // Ctrl-C.
    let mut child = lab.0.take().expect("the lab is running");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let exit = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hybridlab did not exit")
        .expect("wait for hybridlab");
    assert!(exit.success(), "exit status {exit}");
}
