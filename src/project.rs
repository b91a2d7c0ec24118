//! A project on disk: `runbooks/facts.toml`, the runbooks beside it, and the shared sections
//! and steps in `runbooks/shared/`, read into the core's project.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

use runbook_core::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use runbook_core::project::Sources;

pub const RUNBOOK_DIR: &str = "runbooks";
pub const FACTS_FILE: &str = "facts.toml";
pub const SHARED_DIR: &str = "shared";
/// The project's caches: the search index, the site's build lock and staging folders.
pub const CACHE_DIR: &str = ".runbook";

/// A project read from disk.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    /// Every source file read, for staleness checks.
    pub files: Vec<PathBuf>,
    pub book: runbook_core::project::Project,
}

// A project on disk is its runbooks and facts, plus where they came from.
impl std::ops::Deref for Project {
    type Target = runbook_core::project::Project;
    fn deref(&self) -> &Self::Target {
        &self.book
    }
}

/// The project `start` is in, so that any folder inside a project works: the first of `start`
/// and its parents that holds a `runbooks/` folder or a `book.toml`. `start` itself when it is
/// one (kept as given, so that names stay short), else the folder found, else `start` (whose
/// load then says what is missing).
pub fn find_root(start: &Path) -> PathBuf {
    let is_root = |dir: &Path| {
        dir.join(RUNBOOK_DIR).is_dir() || dir.join(crate::book::config::BOOK_FILE).is_file()
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
    /// Reads every source file under `runbooks/` and loads the project from them.
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
        let mut sources = Sources::default();
        let facts_path = dir.join(FACTS_FILE);
        match read(root, &facts_path) {
            Ok(file) => {
                files.push(facts_path.clone());
                sources.facts = Some(file);
            }
            Err(d) => diags.push(d),
        }
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
            if path.parent().is_some_and(|p| p == dir.join(SHARED_DIR)) {
                sources.shared.push(file);
            } else {
                sources.runbooks.push(file);
            }
        }
        let (book, warnings) = runbook_core::project::Project::from_sources(sources, diags)?;
        Ok((
            Project {
                root: root.to_path_buf(),
                files,
                book,
            },
            warnings,
        ))
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

/// The profile file, if any (named relative to the current folder), with every
/// `--set fact=value` applied over it.
pub fn profile(
    vocab: &runbook_core::facts::Vocabulary,
    file: Option<&Path>,
    set: &[String],
) -> Result<runbook_core::profile::Profile, Diagnostics> {
    let file = match file {
        Some(path) => Some(read(&std::env::current_dir().unwrap_or_default(), path)?),
        None => None,
    };
    runbook_core::profile::Profile::resolve(vocab, file.as_ref(), set)
}
