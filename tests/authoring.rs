//! What writers and their tools get from the command line: `check` in the forms tools read,
//! defaults for facts, a checklist for runbooks these facts leave out, shell completions.

mod common;

use common::runbook;

const ENGINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/engine");
const INVALID: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/invalid");

/// A project with two broken runbooks beside the base fixture's.
fn broken() -> tempfile::TempDir {
    let dir = common::project();
    for case in ["unknown-fact.toml", "unknown-key.toml"] {
        std::fs::copy(
            format!("{INVALID}/{case}"),
            dir.path().join("runbooks").join(case),
        )
        .unwrap();
    }
    dir
}

#[test]
fn check_reports_every_problem_as_json() {
    let dir = broken();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&report).unwrap());
}

#[test]
fn check_reports_every_problem_as_github_annotations() {
    let dir = broken();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["check", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn a_clean_project_checks_clean_in_every_form() {
    for (format, expected) in [
        (
            "json",
            "{\n  \"errors\": 0,\n  \"warnings\": 0,\n  \"diagnostics\": []\n}\n",
        ),
        ("github", ""),
    ] {
        let out = runbook()
            .args(["-C", ENGINE, "check", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected, "{format}");
    }
}

#[test]
fn a_fact_left_out_takes_its_default_and_the_checklist_says_so() {
    let out = runbook()
        .args([
            "-C",
            ENGINE,
            "checklist",
            "--format",
            "txt",
            "--set",
            "plan=pro",
        ])
        .args(["--set", "version=3.1", "--set", "tenant=contoso"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
    // Given, the default is not assumed: the cloud steps replace the server's.
    let out = runbook()
        .args([
            "-C",
            ENGINE,
            "checklist",
            "--format",
            "json",
            "--set",
            "cloud=true",
        ])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cloud = &list["facts"].as_array().unwrap()[2];
    assert_eq!(
        (cloud["value"].as_str(), cloud["assumed"].as_bool()),
        (Some("true"), Some(false))
    );
    let addresses: Vec<&str> = common::steps(&list)
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    assert!(addresses.contains(&"setup#cloud") && !addresses.contains(&"setup#on-premises"));
}

#[test]
fn a_runbook_asked_for_that_does_not_apply_is_said_to_with_why() {
    let out = runbook()
        .args([
            "-C",
            ENGINE,
            "checklist",
            "--format",
            "json",
            "--runbook",
            "server",
        ])
        .args(["--set", "cloud=true"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["totals"]["steps"], 0);
    assert_eq!(
        list["notes"][0],
        "Server (`server`) does not apply: not cloud is false for cloud = true."
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = runbook().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("checklist") && script.contains("profile"),
            "{shell}"
        );
    }
    let out = runbook().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_makes_a_project_that_check_checklist_and_build_accept() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("acme");
    let out = runbook().arg("init").arg(&project).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let book = std::fs::read_to_string(project.join("book.toml")).unwrap();
    assert!(book.contains("title = \"acme\""), "{book}");
    let check = runbook()
        .arg("-C")
        .arg(&project)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(check.stdout).unwrap(),
        "checked 1 runbook, 1 revision, 3 steps and the help site (1 chapter, 6 pages): no errors\n"
    );
    assert!(
        check.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let list = runbook()
        .current_dir(&project)
        .args([
            "checklist",
            "--format",
            "json",
            "--profile",
            "examples/customer.toml",
        ])
        .output()
        .unwrap();
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let body = common::steps(&list)[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        body,
        "Open https://admin.example.com and sign in as an administrator of Contoso Ltd."
    );
    let build = runbook()
        .arg("-C")
        .arg(&project)
        .arg("build")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(project.join("book/checklist.html").is_file());

    // A second init refuses, and leaves every file as it was.
    std::fs::write(project.join("runbooks/facts.toml"), "# mine\n").unwrap();
    let again = runbook().arg("init").arg(&project).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .contains("already has book.toml")
    );
    assert_eq!(
        std::fs::read_to_string(project.join("runbooks/facts.toml")).unwrap(),
        "# mine\n"
    );
}

/// A TOML file as the JSON an editor validates (dates as their text, as Taplo reads them).
fn toml_as_json(path: &std::path::Path) -> serde_json::Value {
    fn convert(v: toml::Value) -> serde_json::Value {
        match v {
            toml::Value::String(s) => s.into(),
            toml::Value::Integer(i) => i.into(),
            toml::Value::Float(f) => f.into(),
            toml::Value::Boolean(b) => b.into(),
            toml::Value::Datetime(d) => d.to_string().into(),
            toml::Value::Array(a) => a.into_iter().map(convert).collect(),
            toml::Value::Table(t) => t.into_iter().map(|(k, v)| (k, convert(v))).collect(),
        }
    }
    convert(toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn schema(kind: &str) -> jsonschema::Validator {
    let out = runbook().args(["schema", kind]).output().unwrap();
    assert!(out.status.success());
    jsonschema::validator_for(&serde_json::from_slice(&out.stdout).unwrap()).unwrap()
}

#[test]
fn the_schemas_accept_the_shipped_files_and_flag_mistakes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for project in [root.to_path_buf(), root.join("tests/fixtures/engine")] {
        let kinds = [
            ("facts", "runbooks/facts.toml"),
            ("runbook", "runbooks/*.toml"),
            ("shared", "runbooks/shared/*.toml"),
            ("profile", "examples/*.toml"),
        ];
        for (kind, pattern) in kinds {
            let validator = schema(kind);
            let (dir, name) = pattern.rsplit_once('/').unwrap();
            for entry in std::fs::read_dir(project.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let file = path.file_name().unwrap().to_str().unwrap();
                let wanted = if name == "*.toml" {
                    file.ends_with(".toml") && !(kind == "runbook" && file == "facts.toml")
                } else {
                    file == name
                };
                if !wanted || path.is_dir() {
                    continue;
                }
                let errors: Vec<String> = validator
                    .iter_errors(&toml_as_json(&path))
                    .map(|e| e.to_string())
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:?}", path.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 15, "{checked}");
    // What the loader refuses, the schema flags: an unknown key, a missing title.
    let runbook_schema = schema("runbook");
    for case in ["unknown-key.toml", "missing-key.toml"] {
        let file = toml_as_json(&std::path::Path::new(INVALID).join(case));
        assert!(!runbook_schema.is_valid(&file), "{case}");
    }
}

#[test]
fn schema_writes_every_schema_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = runbook()
        .args(["schema", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    for kind in ["facts", "runbook", "shared", "profile"] {
        let text = std::fs::read_to_string(dir.path().join(format!("{kind}.schema.json"))).unwrap();
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            schema["title"].as_str().unwrap().starts_with("runbook"),
            "{kind}"
        );
    }
}

/// The second product (the engine fixture), copied where its index and site may be written.
fn second_product() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(std::path::Path::new(ENGINE), dir.path());
    dir
}

/// A copy of the second product with its site built in `site/`.
fn built_second_product() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = second_product();
    let site = dir.path().join("site");
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["build", "--dest"])
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, site)
}

#[test]
fn the_second_product_is_searched_with_its_values_filled_in() {
    let dir = second_product();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args(["search", "billing administrator", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &found[0];
    assert_eq!(first["address"], "setup#assign-billing", "{found:#}");
    // A lookup chosen by conditions, filled in for the profile's facts.
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args([
            "search",
            "support cases",
            "--set",
            "plan=enterprise",
            "--set",
            "version=3.1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Give one person the Enterprise Support Owner role."),
        "{text}"
    );
    // An undated revision that another one supersedes is older for the versions both cover.
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args([
            "search",
            "send the tenant",
            "--set",
            "version=3.0",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = found
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["address"] == "tenant#name-by-mail")
        .unwrap();
    assert_eq!(
        hit["revision"]["label"],
        "older revision: 1.0 and later, first-article"
    );
}

#[test]
fn the_second_product_site_has_a_page_per_revision_by_id() {
    let (_dir, site) = built_second_product();
    // The current revision at the runbook's page, the one it replaces under its id.
    let current = std::fs::read_to_string(site.join("runbooks/tenant.html")).unwrap();
    assert!(current.contains("Enter the tenant"), "current revision");
    let older = std::fs::read_to_string(site.join("runbooks/tenant/first-article.html")).unwrap();
    assert!(older.contains("Send the tenant"), "older revision");
    // Shared text with parameters, and a lookup by cases while facts are not known.
    let setup = std::fs::read_to_string(site.join("runbooks/setup.html")).unwrap();
    assert!(setup.contains("Assign the Billing Administrator role"));
    assert!(setup.contains("Support Owner (if Product version &gt;= 3.0) or Support Contact"));
}

#[test]
fn customer_values_keep_their_brackets_in_every_format() {
    let line = |format: &str, has: &str| {
        let out = runbook()
            .args([
                "-C",
                ENGINE,
                "checklist",
                "--set",
                "plan=pro",
                "--format",
                format,
            ])
            .arg("--set=customer.name=Contoso <Ltd> & Co")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text.lines().find(|l| l.contains(has)).unwrap();
        line.trim().to_string()
    };
    let body = |format: &str| line(format, "sign in for");
    // Read as written in a terminal; escaped where it is Markdown, so that "<Ltd>" is text.
    assert_eq!(
        body("txt"),
        "Open https://pro.example/admin and sign in for Contoso <Ltd> & Co (Pro)."
    );
    assert!(body("html").contains("sign in for Contoso &lt;Ltd&gt; &amp; Co (Pro).</p>"));
    assert_eq!(
        body("md"),
        "Open https://pro.example/admin and sign in for Contoso &lt;Ltd> &amp; Co (Pro)."
    );
    assert_eq!(
        line("md", "# Checklist"),
        "# Checklist for Contoso &lt;Ltd> &amp; Co"
    );
}

/// The lines of a text from the first that contains `start` to the one before the first
/// after it that contains `end`.
fn lines_between(text: &str, start: &str, end: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.iter().position(|l| l.contains(start)).unwrap();
    let to = lines[from + 1..]
        .iter()
        .position(|l| l.contains(end))
        .map_or(lines.len(), |i| from + 1 + i);
    lines[from..to].join("\n")
}

#[test]
fn conditional_text_is_decided_for_the_facts_and_marked_while_they_are_not_known() {
    let checklist = |format: &str, sets: &[&str]| {
        let mut cmd = runbook();
        cmd.args(["-C", ENGINE, "checklist", "--format", format]);
        for set in sets {
            cmd.args(["--set", set]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let step = |text: &str| lines_between(text, "Connect to the administration portal", "[ ]");
    // Known: the text that applies, and nothing else; no empty list item.
    insta::assert_snapshot!(
        "conditional_text_known",
        step(&checklist(
            "md",
            &["plan=enterprise", "cloud=true", "version=3.1"]
        ))
    );
    // Not known: every text, each marked with what it needs; each value of the link.
    insta::assert_snapshot!(
        "conditional_text_unknown",
        step(&checklist("md", &["cloud=false"]))
    );
    let html = checklist("html", &["cloud=false"]);
    let body = lines_between(
        &html,
        "Connect to the administration portal",
        "class=\"step\"",
    );
    assert!(
        body.contains(
            "<li><em>(only if Plan is Enterprise)</em> Choose <strong>Single sign-on</strong>.</li>"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "<a href=\"https://ent.example/admin\" rel=\"noopener noreferrer\">the administration portal</a> (Enterprise)"
        ),
        "{body}"
    );
    // `show` fills it in for the facts given, no default assumed.
    let out = runbook()
        .args(["-C", ENGINE, "show", "setup", "--set", "plan=basic"])
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!(
        "conditional_text_show",
        lines_between(
            &shown,
            "Connect to the administration portal",
            "Check the network"
        )
    );
    // Search finds every text, and fills it in for a profile.
    let search = |sets: &[&str]| {
        let mut cmd = runbook();
        cmd.args([
            "-C",
            ENGINE,
            "search",
            "vendor created tenant",
            "--format",
            "json",
        ]);
        for set in sets {
            cmd.args(["--set", set]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let found = search(&[]);
    assert_eq!(found[0]["address"], "setup#connect", "{found:#}");
    let (_dir, site) = built_second_product();
    let page = std::fs::read_to_string(site.join("runbooks/setup.html")).unwrap();
    insta::assert_snapshot!(
        "conditional_text_site",
        lines_between(
            &page,
            "<div class=\"rbk-step-body\"><p>Open <a",
            "rbk-step-address"
        )
    );
}

/// `runbook ARGS` on the second product: its standard output, which must be a success.
fn engine_output(args: &[&str]) -> String {
    let out = runbook().args(["-C", ENGINE]).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of `text` that name sources.
fn source_lines(text: &str) -> String {
    text.lines()
        .filter(|l| {
            ["Source", "From:", "rbk-sources", "<li><a"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(|l| format!("{}\n", l.trim()))
        .collect()
}

/// The server runbook cites a guide that is an address and an addendum for Enterprise only,
/// kept as a file of the site: every output links the one, and lists the other (with its
/// citations) where it may apply, marked with its condition while the plan is not known.
#[test]
fn sources_are_linked_and_listed_where_they_apply_in_every_output() {
    let mut all = String::new();
    let checklist = |plan: Option<&str>, format: &str| {
        let mut args = vec![
            "checklist",
            "--runbook",
            "server",
            "--explain",
            "--format",
            format,
        ];
        let set = plan.map(|p| format!("plan={p}"));
        if let Some(set) = &set {
            args.extend(["--set", set]);
        }
        source_lines(&engine_output(&args))
    };
    for plan in [Some("enterprise"), Some("pro"), None] {
        for format in ["md", "html", "txt"] {
            all.push_str(&format!("== checklist {format}, plan {plan:?}\n"));
            all.push_str(&checklist(plan, format));
        }
    }
    for args in [
        &["show", "server", "--set", "plan=pro"][..],
        &["show", "server"],
    ] {
        all.push_str(&format!("== {}\n", args.join(" ")));
        all.push_str(&source_lines(&engine_output(args)));
    }
    all.push_str("== show server --sources\n");
    all.push_str(&engine_output(&["show", "server", "--sources"]));
    insta::assert_snapshot!(all);

    // JSON: the sources that apply, each with what must still hold.
    let json = |plan: &str| -> serde_json::Value {
        let text = engine_output(&[
            "checklist",
            "--runbook",
            "server",
            "--format",
            "json",
            "--set",
            plan,
        ]);
        serde_json::from_str(&text).unwrap()
    };
    let pro = json("plan=pro");
    let sources = &pro["runbooks"][0]["revision"]["sources"];
    assert_eq!(sources.as_array().unwrap().len(), 1, "{sources}");
    assert_eq!(sources[0]["url"], "https://docs.example/server-guide");
    let audit = &pro["runbooks"][0]["sections"][0]["steps"][1];
    assert_eq!(audit["id"], "audit");
    assert_eq!(
        audit["from"],
        serde_json::json!([]),
        "a source that does not apply is not cited"
    );
    let open = json("tenant=contoso");
    let addendum = &open["runbooks"][0]["revision"]["sources"][1];
    assert_eq!(addendum["condition"]["text"], "only if Plan is Enterprise");

    // A source listed while it may not apply leaves its fact open, as a step would.
    let dir = second_product();
    let server = dir.path().join("runbooks/server.toml");
    let text = std::fs::read_to_string(&server).unwrap();
    let without_sign_in = text.replace(
        "[[revision.section.step]]\ninclude = \"sign-in\"\nwhen = 'plan == \"enterprise\"'\n",
        "",
    );
    assert_ne!(text, without_sign_in);
    std::fs::write(&server, without_sign_in).unwrap();
    let out = runbook()
        .arg("-C")
        .arg(dir.path())
        .args([
            "checklist",
            "--runbook",
            "server",
            "--set",
            "version=3.1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["open_facts"], serde_json::json!(["plan"]));

    // The site: the address as it is, the file name from the site's root, where the build
    // copies it from the book's folder.
    let (_dir, site) = built_second_product();
    assert!(site.join("addenda/enterprise-hardening.html").is_file());
    let page = std::fs::read_to_string(site.join("runbooks/server.html")).unwrap();
    insta::assert_snapshot!("sources_on_the_site_page", source_lines(&page));
}

#[test]
fn show_says_that_a_revision_is_superseded() {
    let out = engine_output(&["show", "tenant", "--revision", "first-article"]);
    assert!(
        out.contains("Revision: 1.0 and later (first-article), superseded by second-article\n"),
        "{out}"
    );
    let current = engine_output(&["show", "tenant"]);
    assert!(
        current.contains("Revision: 2.0 and later (second-article)\n"),
        "{current}"
    );
}
