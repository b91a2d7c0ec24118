//! `runbook check` on the shipped content and on a corpus of invalid inputs, each with the
//! exact message a user sees. Set `RUNBOOK_BLESS=1` to rewrite the expected messages after a
//! deliberate change, and review the diff.

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
    // The shipped help site is checked too, and nothing of it is left behind.
    assert!(
        stdout.contains(" and the help site (3 chapters, "),
        "{stdout}"
    );
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(".runbook");
    let left: Vec<String> = fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("check"))
        .collect();
    assert!(left.is_empty(), "left in .runbook: {left:?}");
}

#[test]
fn invalid_inputs_fail_with_their_exact_message() {
    let dir = Path::new(FIXTURES).join("invalid");
    let bless = std::env::var_os("RUNBOOK_BLESS").is_some();
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let project = project_with(case);
        let out = runbook()
            .arg("-C")
            .arg(project.path())
            .arg("check")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let expected_path = case.with_extension("stderr");
        if bless {
            fs::write(&expected_path, &stderr).unwrap();
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{}: exit {:?}, expected 1",
                case.display(),
                out.status.code()
            ));
        }
        if stderr != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- got\n{stderr}",
                case.display()
            ));
        }
        if stderr.contains("panicked") {
            failures.push(format!("{}: panicked", case.display()));
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
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .arg("check")
        .output()
        .unwrap();
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
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: condition is always true where it stands"),
        "{stderr}"
    );
    assert!(stderr.contains("--> runbooks/warn.toml:15:9"), "{stderr}");
    assert!(
        stderr.contains("warning: no revision of `warn` covers versions from 2.0 up to 2.5"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 warnings"));
}

#[test]
fn a_missing_project_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .arg("check")
        .output()
        .unwrap();
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
