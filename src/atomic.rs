//! Writing files so that readers see the old content or the new, never half of it.

use std::io::Write;
use std::path::Path;

use crate::diagnostics::Diagnostic;

/// Writes to a temporary file beside `path`, then renames it over `path`. Errors name `path`,
/// never the temporary file.
pub fn write(path: &Path, contents: &[u8]) -> Result<(), Diagnostic> {
    let fail = |e: std::io::Error| {
        Diagnostic::error(format!("cannot write {}: {}", path.display(), reason(&e))).path(path)
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Diagnostic::error(format!(
            "cannot write {}: there is no folder {}",
            path.display(),
            dir.display()
        ))
        .path(path));
    }
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

/// Why an operation failed, without the temporary file's name that some errors carry.
fn reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => e.kind().to_string(),
    }
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
        let path = dir.path().join("no/such/out.md");
        let err = super::write(&path, b"x").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "cannot write {}: there is no folder {}",
                path.display(),
                dir.path().join("no/such").display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn errors_name_the_file_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        // A folder in the way: the rename over it fails.
        let path = dir.path().join("out.md");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), "x").unwrap();
        let err = super::write(&path, b"x").unwrap_err();
        assert!(
            err.message
                .starts_with(&format!("cannot write {}: ", path.display())),
            "{}",
            err.message
        );
        assert!(!err.message.contains(".runbook-"), "{}", err.message);
    }
}
