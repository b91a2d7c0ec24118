//! A project on disk: `runbooks/facts.toml`, the runbooks beside it, and the shared sections
//! and steps in `runbooks/shared/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::facts::Vocabulary;
use crate::runbook::load::{Library, RawRunbook, RawShared, Resolver};
use crate::runbook::{Runbook, validate};
use crate::toml_file;

pub const RUNBOOK_DIR: &str = "runbooks";
pub const FACTS_FILE: &str = "facts.toml";
pub const SHARED_DIR: &str = "shared";
/// The project's caches: the search index, the site's build lock and staging folders.
pub const CACHE_DIR: &str = ".runbook";

#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub vocab: Vocabulary,
    /// In checklist order: every `after` respected.
    pub runbooks: Vec<Runbook>,
    /// Every source file read, for staleness checks.
    pub files: Vec<PathBuf>,
}

/// The project `start` is in, so that any folder inside a project works: the first of `start`
/// and its parents that holds a `runbooks/` folder or a `book.toml`. `start` itself when it is
/// one (kept as given, so that names stay short), else the folder found, else `start` (whose
/// load then says what is missing).
pub fn find_root(start: &Path) -> PathBuf {
    let is_root = |dir: &Path| {
        dir.join(RUNBOOK_DIR).is_dir() || dir.join(crate::site::config::BOOK_FILE).is_file()
    };
    if is_root(start) {
        return start.to_path_buf();
    }
    let Ok(absolute) = start.canonicalize() else {
        return start.to_path_buf();
    };
    absolute
        .ancestors()
        .skip(1)
        .find(|dir| is_root(dir))
        .map_or_else(|| start.to_path_buf(), Path::to_path_buf)
}

impl Project {
    /// Loads and validates everything. Warnings come back with the project; any error makes
    /// the whole load fail with every diagnostic found.
    pub fn load(root: &Path) -> Result<(Project, Diagnostics), Diagnostics> {
        let mut diags = Diagnostics::default();
        let dir = root.join(RUNBOOK_DIR);
        if !dir.is_dir() {
            return Err(Diagnostic::error(format!(
                "no `{RUNBOOK_DIR}` folder in {}",
                root.display()
            ))
            .path(root)
            .help("run runbook in a project root, or point at one with -C DIR")
            .into());
        }
        let mut files = Vec::new();
        let facts_path = dir.join(FACTS_FILE);
        let vocab = match read(root, &facts_path) {
            Ok(file) => {
                files.push(facts_path.clone());
                Vocabulary::load(&file, &mut diags)
            }
            Err(d) => {
                diags.push(d);
                Vocabulary::default()
            }
        };

        // Everything else is checked against the facts; with a broken facts file, the rest
        // would only repeat its errors.
        if diags.has_errors() {
            return Err(diags.sorted());
        }
        let mut library = Library::default();
        let mut raw_runbooks = Vec::new();
        for entry in WalkDir::new(&dir).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    diags.push(
                        Diagnostic::error(format!("cannot read {}: {e}", dir.display())).path(&dir),
                    );
                    continue;
                }
            };
            let path = entry.path();
            if !entry.file_type().is_file()
                || path.extension().is_none_or(|e| e != "toml")
                || path == facts_path
            {
                continue;
            }
            let file = match read(root, path) {
                Ok(f) => f,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            files.push(path.to_path_buf());
            let shared = path.parent().is_some_and(|p| p == dir.join(SHARED_DIR));
            if shared {
                match toml_file::parse::<RawShared>(&file) {
                    Ok(raw) => library.add(&file, raw, &mut diags),
                    Err(d) => diags.push(d),
                }
            } else {
                match toml_file::parse::<RawRunbook>(&file) {
                    Ok(raw) => raw_runbooks.push((file, raw)),
                    Err(d) => diags.push(d),
                }
            }
        }

        let mut resolver = Resolver {
            vocab: &vocab,
            library: &library,
            diags: &mut diags,
        };
        let runbooks: Vec<Runbook> = raw_runbooks
            .into_iter()
            .map(|(file, raw)| resolver.runbook(&file, raw))
            .collect();
        validate::validate(&runbooks, &vocab, &mut diags);
        if diags.has_errors() {
            return Err(diags.sorted());
        }
        let order = validate::order(&runbooks)?;
        let mut slots: Vec<Option<Runbook>> = runbooks.into_iter().map(Some).collect();
        let runbooks = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok((
            Project {
                root: root.to_path_buf(),
                vocab,
                runbooks,
                files,
            },
            diags.sorted(),
        ))
    }

    pub fn runbook(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }

    /// The runbook with this id, or an error with a did-you-mean.
    pub fn find(&self, id: &str) -> Result<&Runbook, Diagnostic> {
        self.runbook(id).ok_or_else(|| {
            let ids: Vec<&str> = self.runbooks.iter().map(|r| r.id.as_str()).collect();
            // The id came from the command line: point there.
            let arg = crate::diagnostics::SourceFile::command_line(id.to_string());
            let mut d = Diagnostic::error(format!("no runbook `{id}`"))
                .at(&crate::diagnostics::Span::new(&arg, 0..id.len()));
            d = match crate::diagnostics::did_you_mean(id, ids.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None => d.help(format!("runbooks: {}", ids.join(", "))),
            };
            d
        })
    }
}

/// Reads a source file that must lie inside the project: an absolute path, a `..` too many or
/// a symbolic link cannot make the tool read (and publish) a file from elsewhere.
pub fn read_inside(root: &Path, path: &Path) -> Result<Arc<SourceFile>, Diagnostic> {
    let inside = match (path.canonicalize(), root.canonicalize()) {
        (Ok(file), Ok(root)) => file.starts_with(root),
        // A file that cannot be resolved is reported by `read`.
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    };
    if !inside {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        return Err(Diagnostic::error(format!("{name} is outside the project")).path(path));
    }
    read(root, path)
}

/// Reads a source file, named relative to the project root.
pub fn read(root: &Path, path: &Path) -> Result<Arc<SourceFile>, Diagnostic> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(name, path, text)),
            Err(e) => Err(Diagnostic::error(format!(
                "{name} is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ))
            .path(path)),
        },
        Err(e) => Err(Diagnostic::error(format!("cannot read {name}: {e}")).path(path)),
    }
}
