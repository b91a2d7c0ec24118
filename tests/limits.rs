//! Inputs at the limits: each either works or fails with a clear message, never a stack
//! overflow or a crash.

mod common;

use std::fmt::Write;
use std::fs;
use std::path::Path;

use common::{copy_dir, runbook};

fn project(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base"),
        dir.path(),
    );
    for (name, text) in files {
        fs::write(dir.path().join("runbooks").join(name), text).unwrap();
    }
    dir
}

fn one_step(when: Option<&str>, body: &str) -> String {
    let mut text = String::from(
        "id = \"edge\"\ntitle = \"Edge\"\nsummary = \"x\"\n[[revision]]\n[[revision.section]]\nid = \"s\"\ntitle = \"S\"\n[[revision.section.step]]\nid = \"a\"\ntitle = \"A\"\n",
    );
    if let Some(when) = when {
        writeln!(text, "when = '{when}'").unwrap();
    }
    writeln!(text, "body = \"\"\"\n{body}\n\"\"\"").unwrap();
    text
}

fn check(dir: &Path) -> (Option<i32>, String) {
    let out = runbook().arg("-C").arg(dir).arg("check").output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_condition_nested_20000_deep_is_refused_clearly() {
    let deep = format!("{}aad_premium{}", "(".repeat(20_000), ")".repeat(20_000));
    let dir = project(&[("edge.toml", one_step(Some(&deep), "x"))]);
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("error: condition is nested more than 100 levels deep"),
        "{stderr}"
    );
    assert!(stderr.contains("--> runbooks/edge.toml:11:"), "{stderr}");

    let nots = format!("{}aad_premium", "not ".repeat(20_000));
    let dir = project(&[("edge.toml", one_step(Some(&nots), "x"))]);
    assert_eq!(check(dir.path()).0, Some(1));
}

#[test]
fn toml_and_templates_nested_20000_deep_are_refused_clearly() {
    let arrays = format!(
        "id = \"x\"\ntitle = {}{}\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let dir = project(&[("edge.toml", arrays)]);
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(1));
    assert!(stderr.contains("recursion"), "{stderr}");

    let template = format!(
        "{{{{ {}app_id{} }}}}",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    let dir = project(&[("edge.toml", one_step(None, &template))]);
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "step text only fills in values, and `{{{{ {}…` does more",
            "(".repeat(37)
        )),
        "{stderr}"
    );
    assert!(stderr.len() < 200_000, "the message stays readable");
}

#[test]
fn a_10_mb_step_body_works() {
    let body = "Enter the value and save it. ".repeat(360_000);
    assert!(body.len() > 10_000_000);
    let dir = project(&[("edge.toml", one_step(None, &body))]);
    assert_eq!(check(dir.path()).0, Some(0));
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["checklist", "--format", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.len() > 10_000_000);
}

#[test]
fn markdown_nested_2000_deep_renders() {
    let body = format!("{}quote\n\n{}item", "> ".repeat(2_000), "- ".repeat(2_000));
    let dir = project(&[("edge.toml", one_step(None, &body))]);
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["checklist", "--format", "html"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_100000_step_runbook_works() {
    let mut text = String::from("id = \"huge\"\ntitle = \"Huge\"\nsummary = \"x\"\n[[revision]]\n");
    for s in 0..1_000 {
        writeln!(
            text,
            "[[revision.section]]\nid = \"s{s}\"\ntitle = \"Section {s}\""
        )
        .unwrap();
        for n in 0..100 {
            writeln!(
                text,
                "[[revision.section.step]]\nid = \"s{s}-{n}\"\ntitle = \"Step {n}\""
            )
            .unwrap();
            if n % 2 == 1 {
                writeln!(text, "when = 'tier == \"1-tier\" and region == \"eu\"'").unwrap();
            }
        }
    }
    let dir = project(&[("huge.toml", text)]);
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("100002 steps"));
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["checklist", "--format", "json", "--set", "tier=2-tier"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["totals"]["steps"], 50_001);
}
