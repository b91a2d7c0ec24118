//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// The steps of `runbook checklist --format json`, in order.
pub fn steps(list: &serde_json::Value) -> Vec<&serde_json::Value> {
    list["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["sections"].as_array().unwrap())
        .flat_map(|s| s["steps"].as_array().unwrap())
        .collect()
}

/// The real binary, run from the repository root, never in colour.
pub fn runbook() -> Command {
    let mut cmd = Command::cargo_bin("runbook").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("--color")
        .arg("never");
    cmd
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the shipped project (runbooks, example profiles and the help site's chapters)
/// in a temp dir, where it may be edited and indexed.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["runbooks", "examples", "guide"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    fs::copy(root.join("book.toml"), dir.path().join("book.toml")).unwrap();
    dir
}
