//! `runbook serve`: the built site on 127.0.0.1, rebuilt when its sources change.

use std::convert::Infallible;
use std::fs;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use notify::{RecursiveMode, Watcher};

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
    let dest = Arc::new(first.dest.clone());
    let fail = |what: &str, e: std::io::Error| -> Diagnostics {
        Diagnostic::error(format!("{what}: {e}"))
            .help("choose another port with --port, or --port 0 for any free one")
            .into()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail("cannot start the server", e))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", opts.port)))
        .map_err(|e| fail(&format!("cannot listen on 127.0.0.1:{}", opts.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| fail("cannot listen", e))?;
    // Watching starts before the address is given, so that no change is missed.
    let watch = if opts.watch {
        start_watching(&first.watch, report)
    } else {
        None
    };
    report(Event::Listening(addr, &dest));

    thread::scope(|scope| {
        if let Some(watch) = watch {
            let dest = Arc::clone(&dest);
            scope.spawn(move || watch_and_rebuild(root, opts, watch, &dest, report));
        }
        runtime.block_on(async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let dest = Arc::clone(&dest);
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let dest = Arc::clone(&dest);
                        async move { Ok::<_, Infallible>(respond(&req, &dest)) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    })
}

/// Source folders being watched, with the changes they report.
struct Watch {
    watcher: notify::RecommendedWatcher,
    changes: mpsc::Receiver<PathBuf>,
    watched: Vec<PathBuf>,
}

fn start_watching(paths: &[PathBuf], report: &(dyn Fn(Event<'_>) + Sync)) -> Option<Watch> {
    let (tx, changes) = mpsc::channel::<PathBuf>();
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
                return None;
            }
        };
    let mut watched = Vec::new();
    for p in paths {
        if p.exists() && !watched.contains(p) {
            if let Err(e) = watcher.watch(p, RecursiveMode::Recursive) {
                report(Event::WatchFailed(format!("{}: {e}", p.display())));
            }
            watched.push(p.clone());
        }
    }
    Some(Watch {
        watcher,
        changes,
        watched,
    })
}

fn watch_and_rebuild(
    root: &Path,
    opts: &ServeOptions,
    watch: Watch,
    dest: &Path,
    report: &(dyn Fn(Event<'_>) + Sync),
) {
    let Watch {
        mut watcher,
        changes: rx,
        watched,
    } = watch;
    let dest_canon = fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf());
    let dest_name = dest
        .file_name()
        .map(|n| format!(".{}.building-", n.to_string_lossy()))
        .unwrap_or_default();
    // Changes inside the site itself, or a build folder beside it, are not changes of source.
    let relevant = |p: &Path| {
        let canon = fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        !canon.starts_with(&dest_canon)
            && !p.components().any(|c| {
                c.as_os_str().to_string_lossy().starts_with(&dest_name) && !dest_name.is_empty()
            })
    };
    let mut last = watched;
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

fn respond(request: &Request<Incoming>, dest: &Path) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *r.status_mut() = status;
        r
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    let path = request.uri().path();
    // A folder without its trailing slash: redirect, so that relative links resolve.
    if !path.ends_with('/') && resolve(dest, &format!("{path}/")).is_some() {
        let mut r = plain(StatusCode::MOVED_PERMANENTLY, "");
        if let Ok(v) = HeaderValue::from_str(&format!("{path}/")) {
            r.headers_mut().insert(LOCATION, v);
        }
        return r;
    }
    let (status, file) = match resolve(dest, path) {
        Some(f) => (StatusCode::OK, f),
        None => (StatusCode::NOT_FOUND, dest.join("404.html")),
    };
    let body = match fs::read(&file) {
        Ok(b) => b,
        Err(_) => return plain(StatusCode::NOT_FOUND, "Not found"),
    };
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let mut content_type = mime.essence_str().to_string();
    if mime.type_() == mime_guess::mime::TEXT || content_type == "application/javascript" {
        content_type.push_str("; charset=utf-8");
    }
    let body = if *request.method() == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(body)
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
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
