//! `runbook serve`: the built site on 127.0.0.1, rebuilt when its sources change.

use std::fs;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::diagnostics::{Diagnostic, Diagnostics};

use super::{BuildOptions, BuildReport, build, links::percent_decode};

pub struct ServeOptions {
    pub port: u16,
    pub build: BuildOptions,
    /// Rebuild when sources change.
    pub watch: bool,
}

/// What the server has to say, for the command line to print.
pub enum Event<'a> {
    Listening(SocketAddr, &'a Path),
    Rebuilding(&'a [PathBuf]),
    Built(&'a Result<BuildReport, Diagnostics>),
    WatchFailed(String),
}

/// Builds, then serves until the process is stopped. Fails only when the first build or the
/// server itself fails; later build failures are reported and the previous site stays up.
pub fn serve(
    root: &Path,
    opts: &ServeOptions,
    report: &(dyn Fn(Event<'_>) + Sync),
) -> Result<(), Diagnostics> {
    let first: Result<BuildReport, Diagnostics> = Ok(build(root, &opts.build)?);
    report(Event::Built(&first));
    let Ok(first) = first else {
        return Ok(());
    };
    let dest = first.dest.clone();
    let server = Server::http(("127.0.0.1", opts.port)).map_err(|e| {
        Diagnostic::error(format!("cannot listen on 127.0.0.1:{}: {e}", opts.port))
            .help("choose another port with --port, or --port 0 for any free one")
    })?;
    let addr = server
        .server_addr()
        .to_ip()
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], opts.port)));
    report(Event::Listening(addr, &dest));

    let server = Arc::new(server);
    let dest = Arc::new(dest);
    thread::scope(|scope| {
        // A few workers, so a slow client does not hold up the others.
        for _ in 0..4 {
            let server = Arc::clone(&server);
            let dest = Arc::clone(&dest);
            scope.spawn(move || {
                while let Ok(request) = server.recv() {
                    respond(request, &dest);
                }
            });
        }
        if opts.watch {
            watch_and_rebuild(root, opts, first.watch.clone(), &dest, report);
        }
    });
    Ok(())
}

fn watch_and_rebuild(
    root: &Path,
    opts: &ServeOptions,
    paths: Vec<PathBuf>,
    dest: &Path,
    report: &(dyn Fn(Event<'_>) + Sync),
) {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let dest_canon = fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
    let dest_name = dest
        .file_name()
        .map(|n| format!(".{}.building-", n.to_string_lossy()))
        .unwrap_or_default();
    let mut watcher =
        match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res {
                if matches!(event.kind, notify::EventKind::Access(_)) {
                    return;
                }
                for p in event.paths {
                    let _ = tx.send(p);
                }
            }
        }) {
            Ok(w) => w,
            Err(e) => {
                report(Event::WatchFailed(e.to_string()));
                return;
            }
        };
    let mut watched = Vec::new();
    for p in &paths {
        if p.exists() && !watched.contains(p) {
            if let Err(e) = watcher.watch(p, RecursiveMode::Recursive) {
                report(Event::WatchFailed(format!("{}: {e}", p.display())));
            }
            watched.push(p.clone());
        }
    }
    // Changes inside the site itself, or a build folder beside it, are not changes of source.
    let relevant = |p: &Path| {
        let canon = fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        !canon.starts_with(&dest_canon)
            && !p.components().any(|c| {
                c.as_os_str().to_string_lossy().starts_with(&dest_name) && !dest_name.is_empty()
            })
    };
    let mut last = paths;
    while let Ok(first) = rx.recv() {
        let mut changed = vec![first];
        // Let a burst of changes (an editor saving, a git checkout) settle.
        while let Ok(p) = rx.recv_timeout(Duration::from_millis(250)) {
            changed.push(p);
        }
        changed.retain(|p| relevant(p));
        if changed.is_empty() {
            continue;
        }
        changed.sort();
        changed.dedup();
        report(Event::Rebuilding(&changed));
        let result = build(root, &opts.build);
        report(Event::Built(&result));
        if let Ok(r) = &result {
            // Watch anything new the build now depends on (a templates folder, say).
            for p in &r.watch {
                if p.exists() && !last.contains(p) {
                    let _ = watcher.watch(p, RecursiveMode::Recursive);
                }
            }
            last = r.watch.clone();
        }
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// The file for a request path, or `None` when there is none (or the path is not allowed).
pub fn resolve(dest: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path);
    let rel = Path::new(decoded.trim_start_matches('/'));
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let mut full = dest.join(rel);
    if full.is_dir() {
        full = full.join("index.html");
    }
    full.is_file().then_some(full)
}

fn respond(request: Request, dest: &Path) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let _ = request.respond(Response::empty(StatusCode(405)));
        return;
    }
    let url = request.url().to_string();
    // A folder without its trailing slash: redirect, so relative links resolve.
    let path_only = url.split(['?', '#']).next().unwrap_or("");
    if !path_only.ends_with('/') {
        let decoded = percent_decode(path_only);
        if dest.join(decoded.trim_start_matches('/')).is_dir() && !decoded.contains("..") {
            let mut r = Response::empty(StatusCode(301));
            if let Some(h) = header("Location", &format!("{path_only}/")) {
                r.add_header(h);
            }
            let _ = request.respond(r);
            return;
        }
    }
    let (status, file) = match resolve(dest, &url) {
        Some(f) => (200, f),
        None => (404, dest.join("404.html")),
    };
    let body = match fs::File::open(&file).and_then(|mut f| {
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map(|_| buf)
    }) {
        Ok(b) => b,
        Err(_) => b"Not found".to_vec(),
    };
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let mut content_type = mime.essence_str().to_string();
    if mime.type_() == mime_guess::mime::TEXT || content_type == "application/javascript" {
        content_type.push_str("; charset=utf-8");
    }
    let mut response = Response::from_data(body).with_status_code(StatusCode(status));
    for h in [
        header("Content-Type", &content_type),
        header("Cache-Control", "no-cache"),
        header("X-Content-Type-Options", "nosniff"),
    ]
    .into_iter()
    .flatten()
    {
        response.add_header(h);
    }
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_the_site_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("index.html"), "i").unwrap();
        fs::write(dir.path().join("a/index.html"), "a").unwrap();
        fs::write(dir.path().join("a/my page.html"), "p").unwrap();
        assert!(resolve(dir.path(), "/").is_some());
        assert!(resolve(dir.path(), "/a/").is_some());
        assert!(resolve(dir.path(), "/a/my%20page.html?x=1").is_some());
        assert!(resolve(dir.path(), "/../etc/passwd").is_none());
        assert!(resolve(dir.path(), "/a/%2e%2e/%2e%2e/x").is_none());
        assert!(resolve(dir.path(), "/missing.html").is_none());
    }
}
