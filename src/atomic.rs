//! Writing files so that readers see the old content or the new, never half of it.

use std::io::Write;
use std::path::Path;

use crate::diagnostics::Diagnostic;

/// Writes to a temporary file beside `path`, then renames it over `path`.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), Diagnostic> {
    let fail = |e: std::io::Error| {
        Diagnostic::error(format!("cannot write {}: {e}", path.display())).path(path)
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".runbook-")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    // A temporary file is private; the result should have the permissions a file written in
    // place would have: those of the file it replaces, or the usual ones.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(fail)?;
    }
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Opens (making it if missing, never emptying it) a file whose OS lock says which process
/// may go on: the caller takes it with `lock` or `try_lock`.
pub fn lock_file(path: &Path) -> Result<std::fs::File, Diagnostic> {
    std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Diagnostic::error(format!("cannot open {}: {e}", path.display())).path(path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.md");
        super::write(&p, b"first").unwrap();
        super::write(&p, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }

    #[test]
    fn missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = super::write(&dir.path().join("no/such/out.md"), b"x").unwrap_err();
        assert!(err.message.starts_with("cannot write"));
    }
}
