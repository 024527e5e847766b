//! Shared by the CLI tests: running the binary, reading its output, temporary files and
//! the shared test data.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `distlab` with `args`.
pub fn distlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_distlab"))
        .args(args)
        .output()
        .expect("the distlab binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh file `name` holding `text`, in a folder of the system's temporary directory
/// named after `kind` and this process.
pub fn temp_file(kind: &str, name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("distlab-{kind}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `path` in the shared test data (`DISTLAB_TESTDATA`, by default ../shared/testdata beside
/// the workspace), or `None` with a note saying the test skips when it is absent.
pub fn testdata(path: &str) -> Option<PathBuf> {
    let full = std::env::var("DISTLAB_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
        .join(path);
    if full.exists() {
        Some(full)
    } else {
        eprintln!("testdata absent: skipping ({} not found)", full.display());
        None
    }
}
