//! `hybridlab check` as a user runs it: the lab runs in-process (no root,
//! no sockets beyond the process), the command waits for BGP over the
//! virtual links, prints a verdict per expectation and exits 0 when all
//! hold, 1 when one fails, 2 when a file is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A VPC reached over a private VIF from an emulated customer router.
const LAB: &str = r#"
[lab]
name = "check-test"

[[router]]
name = "onprem"
asn = 65000
router_id = "192.0.2.1"
networks = ["172.16.0.0/16"]

[[region]]
name = "eu-west-1"

[[vpc]]
name = "prod"
region = "eu-west-1"
cidrs = ["10.0.0.0/16"]
  [[vpc.route_table]]
  name = "main"
  main = true
  propagation = ["vgw1"]

[[vgw]]
name = "vgw1"
region = "eu-west-1"
vpc = "prod"

[[vif]]
name = "dx1"
kind = "private"
vlan = 101
attach = { vgw = "vgw1" }
amazon_address = "169.254.255.1"
customer_address = "169.254.255.2"
router = "onprem"
md5 = "dx1-key"

[[expect]]
description = "the VPC reaches the office over the VIF"
node = "prod"
prefix = "172.16.0.0/16"
via = "dx1"
origin = "propagated"

[[expect]]
trace = { from = "prod", to = "172.16.1.1" }
path = ["prod", "vgw1", "dx1", "onprem"]
delivered = true
"#;

const WRONG: &str = r#"
[[expect]]
description = "deliberately wrong AS_PATH"
node = "vgw1"
prefix = "172.16.0.0/16"
as_path = [65009]
"#;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("hybridlab-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write topology");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(args: &[&Path]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hybridlab"))
        .arg("check")
        .args(["--timeout", "5"])
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
fn all_expectations_hold_exit_zero() {
    let dir = TempDir::new("check-pass");
    let file = dir.file("lab.toml", LAB);
    let (code, stdout, stderr) = check(&[&file]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let name = file.display();
    assert!(
        stdout.contains(&format!(
            "ok   {name}:38 the VPC reaches the office over the VIF\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "ok   {name}:45 trace prod -> 172.16.1.1: prod > vgw1 > dx1 > onprem delivered\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("{name}: 2 passed, 0 failed\n")),
        "{stdout}"
    );
}

#[test]
fn a_failing_expectation_prints_the_difference_and_exits_one() {
    let dir = TempDir::new("check-fail");
    let file = dir.file("lab.toml", &format!("{LAB}{WRONG}"));
    let (code, stdout, stderr) = check(&[&file]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let name = file.display();
    assert!(
        stdout.contains(&format!(
            "ok   {name}:38 the VPC reaches the office over the VIF\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAIL {name}:50 deliberately wrong AS_PATH\n\
             \x20    expected: vgw1: 172.16.0.0/16 as_path 65009\n\
             \x20    observed: vgw1: 172.16.0.0/16 via dx1 as_path 65000\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("{name}: 2 passed, 1 failed\n")),
        "{stdout}"
    );
}

#[test]
fn a_directory_is_its_toml_files_and_a_bad_file_exits_two() {
    let dir = TempDir::new("check-dir");
    dir.file("a.toml", LAB);
    let bad = dir.file(
        "b.toml",
        "[[expect]]\nnode = \"nowhere\"\nprefix = \"10.0.0.0/8\"\n",
    );
    dir.file("c.toml", "[lab]\nname = \"empty\"\n");
    dir.file("notes.txt", "not a topology");
    let (code, stdout, stderr) = check(&[&dir.0]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let a = dir.0.join("a.toml");
    assert!(
        stdout.contains(&format!("{}: 2 passed, 0 failed\n", a.display())),
        "{stdout}"
    );
    // FILE:LINE:COL and what is wrong.
    assert!(
        stderr.contains(&format!("{}:2:", bad.display())),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "{}: no expectations\n",
            dir.0.join("c.toml").display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("total: 3 files, 2 passed, 0 failed, 1 with errors\n"),
        "{stdout}"
    );
}
