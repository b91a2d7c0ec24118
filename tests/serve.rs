//! `runbook serve` listens on loopback only and never serves a file outside the site; while
//! it watches, the pages it serves (and only those, never the files of the site) reload after
//! a build, and show a failed build's errors.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::copy_dir;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Raw HTTP, so that the path reaches the server exactly as written.
fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

/// The body of a response from `get`.
fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// `runbook serve --port 0` in `project` with `args`; returns once it announces its address.
fn start(project: &Path, args: &[&str]) -> (Server, String) {
    let child = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .arg("-C")
        .arg(project)
        .args(["--color", "never", "serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    // The address is announced once the site is built and the socket bound.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (tx, rx) = mpsc::channel();
    for stream in [
        server
            .0
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        server
            .0
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ] {
        let Some(stream) = stream else { continue };
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);
    let mut said = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(at) = line.find("http://") {
                    let rest = &line[at + "http://".len()..];
                    if let Some(addr) = rest.split('/').next() {
                        return (server, addr.to_string());
                    }
                }
                said.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    panic!("serve announces its address; it said:\n{}", said.join("\n"));
}

#[test]
fn serve_binds_loopback_and_refuses_paths_outside_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["runbooks", "guide"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("book.toml"), dir.path().join("book.toml")).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "do not serve").unwrap();
    let (_server, addr) = start(dir.path(), &["--no-watch"]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let index = get(&addr, "/index.html");
    assert!(index.starts_with("HTTP/1.1 200"));
    // Nothing to reload for without watching: the page as it was built.
    assert!(!index.contains("__runbook"));
    assert!(get(&addr, "/__runbook/events").starts_with("HTTP/1.1 404"));
    for path in [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/runbooks/../../secret.txt",
    ] {
        let response = get(&addr, path);
        assert!(!response.contains("do not serve"), "{path}: {response}");
        assert!(!response.contains("root:"), "{path}");
        assert!(
            !response.starts_with("HTTP/1.1 200"),
            "{path}: {}",
            response.lines().next().unwrap_or("")
        );
    }
}

/// The build events of a server, as they come: the JSON of each `data:` line.
fn events(addr: &str) -> mpsc::Receiver<serde_json::Value> {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /__runbook/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stream).lines().map_while(Result::ok);
        let status = lines.next().unwrap_or_default();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        for line in lines {
            if let Some(data) = line.strip_prefix("data: ")
                && tx.send(serde_json::from_str(data).unwrap()).is_err()
            {
                return;
            }
        }
    });
    rx
}

/// The next event, within a bound long enough for a debug build of the site.
fn next_event(events: &mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    events
        .recv_timeout(Duration::from_secs(120))
        .expect("an event about the build")
}

#[test]
fn while_watching_served_pages_hear_of_every_build_and_the_site_on_disk_has_nothing_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("book");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site/plain"),
        &book,
    );
    let site = tmp.path().join("site");
    let (_server, addr) = start(&book, &["--dest", site.to_str().unwrap()]);

    // Every HTML page served, the 404 page included, ends with the script; the files of the
    // site do not have it, and what is not HTML is served as it is.
    let page = get(&addr, "/three.html");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    let script = body(&page)
        .rfind("<script data-server=")
        .expect("the live reload script");
    assert!(body(&page)[script..].contains(r#"data-built="1" data-events="/__runbook/events""#));
    assert!(
        body(&page)
            .trim_end()
            .ends_with("</script>\n</body>\n</html>")
    );
    assert!(get(&addr, "/no/such/page.html").contains("data-events="));
    for entry in walkdir::WalkDir::new(&site) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let bytes = fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("__runbook"),
                "{}",
                entry.path().display()
            );
        }
    }
    assert_eq!(
        body(&get(&addr, "/assets/site.js")),
        fs::read_to_string(site.join("assets/site.js")).unwrap()
    );

    // The state now, then every build: a success counts, a failure brings its errors.
    let events = events(&addr);
    let first = next_event(&events);
    assert_eq!(first["built"], 1, "{first}");
    assert!(first["error"].is_null(), "{first}");
    let server = first["server"].as_str().unwrap().to_string();
    assert!(page.contains(&format!(r#"data-server="{server}""#)));

    fs::write(book.join("src/three.md"), "# Three, edited\n").unwrap();
    let built = next_event(&events);
    assert_eq!(built["built"], 2, "{built}");
    assert!(built["error"].is_null(), "{built}");
    let page = get(&addr, "/three.html");
    assert!(page.contains("Three, edited") && page.contains(r#"data-built="2""#));

    fs::write(
        book.join("src/three.md"),
        "# Three, broken\n\n[nowhere](no-such-chapter.md)\n",
    )
    .unwrap();
    let failed = next_event(&events);
    assert_eq!(failed["built"], 2, "{failed}");
    let error = failed["error"].as_str().expect("the build's errors");
    assert!(
        error.contains("no-such-chapter") && error.contains("three.md:3:"),
        "{error}"
    );
    assert!(!error.contains('\u{1b}'), "no colours: {error}");
    // The previous site is still served, as it was.
    let page = get(&addr, "/three.html");
    assert!(page.contains("Three, edited") && !page.contains("Three, broken"));

    fs::write(book.join("src/three.md"), "# Three, fixed\n").unwrap();
    let fixed = next_event(&events);
    assert_eq!(fixed["built"], 3, "{fixed}");
    assert!(fixed["error"].is_null(), "{fixed}");
    assert_eq!(fixed["server"], server.as_str());
    assert!(get(&addr, "/three.html").contains("Three, fixed"));
}
