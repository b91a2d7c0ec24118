//! Where a step comes from and who performs it, on a fixture project: citations of the parts
//! of source articles (`from`), sources that are addresses, and roles decided by facts.

mod common;

use std::fs;
use std::path::Path;

use common::{copy_dir, runbook};
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/provenance";

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = runbook().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fixture() -> &'static Path {
    Path::new(FIXTURE)
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["checklist", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(fixture(), &all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn roles(list: &Value) -> Vec<String> {
    list["runbooks"][0]["sections"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_role_with_cases_is_decided_by_the_facts() {
    assert_eq!(roles(&json(&["--set", "mode=install"])), ["robot", "robot"]);
    assert_eq!(
        roles(&json(&["--set", "mode=upgrade", "--set", "runner=admin"])),
        ["admin", "admin", "admin"]
    );
    // Undecided: the role's own title, and the facts that decide it are asked for.
    let open = json(&[]);
    assert_eq!(roles(&open), ["operator", "operator", "operator"]);
    assert_eq!(open["open_facts"], serde_json::json!(["mode", "runner"]));
    let upgrade = json(&["--set", "mode=upgrade"]);
    assert_eq!(upgrade["open_facts"], serde_json::json!(["runner"]));
}

#[test]
fn explain_names_the_part_of_each_source_a_step_encodes() {
    let (code, out, err) = run(
        fixture(),
        &[
            "checklist",
            "--set",
            "mode=upgrade",
            "--set",
            "runner=robot",
            "--explain",
            "--format",
            "md",
        ],
    );
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
    // Without --explain the citations stay in the JSON only.
    let (_, plain, _) = run(fixture(), &["checklist", "--set", "mode=install"]);
    assert!(!plain.contains("From:"), "{plain}");
    let list = json(&["--set", "mode=install"]);
    let step = &list["runbooks"][0]["sections"][0]["steps"][0];
    assert_eq!(
        step["from"],
        serde_json::json!([
            { "title": "Deployment guide", "article": "guide.txt", "url": null, "part": "Deploying, step 1", "condition": null },
            { "title": "Knowledge base article", "article": null, "url": "https://example.com/kb/7", "part": "Requirements", "condition": null },
        ])
    );
}

#[test]
fn an_html_checklist_links_a_source_that_is_an_address() {
    let (code, out, err) = run(
        fixture(),
        &[
            "checklist",
            "--set",
            "mode=install",
            "--explain",
            "--format",
            "html",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // minijinja escapes the slashes of attribute values too.
    assert!(
        out.contains("From: <a href=\"https:&#x2f;&#x2f;example.com&#x2f;kb&#x2f;7\">Knowledge base article</a>, Requirements"),
        "{out}"
    );
}

#[test]
fn show_sources_lists_each_article_with_the_steps_that_encode_it() {
    let (code, out, err) = run(fixture(), &["show", "deploy", "--sources"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn show_names_who_performs_for_the_facts_and_what_does_not_apply() {
    // Who performs each step for these facts (the robot account), without the step that
    // does not apply (Check the deployment), and the step text filled in as a checklist fills
    // it (`[customer domain]` where the profile gives none).
    let (code, out, err) = run(fixture(), &["show", "deploy", "--set", "mode=install"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("Check the deployment"), "{out}");
    insta::assert_snapshot!(out);
    let (_, out, _) = run(
        fixture(),
        &["show", "deploy", "--set", "customer.domain=example.org"],
    );
    assert!(out.contains("from `example.org`"), "{out}");
}

/// A copy of the fixture with `edit` applied to one file, and `runbook check`'s stderr.
fn check_with(file: &str, from: &str, to: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(fixture(), dir.path());
    let path = dir.path().join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{err}");
    err
}

#[test]
fn check_reports_bad_citations_sources_and_role_cases() {
    let mut all = String::new();
    for (file, from, to) in [
        (
            "runbooks/deploy.toml",
            "\"guide: Deploying, step 2\"",
            "\"gide: Deploying, step 2\"",
        ),
        (
            "runbooks/deploy.toml",
            "\"guide: Deploying, step 2\"",
            "\"Deploying, step 2\"",
        ),
        (
            "runbooks/deploy.toml",
            "url = \"https://example.com/kb/7\"",
            "url = \"example.com/kb/7\"",
        ),
        ("runbooks/deploy.toml", "article = \"guide.txt\"\n", ""),
        (
            "runbooks/facts.toml",
            "role = \"admin\" }",
            "role = \"admn\" }",
        ),
        (
            "runbooks/facts.toml",
            "when = 'runner == \"admin\"'",
            "when = 'runner == \"admn\"'",
        ),
    ] {
        all.push_str(&check_with(file, from, to));
        all.push_str("-----\n");
    }
    insta::assert_snapshot!(all);
}
