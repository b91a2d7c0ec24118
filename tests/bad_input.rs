//! Bad input of every kind, across profiles, `--set`, templates, `book.toml`, `SUMMARY.md` and
//! chapters (the runbook and facts files have their own corpus in `check.rs`). Each case is a
//! folder laid over the base fixture project, with the command line in `args`; its exact
//! message (file:line:col, no colours) is the snapshot `tests/snapshots/bad/CASE.snap`. Every
//! case must exit 1 with that message, without a panic, and leave the project exactly as it
//! was: no `-o` file, no half-built site or index (only the build's lock file may appear in
//! the `.runbook` cache folder).
//!
//! After a deliberate change of a message, update the snapshots and review the diff:
//! `cargo insta test --test bad_input --review` where cargo-insta is installed; without it,
//! `INSTA_UPDATE=always cargo test --test bad_input` rewrites them in place (review with
//! `git diff tests/snapshots`), and a plain `cargo test` leaves each changed one beside the
//! old as `.snap.new` to compare. Under `CI=true` a missing or changed snapshot fails.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::{copy_dir, runbook};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Every file under `root` with its contents.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        // The build lock is no output: it only keeps two builds from writing at once.
        .filter(|e| !e.path().ends_with(".runbook/site.lock"))
        .map(|e| {
            (
                e.path().strip_prefix(root).unwrap().to_path_buf(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Where the messages of the cases are kept, relative to this file.
const BAD_SNAPSHOTS: &str = "snapshots/bad";

#[test]
fn bad_input_fails_cleanly_with_its_exact_message() {
    let mut cases: Vec<PathBuf> = fs::read_dir(Path::new(FIXTURES).join("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(BAD_SNAPSHOTS);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut failures = Vec::new();
    for case in &cases {
        let project = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(FIXTURES).join("base"), project.path());
        copy_dir(case, project.path());
        fs::remove_file(project.path().join("args")).unwrap();
        let before = snapshot(project.path());
        let args = fs::read_to_string(case.join("args")).unwrap();
        let out = runbook()
            .current_dir(project.path())
            .args(args.split_whitespace())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let name = case.file_name().unwrap().to_str().unwrap();
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{name}: exit {:?}, expected 1\n{stderr}",
                out.status.code()
            ));
        }
        if stderr.contains("panicked") {
            failures.push(format!("{name}: panicked"));
        }
        // A snapshot is compared without its trailing blank lines: the last line is still
        // ended.
        if !stderr.ends_with('\n') {
            failures.push(format!("{name}: the message's last line has no newline"));
        }
        // Every case is compared, and the ones that differ are named together at the end.
        settings.set_description(format!("runbook {}", args.trim()));
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name, stderr));
        }));
        if compared.is_err() {
            failures.push(format!("{name}: the message differs from its snapshot"));
        }
        let after = snapshot(project.path());
        if after != before {
            let added: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
            failures.push(format!("{name}: the project changed; new files: {added:?}"));
        }
    }
    // A snapshot whose case is gone would go on passing unseen.
    let names: Vec<_> = cases
        .iter()
        .map(|c| format!("{}.snap", c.file_name().unwrap().to_string_lossy()))
        .collect();
    let kept = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(BAD_SNAPSHOTS);
    for file in fs::read_dir(kept).unwrap() {
        let file = file.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".snap") && !names.contains(&file) {
            failures.push(format!(
                "{BAD_SNAPSHOTS}/{file}: no case in tests/fixtures/bad"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Chapters and includes cannot pull a file from outside the project into the site.
#[cfg(unix)]
#[test]
fn chapters_and_includes_stay_inside_the_project() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.md");
    fs::write(&secret, "# Secret\n\nsecret words\n").unwrap();
    let project = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(FIXTURES).join("base"), project.path());
    let guide = project.path().join("guide");
    fs::create_dir_all(&guide).unwrap();
    fs::write(
        project.path().join("book.toml"),
        "[book]\ntitle = \"T\"\nsrc = \"guide\"\n",
    )
    .unwrap();
    fs::write(
        guide.join("intro.md"),
        format!(
            "# Intro\n\n{{{{#include {}}}}}\n\n{{{{#include {}{}}}}}\n",
            secret.display(),
            "../".repeat(12),
            secret.strip_prefix("/").unwrap().display()
        ),
    )
    .unwrap();
    fs::write(
        guide.join("SUMMARY.md"),
        "# Summary\n\n- [Intro](intro.md)\n",
    )
    .unwrap();
    let out = runbook()
        .current_dir(project.path())
        .arg("build")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("the directive is left out").count(),
        2,
        "{stderr}"
    );
    let html = fs::read_to_string(project.path().join("book/intro.html")).unwrap();
    assert!(!html.contains("secret words"));

    std::os::unix::fs::symlink(&secret, guide.join("link.md")).unwrap();
    fs::write(
        guide.join("SUMMARY.md"),
        "# Summary\n\n- [Intro](intro.md)\n- [Link](link.md)\n",
    )
    .unwrap();
    let out = runbook()
        .current_dir(project.path())
        .arg("build")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: guide/link.md is outside the project"),
        "{stderr}"
    );
}
