//! Crash safety and concurrency: `runbook index` and `runbook build` killed with SIGKILL at
//! many moments leave the previous result working, and the next run repairs everything; two
//! writers at once never corrupt anything.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::Duration;

use common::{copy_dir, runbook};

/// A copy of the project: runbooks, profiles, the book and its chapters.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["runbooks", "examples", "guide"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("book.toml"), dir.path().join("book.toml")).unwrap();
    dir
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kill delays spread over the run, the same on every test run: 0 to ~250 ms.
fn delays(n: u64) -> impl Iterator<Item = Duration> {
    (0..n).map(|i| Duration::from_millis((i * 7919 + 13) % 251))
}

fn search_finds_the_admin_agent_step(dir: &Path) {
    let out = runbook()
        .arg("-C")
        .arg(dir)
        .args(["search", "admin agent", "--format", "json", "--limit", "3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("prerequisites#partner-center-integration-account"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn index_survives_sigkill_at_any_moment() {
    let dir = project();
    search_finds_the_admin_agent_step(dir.path());
    for delay in delays(20) {
        let mut child = spawn(dir.path(), &["index", "--force"]);
        sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        search_finds_the_admin_agent_step(dir.path());
    }
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["index", "--force"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    search_finds_the_admin_agent_step(dir.path());
}

#[test]
fn two_indexers_at_once_both_finish_and_leave_a_working_index() {
    let dir = project();
    for _ in 0..3 {
        let a = spawn(dir.path(), &["index", "--force"]);
        let b = spawn(dir.path(), &["index", "--force"]);
        for mut child in [a, b] {
            assert!(child.wait().unwrap().success());
        }
        search_finds_the_admin_agent_step(dir.path());
    }
}

/// The built site is whole: its pages end properly, and its runbook pages are there.
fn site_is_whole(dir: &Path) {
    let book = dir.join("book");
    for page in [
        "index.html",
        "runbooks/prerequisites.html",
        "checklist.html",
    ] {
        let html =
            std::fs::read_to_string(book.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(html.trim_end().ends_with("</html>"), "{page} is cut short");
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".book.building-"))
        .collect()
}

#[test]
fn build_survives_sigkill_at_any_moment() {
    let dir = project();
    let build = |dir: &Path| {
        let out = runbook().arg("-C").arg(dir).arg("build").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    build(dir.path());
    site_is_whole(dir.path());
    for delay in delays(20) {
        let mut child = spawn(dir.path(), &["build"]);
        sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        site_is_whole(dir.path());
    }
    build(dir.path());
    site_is_whole(dir.path());
    assert_eq!(
        leftovers(dir.path()),
        Vec::<String>::new(),
        "the next build cleans up"
    );
}

#[test]
fn two_builds_at_once_both_finish_and_leave_a_whole_site() {
    let dir = project();
    for _ in 0..3 {
        let a = spawn(dir.path(), &["build"]);
        let b = spawn(dir.path(), &["build"]);
        for mut child in [a, b] {
            assert!(child.wait().unwrap().success());
        }
        site_is_whole(dir.path());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }
}
