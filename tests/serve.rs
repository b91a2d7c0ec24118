//! `runbook serve` listens on loopback only and never serves a file outside the site.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

#[test]
fn serve_binds_loopback_and_refuses_paths_outside_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["runbooks", "guide"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("book.toml"), dir.path().join("book.toml")).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "do not serve").unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin("runbook"))
        .arg("-C")
        .arg(dir.path())
        .args(["--color", "never", "serve", "--port", "0", "--no-watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    // The address is announced once the site is built and the socket bound.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut addr = None;
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
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        while addr.is_none() && Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(at) = line.find("http://") {
                        let rest = &line[at + "http://".len()..];
                        addr = rest.split('/').next().map(str::to_string);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => break,
            }
        }
        if addr.is_some() {
            break;
        }
    }
    let addr = addr.expect("serve announces its address");
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    assert!(get(&addr, "/index.html").starts_with("HTTP/1.1 200"));
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
