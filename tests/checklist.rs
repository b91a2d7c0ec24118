//! `runbook checklist`: formats, facts and their conditions, explanations, errors. The
//! content truth table of the shipped runbooks is tests/content.rs.

mod common;

use std::fs;
use std::path::Path;

use common::{copy_dir, element, normalise, runbook, steps};
use serde_json::Value;

/// The checklist for a set of facts, as JSON.
fn checklist(args: &[&str]) -> Value {
    let out = runbook()
        .args(["checklist", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Standard error of a run that must fail with exit status 1.
fn failure(args: &[&str]) -> String {
    let out = runbook().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn addresses(list: &Value) -> Vec<String> {
    steps(list)
        .iter()
        .map(|s| s["address"].as_str().unwrap().to_string())
        .collect()
}

fn step<'a>(list: &'a Value, address: &str) -> &'a Value {
    steps(list)
        .into_iter()
        .find(|s| s["address"] == address)
        .unwrap_or_else(|| panic!("no step {address}"))
}

fn set(facts: &[&str]) -> Vec<String> {
    facts
        .iter()
        .flat_map(|f| ["--set".to_string(), f.to_string()])
        .collect()
}

#[test]
fn the_application_id_follows_the_region() {
    const US: &str = "e4b1a995-abe3-4350-a61c-65fccd32e8bd";
    const EU: &str = "5e56ae97-9be1-40d3-938b-99ea52175a30";
    let body = |facts: &[&str]| {
        let list = checklist(&set(facts).iter().map(String::as_str).collect::<Vec<_>>());
        step(&list, "application-user#add-app-user")["body"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let eu = body(&["identity=application-user", "version=3.6", "region=eu"]);
    assert!(eu.contains(EU) && !eu.contains(US), "{eu}");
    let us = body(&["identity=application-user", "version=3.6", "region=us"]);
    assert!(us.contains(US) && !us.contains(EU), "{us}");
    let unknown = body(&["identity=application-user", "version=3.6"]);
    assert!(unknown.contains(US) && unknown.contains(EU), "{unknown}");
}

#[test]
fn unknown_facts_keep_steps_with_their_remaining_condition() {
    let list = checklist(&["--set", "version=3.6", "--set", "mode=install"]);
    let partner = step(&list, "prerequisites#partner-center-integration-account");
    assert_eq!(
        partner["condition"]["text"],
        "only if Partner tier is 1-Tier (Direct Bill)"
    );
    assert_eq!(partner["condition"]["expression"], "tier == \"1-tier\"");
    assert!(
        list["open_facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "tier")
    );
    // A fact that is given leaves no condition behind.
    assert!(step(&list, "install#request-license")["condition"].is_null());
}

#[test]
fn versions_no_revision_covers_are_errors() {
    // Below the version fact's minimum, no runbook is tried.
    let stderr = failure(&["checklist", "--set", "version=2.4"]);
    insta::assert_snapshot!("version_below_the_minimum", stderr);

    let stderr = failure(&[
        "checklist",
        "--set",
        "version=3.0",
        "--set",
        "identity=application-user",
        "--set",
        "mode=install",
    ]);
    // Names the runbook and the versions its revisions cover.
    insta::assert_snapshot!("version_not_covered_by_a_runbook", stderr);
}

#[test]
fn a_runbook_that_may_not_apply_is_left_out_when_no_revision_covers_the_version() {
    let list = checklist(&["--set", "version=3.0"]);
    assert!(
        !addresses(&list)
            .iter()
            .any(|a| a.starts_with("application-user#"))
    );
    let notes = list["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("Use an application user instead of a service account is left out")),
        "{notes:?}"
    );
}

#[test]
fn values_outside_a_domain_name_the_allowed_ones() {
    let stderr = failure(&["checklist", "--set", "tier=3-tier"]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_bad_profile_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("bad.toml");
    fs::write(
        &profile,
        "[customer]\nname = \"X\"\n\n[facts]\nregion = \"apac\"\n",
    )
    .unwrap();
    let out = runbook()
        .arg("checklist")
        .arg("--profile")
        .arg(&profile)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // At bad.toml:5:10, with the allowed values.
    insta::assert_snapshot!(normalise(&stderr, &[dir.path()]));
}

#[test]
fn strict_names_each_missing_fact_with_its_question() {
    let stderr = failure(&[
        "checklist",
        "--strict",
        "--set",
        "version=3.6",
        "--set",
        "mode=install",
    ]);
    // Each fact still open, with its question and values; not `mode`, which is given.
    insta::assert_snapshot!(stderr);
    assert!(!stderr.contains("mode:"), "{stderr}");
    let out = runbook()
        .args([
            "checklist",
            "--strict",
            "--profile",
            "examples/contoso-1tier-us-install.toml",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn explain_gives_the_clause_for_each_step() {
    let list = checklist(&[
        "--explain",
        "--set",
        "tier=2-tier",
        "--set",
        "version=3.6",
        "--set",
        "mode=install",
    ]);
    let excluded = list["excluded"].as_array().unwrap();
    let partner = excluded
        .iter()
        .find(|x| x["address"] == "prerequisites#partner-center-integration-account")
        .expect("the 1-Tier step is excluded");
    assert_eq!(
        partner["reason"],
        "tier == \"1-tier\" is false for tier = 2-tier"
    );
    assert_eq!(
        step(&list, "install#request-license")["explain"],
        "mode == \"install\" is true for mode = install"
    );
    let md = runbook()
        .args([
            "checklist",
            "--explain",
            "--set",
            "tier=2-tier",
            "--set",
            "mode=install",
            "--set",
            "version=3.6",
        ])
        .output()
        .unwrap();
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    // The Markdown ends with the excluded steps, each with its reason.
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("## Excluded steps"), "{md}");
    insta::assert_snapshot!(md);
}

#[test]
fn markdown_is_a_task_list_with_facts_and_totals() {
    let out = runbook()
        .args([
            "checklist",
            "--profile",
            "examples/contoso-1tier-us-install.toml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The customer and facts, numbered task-list steps with their roles, waits and expiries,
    // the customer's domain filled in, and the totals.
    let md = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!(normalise(&md, &[]));
}

#[test]
fn every_format_is_byte_identical_between_runs() {
    for format in ["md", "html", "txt", "json"] {
        let run = || {
            runbook()
                .args([
                    "checklist",
                    "--profile",
                    "examples/fabrikam-2tier-eu-upgrade.toml",
                    "--format",
                    format,
                ])
                .output()
                .unwrap()
                .stdout
        };
        assert_eq!(run(), run(), "{format}");
    }
}

fn hostile_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/base"),
        dir.path(),
    );
    fs::write(
        dir.path().join("runbooks/hostile.toml"),
        r#"id = "hostile"
title = "Hostile <b>content</b>"
summary = "<img src=x onerror=alert(1)>"

[[revision]]
[[revision.section]]
id = "s"
title = "<script>alert('section')</script>"
[[revision.section.step]]
id = "a"
title = "<script>alert('title')</script>"
body = """
Text with <script>alert('body')</script> and <a href="javascript:alert(1)">a link</a>.
"""
"#,
    )
    .unwrap();
    dir
}

#[test]
fn html_escapes_and_sanitizes_content() {
    let dir = hostile_project();
    let profile = dir.path().join("p.toml");
    fs::write(
        &profile,
        "[customer]\nname = \"<script>alert('customer')</script>\"\n",
    )
    .unwrap();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["checklist", "--format", "html", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Nothing of the content runs, wherever it stands in the page.
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    // Titles and summary escaped, the body's HTML sanitized, each step a checkbox.
    insta::assert_snapshot!(element(&html, "main"));
}

#[test]
fn output_files_are_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("contoso.html");
    let out = runbook()
        .args([
            "checklist",
            "--profile",
            "examples/contoso-1tier-us-install.toml",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = fs::read_to_string(&out_file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));

    // A failing run (a bad --set) leaves the earlier file as it was, and nothing beside it.
    let out = runbook()
        .args(["checklist", "--set", "tier=x", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&out_file).unwrap(), html);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    let missing = dir.path().join("no/such/dir/out.md");
    let out = runbook()
        .args(["checklist", "-o"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
}

#[test]
fn a_template_error_names_the_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("mine.md.j2");
    fs::write(
        &template,
        "# {{ checklist.customer.name }}\n{% for x in %}\n",
    )
    .unwrap();
    let out = runbook()
        .args(["checklist", "--template"])
        .arg(&template)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // A template error at mine.md.j2:2.
    insta::assert_snapshot!(normalise(&stderr, &[dir.path()]));
}

#[test]
fn a_user_template_replaces_the_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("short.txt");
    fs::write(
        &template,
        "{% for r in checklist.runbooks %}{{ r.id }}\n{% endfor %}",
    )
    .unwrap();
    let out = runbook()
        .args([
            "-C",
            "tests/fixtures/base",
            "checklist",
            "--format",
            "txt",
            "--template",
        ])
        .arg(&template)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "base\n");
}

#[test]
fn only_the_named_runbooks() {
    let list = checklist(&["--runbook", "install", "--set", "mode=install"]);
    let ids: Vec<&str> = list["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["install"]);
    let out = runbook()
        .args(["checklist", "--runbook", "instal"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"install\"?"));
}
