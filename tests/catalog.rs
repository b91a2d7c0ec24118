//! `runbook list` and `runbook show` on the shipped runbooks.

mod common;

use common::runbook;

fn stdout(args: &[&str]) -> String {
    let out = runbook().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn list_shows_every_runbook_and_revision() {
    insta::assert_snapshot!(stdout(&["list"]));
}

#[test]
fn list_json_has_ranges_and_step_counts() {
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&["list", "--format", "json"])).unwrap();
    let service = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "service-account")
        .unwrap();
    let revisions = service["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["before"], "2.5");
    assert_eq!(revisions[0]["current"], false);
    assert_eq!(revisions[1]["since"], "2.5");
    assert_eq!(revisions[1]["current"], true);
    assert!(revisions[1]["steps"].as_u64().unwrap() > 0);
    assert_eq!(
        revisions[1]["sources"][0]["article"],
        "001_39029c2c5c2fa05a.txt"
    );
}

#[test]
fn show_gives_the_revision_for_the_version_and_the_history() {
    // The revision for 3.6, naming the other one; the old revision's own step is not in it.
    let current = stdout(&["show", "service-account", "--set", "version=3.6"]);
    assert!(!current.contains("Do not enable MFA"), "{current}");
    insta::assert_snapshot!("service_account_for_3_6", current);
    // The old revision asked for by its date, with the step that only it has.
    let old = stdout(&["show", "service-account", "--revision", "2019-02-04"]);
    assert!(old.contains("[service-account#no-mfa]"), "{old}");
    insta::assert_snapshot!("service_account_2019_02_04", old);
}

#[test]
fn show_hides_what_the_facts_exclude_and_marks_what_they_leave_open() {
    let two_tier = stdout(&["show", "prerequisites", "--set", "tier=2-tier"]);
    assert!(
        !two_tier.contains("Partner Center integration account"),
        "{two_tier}"
    );
    // With no facts, the 1-Tier step is there with its condition in words.
    let open = stdout(&["show", "prerequisites"]);
    assert!(
        open.contains("only if Partner tier is 1-Tier (Direct Bill)"),
        "{open}"
    );
    insta::assert_snapshot!("prerequisites_with_no_facts", open);
}

#[test]
fn show_errors_name_what_exists() {
    let out = runbook().args(["show", "prerequisite"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"prerequisites\"?"));
    let out = runbook()
        .args(["show", "install", "--revision", "2021-01-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its revisions: 2019-08-14, 2020-09-28"));
}
