//! Cloud node kinds are parsed and validated but not run yet: `validate`
//! accepts and summarises them, `run` refuses them with a clear message
//! and exit status 2 rather than silently running only the routers.

use std::process::Command;

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

#[test]
fn validate_accepts_and_summarises_cloud_nodes() {
    let (code, stdout, stderr) = hybridlab(&["validate", FILE]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("cloud: 1 VPCs, 1 VGWs, 1 VPN connections, 0 DX gateways, 1 VIFs"),
        "{stdout}"
    );
}

#[test]
fn run_refuses_cloud_nodes_until_they_are_wired() {
    let (code, stdout, stderr) = hybridlab(&["run", FILE]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "cloud node kinds (vpc, vgw, vpn, dx ...) are parsed and validated but not run yet"
        ),
        "{stderr}"
    );
}
