//! `runbook search` and `runbook index` on a copy of the shipped Work 365 runbooks.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{copy_dir, project, runbook};
use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    runbook().arg("-C").arg(dir).args(args).output().unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// The hits of a JSON search.
fn hits(dir: &Path, query: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["search", query, "--format", "json"];
    args.extend_from_slice(extra);
    let (stdout, _) = ok(dir, &args);
    serde_json::from_str::<Value>(&stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn addresses(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["address"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts that `expected` is among the first three hits.
fn top3(dir: &Path, query: &str, extra: &[&str], expected: &str) {
    let found = addresses(&hits(dir, query, extra));
    let first: Vec<&String> = found.iter().take(3).collect();
    assert!(
        first.iter().any(|a| *a == expected),
        "{query:?} {extra:?}: expected {expected} in the top 3, got {found:#?}"
    );
}

#[test]
fn relevance_on_the_work_365_runbooks() {
    let dir = project();
    let d = dir.path();
    let cases: &[(&str, &[&str], &str)] = &[
        // The support engineer's question, as asked.
        (
            "which account needs the Admin Agent role?",
            &[],
            "prerequisites#partner-center-integration-account",
        ),
        ("copy the consent link", &[], "install#copy-consent-link"),
        // Misspelt: one edit in "consent", two in "registration".
        ("consnet link", &[], "install#copy-consent-link"),
        ("regsitraton form", &[], "install#submit-registration-form"),
        // Stemming: "licences" and "assigning" find "licence" and "assign".
        (
            "assigning premium licences",
            &[],
            "prerequisites#assign-aad-premium-licenses",
        ),
        (
            "\"application id\" region",
            &[],
            "application-user#correct-application-id",
        ),
        ("english language crm", &[], "prerequisites#enable-english"),
        (
            "clear the cache",
            &[],
            "application-user#clear-work-365-cache",
        ),
        ("promote to admin", &[], "service-account#promote-to-admin"),
        ("sales app", &[], "prerequisites#sales-app"),
        ("begin upgr*", &[], "install#begin-upgrade"),
        (
            "access mode read-write",
            &[],
            "service-account#set-access-mode",
        ),
        // Filtered by a profile: the step that applies on top, before an older revision's
        // "Do not enable MFA for the service account".
        (
            "mfa service account",
            &["--profile", "examples/fabrikam-2tier-eu-upgrade.toml"],
            "prerequisites#register-mfa-service-account",
        ),
        (
            "application user security roles",
            &["--profile", "examples/northwind-1tier-eu-appuser.toml"],
            "application-user#assign-app-user-roles",
        ),
    ];
    for (query, extra, expected) in cases {
        let extra: Vec<&str> = extra
            .iter()
            .map(|a| {
                if a.starts_with("examples/") {
                    // Profiles are read relative to the working directory.
                    Box::leak(d.join(a).display().to_string().into_boxed_str()) as &str
                } else {
                    a
                }
            })
            .collect();
        top3(d, query, &extra, expected);
    }
}

#[test]
fn profile_drops_steps_that_cannot_apply() {
    let dir = project();
    let d = dir.path();
    let any = addresses(&hits(d, "admin agent", &[]));
    assert!(any.contains(&"prerequisites#partner-center-integration-account".to_string()));
    // A 2-Tier partner never sets up the Partner Center integration account.
    let two_tier = addresses(&hits(d, "admin agent", &["--set", "tier=2-tier"]));
    assert!(
        !two_tier
            .iter()
            .any(|a| a.ends_with("#partner-center-integration-account")),
        "{two_tier:?}"
    );
    let profile = d.join("examples/fabrikam-2tier-eu-upgrade.toml");
    let fabrikam = addresses(&hits(
        d,
        "admin agent",
        &["--profile", profile.to_str().unwrap()],
    ));
    assert!(
        !fabrikam
            .iter()
            .any(|a| a.ends_with("#partner-center-integration-account")),
        "{fabrikam:?}"
    );
    // The residual condition is what the profile leaves open.
    let one_tier = hits(d, "admin agent", &["--set", "tier=1-tier"]);
    let h = one_tier
        .iter()
        .find(|h| h["address"] == "prerequisites#partner-center-integration-account")
        .unwrap();
    assert!(h["conditions"].is_null(), "{h:#}");
    let open = hits(d, "admin agent", &[]);
    let h = open
        .iter()
        .find(|h| h["address"] == "prerequisites#partner-center-integration-account")
        .unwrap();
    assert_eq!(h["conditions"]["expression"], "tier == \"1-tier\"");
    assert_eq!(
        h["conditions"]["text"],
        "Partner tier is 1-Tier (Direct Bill)"
    );
    // A bad fact is an input error.
    let out = run(d, &["search", "admin", "--set", "tier=3-tier"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn older_revisions_are_found_and_marked() {
    let dir = project();
    let d = dir.path();
    let found = hits(
        d,
        "promote the service account to system administrator",
        &[],
    );
    // The step is in both revisions, worded differently: the pre-2.5 one is marked.
    let before_2_5 = |h: &&Value| {
        h["address"] == "service-account#promote-to-admin"
            && h["revision"]["versions"] == "before 2.5"
    };
    let h = found.iter().find(before_2_5).unwrap();
    assert_eq!(h["revision"]["status"], "older");
    assert_eq!(
        h["revision"]["label"],
        "older revision: before 2.5, 2019-02-04"
    );
    let (text, _) = ok(
        d,
        &[
            "search",
            "promote the service account to system administrator",
        ],
    );
    assert!(
        text.contains("service-account#promote-to-admin  (older revision: before 2.5, 2019-02-04)"),
        "{text}"
    );
    // For a customer on 2.0 (below the shipped content's minimum: on a fixture), the old
    // revision is the current one.
    let dir = fixture();
    let found = hits(dir.path(), "old registration page", &[]);
    assert_eq!(found[0]["address"], "install#old-portal");
    assert_eq!(
        found[0]["revision"]["label"],
        "older revision: before 2.5, 2019-01-01"
    );
    let old = hits(
        dir.path(),
        "old registration page",
        &["--set", "version=2.0"],
    );
    assert_eq!(old[0]["address"], "install#old-portal");
    assert_eq!(old[0]["revision"]["status"], "current");
    assert!(old[0]["revision"]["label"].is_null());
}

#[test]
fn json_hits_have_the_documented_fields() {
    let dir = project();
    let found = hits(dir.path(), "admin agent role", &["--limit", "2"]);
    assert_eq!(found.len(), 2);
    let h = &found[0];
    for key in [
        "type",
        "runbook",
        "step",
        "address",
        "title",
        "title_highlight",
        "runbook_title",
        "section",
        "kind",
        "role",
        "snippet",
        "highlight",
        "score",
        "conditions",
        "revision",
        "missing",
    ] {
        assert!(h.get(key).is_some(), "no {key} in {h:#}");
    }
    assert_eq!(h["type"], "step");
    assert_eq!(h["runbook"], "prerequisites");
    assert_eq!(
        h["runbook_title"],
        "Prerequisites for installing and upgrading"
    );
    // Highlight ranges are byte offsets of the matched words.
    let snippet = h["snippet"].as_str().unwrap();
    let words: Vec<&str> = h["highlight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &snippet[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize])
        .collect();
    assert!(
        words.contains(&"Admin") && words.contains(&"Agent"),
        "{words:?}"
    );
    let title = h["title"].as_str().unwrap();
    let r = &h["title_highlight"][0];
    assert_eq!(
        &title[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize],
        "Admin"
    );
}

#[test]
fn filters_by_runbook_and_kind() {
    let dir = project();
    let d = dir.path();
    let only = hits(
        d,
        "service account",
        &["--runbook", "install", "--limit", "50"],
    );
    assert!(!only.is_empty());
    assert!(only.iter().all(|h| h["runbook"] == "install"), "{only:#?}");
    let checks = hits(d, "work 365", &["--kind", "check", "--limit", "50"]);
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|h| h["kind"] == "check"));
    let out = run(d, &["search", "consent", "--runbook", "instal"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"install\"?"));
    let out = run(d, &["search", "consent", "--kind", "chek"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"check\"?"));
}

#[test]
fn text_output_and_limit() {
    let dir = project();
    let d = dir.path();
    // One hit only: its title, address, condition in words and snippet.
    let (text, _) = ok(d, &["search", "admin", "agent", "--limit", "1"]);
    assert!(!text.contains("\n2. "), "{text}");
    insta::assert_snapshot!(text);
    // Bold only when asked for colour.
    assert!(!text.contains('\x1b'));
    let out = assert_cmd::Command::cargo_bin("runbook")
        .unwrap()
        .arg("-C")
        .arg(d)
        .args([
            "--color", "always", "search", "admin", "agent", "--limit", "1",
        ])
        .output()
        .unwrap();
    let colored = String::from_utf8(out.stdout).unwrap();
    assert!(colored.contains("\x1b[1mAdmin\x1b[22m"), "{colored}");
}

#[test]
fn no_results_with_a_suggestion() {
    let dir = project();
    let d = dir.path();
    let (text, _) = ok(d, &["search", "mfq"]);
    assert_eq!(text, "did you mean \"mfa\"?\nno results\n");
    let (text, _) = ok(d, &["search", "zzzzqqq"]);
    assert_eq!(text, "no results\n");
    let out = run(d, &["search", "mfq", "--format", "json"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no results") && stderr.contains("did you mean \"mfa\"?"));
}

fn generation(dir: &Path) -> PathBuf {
    let index = dir.join(".runbook/index");
    let current = fs::read_to_string(index.join("CURRENT")).unwrap();
    index.join(current.trim())
}

#[test]
fn refreshes_after_an_edit_and_only_what_changed() {
    let dir = project();
    let d = dir.path();
    let (out, _) = ok(d, &["index"]);
    let built = format!("search index built: {}, ", counts(d));
    assert!(
        out.starts_with(&built) && out.ends_with(" chapter sections\n"),
        "{out}"
    );
    let (out, _) = ok(d, &["index"]);
    assert!(out.starts_with("search index is up to date"), "{out}");
    assert!(hits(d, "flamingo", &[]).is_empty());

    // Edit a runbook: the new word is found, the old one gone, only that file re-indexed.
    let post_install = d.join("runbooks/post-install.toml");
    let original = fs::read_to_string(&post_install).unwrap();
    let edited = original.replacen(
        "title = \"Unassign the Global Admin permissions from the service account\"",
        "title = \"Unassign the flamingo permissions from the service account\"",
        1,
    );
    assert_ne!(original, edited);
    fs::write(&post_install, &edited).unwrap();
    let found = hits(d, "flamingo", &[]);
    assert_eq!(
        addresses(&found),
        vec!["post-install#unassign-global-admin"]
    );
    let (out, _) = ok(d, &["index"]);
    assert!(out.starts_with("search index is up to date"), "{out}");
    fs::write(&post_install, &original).unwrap();
    let (out, _) = ok(d, &["index"]);
    assert!(
        out.starts_with("search index refreshed (1 runbook file changed)"),
        "{out}"
    );
    assert!(hits(d, "flamingo", &[]).is_empty());

    // A shared file: every runbook that includes from it is re-indexed.
    let requirements = d.join("runbooks/shared/requirements.toml");
    let text = fs::read_to_string(&requirements).unwrap();
    fs::write(
        &requirements,
        text.replace(
            "Assign a Dynamics 365 license to the Global Administrator",
            "Assign a Dynamics 365 license to the pelican",
        ),
    )
    .unwrap();
    // (prerequisites, upgrade-prerequisites, and the others that include from that file.)
    let (out, _) = ok(d, &["index"]);
    assert!(out.starts_with("search index refreshed ("), "{out}");
    let found = addresses(&hits(d, "pelican", &[]));
    assert!(
        found.contains(&"prerequisites#global-admin-d365-license".to_string())
            && found.contains(&"upgrade-prerequisites#global-admin-d365-license".to_string()),
        "{found:?}"
    );

    // A new runbook, then its removal.
    let extra = d.join("runbooks/extra.toml");
    fs::write(
        &extra,
        "id = \"extra\"\ntitle = \"Extra\"\nsummary = \"s\"\n[[revision]]\n[[revision.section]]\nid = \"s\"\ntitle = \"S\"\n[[revision.section.step]]\nid = \"walrus\"\ntitle = \"Feed the walrus\"\n",
    )
    .unwrap();
    assert_eq!(addresses(&hits(d, "walrus", &[])), vec!["extra#walrus"]);
    fs::remove_file(&extra).unwrap();
    assert!(hits(d, "walrus", &[]).is_empty());

    // A broken edit is reported with its place, and the index is left as it was.
    fs::write(&post_install, "id = \"post-install\"\ntitle = ").unwrap();
    let out = run(d, &["search", "unassign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("post-install.toml"));
    fs::write(&post_install, &edited).unwrap();
    assert_eq!(
        addresses(&hits(d, "flamingo", &[])),
        vec!["post-install#unassign-global-admin"]
    );

    // facts.toml: everything is rebuilt.
    let facts = d.join("runbooks/facts.toml");
    let f = fs::read_to_string(&facts).unwrap();
    fs::write(
        &facts,
        f.replace(
            "title = \"Global Administrator\"",
            "title = \"Tenant Global Administrator\"",
        ),
    )
    .unwrap();
    let (out, _) = ok(d, &["index"]);
    assert!(out.starts_with("search index built"), "{out}");
    let h = hits(d, "flamingo", &[]);
    assert_eq!(h[0]["role"]["title"], "Tenant Global Administrator");
}

#[test]
fn chapter_sections_are_found_at_the_sites_anchors_and_kept_fresh() {
    let dir = project();
    let d = dir.path();
    ok(d, &["index"]);
    // The guide explains `tier` at length, but a support engineer looks for the steps.
    assert_eq!(hits(d, "tier", &[])[0]["type"], "step");

    // A new section, including a file that is not there yet: only the chapters are read again.
    let authoring = d.join("guide/authoring.md");
    let text = fs::read_to_string(&authoring).unwrap();
    fs::write(
        &authoring,
        format!("{text}\n## Sea otters\n\nThey hold hands.\n\n{{{{#include otters.txt}}}}\n"),
    )
    .unwrap();
    let (out, _) = ok(d, &["index"]);
    assert!(
        out.starts_with("search index refreshed (the chapters changed)"),
        "{out}"
    );
    let found = hits(d, "otters", &[]);
    assert_eq!(addresses(&found), vec!["guide/authoring.md#sea-otters"]);
    assert_eq!(found[0]["type"], "chapter");
    assert_eq!(found[0]["runbook_title"], "Writing runbooks");
    assert!(found[0]["conditions"].is_null());

    // The included file appears, then changes.
    let included = d.join("guide/otters.txt");
    fs::write(&included, "They crack shells with stones.\n").unwrap();
    assert_eq!(
        addresses(&hits(d, "stones", &[])),
        vec!["guide/authoring.md#sea-otters"]
    );
    fs::write(&included, "They crack shells with pebbles.\n").unwrap();
    assert!(hits(d, "stones", &[]).is_empty());
    assert_eq!(hits(d, "pebbles", &[]).len(), 1);
    let (out, _) = ok(d, &["search", "otters"]);
    assert!(
        out.contains(
            "Sea otters\n   guide/authoring.md#sea-otters\n   Writing runbooks · chapter\n"
        ),
        "{out}"
    );
    // Filters by runbook or kind are about steps.
    assert!(hits(d, "otters", &["--runbook", "install"]).is_empty());
    assert!(hits(d, "otters", &["--kind", "action"]).is_empty());
    // A profile keeps chapter sections: they have no conditions.
    let profile = d.join("examples/contoso-1tier-us-install.toml");
    assert_eq!(
        hits(d, "otters", &["--profile", profile.to_str().unwrap()]).len(),
        1
    );

    // Out of SUMMARY.md, out of the index.
    let summary = d.join("guide/SUMMARY.md");
    let listed = fs::read_to_string(&summary).unwrap();
    fs::write(
        &summary,
        listed.replace("- [Writing runbooks](authoring.md)\n", ""),
    )
    .unwrap();
    assert!(hits(d, "otters", &[]).is_empty());
    fs::write(&summary, &listed).unwrap();
    assert_eq!(hits(d, "otters", &[]).len(), 1);

    // Without book.toml the chapters would be in src/: none. Back, they are found again.
    let book = fs::read_to_string(d.join("book.toml")).unwrap();
    fs::remove_file(d.join("book.toml")).unwrap();
    assert!(hits(d, "otters", &[]).is_empty());
    fs::write(d.join("book.toml"), book).unwrap();
    assert_eq!(hits(d, "otters", &[]).len(), 1);
}

/// "N runbooks, M steps", as `runbook check` counts them (steps of every revision).
fn counts(d: &Path) -> String {
    let (out, _) = ok(d, &["check"]);
    // checked 6 runbooks, 9 revisions, 112 steps: no errors
    let words: Vec<&str> = out.split_whitespace().collect();
    format!("{} runbooks, {} steps", words[1], words[5])
}

#[test]
fn a_damaged_index_is_rebuilt() {
    let dir = project();
    let d = dir.path();
    ok(d, &["index"]);
    // Garbage over every file of the index.
    let generation = generation(d);
    for entry in fs::read_dir(&generation).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            fs::write(&path, b"\x00garbage\xff").unwrap();
        }
    }
    let (out, err) = ok(d, &["search", "admin", "agent", "--format", "json"]);
    assert!(err.contains("rebuilding"), "{err}");
    assert!(out.contains("prerequisites#partner-center-integration-account"));
    ok(d, &["search", "admin", "agent"]);

    // Segment files alone damaged (the manifest still fine).
    let generation = self::generation(d);
    for entry in fs::read_dir(&generation).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".term") || name.ends_with(".idx") || name.ends_with(".store") {
            let len = fs::metadata(&path).unwrap().len() as usize;
            fs::write(&path, vec![0x5a; len]).unwrap();
        }
    }
    let (out, err) = ok(d, &["search", "admin", "agent", "--format", "json"]);
    assert!(err.contains("rebuilding"), "{err}");
    assert!(out.contains("prerequisites#partner-center-integration-account"));

    // An index from another version (the JSON manifest of format 5, or the line format of
    // earlier versions): rebuilt once, with a notice.
    let manifest = self::generation(d).join("manifest");
    fs::write(
        &manifest,
        r#"{"format":5,"engine":"tantivy-0.27","manifest":{"stamped":0}}"#,
    )
    .unwrap();
    let (_, err) = ok(d, &["search", "admin"]);
    assert!(err.contains("another version"), "{err}");
    let (_, err) = ok(d, &["search", "admin"]);
    assert!(err.is_empty(), "{err}");
    let manifest = self::generation(d).join("manifest");
    fs::write(
        &manifest,
        "runbook-search-index 4 tantivy-0.27\nstamped 0\n",
    )
    .unwrap();
    let (_, err) = ok(d, &["search", "admin"]);
    assert!(err.contains("another version"), "{err}");
    // A missing pointer.
    fs::remove_file(d.join(".runbook/index/CURRENT")).unwrap();
    let (out, _) = ok(d, &["search", "admin", "agent", "--limit", "1"]);
    assert!(out.contains("prerequisites#partner-center-integration-account"));
    // Only the generation in use is left.
    let generations = fs::read_dir(d.join(".runbook/index"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert_eq!(generations, 1);
}

#[test]
fn searches_run_while_the_index_is_rebuilt() {
    let dir = project();
    let d = dir.path().to_path_buf();
    ok(&d, &["index"]);
    let rebuilder = {
        let d = d.clone();
        std::thread::spawn(move || {
            for _ in 0..6 {
                ok(&d, &["index", "--force"]);
            }
        })
    };
    let mut searches = 0;
    while !rebuilder.is_finished() || searches < 6 {
        let found = addresses(&hits(&d, "admin agent", &["--limit", "1"]));
        assert_eq!(
            found,
            vec!["prerequisites#partner-center-integration-account"]
        );
        searches += 1;
    }
    rebuilder.join().unwrap();
    assert!(searches >= 6);
}

#[test]
fn index_reports_and_search_needs_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["search", "anything"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `runbooks` folder"));
    let dir = project();
    // From inside the project (a relative root), twice: built, then up to date.
    for expected in ["search index built", "search index is up to date"] {
        let out = runbook()
            .current_dir(dir.path())
            .arg("index")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with(expected), "{stdout}");
    }
    let out = run(dir.path(), &["search", "?!"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to search for"));
}

/// A copy of `tests/fixtures/search`: one runbook in two revisions (with a shared step),
/// customer fields and a lookup in a step's text, a profile, and a chapter with a TOML example.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/search");
    copy_dir(&from, dir.path());
    dir
}

/// The words a hit highlights in its snippet.
fn highlighted(hit: &Value) -> Vec<String> {
    let snippet = hit["snippet"].as_str().unwrap();
    hit["highlight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| snippet[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize].into())
        .collect()
}

#[test]
fn a_snippet_shows_the_sentence_that_answers_with_its_neighbours() {
    let dir = fixture();
    let d = dir.path();
    let found = hits(d, "how long is the consent link valid", &[]);
    assert_eq!(found[0]["address"], "install#copy-consent-link");
    let snippet = found[0]["snippet"].as_str().unwrap();
    // The expiry, worded as the checklist words it, after the sentence before it.
    assert!(
        snippet.ends_with(
            "of Complete the registration process. Expires after 15 min. The link is valid for \
             only 15 minutes."
        ),
        "{snippet}"
    );
    assert!(snippet.starts_with('…'), "{snippet}");
    assert_eq!(highlighted(&found[0]), vec!["link", "link", "valid"]);
    // Stemmed as the index stems: "expired" finds and highlights "expires".
    let found = hits(d, "link expired", &[]);
    assert_eq!(found[0]["address"], "install#copy-consent-link");
    assert!(highlighted(&found[0]).contains(&"expires".to_string()));
    // The wait and expiry notes are searched.
    let found = hits(d, "valid minutes", &[]);
    assert_eq!(addresses(&found), vec!["install#copy-consent-link"]);
    let (text, _) = ok(d, &["search", "how long is the consent link valid"]);
    insta::assert_snapshot!(text);
}

#[test]
fn snippets_show_step_text_filled_in_as_the_checklist_fills_it() {
    let dir = fixture();
    let d = dir.path();
    let found = hits(d, "service account user", &[]);
    assert_eq!(found[0]["address"], "install#create-service-account");
    let snippet = found[0]["snippet"].as_str().unwrap();
    assert_eq!(
        snippet,
        "Create an Office 365 user to be the service account (for example \
         svc@[customer domain]), in the [Data centre]. Enter the application ID us-app-id \
         (US Data Center) or eu-app-id (EU Data Center) when asked."
    );
    for hit in hits(d, "service account", &["--limit", "50"]) {
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(!snippet.contains("{{"), "{snippet}");
    }
    // The placeholders are the checklist's own.
    let (checklist, _) = ok(d, &["checklist", "--format", "md"]);
    assert!(checklist.contains("svc@[customer domain]"), "{checklist}");
    // With a profile, its values.
    let profile = d.join("examples/contoso.toml");
    let found = hits(
        d,
        "service account user",
        &["--profile", profile.to_str().unwrap()],
    );
    assert_eq!(
        found[0]["snippet"],
        "Create an Office 365 user to be the service account (for example svc@contoso.com), in \
         the EU Data Center. Enter the application ID eu-app-id when asked."
    );
    assert_eq!(highlighted(&found[0]), vec!["user", "service", "account"]);
}

#[test]
fn code_blocks_in_chapters_rank_below_steps() {
    let dir = fixture();
    let d = dir.path();
    // The chapter's TOML example says "tier" four times; a step says it once, in a long text.
    let found = hits(d, "tier", &[]);
    assert_eq!(
        addresses(&found),
        vec!["install#connect-partner-centre", "guide/authoring.md#facts"]
    );
    // Still found, with the code as its snippet when only the code has the words.
    let found = hits(d, "enum", &[]);
    assert_eq!(addresses(&found), vec!["guide/authoring.md#facts"]);
    assert_eq!(highlighted(&found[0]), vec!["enum"]);
    // The prose of a chapter is not code: it counts as a step's text does.
    let found = hits(d, "declared", &[]);
    assert_eq!(found[0]["snippet"], "Each fact is declared once.");
}

#[test]
fn the_output_says_how_many_hits_the_limit_left_out() {
    let dir = fixture();
    let d = dir.path();
    // Five steps say "portal": one of them is in both revisions (once), one only in the older.
    let all = hits(d, "portal", &["--limit", "50"]);
    assert_eq!(all.len(), 5, "{:#?}", addresses(&all));
    assert!(all.iter().all(|h| h["total"] == 5));
    let some = hits(d, "portal", &["--limit", "2"]);
    assert_eq!(some.len(), 2);
    assert!(some.iter().all(|h| h["total"] == 5));
    let (text, _) = ok(d, &["search", "portal", "--limit", "2"]);
    assert!(
        text.ends_with("\n\n… and 3 more (use --limit 5 to see them all)\n"),
        "{text}"
    );
    insta::assert_snapshot!(text);
    // Counted as shown: the profile's steps only.
    let two_tier = hits(d, "portal", &["--set", "tier=2-tier", "--limit", "1"]);
    assert_eq!(two_tier[0]["total"], 4);
    let (text, _) = ok(
        d,
        &["search", "portal", "--set", "tier=2-tier", "--limit", "50"],
    );
    assert!(!text.contains("more (use --limit"), "{text}");
    assert_eq!(text.matches("\n   install#").count(), 4, "{text}");
}
