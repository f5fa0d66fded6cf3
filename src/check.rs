//! `hybridlab check PATH...`: run each topology in-process, wait until its
//! `[[expect]]`s hold or time runs out, print a verdict per expectation.
//! Exit 0 when all held, 1 when any failed, 2 when a file could not be
//! read, parsed or started.

use hybridlab_runtime::check::{converge, node_of};
use hybridlab_runtime::{Lab, LabOptions};
use hybridlab_topology::expect::Expectation;
use hybridlab_topology::ParseOptions;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_FILE_ERROR: u8 = 2;

/// How one file went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

pub fn run(paths: &[PathBuf], timeout: Duration, external: &[String]) -> ExitCode {
    let files = match files(paths) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(EXIT_FILE_ERROR);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FILE_ERROR);
        }
    };
    let mut total = Tally::default();
    let mut file_errors = 0;
    for file in &files {
        match runtime.block_on(check_file(file, timeout, external)) {
            Ok(t) => {
                total.passed += t.passed;
                total.failed += t.failed;
                total.skipped += t.skipped;
            }
            Err(message) => {
                eprintln!("{message}");
                file_errors += 1;
            }
        }
    }
    if files.len() > 1 {
        println!(
            "total: {} files, {}{}",
            files.len(),
            summary(&total),
            if file_errors > 0 {
                format!(", {file_errors} with errors")
            } else {
                String::new()
            }
        );
    }
    if file_errors > 0 {
        ExitCode::from(EXIT_FILE_ERROR)
    } else if total.failed > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every PATH as given; a directory stands for its `*.toml` files, sorted.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path)
            .map_err(|e| format!("{}: cannot read directory: {e}", path.display()))?;
        let mut tomls = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("{}: cannot read directory: {e}", path.display()))?;
            let p = entry.path();
            if p.is_file() && p.extension().is_some_and(|e| e == "toml") {
                tomls.push(p);
            }
        }
        if tomls.is_empty() {
            return Err(format!("{}: no *.toml files", path.display()));
        }
        tomls.sort();
        out.extend(tomls);
    }
    Ok(out)
}

fn summary(t: &Tally) -> String {
    let mut s = format!("{} passed, {} failed", t.passed, t.failed);
    if t.skipped > 0 {
        s.push_str(&format!(", {} skipped", t.skipped));
    }
    s
}

async fn check_file(path: &Path, timeout: Duration, external: &[String]) -> Result<Tally, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: cannot read: {e}"))?;
    let options = ParseOptions {
        external: external.to_vec(),
    };
    let topology =
        hybridlab_topology::parse_with(&file, &text, &options).map_err(|e| e.to_string())?;
    if topology.expectations.is_empty() {
        println!("{file}: no expectations");
        return Ok(Tally::default());
    }
    let expectations = topology.expectations.clone();
    let is_external = |e: &Expectation| node_of(e).is_some_and(|n| external.iter().any(|x| x == n));
    let checked: Vec<Expectation> = expectations
        .iter()
        .filter(|e| !is_external(e))
        .cloned()
        .collect();
    let verdicts = if checked.is_empty() {
        Vec::new()
    } else {
        let mut lab = Lab::new(
            topology,
            LabOptions {
                no_api: true,
                ..LabOptions::default()
            },
        );
        lab.start()
            .await
            .map_err(|e| format!("{file}: cannot start the lab: {e}"))?;
        let verdicts = converge(&lab.handle(), &checked, external, timeout, |_| {}).await;
        lab.shutdown().await;
        verdicts
    };
    let mut tally = Tally::default();
    let mut verdicts = verdicts.into_iter();
    for e in &expectations {
        if is_external(e) {
            tally.skipped += 1;
            println!(
                "skip {}{} (external router: verify on the router)",
                e.at,
                title(e.description.as_deref())
            );
            continue;
        }
        let Some(v) = verdicts.next() else {
            continue;
        };
        println!("{v}");
        if v.passed {
            tally.passed += 1;
        } else {
            tally.failed += 1;
        }
    }
    println!("{file}: {}", summary(&tally));
    Ok(tally)
}

fn title(description: Option<&str>) -> String {
    description.map_or_else(String::new, |d| format!(" {d}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_stands_for_its_toml_files_sorted() {
        let dir =
            std::env::temp_dir().join(format!("hybridlab-check-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        for name in ["b.toml", "a.toml", "notes.md"] {
            std::fs::write(dir.join(name), "").unwrap_or_else(|e| panic!("{e}"));
        }
        let found = files(std::slice::from_ref(&dir)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found, [dir.join("a.toml"), dir.join("b.toml")]);
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap_or_else(|e| panic!("{e}"));
        let err = files(std::slice::from_ref(&empty)).err();
        assert!(err.is_some_and(|e| e.ends_with("no *.toml files")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
