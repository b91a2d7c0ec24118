//! What `runbook serve` does on a change: chapters edited, added, renamed and deleted,
//! included files, runbooks added, edited and deleted. After each change the served site must
//! be the one a fresh build makes, file for file and byte for byte; an edit of chapters (or of
//! a file they include) must update only their pages, without a whole build.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::copy_dir;
use runbook::site::{self, BuildOptions, Site, Update};

/// Every file of a site, by address.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            (
                rel.to_string_lossy().replace('\\', "/"),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The project and the site `serve` keeps up to date.
struct Served {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    opts: BuildOptions,
    site: Option<Site>,
}

#[derive(Debug, PartialEq)]
enum How {
    Pages,
    Whole,
    Failed,
}

impl Served {
    fn new() -> Served {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("book");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        copy_dir(&fixtures.join("site/plain"), &root);
        copy_dir(&fixtures.join("base/runbooks"), &root.join("runbooks"));
        // Search in shards, as a large book has it.
        let config = fs::read_to_string(root.join("book.toml")).unwrap();
        let config = config.replace(
            "use-boolean-and = true",
            "use-boolean-and = true\nshard-size = 4",
        );
        fs::write(root.join("book.toml"), config).unwrap();
        fs::create_dir_all(root.join("src/parts")).unwrap();
        fs::write(root.join("src/parts/note.md"), "A shared note.\n").unwrap();
        fs::write(
            root.join("src/three.md"),
            "# Three\n\n{{#include parts/note.md}}\n\n## Details\n\n- [x] done\n",
        )
        .unwrap();
        fs::write(
            root.join("src/afterword.md"),
            "# Afterword\n\nThe end. [Home](index.html), [details](three.md#details).\n\n{{#include parts/note.md}}\n",
        )
        .unwrap();
        let opts = BuildOptions {
            dest: Some(tmp.path().join("served")),
            progress: false,
        };
        let (_, site) = site::build_kept(&root, &opts, None).unwrap();
        Served {
            _tmp: tmp,
            root,
            opts,
            site: Some(site),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    fn edit(&self, rel: &str, from: &str, to: &str) -> PathBuf {
        let p = self.path(rel);
        let text = fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} has {from:?}");
        fs::write(&p, text.replacen(from, to, 1)).unwrap();
        p
    }

    /// What serve does with the changed files (as the server's loop does).
    fn changed(&mut self, paths: &[PathBuf]) -> How {
        let update = match self.site.as_mut() {
            Some(site) => site.update(paths),
            None => Update::Whole,
        };
        match update {
            Update::Pages(Ok(_)) => match self.site.as_mut().map(Site::update_search) {
                Some(Ok(_)) => How::Pages,
                _ => How::Failed,
            },
            Update::Pages(Err(_)) => How::Failed,
            Update::Whole => match site::build_kept(&self.root, &self.opts, self.site.take()) {
                Ok((_, site)) => {
                    self.site = Some(site);
                    How::Whole
                }
                Err(_) => How::Failed,
            },
        }
    }

    /// Asserts that the served site is what a fresh build makes (or, when the build fails,
    /// that it fails too).
    fn same_as_fresh(&self, what: &str) {
        let fresh = self._tmp.path().join("fresh");
        let _ = fs::remove_dir_all(&fresh);
        let built = site::build(
            &self.root,
            &BuildOptions {
                dest: Some(fresh.clone()),
                progress: false,
            },
        );
        if built.is_err() {
            return;
        }
        let served = files(self.opts.dest.as_ref().unwrap());
        let fresh = files(&fresh);
        let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&served),
            names(&fresh),
            "after {what}: the same files"
        );
        for (name, bytes) in &fresh {
            assert!(
                served[name] == *bytes,
                "after {what}: {name} differs from a fresh build's:\n{}",
                String::from_utf8_lossy(&served[name])
            );
        }
    }
}

#[test]
fn every_change_serves_the_site_a_fresh_build_makes() {
    let mut s = Served::new();
    s.same_as_fresh("the first build");
    let shards = fs::read_to_string(s.opts.dest.as_ref().unwrap().join("pagefind/shards.json"));
    assert!(shards.unwrap().contains("2/"), "three shards or more");

    let p = s.edit(
        "src/guide/one.md",
        "# Chapter one",
        "# Chapter one\n\nA new paragraph about gadgets.",
    );
    assert_eq!(s.changed(&[p]), How::Pages);
    s.same_as_fresh("a chapter edited");
    let served = s.opts.dest.clone().unwrap();
    assert!(
        fs::read_to_string(served.join("guide/one.html"))
            .unwrap()
            .contains("gadgets")
    );

    let p = s.write("src/parts/note.md", "A shared note, reworded.\n");
    assert_eq!(s.changed(&[p]), How::Pages);
    s.same_as_fresh("a file two chapters include edited");

    let p = s.edit("src/README.md", "", "Welcome, readers.\n\n");
    assert_eq!(s.changed(&[p]), How::Pages);
    s.same_as_fresh("the chapter the index page shows edited");

    let p = s.edit(
        "src/three.md",
        "# Three",
        "{{#title Three, retitled}}\n# Three",
    );
    let q = s.edit("src/foreword.md", "", "More words.\n\n");
    assert_eq!(s.changed(&[p, q]), How::Pages);
    s.same_as_fresh("two chapters edited at once, one retitled");

    // A removed anchor another chapter links to: the update fails, the site stays.
    let before = files(&served);
    let p = s.edit("src/three.md", "## Details", "## Particulars");
    assert_eq!(s.changed(std::slice::from_ref(&p)), How::Failed);
    assert!(
        files(&served) == before,
        "a failed update leaves the site as it was"
    );
    let p = s.edit("src/three.md", "## Particulars", "## Details");
    assert_eq!(s.changed(&[p]), How::Whole);
    s.same_as_fresh("the anchor back");

    let p = s.write("src/added.md", "# Added\n\nA new chapter.\n");
    let q = s.edit(
        "src/SUMMARY.md",
        "- [Three](three.md)",
        "- [Three](three.md)\n- [Added](added.md)",
    );
    assert_eq!(s.changed(&[p, q]), How::Whole);
    s.same_as_fresh("a chapter added");
    let p = s.edit("src/added.md", "A new chapter.", "A new chapter, edited.");
    assert_eq!(s.changed(&[p]), How::Pages);
    s.same_as_fresh("the added chapter edited");

    fs::rename(s.path("src/added.md"), s.path("src/renamed.md")).unwrap();
    let q = s.edit("src/SUMMARY.md", "(added.md)", "(renamed.md)");
    assert_eq!(
        s.changed(&[s.path("src/added.md"), s.path("src/renamed.md"), q]),
        How::Whole
    );
    s.same_as_fresh("a chapter renamed");

    fs::remove_file(s.path("src/renamed.md")).unwrap();
    let q = s.edit("src/SUMMARY.md", "\n- [Added](renamed.md)", "");
    assert_eq!(s.changed(&[s.path("src/renamed.md"), q]), How::Whole);
    s.same_as_fresh("a chapter deleted");

    let p = s.edit(
        "runbooks/base.toml",
        "Base procedure",
        "Base procedure, renamed",
    );
    assert_eq!(s.changed(&[p]), How::Whole);
    s.same_as_fresh("a runbook edited");

    let base = fs::read_to_string(s.path("runbooks/base.toml")).unwrap();
    let p = s.write(
        "runbooks/second.toml",
        &base.replacen("id = \"base\"", "id = \"second\"", 1),
    );
    assert_eq!(s.changed(&[p]), How::Whole);
    s.same_as_fresh("a runbook added");

    fs::remove_file(s.path("runbooks/second.toml")).unwrap();
    assert_eq!(s.changed(&[s.path("runbooks/second.toml")]), How::Whole);
    s.same_as_fresh("a runbook deleted");

    let p = s.edit("src/guide/one.md", "gadgets", "widgets");
    assert_eq!(s.changed(&[p]), How::Pages);
    s.same_as_fresh("a chapter edited after whole builds");
}

#[test]
fn a_warm_build_writes_what_a_cold_one_does() {
    let s = Served::new();
    let dest = s.opts.dest.clone().unwrap();
    let cache = s.path(".runbook/site-search.json");
    assert!(
        cache.is_file(),
        "a build leaves what the next one can reuse"
    );
    let warm = |what: &str| {
        site::build(&s.root, &s.opts).unwrap();
        s.same_as_fresh(what);
    };
    s.edit(
        "src/guide/one.md",
        "# Chapter one",
        "# Chapter one\n\nWarm words.",
    );
    warm("a build after an edit");
    s.write("src/added.md", "# Added\n");
    s.edit(
        "src/SUMMARY.md",
        "- [Three](three.md)",
        "- [Three](three.md)\n- [Added](added.md)",
    );
    warm("a build after a chapter was added");
    // A shard's file changed in the site since: not taken as it is.
    let entry = dest.join("pagefind/pagefind-entry.json");
    fs::write(&entry, "{}").unwrap();
    warm("a build after the site was changed by hand");
    fs::write(&cache, "not what a build writes").unwrap();
    warm("a build with a broken cache");
}
