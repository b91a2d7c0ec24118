//! Where the index lives, and how writers take turns and readers never see half an index.
//!
//! ```text
//! .runbook/index/
//!   CURRENT        the name of the generation in use, replaced atomically
//!   lock           held (an OS file lock) by the one process that writes
//!   gen-XXXXXX/    a generation: tantivy's files and `manifest`
//! ```
//!
//! A full rebuild writes a new generation beside the current one and then points `CURRENT` at
//! it; an incremental refresh commits into the current generation (tantivy commits are atomic)
//! and then replaces its manifest. A reader that loses a race with a rebuild (its generation
//! removed under it) just opens the new one.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use tantivy::{Index, IndexReader, ReloadPolicy};

use crate::atomic;
use crate::diagnostics::Diagnostic;

use super::manifest::Manifest;
use super::schema::Fields;

pub const INDEX_DIR: &str = ".runbook/index";
const CURRENT: &str = "CURRENT";
const LOCK: &str = "lock";
pub const MANIFEST: &str = "manifest";
const GEN_PREFIX: &str = "gen-";

pub struct Store {
    pub root: PathBuf,
    pub dir: PathBuf,
}

/// An index generation, open for reading.
pub struct Opened {
    pub generation: PathBuf,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub manifest: Manifest,
    /// The manifest as read, to tell whether it changed since.
    pub text: Vec<u8>,
}

#[derive(Debug)]
pub enum OpenError {
    /// There is no index yet.
    Missing,
    /// There is one, but it cannot be used, for this reason.
    Damaged(String),
}

/// The writer's lock; released when dropped.
pub struct Lock {
    _file: File,
}

pub(super) fn io_error(what: &str, path: &Path, e: io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot {what} {}: {e}", path.display())).path(path)
}

impl Store {
    pub fn new(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
            dir: root.join(INDEX_DIR),
        }
    }

    /// The generation in use: its manifest read, its index opened.
    pub fn open(&self) -> Result<Opened, OpenError> {
        let current = match fs::read_to_string(self.dir.join(CURRENT)) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(OpenError::Missing),
            Err(e) => return Err(OpenError::Damaged(format!("cannot read it: {e}"))),
        };
        let name = current.trim();
        if !name.starts_with(GEN_PREFIX) || name.contains(['/', '\\']) || name.contains("..") {
            return Err(OpenError::Damaged("its CURRENT file is damaged".into()));
        }
        let generation = self.dir.join(name);
        let text = fs::read(generation.join(MANIFEST))
            .map_err(|e| OpenError::Damaged(format!("cannot read its manifest: {e}")))?;
        let manifest = Manifest::parse(&text).map_err(OpenError::Damaged)?;
        super::trace("manifest read");
        let index = Index::open_in_dir(&generation)
            .map_err(|e| OpenError::Damaged(format!("cannot open it: {e}")))?;
        let fields = Fields::of(&index.schema())
            .ok_or_else(|| OpenError::Damaged("its schema is not this version's".into()))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| OpenError::Damaged(format!("cannot read it: {e}")))?;
        Ok(Opened {
            generation,
            index,
            reader,
            fields,
            manifest,
            text,
        })
    }
}

impl Store {
    fn lock_file(&self) -> Result<File, Diagnostic> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error("create", &self.dir, e))?;
        atomic::lock_file(&self.dir.join(LOCK))
    }

    /// Waits for the writer's lock.
    pub fn lock(&self) -> Result<Lock, Diagnostic> {
        let file = self.lock_file()?;
        file.lock()
            .map_err(|e| io_error("lock", &self.dir.join(LOCK), e))?;
        Ok(Lock { _file: file })
    }

    /// The writer's lock if nobody holds it.
    pub fn try_lock(&self) -> Option<Lock> {
        let file = self.lock_file().ok()?;
        file.try_lock().ok()?;
        Some(Lock { _file: file })
    }

    /// A new, empty generation folder.
    pub fn new_generation(&self) -> Result<PathBuf, Diagnostic> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error("create", &self.dir, e))?;
        tempfile::Builder::new()
            .prefix(GEN_PREFIX)
            .tempdir_in(&self.dir)
            .map(tempfile::TempDir::keep)
            .map_err(|e| io_error("create a folder in", &self.dir, e))
    }

    /// Makes a generation the one in use.
    pub fn publish(&self, generation: &Path) -> Result<(), Diagnostic> {
        let name = generation
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        atomic::write(&self.dir.join(CURRENT), format!("{name}\n").as_bytes())
    }

    /// Removes every generation but `keep` (best effort: one still open elsewhere on a system
    /// that forbids it is removed next time).
    pub fn clean(&self, keep: &Path) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        // By name: `keep` may be absolute where the store's folder is relative.
        let keep = keep.file_name();
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let is_generation = name.to_str().is_some_and(|n| n.starts_with(GEN_PREFIX));
            if is_generation && Some(name.as_os_str()) != keep && path.is_dir() {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }

    /// Replaces a generation's manifest.
    pub fn write_manifest(&self, generation: &Path, m: &Manifest) -> Result<(), Diagnostic> {
        atomic::write(&generation.join(MANIFEST), &m.to_bytes())
    }
}
