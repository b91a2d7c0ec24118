//! `runbook serve`: the built site on 127.0.0.1, rebuilt when its sources change. While it
//! watches, the HTML pages it serves get a small script (templates/site/live-reload.js, never
//! written into the site) that listens to the server's build events: an open page reloads
//! after a build that succeeded, and shows the errors of one that failed.

use std::convert::Infallible;
use std::fs;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, SystemTime};

use http_body_util::{Either, Full};
use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use notify::{RecursiveMode, Watcher};

use crate::diagnostics::{Diagnostic, Diagnostics};

use super::{BuildOptions, BuildReport, Site, Update, build, build_kept, links::percent_decode};

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
    // Watching, what the site is made of is kept, to update only what a change touches.
    let (first, kept) = if opts.watch {
        let (r, site) = build_kept(root, &opts.build, None)?;
        (r, Some(site))
    } else {
        (build(root, &opts.build)?, None)
    };
    let first: Result<BuildReport, Diagnostics> = Ok(first);
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
    // Pages reload by themselves only where there is something to reload for.
    let live = watch.as_ref().map(|_| Arc::new(Live::new()));
    report(Event::Listening(addr, &dest));

    thread::scope(|scope| {
        if let Some(watch) = watch {
            let dest = Arc::clone(&dest);
            let live = live.clone();
            scope.spawn(move || {
                watch_and_rebuild(root, opts, watch, kept, &dest, live.as_deref(), report)
            });
        }
        runtime.block_on(async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let dest = Arc::clone(&dest);
                let live = live.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let dest = Arc::clone(&dest);
                        let live = live.clone();
                        async move { Ok::<_, Infallible>(respond(&req, &dest, live.as_deref())) }
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
    mut kept: Option<Site>,
    dest: &Path,
    live: Option<&Live>,
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
        // Let a burst of changes (an editor saving, a git checkout) settle; a change seen
        // after the update just updates again.
        while let Ok(p) = rx.recv_timeout(SETTLE) {
            changed.push(p);
        }
        changed.retain(|p| relevant(p));
        if changed.is_empty() {
            continue;
        }
        changed.sort();
        changed.dedup();
        report(Event::Rebuilding(&changed));
        let update = match kept.as_mut() {
            Some(site) => site.update(&changed),
            None => Update::Whole,
        };
        let mut search = false;
        let result = match update {
            Update::Pages(result) => {
                search = result.is_ok();
                result
            }
            // What was kept goes: after a whole build that fails, nothing is left to update.
            Update::Whole => build_kept(root, &opts.build, kept.take()).map(|(r, site)| {
                kept = Some(site);
                r
            }),
        };
        if let Some(live) = live {
            live.built(&result);
        }
        // The pages are served: now their search shards.
        let result = match (search, kept.as_mut()) {
            (true, Some(site)) => match site.update_search() {
                Ok(_) => result,
                Err(e) => {
                    kept = None;
                    if let Some(live) = live {
                        live.built(&Err(e.clone()));
                    }
                    Err(e)
                }
            },
            _ => result,
        };
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

/// How long a burst of changes has to settle before the site is updated.
const SETTLE: Duration = Duration::from_millis(10);

/// Where pages listen for build events (server-sent events), while watching. A site's pages
/// end in `.html`; a file of this name copied from beside the chapters is not served then.
pub const EVENTS_PATH: &str = "/__runbook/events";

/// The script added to every HTML page served while watching.
const LIVE_RELOAD_JS: &str = include_str!("../../templates/site/live-reload.js");

/// A connection that hears nothing for this long gets a comment, so that a page that has gone
/// is noticed and its connection closed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What pages are told about builds: how many succeeded, and the errors of the last one when
/// it failed.
#[derive(Clone, Debug, Default, PartialEq)]
struct BuildState {
    built: u64,
    error: Option<String>,
}

/// The builds, for the pages that listen. `server` tells a page that the server it came
/// from was restarted (and the count of builds with it).
struct Live {
    server: String,
    state: tokio::sync::watch::Sender<BuildState>,
}

impl Live {
    fn new() -> Live {
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        Live {
            server: format!("{:x}-{:x}", std::process::id(), since.as_nanos()),
            state: tokio::sync::watch::Sender::new(BuildState {
                built: 1,
                error: None,
            }),
        }
    }

    fn built(&self, result: &Result<BuildReport, Diagnostics>) {
        self.state.send_modify(|state| match result {
            Ok(_) => {
                state.built += 1;
                state.error = None;
            }
            Err(diags) => state.error = Some(diags.render(false)),
        });
    }

    /// The script for a page served now: it knows which build it shows.
    fn script(&self) -> String {
        let built = self.state.borrow().built;
        format!(
            "<script data-server=\"{}\" data-built=\"{built}\" data-events=\"{EVENTS_PATH}\">\n{LIVE_RELOAD_JS}</script>\n",
            self.server
        )
    }

    /// The body of one listening page's connection: the state now, then every change.
    fn events(&self) -> EventStream {
        let mut state = self.state.subscribe();
        let server = self.server.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        tokio::spawn(async move {
            let mut retry = true;
            loop {
                let message = event_message(&server, &state.borrow_and_update(), retry);
                retry = false;
                if tx.send(message).await.is_err() {
                    return;
                }
                loop {
                    match tokio::time::timeout(KEEP_ALIVE, state.changed()).await {
                        Ok(Ok(())) => break,
                        Ok(Err(_)) => return,
                        Err(_) => {
                            if tx.send(Bytes::from_static(b": alive\n\n")).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        EventStream(rx)
    }
}

/// One server-sent event with the build state; the first also sets how soon a page whose
/// connection broke (the server restarting) tries again.
fn event_message(server: &str, state: &BuildState, retry: bool) -> Bytes {
    let data = serde_json::json!({
        "server": server,
        "built": state.built,
        "error": state.error,
    });
    let retry = if retry { "retry: 1000\n" } else { "" };
    Bytes::from(format!("{retry}data: {data}\n\n"))
}

/// A response body of events, as they come.
pub struct EventStream(tokio::sync::mpsc::Receiver<Bytes>);

impl Body for EventStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

type ResponseBody = Either<Full<Bytes>, EventStream>;

/// `html` with `script` added at the end of its body (or at its end, when it has no `</body>`).
fn inject(html: Vec<u8>, script: &str) -> Vec<u8> {
    let at = html
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + script.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(script.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
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

fn respond(
    request: &Request<Incoming>,
    dest: &Path,
    live: Option<&Live>,
) -> Response<ResponseBody> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut r = Response::new(Either::Left(Full::new(Bytes::from_static(text.as_bytes()))));
        *r.status_mut() = status;
        r
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    }
    let path = request.uri().path();
    if let Some(live) = live
        && path == EVENTS_PATH
        && *request.method() == Method::GET
    {
        let mut r = Response::new(Either::Right(live.events()));
        let headers = r.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return r;
    }
    // Read before the file, so that a page never claims a build newer than the one it shows.
    let script = live.map(Live::script);
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
    } else if let Some(script) = script.filter(|_| mime.essence_str() == "text/html") {
        Bytes::from(inject(body, &script))
    } else {
        Bytes::from(body)
    };
    let mut r = Response::new(Either::Left(Full::new(body)));
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
    fn the_script_goes_at_the_end_of_the_body() {
        let page = b"<html><body><p>a</p></BODY>\n</html>\n".to_vec();
        assert_eq!(
            inject(page, "<script>x</script>"),
            b"<html><body><p>a</p><script>x</script></BODY>\n</html>\n"
        );
        // The last `</body>`: an earlier one may be text in a code block.
        let page = b"<body><code>&lt;/body&gt;</body></body>".to_vec();
        assert_eq!(
            inject(page, "S"),
            b"<body><code>&lt;/body&gt;</body>S</body>"
        );
        assert_eq!(inject(b"<p>no body".to_vec(), "S"), b"<p>no bodyS");
    }

    #[test]
    fn events_carry_the_builds_and_the_last_error() {
        let first = event_message(
            "s1",
            &BuildState {
                built: 1,
                error: None,
            },
            true,
        );
        assert_eq!(
            first,
            Bytes::from("retry: 1000\ndata: {\"built\":1,\"error\":null,\"server\":\"s1\"}\n\n")
        );
        let failed = BuildState {
            built: 2,
            error: Some("error: a\n  --> b.md:1:2\n".to_string()),
        };
        let message = event_message("s1", &failed, false);
        let text = std::str::from_utf8(&message).unwrap();
        // One data line: the error's own lines are escaped in the JSON.
        assert_eq!(text.trim_end().lines().count(), 1, "{text}");
        assert!(text.starts_with("data: {") && text.ends_with("}\n\n"));
        assert!(
            text.contains(r#""error":"error: a\n  --> b.md:1:2\n""#),
            "{text}"
        );
    }

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
