//! `runbook check` on the shipped content and on a corpus of invalid inputs, each with the
//! exact message a user sees (file:line:col, no colours), kept as one snapshot per case in
//! `tests/snapshots/invalid/CASE.snap`.
//!
//! After a deliberate change of a message, update the snapshots and review the diff:
//! `cargo insta test --test check --review` where cargo-insta is installed; without it,
//! `INSTA_UPDATE=always cargo test --test check` rewrites them in place (review with
//! `git diff tests/snapshots`), and a plain `cargo test` leaves each changed one beside the
//! old as `.snap.new` to compare. Under `CI=true` a missing or changed snapshot fails.

mod common;

use std::fs;
use std::path::Path;

use common::{copy_dir, runbook};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A scratch project: the base fixture with one case laid over it. A `facts-*.toml` case
/// replaces the facts file; any other file is added as a runbook; a folder is copied over
/// the project root.
fn project_with(case: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(FIXTURES).join("base"), dir.path());
    let name = case.file_name().unwrap().to_str().unwrap();
    if case.is_dir() {
        copy_dir(case, dir.path());
    } else if name.starts_with("facts-") {
        fs::copy(case, dir.path().join("runbooks/facts.toml")).unwrap();
    } else {
        fs::copy(case, dir.path().join("runbooks").join(name)).unwrap();
    }
    dir
}

/// `runbook check` in the project at `dir`.
fn check_in(dir: &Path) -> std::process::Output {
    runbook().arg("-C").arg(dir).arg("check").output().unwrap()
}

#[test]
fn shipped_content_checks_clean() {
    let out = runbook().args(["check"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr, "",
        "the shipped runbooks should have no warnings either"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(": no errors"), "{stdout}");
    assert!(
        stdout.contains(" and the help site (4 chapters, "),
        "{stdout}"
    );
}

/// Every file and folder under `root`.
fn tree(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().path().display().to_string())
        .collect()
}

#[test]
fn the_help_site_is_checked_without_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"));
    for part in ["book.toml", "guide", "runbooks"] {
        let from = shipped.join(part);
        if from.is_dir() {
            copy_dir(&from, &dir.path().join(part));
        } else {
            fs::copy(&from, dir.path().join(part)).unwrap();
        }
    }
    let before = tree(dir.path());
    let check = |expected: i32| {
        let out = check_in(dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(expected), "{stderr}");
        assert_eq!(tree(dir.path()), before, "check wrote something");
        stderr
    };
    check(0);
    // A broken link in a chapter fails the check as it fails the build, at its place.
    let intro = dir.path().join("guide/introduction.md");
    let text = fs::read_to_string(&intro).unwrap();
    fs::write(
        &intro,
        format!("{text}\nSee [the missing page](missing.md).\n"),
    )
    .unwrap();
    let stderr = check(1);
    assert!(
        stderr.contains("broken link `missing.html`") && stderr.contains("guide/introduction.md:"),
        "{stderr}"
    );
}

/// Where the messages of the invalid inputs are kept, relative to this file.
const INVALID_SNAPSHOTS: &str = "snapshots/invalid";

#[test]
fn invalid_inputs_fail_with_their_exact_message() {
    let dir = Path::new(FIXTURES).join("invalid");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(INVALID_SNAPSHOTS);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_stem().unwrap().to_str().unwrap();
        let project = project_with(case);
        let out = check_in(project.path());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
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
        settings.set_description(format!(
            "runbook check, with tests/fixtures/invalid/{}",
            case.file_name().unwrap().to_string_lossy()
        ));
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name, stderr));
        }));
        if compared.is_err() {
            failures.push(format!("{name}: the message differs from its snapshot"));
        }
    }
    // A snapshot whose case is gone would go on passing unseen.
    let names: Vec<_> = cases
        .iter()
        .map(|c| format!("{}.snap", c.file_stem().unwrap().to_string_lossy()))
        .collect();
    let kept = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(INVALID_SNAPSHOTS);
    for file in fs::read_dir(kept).unwrap() {
        let file = file.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".snap") && !names.contains(&file) {
            failures.push(format!(
                "{INVALID_SNAPSHOTS}/{file}: no case in tests/fixtures/invalid"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_misspelt_value_in_the_shipped_runbooks_names_file_line_and_the_meant_value() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("runbooks"), &dir.path().join("runbooks"));
    let path = dir.path().join("runbooks/prerequisites.toml");
    let text = fs::read_to_string(&path).unwrap();
    let at = text
        .find("\"1-tier\"")
        .expect("prerequisites.toml has a 1-Tier condition");
    fs::write(&path, text.replacen("\"1-tier\"", "\"1tier\"", 1)).unwrap();
    let line = text[..at].lines().count() + usize::from(text[..at].ends_with('\n'));
    let out = check_in(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("--> runbooks/prerequisites.toml:{line}:")),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean \"1-tier\"?"), "{stderr}");
}

#[test]
fn warnings_do_not_fail_the_check() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(FIXTURES).join("base"), dir.path());
    fs::write(
        dir.path().join("runbooks/warn.toml"),
        r#"id = "warn"
title = "Warn"
summary = "x"
when = 'tier == "1-tier"'

[[revision]]
date = 2019-01-01
before = "2.0"
[[revision.section]]
id = "s"
title = "S"
[[revision.section.step]]
id = "a"
title = "A"
when = 'tier != "2-tier"'

[[revision]]
date = 2020-01-01
since = "2.5"
[[revision.section]]
id = "s"
title = "S"
[[revision.section.step]]
id = "a"
title = "A"
"#,
    )
    .unwrap();
    let out = check_in(dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // A condition always true where it stands (runbooks/warn.toml:15:9), and the versions
    // from 2.0 up to 2.5 that no revision covers; the summary counts them.
    insta::assert_snapshot!("warnings", stderr);
    insta::assert_snapshot!("warnings_summary", String::from_utf8_lossy(&out.stdout));

    // With a help site, the same warnings, once each.
    fs::write(dir.path().join("book.toml"), "[book]\ntitle = \"T\"\n").unwrap();
    fs::create_dir_all(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/SUMMARY.md"), "- [A](a.md)\n").unwrap();
    fs::write(dir.path().join("src/a.md"), "# A\n").unwrap();
    let with_site = check_in(dir.path());
    assert!(with_site.status.success());
    assert_eq!(String::from_utf8_lossy(&with_site.stderr), stderr);
    // The summary names the help site's chapter, and the same 2 warnings.
    insta::assert_snapshot!(
        "warnings_summary_with_a_site",
        String::from_utf8_lossy(&with_site.stdout)
    );
}

#[test]
fn a_plain_book_has_its_site_checked() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(FIXTURES).join("site/plain"), dir.path());
    let before = tree(dir.path());
    let out = check_in(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("checked the help site ("), "{stdout}");
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn a_missing_project_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `runbooks` folder"));
}

#[test]
fn usage_errors_exit_2() {
    let out = runbook()
        .args(["checklist", "--format", "pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
