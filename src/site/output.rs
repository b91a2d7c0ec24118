//! Writing the site aside, then swapping it into place, so that readers (and `runbook serve`)
//! see the old site or the new one, never half of one, and an interrupted build leaves the
//! previous site intact.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::TempDir;

use crate::diagnostics::Diagnostic;

pub struct Staging {
    /// The folder written into, beside `dest`; none for a check, which writes nothing.
    dir: Option<TempDir>,
    dest: PathBuf,
    /// Writing into `dest` itself: each file is written beside its address and renamed over
    /// it at `commit`. For `serve`, updating the pages a change touched.
    in_place: Option<Mutex<Vec<(tempfile::NamedTempFile, PathBuf)>>>,
    /// Held while building, so that one build at a time writes beside `dest`.
    _lock: Option<fs::File>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot {what} {}: {e}", path.display())).path(path)
}

impl Staging {
    /// A fresh folder beside `dest`, on the same file system so that it can be renamed.
    /// `cache` is the project's cache folder, where the build lock lives.
    pub fn new(dest: &Path, cache: &Path) -> Result<Staging, Diagnostic> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| io("create", &parent, e))?;
        let name = dest
            .file_name()
            .map_or_else(|| "site".into(), |n| n.to_string_lossy().into_owned());
        // The lock lives with the caches, out of the way of the project's files.
        fs::create_dir_all(cache).map_err(|e| io("create", cache, e))?;
        let lock_path = cache.join("site.lock");
        let lock = crate::atomic::lock_file(&lock_path)?;
        if lock.try_lock().is_err() {
            eprintln!("waiting for another build of {} to finish", dest.display());
            lock.lock().map_err(|e| io("lock", &lock_path, e))?;
        }
        // With the lock held no other build is running: whatever staging folder is left
        // beside `dest` belongs to a build that was killed.
        if let Ok(entries) = fs::read_dir(&parent) {
            let prefix = format!(".{name}.building-");
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.building-"))
            .tempdir_in(&parent)
            .map_err(|e| io("create a folder in", &parent, e))?;
        Ok(Staging {
            dir: Some(dir),
            dest: dest.to_path_buf(),
            in_place: None,
            _lock: Some(lock),
        })
    }

    /// Writes into the built site at `dest`: at `commit`, each file written replaces the
    /// old one whole, so that a reader sees a file's old content or its new one; abandoned,
    /// nothing changes. `cache` holds the build lock, as for `new`.
    pub fn in_place(dest: &Path, cache: &Path) -> Result<Staging, Diagnostic> {
        fs::create_dir_all(cache).map_err(|e| io("create", cache, e))?;
        let lock_path = cache.join("site.lock");
        let lock = crate::atomic::lock_file(&lock_path)?;
        lock.lock().map_err(|e| io("lock", &lock_path, e))?;
        Ok(Staging {
            dir: None,
            dest: dest.to_path_buf(),
            in_place: Some(Mutex::new(Vec::new())),
            _lock: Some(lock),
        })
    }

    /// Takes everything and writes nothing: for checking a site without making it.
    pub fn dry(dest: &Path) -> Staging {
        Staging {
            dir: None,
            dest: dest.to_path_buf(),
            in_place: None,
            _lock: None,
        }
    }

    /// The folder written into, unless this is a dry run.
    pub fn path(&self) -> Option<&Path> {
        match &self.dir {
            Some(dir) => Some(dir.path()),
            None => self.in_place.as_ref().map(|_| self.dest.as_path()),
        }
    }

    /// Writes a file at a root-relative address (`a/b.html`).
    pub fn write(&self, address: &str, contents: &[u8]) -> Result<(), Diagnostic> {
        match self.path() {
            Some(_) if self.in_place.is_some() => {
                self.write_with(address, |out| out.write_all(contents))
            }
            Some(dir) => write_at(dir, address, contents),
            None => Ok(()),
        }
    }

    /// Writes a file at a root-relative address through `write`, buffered; returns what
    /// `write` returns.
    pub fn write_with<T>(
        &self,
        address: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<T>,
    ) -> Result<T, Diagnostic> {
        use std::io::Write;
        let Some(dir) = self.path() else {
            return write(&mut std::io::sink()).map_err(|e| io("write", Path::new(address), e));
        };
        let path = dir.join(address);
        let parent = path.parent().unwrap_or(dir);
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        // In place, the file is written beside its address, renamed over it at `commit`.
        let (file, temp) = if self.in_place.is_some() {
            let temp = temp_in(parent)?;
            (
                temp.reopen().map_err(|e| io("write", &path, e))?,
                Some(temp),
            )
        } else {
            let file = fs::File::create(&path).map_err(|e| io("write", &path, e))?;
            (file, None)
        };
        let mut out = std::io::BufWriter::with_capacity(1 << 18, file);
        let r = write(&mut out).map_err(|e| io("write", &path, e))?;
        out.flush().map_err(|e| io("write", &path, e))?;
        if let (Some(temp), Some(pending)) = (temp, &self.in_place) {
            let mut pending = pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push((temp, path));
        }
        Ok(r)
    }

    /// In place, puts the files written so far in place of the old ones.
    pub fn publish(&self) -> Result<(), Diagnostic> {
        let Some(pending) = &self.in_place else {
            return Ok(());
        };
        let files = std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()));
        for (temp, path) in files {
            temp.persist(&path)
                .map_err(|e| io("write", &path, e.error))?;
        }
        Ok(())
    }

    /// Puts the new site in place of the old one (or, in place, the files written).
    pub fn commit(self) -> Result<(), Diagnostic> {
        let dest = self.dest.clone();
        if self.in_place.is_some() {
            return self.publish();
        }
        let Some(dir) = self.dir else {
            return Ok(());
        };
        let new = dir.keep();
        let result = swap(&new, &dest);
        if result.is_err() {
            let _ = fs::remove_dir_all(&new);
        }
        result
    }
}

/// Writes a file at an address relative to `dir`, making the folders it needs. For threads
/// that write into the staging folder while it is held by the build (which waits for them
/// before it commits or abandons the folder).
pub fn write_at(dir: &Path, address: &str, contents: &[u8]) -> Result<(), Diagnostic> {
    let path = dir.join(address);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    }
    fs::write(&path, contents).map_err(|e| io("write", &path, e))
}

/// Replaces the file at an address relative to `dir` whole: written beside it, then renamed
/// over it.
pub fn replace_at(dir: &Path, address: &str, contents: &[u8]) -> Result<(), Diagnostic> {
    use std::io::Write;
    let path = dir.join(address);
    let parent = path.parent().unwrap_or(dir);
    fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    let mut file = temp_in(parent)?;
    file.write_all(contents)
        .map_err(|e| io("write", &path, e))?;
    file.persist(&path)
        .map_err(|e| io("write", &path, e.error))?;
    Ok(())
}

/// A new file in `dir`, to be renamed over a file of the site: readable by all, as a file
/// the site is built with.
fn temp_in(dir: &Path) -> Result<tempfile::NamedTempFile, Diagnostic> {
    let mut b = tempfile::Builder::new();
    b.prefix(".rbk-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir)
        .map_err(|e| io("create a file in", dir, e))
}

fn swap(new: &Path, dest: &Path) -> Result<(), Diagnostic> {
    match fs::symlink_metadata(dest) {
        Err(_) => fs::rename(new, dest).map_err(|e| io("move the site to", dest, e)),
        Ok(meta) if !meta.is_dir() => Err(Diagnostic::error(format!(
            "{} exists and is not a folder",
            dest.display()
        ))
        .path(dest)),
        Ok(_) => {
            #[cfg(target_os = "linux")]
            {
                use rustix::fs::{CWD, RenameFlags, renameat_with};
                if renameat_with(CWD, new, CWD, dest, RenameFlags::EXCHANGE).is_ok() {
                    // `new` now holds the old site.
                    let _ = fs::remove_dir_all(new);
                    return Ok(());
                }
            }
            let mut old = dest.as_os_str().to_owned();
            old.push(".old");
            let old = PathBuf::from(old);
            let _ = fs::remove_dir_all(&old);
            fs::rename(dest, &old).map_err(|e| io("move aside", dest, e))?;
            if let Err(e) = fs::rename(new, dest) {
                let _ = fs::rename(&old, dest);
                return Err(io("move the site to", dest, e));
            }
            let _ = fs::remove_dir_all(&old);
            Ok(())
        }
    }
}

/// Refuses a destination that would replace the project itself or its sources.
pub fn check_dest(dest: &Path, protected: &[PathBuf]) -> Result<(), Diagnostic> {
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let d = canon(dest);
    for p in protected {
        let p = canon(p);
        if p.starts_with(&d) {
            return Err(Diagnostic::error(format!(
                "refusing to build into {}: it holds {}",
                dest.display(),
                p.display()
            ))
            .help("choose another folder with --dest, or `[build] build-dir` in book.toml"));
        }
    }
    if d.is_dir() {
        let mut entries = fs::read_dir(&d).map_err(|e| io("read", &d, e))?;
        let empty = entries.next().is_none();
        if !empty && !d.join("index.html").is_file() {
            return Err(Diagnostic::error(format!(
                "refusing to replace {}: it is not empty and holds no site",
                dest.display()
            ))
            .help("the build replaces the whole folder; empty it or choose another with --dest"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_whole_folders() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("book");
        let s = Staging::new(&dest, &dir.path().join(".runbook")).unwrap();
        s.write("index.html", b"one").unwrap();
        s.write("a/b.html", b"b").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(dest.join("index.html")).unwrap(), "one");
        let s = Staging::new(&dest, &dir.path().join(".runbook")).unwrap();
        s.write("index.html", b"two").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(dest.join("index.html")).unwrap(), "two");
        assert!(!dest.join("a").exists());
        // Nothing left beside it.
        assert_eq!(beside(dir.path()), ["book"]);
    }

    #[test]
    fn an_abandoned_build_leaves_the_old_site() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("book");
        let s = Staging::new(&dest, &dir.path().join(".runbook")).unwrap();
        s.write("index.html", b"one").unwrap();
        s.commit().unwrap();
        let s = Staging::new(&dest, &dir.path().join(".runbook")).unwrap();
        s.write("index.html", b"half").unwrap();
        drop(s);
        assert_eq!(fs::read_to_string(dest.join("index.html")).unwrap(), "one");
        assert_eq!(beside(dir.path()), ["book"]);
    }

    #[test]
    fn the_next_build_removes_what_a_killed_one_left() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("book");
        fs::create_dir_all(dir.path().join(".book.building-abc123/a")).unwrap();
        let s = Staging::new(&dest, &dir.path().join(".runbook")).unwrap();
        s.write("index.html", b"one").unwrap();
        s.commit().unwrap();
        assert_eq!(beside(dir.path()), ["book"]);
    }

    /// What a folder holds, but the cache folder with the build lock.
    fn beside(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".runbook")
            .collect();
        names.sort();
        names
    }

    #[test]
    fn refuses_to_replace_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(&src).unwrap();
        assert!(check_dest(dir.path(), std::slice::from_ref(&src)).is_err());
        fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert!(check_dest(dir.path(), &[]).is_err());
        assert!(check_dest(&dir.path().join("book"), &[src]).is_ok());
    }
}
