//! The main job's edges, run as a newcomer would: a version written as a TOML number, the
//! project found from any folder below it, `--ask` for the customer's fields (and without a
//! terminal), values in the wrong case or form, a closed pipe, an `-o` that cannot be written,
//! and a minimum version on the version fact. Every case runs the real binary on a copy of the
//! fixture project `tests/fixtures/edges`, and checks messages verbatim.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Output, Stdio};

use common::{copy_dir, runbook};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/edges");

/// A copy of the fixture project, where commands may write.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURE), dir.path());
    dir
}

/// The binary as a plain process, for the tests that choose its standard streams.
fn process(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("runbook"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .arg("--color")
        .arg("never");
    cmd
}

/// Runs the binary in `dir` (not in colour).
fn run(dir: &Path, args: &[&str]) -> Output {
    runbook().current_dir(dir).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output of a run that must succeed.
fn success(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Standard error of a run that must fail with this exit status.
fn failure(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    stderr(&out)
}

// ---- A version written as a TOML number.

#[test]
fn a_version_written_as_a_number_is_an_error_telling_to_quote_it() {
    let dir = project();
    fs::write(
        dir.path().join("float.toml"),
        "[facts]\ntier = \"1-tier\"\nversion = 3.10\n",
    )
    .unwrap();
    assert_eq!(
        failure(dir.path(), &["checklist", "--profile", "float.toml"], 1),
        r#"error: fact `version` needs a version in quotes, not a number
 --> float.toml:3:11
  |
3 | version = 3.10
  |           ^^^^ TOML reads this as the number 3.1
  |
  = help: write it in quotes: version = "3.10"

"#
    );
    fs::write(dir.path().join("int.toml"), "[facts]\nversion = 3\n").unwrap();
    assert_eq!(
        failure(dir.path(), &["checklist", "--profile", "int.toml"], 1),
        r#"error: fact `version` needs a version in quotes, not a number
 --> int.toml:2:11
  |
2 | version = 3
  |           ^ TOML reads this as the number 3
  |
  = help: write it in quotes: version = "3"

"#
    );
    // Quoted, it is the version meant.
    fs::write(
        dir.path().join("quoted.toml"),
        "[facts]\nversion = \"3.10\"\n",
    )
    .unwrap();
    let text = success(dir.path(), &["checklist", "--profile", "quoted.toml"]);
    assert!(text.contains("- Product version: 3.10\n"), "{text}");
}

// ---- Found from any folder.

#[test]
fn the_project_is_found_from_a_folder_below_it() {
    let dir = project();
    let deeper = dir.path().join("examples/deeper");
    // Paths on the command line stay relative to the current folder.
    let out = run(
        &deeper,
        &["checklist", "--profile", "../p.toml", "-o", "out.md"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs::read_to_string(deeper.join("out.md")).unwrap();
    assert!(text.starts_with("# Checklist for Contoso Ltd\n"), "{text}");
    assert!(text.contains("Create svc@contoso.com"), "{text}");

    // From inside `runbooks/` itself, every command.
    let runbooks = dir.path().join("runbooks");
    assert_eq!(
        success(&runbooks, &["check"]),
        "checked 2 runbooks, 3 revisions, 5 steps: no errors\n"
    );
    assert!(success(&runbooks, &["list"]).starts_with("setup  Set up\n"));
    assert!(success(&runbooks, &["show", "plain"]).starts_with("plain — Plain\n"));
}

#[test]
fn dash_c_starts_the_search_there_and_paths_stay_relative_to_the_current_folder() {
    let dir = project();
    let out = run(
        dir.path(),
        &[
            "-C",
            "examples/deeper",
            "checklist",
            "--profile",
            "examples/p.toml",
            "-o",
            "here.md",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs::read_to_string(dir.path().join("here.md")).unwrap();
    assert!(text.starts_with("# Checklist for Contoso Ltd\n"), "{text}");

    // From outside any project: the folder asked for is named.
    let elsewhere = tempfile::tempdir().unwrap();
    let stderr = failure(elsewhere.path(), &["list"], 1);
    assert!(
        stderr.starts_with("error: no `runbooks` folder in .\n"),
        "{stderr}"
    );
}

// ---- `--ask`.

#[test]
fn ask_without_a_terminal_is_a_usage_error() {
    let dir = project();
    assert_eq!(
        failure(dir.path(), &["checklist", "--ask", "-o", "out.md"], 2),
        "error: --ask needs a terminal on standard input to ask its questions
 |
 = help: give the facts with --profile FILE or --set fact=value; --strict names the ones this checklist still needs

"
    );
    assert!(!dir.path().join("out.md").exists());
}

/// A pseudo-terminal: (the side a user types into, the side the program reads).
#[cfg(target_os = "linux")]
fn pty() -> (fs::File, fs::File) {
    use rustix::fs::{Mode, OFlags, open};
    use rustix::ioctl::{Getter, Setter, ioctl, opcode};
    use std::ffi::{c_int, c_uint};
    let master = open(
        "/dev/ptmx",
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    // SAFETY: TIOCSPTLCK takes an int (0 unlocks the other side); TIOCGPTN writes an unsigned
    // int, its number under /dev/pts.
    let number = unsafe {
        ioctl(
            &master,
            Setter::<{ opcode::write::<c_int>(b'T', 0x31) }, c_int>::new(0),
        )
        .unwrap();
        ioctl(
            &master,
            Getter::<{ opcode::read::<c_uint>(b'T', 0x30) }, c_uint>::new(),
        )
        .unwrap()
    };
    let slave = open(
        format!("/dev/pts/{number}"),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    (fs::File::from(master), fs::File::from(slave))
}

/// Runs `--ask` with the answers typed on a terminal; returns standard error.
#[cfg(target_os = "linux")]
fn ask(dir: &Path, args: &[&str], answers: &str) -> String {
    use std::io::Write;
    let (mut master, slave) = pty();
    let child = process(dir)
        .arg("checklist")
        .arg("--ask")
        .args(args)
        .stdin(slave)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    master.write_all(answers.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
}

#[cfg(target_os = "linux")]
#[test]
fn ask_asks_for_the_customer_fields_the_checklist_uses_and_saves_them() {
    let dir = project();
    let stderr = ask(
        dir.path(),
        &["--set", "version=3.6", "--runbook", "setup", "-o", "out.md"],
        // tier, region (wrong case first), Azure AD Premium (`y` first), then the customer's
        // name, domain and time zone (skipped), then where to save.
        "1-tier\nEU\neu\ny\nyes\nContoso Ltd\ncontoso.com\n\nsaved.toml\n",
    );
    // Every question in order: a wrong value is named with the one meant and asked again,
    // then the customer's fields, then where to save.
    insta::assert_snapshot!(stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("saved.toml")).unwrap(),
        r#"[customer]
name = "Contoso Ltd"
domain = "contoso.com"

[facts]
tier = "1-tier"
version = "3.6"
region = "eu"
aad_premium = true
"#
    );
    let text = fs::read_to_string(dir.path().join("out.md")).unwrap();
    assert!(text.starts_with("# Checklist for Contoso Ltd\n"), "{text}");
    assert!(
        text.contains("Create svc@contoso.com, in the [customer time zone] time zone."),
        "{text}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn ask_leaves_out_the_customer_fields_no_step_uses() {
    let dir = project();
    let stderr = ask(
        dir.path(),
        &["--set", "version=3.6", "--runbook", "plain", "-o", "out.md"],
        "Fabrikam\n\n",
    );
    assert_eq!(
        stderr,
        "The customer's name (for example Contoso Ltd) [Enter to skip]: \
         Save these answers as a profile? File name [Enter to skip]: "
    );
    let text = fs::read_to_string(dir.path().join("out.md")).unwrap();
    assert!(text.starts_with("# Checklist for Fabrikam\n"), "{text}");
}

#[test]
fn set_gives_the_customer_fields() {
    let dir = project();
    let text = success(
        dir.path(),
        &[
            "checklist",
            "--set",
            "version=3.6",
            "--set",
            "customer.domain=fabrikam.com",
            "--set",
            "customer.timezone=Europe/Paris",
            "--set",
            "customer.name=Fabrikam",
            "--runbook",
            "setup",
        ],
    );
    assert!(text.starts_with("# Checklist for Fabrikam\n"), "{text}");
    assert!(
        text.contains("Create svc@fabrikam.com, in the Europe/Paris time zone."),
        "{text}"
    );
    // Over a profile's.
    let text = success(
        dir.path(),
        &[
            "checklist",
            "--profile",
            "examples/p.toml",
            "--set",
            "customer.domain=fabrikam.com",
        ],
    );
    assert!(text.contains("- Domain: fabrikam.com\n"), "{text}");
    // Accepted wherever facts are set.
    success(
        dir.path(),
        &["show", "setup", "--set", "customer.domain=fabrikam.com"],
    );
    success(
        dir.path(),
        &["search", "account", "--set", "customer.domain=fabrikam.com"],
    );

    assert_eq!(
        failure(
            dir.path(),
            &["checklist", "--set", "customer.time_zone=UTC"],
            1
        ),
        r#"error: unknown customer field `time_zone`
 --> <command line>:1:7
  |
1 | --set customer.time_zone=UTC
  |       ^^^^^^^^^^^^^^^^^^
  |
  = help: did you mean "customer.timezone"?

"#
    );
    assert_eq!(
        failure(dir.path(), &["checklist", "--set", "domain=contoso.com"], 1),
        r#"error: unknown fact `domain`
 --> <command line>:1:7
  |
1 | --set domain=contoso.com
  |       ^^^^^^
  |
  = help: the customer's domain is set with --set customer.domain=VALUE

"#
    );
}

// ---- Values in another case or form.

#[test]
fn values_in_another_case_or_form_get_a_did_you_mean() {
    let dir = project();
    assert_eq!(
        failure(dir.path(), &["checklist", "--set", "region=EU"], 1),
        r#"error: `EU` is not a value of fact `region`
 --> <command line>:1:14
  |
1 | --set region=EU
  |              ^^
  |
  = help: did you mean "eu"? (allowed values: "us", "eu")

"#
    );
    assert_eq!(
        failure(dir.path(), &["checklist", "--set", "aad_premium=y"], 1),
        r#"error: `y` is not a value of fact `aad_premium`
 --> <command line>:1:19
  |
1 | --set aad_premium=y
  |                   ^
  |
  = help: did you mean "yes"? (allowed values: true, false, yes, no)

"#
    );
    for (written, meant) in [
        ("n", "no"),
        ("Yes", "yes"),
        ("TRUE", "true"),
        ("1", "true"),
        ("off", "false"),
    ] {
        let stderr = failure(
            dir.path(),
            &["show", "setup", "--set", &format!("aad_premium={written}")],
            1,
        );
        assert!(
            stderr.contains(&format!("help: did you mean \"{meant}\"?")),
            "{written}: {stderr}"
        );
    }
    // The same in a profile, and in a fact's name.
    fs::write(
        dir.path().join("p.toml"),
        "[facts]\nregion = \"US\"\naad_premium = \"n\"\n",
    )
    .unwrap();
    assert_eq!(
        failure(dir.path(), &["checklist", "--profile", "p.toml"], 1),
        r#"error: `US` is not a value of fact `region`
 --> p.toml:2:10
  |
2 | region = "US"
  |          ^^^^
  |
  = help: did you mean "us"? (allowed values: "us", "eu")

error: `n` is not a value of fact `aad_premium`
 --> p.toml:3:15
  |
3 | aad_premium = "n"
  |               ^^^
  |
  = help: did you mean "no"? (allowed values: true, false, yes, no)

error: 2 problems found
"#
    );
    let stderr = failure(dir.path(), &["checklist", "--set", "Region=eu"], 1);
    assert!(
        stderr.contains("help: did you mean \"region\"?"),
        "{stderr}"
    );
}

// ---- A closed pipe.

/// Runs with standard output a pipe whose reader has already gone.
fn to_closed_pipe(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    process(dir)
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn every_command_stops_quietly_when_its_reader_has_gone() {
    let dir = project();
    for args in [
        &["list", "--format", "json"][..],
        &["list"],
        &["check"],
        &["show", "setup"],
        &["checklist", "--profile", "examples/p.toml"],
        &["checklist", "--format", "json"],
        &["index"],
        &["search", "account"],
        &["search", "account", "--format", "json"],
    ] {
        let out = to_closed_pipe(dir.path(), args);
        assert_eq!(
            (out.status.code(), stderr(&out).as_str()),
            (Some(0), ""),
            "{args:?}"
        );
    }
}

// ---- `-o`.

#[test]
fn an_output_file_of_no_known_format_is_a_usage_error() {
    let dir = project();
    assert_eq!(
        failure(dir.path(), &["checklist", "-o", "x.docx"], 2),
        "error: -o x.docx: no checklist format is written as `.docx`
 |
 = help: the formats are md, html, txt and json: name the file .md, .html, .txt or .json, or choose the format with --format

"
    );
    assert!(!dir.path().join("x.docx").exists());
    // A format given explicitly is written whatever the name; so is a name without extension.
    success(dir.path(), &["checklist", "--format", "md", "-o", "x.docx"]);
    success(dir.path(), &["checklist", "-o", "checklist"]);
    success(dir.path(), &["checklist", "-o", "X.HTML"]);
    assert!(
        fs::read_to_string(dir.path().join("X.HTML"))
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
}

#[test]
fn a_failed_output_names_the_file_asked_for() {
    let dir = project();
    assert_eq!(
        failure(dir.path(), &["checklist", "-o", "missing/out.md"], 1),
        "error: cannot write missing/out.md: there is no folder missing
--> missing/out.md

"
    );
    fs::create_dir_all(dir.path().join("taken.md/inside")).unwrap();
    let stderr = failure(dir.path(), &["checklist", "-o", "taken.md"], 1);
    assert!(
        stderr.starts_with("error: cannot write taken.md: "),
        "{stderr}"
    );
    assert!(!stderr.contains(".runbook-"), "{stderr}");
}

// ---- The minimum version.

const BELOW_MINIMUM: &str = r#"error: Product version 2.4 is not supported: the minimum is 2.5
 --> <command line>:1:15
  |
1 | --set version=2.4
  |               ^^^
  |
  = help: checklists start at Product version 2.5; older revisions stay readable as history (`runbook list`, `runbook show RUNBOOK --revision DATE`)

"#;

#[test]
fn a_version_below_the_minimum_is_refused_for_every_runbook() {
    let dir = project();
    for args in [
        &["checklist", "--set", "version=2.4"][..],
        &["checklist", "--set", "version=2.4", "--runbook", "setup"],
        &["show", "setup", "--set", "version=2.4"],
        &["show", "plain", "--set", "version=2.4"],
        &["search", "account", "--set", "version=2.4"],
    ] {
        assert_eq!(failure(dir.path(), args, 1), BELOW_MINIMUM, "{args:?}");
    }
    fs::write(
        dir.path().join("old.toml"),
        "[facts]\nversion = \"2.4.9\"\n",
    )
    .unwrap();
    assert_eq!(
        failure(dir.path(), &["checklist", "--profile", "old.toml"], 1),
        r#"error: Product version 2.4.9 is not supported: the minimum is 2.5
 --> old.toml:2:11
  |
2 | version = "2.4.9"
  |           ^^^^^^^
  |
  = help: checklists start at Product version 2.5; older revisions stay readable as history (`runbook list`, `runbook show RUNBOOK --revision DATE`)

"#
    );
    // The minimum itself is fine.
    success(dir.path(), &["checklist", "--set", "version=2.5"]);
}

#[test]
fn older_revisions_stay_visible_as_history() {
    let dir = project();
    let list = success(dir.path(), &["list"]);
    assert!(
        list.contains("before 2.5                   2019-01-01   1 step\n"),
        "{list}"
    );
    let show = success(dir.path(), &["show", "setup", "--revision", "2019-01-01"]);
    assert!(show.contains("Make the account the old way"), "{show}");
    let show = success(dir.path(), &["show", "setup"]);
    assert!(show.contains("Make the service account"), "{show}");
}

#[test]
fn check_validates_the_minimum() {
    let dir = project();
    let facts = dir.path().join("runbooks/facts.toml");
    let text = fs::read_to_string(&facts).unwrap();
    fs::write(
        &facts,
        text.replace("minimum = \"2.5\"", "minimum = \"two\""),
    )
    .unwrap();
    assert_eq!(
        failure(dir.path(), &["check"], 1),
        r#"error: `minimum` of fact `version`: `two` is not a version (unexpected character 't' while parsing major version number); write it like `2.5` or `3.5.1`
  --> runbooks/facts.toml:13:11
   |
13 | minimum = "two"
   |           ^^^^^

"#
    );
    fs::write(
        &facts,
        text.replace(
            "values = { us = \"US\", eu = \"EU\" }",
            "values = { us = \"US\", eu = \"EU\" }\nminimum = \"2.5\"",
        ),
    )
    .unwrap();
    assert_eq!(
        failure(dir.path(), &["check"], 1),
        r#"error: only version facts take `minimum`; `region` is an enum fact
  --> runbooks/facts.toml:21:11
   |
21 | minimum = "2.5"
   |           ^^^^^

"#
    );
}
