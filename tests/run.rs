//! `runbook run`: a team's run of one checklist, recorded in `runs/NAME.jsonl`, on a fixture
//! project: the record, the state it replays to, drift after a runbook edit, a crash-cut last
//! line, concurrent recording, and two branches merged by git.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use common::{copy_dir, element, normalise, runbook};
use serde_json::Value;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new("tests/fixtures/run"), dir.path());
    dir
}

fn rb(dir: &Path, args: &[&str]) -> Output {
    runbook().current_dir(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = rb(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Standard error of a run that must fail with `code`, leaving the record as it was.
fn fails(dir: &Path, code: i32, args: &[&str]) -> String {
    let record = dir.join("runs/r.jsonl");
    let before = fs::read(&record).ok();
    let out = rb(dir, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}");
    assert_eq!(
        fs::read(&record).ok(),
        before,
        "{args:?} wrote to the record"
    );
    String::from_utf8(out.stderr).unwrap()
}

fn status(dir: &Path) -> Value {
    serde_json::from_str(&ok(dir, &["run", "status", "r", "--format", "json"])).unwrap()
}

fn states(s: &Value) -> Vec<(String, String)> {
    s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["number"].as_str().unwrap().to_string(),
                st["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn started() -> tempfile::TempDir {
    let dir = project();
    ok(
        dir.path(),
        &[
            "run",
            "start",
            "r",
            "--profile",
            "examples/contoso.toml",
            "--by",
            "Ann",
        ],
    );
    dir
}

#[test]
fn start_pins_the_checklist_and_sets_git_to_merge_runs_by_lines() {
    let dir = project();
    let out = rb(
        dir.path(),
        &["run", "start", "r", "--set", "mode=install", "--by", "Ann"],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("added `runs/*.jsonl merge=union`"));
    assert_eq!(
        fs::read_to_string(dir.path().join(".gitattributes")).unwrap(),
        "runs/*.jsonl merge=union\n"
    );
    let text = fs::read_to_string(dir.path().join("runs/r.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "start");
    assert_eq!(first["by"], "Ann");
    assert_eq!(first["facts"], serde_json::json!({ "mode": "install" }));
    let steps = first["steps"].as_array().unwrap();
    let addresses: Vec<&str> = steps
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        [
            "deploy#enable-policies",
            "deploy#copy-link",
            "deploy#finish"
        ]
    );
    assert_eq!(steps[0]["revision"], "2024-01-02");
    assert_eq!(steps[0]["hash"].as_str().unwrap().len(), 64);
    // Once: a second start, and a run whose checklist still depends on a fact, are refused.
    let e = fails(
        dir.path(),
        1,
        &["run", "start", "r", "--set", "mode=install"],
    );
    assert!(e.contains("there is a run `r` already"), "{e}");
    let e = fails(dir.path(), 1, &["run", "start", "other"]);
    assert!(e.contains("mode: Install or upgrade?"), "{e}");
    assert!(!dir.path().join("runs/other.jsonl").exists());
}

#[test]
fn done_skip_and_undo_give_the_state() {
    let dir = started();
    let d = dir.path();
    ok(
        d,
        &[
            "run",
            "done",
            "r",
            "1.1.1",
            "deploy#copy-link",
            "--by",
            "Bo",
            "--note",
            "fine",
        ],
    );
    ok(
        d,
        &[
            "run",
            "skip",
            "r",
            "1.1.3",
            "--note",
            "not needed",
            "--by",
            "Cy",
        ],
    );
    let s = status(d);
    assert_eq!(
        s["progress"],
        serde_json::json!({ "done": 2, "skipped": 1, "open": 0, "total": 3 })
    );
    assert_eq!(s["steps"][0]["by"], "Bo");
    assert_eq!(s["steps"][0]["note"], "fine");
    assert_eq!(s["steps"][2]["note"], "not needed");
    // A wait started by a done step, and an expiry running.
    let timers = s["timers"].as_array().unwrap();
    assert_eq!(timers.len(), 2);
    assert_eq!(timers[0]["kind"], "wait");
    assert!(
        timers[0]["text"]
            .as_str()
            .unwrap()
            .contains("continue after")
    );
    assert_eq!(timers[1]["kind"], "expires");
    ok(d, &["run", "undo", "r", "1.1.1"]);
    assert_eq!(
        states(&status(d)),
        [
            ("1.1.1".into(), "open".into()),
            ("1.1.2".into(), "done".into()),
            ("1.1.3".into(), "skipped".into())
        ]
    );
    assert_eq!(status(d)["next"], serde_json::json!(["1.1.1"]));
    // Bad input: nothing is written, and each message says why, verbatim: a step done
    // already, a misspelt address (with the one meant), an undo of an open step, a skip
    // without its --note (a usage error), and a run that does not exist.
    let mut errors = String::new();
    for (code, args) in [
        (1, &["run", "done", "r", "1.1.2"][..]),
        (1, &["run", "done", "r", "1.1.1", "deploy#fnish"]),
        (1, &["run", "undo", "r", "1.1.1"]),
        (2, &["run", "skip", "r", "1.1.1"]),
        (1, &["run", "status", "rr"]),
    ] {
        let e = normalise(&fails(d, code, args), &[d]);
        errors.push_str(&format!("$ runbook {}\n{e}-----\n", args.join(" ")));
    }
    insta::assert_snapshot!(errors);
}

#[test]
fn a_last_line_cut_short_is_reported_and_skipped_and_a_bad_line_is_an_error() {
    let dir = started();
    let d = dir.path();
    ok(d, &["run", "done", "r", "1.1.1"]);
    let record = d.join("runs/r.jsonl");
    let whole = fs::read_to_string(&record).unwrap();
    fs::write(&record, format!("{whole}{{\"id\":\"x\",\"at\":\"2026-")).unwrap();
    let out = rb(d, &["run", "status", "r", "--format", "json"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("runs/r.jsonl:3: the last line was cut short")
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["progress"]["done"], 1);
    fs::write(&record, format!("{whole}not json\n")).unwrap();
    let e = fails(d, 1, &["run", "status", "r"]);
    assert!(
        e.starts_with("error: runs/r.jsonl:3: not a line of a run record"),
        "{e}"
    );
}

#[test]
fn two_processes_recording_at_once_lose_nothing() {
    let dir = started();
    let d = dir.path();
    let children: Vec<_> = ["1.1.1", "1.1.2", "1.1.3"]
        .iter()
        .flat_map(|step| [step, step])
        .enumerate()
        .map(|(i, step)| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_runbook"));
            // The processes that lose the race are told the step is done already.
            cmd.stderr(std::process::Stdio::null());
            cmd.current_dir(d)
                .args(["run", "done", "r", step, "--by", &format!("p{i}")]);
            cmd.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        c.wait().unwrap();
    }
    // Each step is recorded done once, whoever won (the other is told it is done already);
    // every line written is whole.
    assert_eq!(status(d)["progress"]["done"], 3);
    let text = fs::read_to_string(d.join("runs/r.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().filter(|l| l["type"] == "done").count(), 3);
}

#[test]
fn an_edited_runbook_shows_as_drift_and_rebase_adopts_it() {
    let dir = started();
    let d = dir.path();
    ok(d, &["run", "done", "r", "1.1.1", "1.1.3", "--by", "Dee"]);
    let path = d.join("runbooks/deploy.toml");
    let text = fs::read_to_string(&path).unwrap();
    let text = text.replace("Enable them for", "Enable all of them for");
    let text = text.replace(
        "title = \"Copy the link\"",
        "title = \"Copy the link\"\nwhen = 'mode == \"upgrade\"'",
    );
    fs::write(
        &path,
        text + "\n[[revision.section.step]]\nid = \"tidy\"\ntitle = \"Tidy up\"\n",
    )
    .unwrap();
    let s = status(d);
    let drift: Vec<(String, Value)> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["address"].as_str().unwrap().to_string(),
                st["drift"].clone(),
            )
        })
        .collect();
    assert_eq!(
        drift,
        [
            ("deploy#enable-policies".into(), "changed".into()),
            ("deploy#copy-link".into(), "removed".into()),
            ("deploy#finish".into(), Value::Null),
            ("deploy#tidy".into(), "new".into()),
        ]
    );
    // The changed step is to be re-checked; the removed and the new ones are marked.
    let text = ok(d, &["run", "status", "r"]);
    assert!(
        text.contains("its text changed since it was done: re-check it"),
        "{text}"
    );
    insta::assert_snapshot!(normalise(&text, &[d]));
    ok(d, &["run", "rebase", "r"]);
    let s = status(d);
    assert_eq!(
        states(&s),
        [
            ("1.1.1".into(), "open".into()),
            ("1.1.2".into(), "done".into()),
            ("1.1.3".into(), "open".into())
        ]
    );
    assert!(
        s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|st| st["drift"].is_null())
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_branches_merge_without_a_conflict() {
    let dir = started();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "start"]);
    git(d, &["checkout", "-qb", "other"]);
    ok(d, &["run", "done", "r", "1.1.1", "--by", "Bo"]);
    git(d, &["commit", "-qam", "Bo"]);
    git(d, &["checkout", "-q", "main"]);
    ok(d, &["run", "done", "r", "1.1.2", "--by", "Cy"]);
    ok(
        d,
        &["run", "skip", "r", "1.1.3", "--by", "Cy", "--note", "n/a"],
    );
    git(d, &["commit", "-qam", "Cy"]);
    git(d, &["merge", "-q", "other", "-m", "merge"]);
    assert_eq!(
        states(&status(d)),
        [
            ("1.1.1".into(), "done".into()),
            ("1.1.2".into(), "done".into()),
            ("1.1.3".into(), "skipped".into())
        ]
    );
}

#[test]
fn a_run_from_another_project_is_refused() {
    let dir = started();
    let other = tempfile::tempdir().unwrap();
    copy_dir(Path::new("tests/fixtures/base"), other.path());
    fs::create_dir_all(other.path().join("runs")).unwrap();
    fs::copy(
        dir.path().join("runs/r.jsonl"),
        other.path().join("runs/r.jsonl"),
    )
    .unwrap();
    let e = fails(other.path(), 1, &["run", "status", "r"]);
    assert!(
        e.starts_with("error: runs/r.jsonl belongs to a different project: its fact `mode` is not declared here"),
        "{e}"
    );
}

#[test]
fn the_report_is_the_audit_record() {
    let dir = started();
    let d = dir.path();
    ok(
        d,
        &[
            "run",
            "done",
            "r",
            "1.1.1",
            "--by",
            "Bo",
            "--note",
            "<b>done</b>",
        ],
    );
    ok(
        d,
        &[
            "run",
            "skip",
            "r",
            "1.1.3",
            "--by",
            "Cy",
            "--note",
            "not needed",
        ],
    );
    let md = ok(d, &["run", "report", "r"]);
    insta::assert_snapshot!(normalise(&md, &[d]));
    // The same record as a page, where the customer's name and the notes are escaped.
    let html = ok(d, &["run", "report", "r", "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(!html.contains("<b>done"), "{html}");
    insta::assert_snapshot!(
        "the_report_as_a_page",
        normalise(element(&html, "body"), &[d])
    );
    ok(d, &["run", "report", "r", "-o", "report.json"]);
    let json: Value =
        serde_json::from_str(&fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["steps"][0]["by"], "Bo");
    assert_eq!(json["started_by"], "Ann");
    let list = ok(d, &["run", "list"]);
    insta::assert_snapshot!("run_list", normalise(&list, &[d]));
}

/// Adds a step before `deploy#finish`: it takes the number 1.1.3 in the current checklist.
fn add_step_before_finish(d: &Path) {
    let path = d.join("runbooks/deploy.toml");
    let text = fs::read_to_string(&path).unwrap().replace(
        "[[revision.section.step]]\nid = \"finish\"",
        "[[revision.section.step]]\nid = \"tidy\"\ntitle = \"Tidy up\"\n\n[[revision.section.step]]\nid = \"finish\"",
    );
    fs::write(&path, text).unwrap();
}

#[test]
fn a_step_new_since_the_start_takes_no_number_of_the_run() {
    let dir = started();
    let d = dir.path();
    add_step_before_finish(d);
    let s = status(d);
    let numbers: Vec<(Value, Value)> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| (st["number"].clone(), st["drift"].clone()))
        .collect();
    // Numbers name steps of the run (`run done 1.1.3`): a step it does not have has none.
    assert_eq!(
        numbers,
        [
            ("1.1.1".into(), Value::Null),
            ("1.1.2".into(), Value::Null),
            ("1.1.3".into(), Value::Null),
            (Value::Null, "new".into()),
        ]
    );
    let text = ok(d, &["run", "status", "r"]);
    let steps = text.split("\nSteps\n").nth(1).unwrap();
    assert_eq!(steps.matches(" 1.1.3 ").count(), 1, "{text}");
    assert!(steps.contains("[ ] (new) Tidy up"), "{text}");
}

#[test]
fn next_lists_only_open_steps_of_the_run() {
    let dir = started();
    let d = dir.path();
    ok(d, &["run", "done", "r", "1.1.3", "--by", "Dee"]);
    add_step_before_finish(d);
    let s = status(d);
    assert_eq!(s["next"], serde_json::json!(["1.1.1", "1.1.2"]));
    let text = ok(d, &["run", "status", "r"]);
    let next = text
        .split("\nNext\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert!(!next.contains("Finish"), "{text}");
    assert!(next.contains("1.1.2 Copy the link"), "{text}");
}
