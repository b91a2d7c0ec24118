//! `runbook index --watch`: searches trust the watcher's word that the index is fresh, and
//! that word is never given for an index older than an edit made before the search.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{project, runbook};
use serde_json::Value;

/// A running `runbook index --watch`, killed when dropped.
struct Watcher {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    warnings: Vec<String>,
}

impl Watcher {
    /// Starts one and waits until it watches.
    fn start(dir: &Path) -> Watcher {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
            .arg("-C")
            .arg(dir)
            .args(["--color", "never", "index", "--watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let watcher = Watcher {
            child,
            stdout,
            stderr,
            warnings: Vec::new(),
        };
        loop {
            let line = watcher
                .stdout
                .recv_timeout(Duration::from_secs(120))
                .expect("the watcher never said it was watching");
            if line.starts_with("watching ") {
                return watcher;
            }
        }
    }

    /// The lines of standard error, once one holds `text` (they are read on another thread,
    /// so they may lag behind what the watcher did).
    fn warnings_until(&mut self, text: &str) -> Vec<String> {
        while !self.warnings.iter().any(|w| w.contains(text)) {
            match self.stderr.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => self.warnings.push(line),
                Err(_) => break,
            }
        }
        self.warnings.clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// What the watcher answers a search.
fn answer(dir: &Path) -> String {
    let stream = UnixStream::connect(dir.join(".runbook/watch.sock")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line
}

fn run(dir: &Path, args: &[&str]) -> Output {
    runbook()
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("RUNBOOK_TRACE", "1")
        .output()
        .unwrap()
}

/// The addresses of a JSON search's hits, and whether the watcher vouched for the index.
fn search(dir: &Path, query: &str) -> (Vec<String>, bool) {
    let out = run(dir, &["search", query, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{query}: {stderr}");
    let hits: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let addresses = hits
        .iter()
        .map(|h| h["address"].as_str().unwrap().to_string())
        .collect();
    (addresses, stderr.contains("vouched for by the watcher"))
}

/// Searches right after the edit, as a user would: the edit must be seen, and the watcher
/// must have vouched (it refreshes the index before answering).
fn found(dir: &Path, query: &str) -> Vec<String> {
    let (hits, vouched) = search(dir, query);
    assert!(vouched, "{query}: the search checked the files itself");
    hits
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_edit_is_seen_by_the_next_search() {
    let dir = project();
    let d = dir.path();
    let mut watcher = Watcher::start(d);
    assert!(answer(d).starts_with("fresh gen-"));
    assert_eq!(found(d, "flamingo"), Vec::<String>::new());

    // In place, many times over: each search sees the edit made just before it.
    let post_install = d.join("runbooks/post-install.toml");
    let original = fs::read_to_string(&post_install).unwrap();
    let title = "title = \"Unassign the Global Admin permissions from the service account\"";
    for word in ["flamingo", "heron", "ibis", "stork", "crane", "egret"] {
        fs::write(
            &post_install,
            original.replacen(title, &format!("title = \"Unassign the {word} role\""), 1),
        )
        .unwrap();
        assert_eq!(found(d, word), ["post-install#unassign-global-admin"]);
    }
    assert_eq!(found(d, "stork"), Vec::<String>::new());

    // A shared file: every runbook including from it.
    edit(
        &d.join("runbooks/shared/requirements.toml"),
        "Assign a Dynamics 365 licence to the Global Administrator",
        "Assign a Dynamics 365 licence to the pelican",
    );
    let hits = found(d, "pelican");
    assert!(
        hits.contains(&"prerequisites#global-admin-d365-licence".to_string())
            && hits.contains(&"upgrade-prerequisites#global-admin-d365-licence".to_string()),
        "{hits:?}"
    );

    // A runbook in a folder that did not exist: the new folder is watched from then on.
    let extra = d.join("runbooks/more/extra.toml");
    fs::create_dir_all(extra.parent().unwrap()).unwrap();
    let runbook = |word: &str| {
        format!(
            "id = \"extra\"\ntitle = \"Extra\"\nsummary = \"s\"\n[[revision]]\n\
             [[revision.section]]\nid = \"s\"\ntitle = \"S\"\n[[revision.section.step]]\n\
             id = \"feed\"\ntitle = \"Feed the {word}\"\n"
        )
    };
    fs::write(&extra, runbook("walrus")).unwrap();
    assert_eq!(found(d, "walrus"), ["extra#feed"]);
    fs::write(&extra, runbook("narwhal")).unwrap();
    assert_eq!(found(d, "narwhal"), ["extra#feed"]);
    assert_eq!(found(d, "walrus"), Vec::<String>::new());
    // The folder goes, and comes back: watched afresh.
    fs::remove_dir_all(extra.parent().unwrap()).unwrap();
    assert_eq!(found(d, "narwhal"), Vec::<String>::new());
    fs::create_dir_all(extra.parent().unwrap()).unwrap();
    fs::write(&extra, runbook("beluga")).unwrap();
    assert_eq!(found(d, "beluga"), ["extra#feed"]);
    fs::write(&extra, runbook("orca")).unwrap();
    assert_eq!(found(d, "orca"), ["extra#feed"]);

    // A folder of folders moved away and back: every folder in it is watched afresh.
    let deep = d.join("runbooks/ops/deep/extra2.toml");
    fs::create_dir_all(deep.parent().unwrap()).unwrap();
    fs::write(&deep, runbook("dugong").replace("\"extra\"", "\"extra2\"")).unwrap();
    assert_eq!(found(d, "dugong"), ["extra2#feed"]);
    let away = d.join("away");
    fs::rename(d.join("runbooks/ops"), &away).unwrap();
    fs::rename(&away, d.join("runbooks/ops")).unwrap();
    assert_eq!(found(d, "dugong"), ["extra2#feed"]);
    fs::write(&deep, runbook("manatee").replace("\"extra\"", "\"extra2\"")).unwrap();
    assert_eq!(found(d, "manatee"), ["extra2#feed"]);
    fs::remove_dir_all(d.join("runbooks/ops")).unwrap();

    // Chapters: a new section, an include that appears and then changes.
    edit(
        &d.join("guide/authoring.md"),
        "# Writing runbooks\n",
        "# Writing runbooks\n\n## Sea otters\n\n{{#include otters/notes.txt}}\n",
    );
    assert_eq!(found(d, "otters"), ["guide/authoring.md#sea-otters"]);
    fs::create_dir(d.join("guide/otters")).unwrap();
    fs::write(d.join("guide/otters/notes.txt"), "They use stones.\n").unwrap();
    assert_eq!(found(d, "stones"), ["guide/authoring.md#sea-otters"]);
    fs::write(d.join("guide/otters/notes.txt"), "They use pebbles.\n").unwrap();
    assert_eq!(found(d, "pebbles"), ["guide/authoring.md#sea-otters"]);
    // book.toml, gone and back.
    let book = fs::read_to_string(d.join("book.toml")).unwrap();
    fs::remove_file(d.join("book.toml")).unwrap();
    assert_eq!(found(d, "otters"), Vec::<String>::new());
    fs::write(d.join("book.toml"), book).unwrap();
    assert_eq!(found(d, "otters"), ["guide/authoring.md#sea-otters"]);

    // A broken edit: the search reports it, as without a watcher, and the watcher says why.
    fs::write(&post_install, "id = \"post-install\"\ntitle = ").unwrap();
    let out = run(d, &["search", "unassign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("post-install.toml"));
    assert_eq!(answer(d), "unsure\n");
    fs::write(&post_install, &original).unwrap();
    assert_eq!(
        found(d, "unassign")[0],
        "post-install#unassign-global-admin"
    );
    let warnings = watcher.warnings_until("post-install.toml");
    assert!(
        warnings.iter().any(|w| w.contains("post-install.toml")),
        "{warnings:?}"
    );
}

#[test]
fn without_its_watcher_a_search_checks_for_itself() {
    let dir = project();
    let d = dir.path();
    let watcher = Watcher::start(d);
    // A second watcher is refused, and the first goes on.
    let out = runbook()
        .arg("-C")
        .arg(d)
        .args(["index", "--watch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already watching this project"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(found(d, "consent").contains(&"install#copy-consent-link".to_string()));

    // Killed, it leaves its socket behind: searches check for themselves.
    drop(watcher);
    assert!(d.join(".runbook/watch.sock").exists());
    edit(
        &d.join("runbooks/install.toml"),
        "MUST also have a Dynamics 365",
        "MUST also have a toucan and a Dynamics 365",
    );
    let (hits, vouched) = search(d, "toucan");
    assert_eq!(hits, ["install#install-as-global-admin"]);
    assert!(!vouched);

    // A new watcher takes the socket over.
    let _watcher = Watcher::start(d);
    assert_eq!(found(d, "toucan"), ["install#install-as-global-admin"]);
}

#[test]
fn a_chapter_reached_through_a_link_is_not_vouched_for() {
    let dir = project();
    let d = dir.path();
    // (The site refuses a link that leaves the project.)
    fs::create_dir(d.join("notes")).unwrap();
    let target = d.join("notes/intro.md");
    fs::rename(d.join("guide/introduction.md"), &target).unwrap();
    std::os::unix::fs::symlink(&target, d.join("guide/introduction.md")).unwrap();
    let mut watcher = Watcher::start(d);
    assert_eq!(answer(d), "unsure\n");
    let link = "introduction.md is reached through a symbolic link";
    let warnings = watcher.warnings_until(link);
    assert!(warnings.iter().any(|w| w.contains(link)), "{warnings:?}");
    // Its changes are still seen: the search checks the files itself.
    let text = fs::read_to_string(&target).unwrap();
    fs::write(&target, format!("{text}\n## Manatees\n\nSlow.\n")).unwrap();
    let (hits, vouched) = search(d, "manatees");
    assert_eq!(hits, ["guide/introduction.md#manatees"]);
    assert!(!vouched);
}

#[test]
fn a_watcher_started_on_broken_sources_recovers_when_they_are_mended() {
    let dir = project();
    let d = dir.path();
    let shared = d.join("runbooks/shared/mfa.toml");
    let original = fs::read_to_string(&shared).unwrap();
    fs::write(&shared, "[[section]]\nid = ").unwrap();
    let mut watcher = Watcher::start(d);
    for _ in 0..3 {
        let out = run(d, &["search", "consent"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(answer(d), "unsure\n");
    }
    fs::write(&shared, original).unwrap();
    assert!(found(d, "consent").contains(&"install#copy-consent-link".to_string()));
    // The problem was told once, with its place, not at every search.
    let warnings = watcher.warnings_until("until this is mended");
    let told = |s: &str| warnings.iter().filter(|w| w.contains(s)).count();
    assert_eq!(told("runbooks/shared/mfa.toml:2:"), 1, "{warnings:?}");
    assert_eq!(told("until this is mended"), 1, "{warnings:?}");
}

#[test]
fn after_lost_notifications_every_folder_is_watched_afresh() {
    let dir = project();
    let d = dir.path();
    let runbook = |id: &str, word: &str| {
        format!(
            "id = \"{id}\"\ntitle = \"T\"\nsummary = \"s\"\n[[revision]]\n[[revision.section]]\n\
             id = \"s\"\ntitle = \"S\"\n[[revision.section.step]]\nid = \"feed\"\n\
             title = \"Feed the {word}\"\n"
        )
    };
    for (folder, id) in [("p", "in-p"), ("q", "in-q"), ("r", "in-r")] {
        fs::create_dir(d.join("runbooks").join(folder)).unwrap();
        fs::write(
            d.join("runbooks").join(folder).join(format!("{id}.toml")),
            runbook(id, "yak"),
        )
        .unwrap();
    }
    let mut watcher = Watcher::start(d);
    assert_eq!(found(d, "yak"), ["in-p#feed", "in-q#feed", "in-r#feed"]);

    // Stopped, the watcher's queue overflows while two watched folders swap places, and a
    // third is made anew (on ext4, often with the same inode number).
    let pid = watcher.child.id().to_string();
    let signal = |sig: &str| {
        let status = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    let queue: usize = fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .map_or(16384, |s| s.trim().parse().unwrap());
    let junk = d.join("junk");
    for n in 0..queue / 2 {
        fs::write(d.join(format!("junk-{n}")), "").unwrap();
        fs::remove_file(d.join(format!("junk-{n}"))).unwrap();
    }
    fs::rename(d.join("runbooks/p"), &junk).unwrap();
    fs::rename(d.join("runbooks/q"), d.join("runbooks/p")).unwrap();
    fs::rename(&junk, d.join("runbooks/q")).unwrap();
    fs::remove_dir_all(d.join("runbooks/r")).unwrap();
    fs::create_dir(d.join("runbooks/r")).unwrap();
    fs::write(d.join("runbooks/r/in-r.toml"), runbook("in-r", "yak")).unwrap();
    signal("-CONT");
    // The watcher catches up, then the edits come.
    assert_eq!(found(d, "yak"), ["in-p#feed", "in-q#feed", "in-r#feed"]);

    fs::write(d.join("runbooks/r/in-r.toml"), runbook("in-r", "ox")).unwrap();
    assert_eq!(found(d, "ox"), ["in-r#feed"]);

    fs::write(d.join("runbooks/p/in-q.toml"), runbook("in-q", "gnu")).unwrap();
    assert_eq!(found(d, "gnu"), ["in-q#feed"]);
    fs::write(d.join("runbooks/q/in-p.toml"), runbook("in-p", "gnu")).unwrap();
    assert_eq!(found(d, "gnu"), ["in-p#feed", "in-q#feed"]);
    assert!(
        watcher
            .warnings_until("overflowed")
            .iter()
            .any(|w| w.contains("overflowed")),
        "the queue did not overflow: the test proved nothing"
    );
}

#[test]
fn a_watcher_stops_when_its_project_moves() {
    let dir = project();
    let moved = tempfile::tempdir().unwrap();
    let mut watcher = Watcher::start(dir.path());
    let to = moved.path().join("elsewhere");
    fs::rename(dir.path(), &to).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = watcher.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still watching");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    let warnings: Vec<String> = watcher.stderr.iter().collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("was removed or moved: stopped watching")),
        "{warnings:?}"
    );
    // Nothing was made again where the project was.
    assert!(!dir.path().exists());
    fs::rename(&to, dir.path()).unwrap();
}
