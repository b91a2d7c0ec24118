//! `runbook index --watch`: a process that keeps the index fresh as the sources change, and
//! vouches for it to searches, which then skip looking at every source file's metadata.
//!
//! A search asks over a Unix socket, `.runbook/watch.sock`. Before answering, the watcher
//! creates a cookie file and waits for the notification of it: notifications come in order, so
//! by then it has seen every change made before the search asked (git's fsmonitor works the
//! same way). If a change came, it checks the index against the sources (and refreshes it)
//! first. It answers with the token of the index state it checked (`Current::token`); the
//! search uses the index unchecked only if that state is still the one in use, and does its
//! own check on any other answer, on no answer within a second, or with no watcher.
//!
//! It vouches only where it can see every change: when each folder the manifest's files are
//! in is watched, none of them is reached through a symbolic link or outside the project, and
//! all are on a local file system known to report every change. Otherwise it answers
//! "unsure". Like git's fsmonitor, it is not told of a write through a hard link from an
//! unwatched folder, or into a file mapped in memory (the README says so).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use super::manifest::Manifest;
use super::store::{Store, io_error};
use super::{IndexSummary, Quiet, chapters};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::project::RUNBOOK_DIR;

/// Where searches ask, relative to the project root.
pub const SOCKET: &str = ".runbook/watch.sock";
/// Held by the watching process while it runs.
const LOCK: &str = ".runbook/watch.lock";
const COOKIE_PREFIX: &str = "watch-cookie-";
/// How long a search waits for an answer before checking for itself (a watcher stopped with
/// Ctrl-Z still accepts connections).
const ASK_TIMEOUT: Duration = Duration::from_secs(1);
/// Changes come in bursts (an editor's save, a `git checkout`): the index is refreshed once
/// they pause, or at once when a search asks.
const SETTLE: Duration = Duration::from_millis(100);
/// Longest path a Unix socket address holds (`sun_path`, less the final NUL).
const SOCKET_PATH_MAX: usize = 107;

/// The token of the index state a watcher vouches for as fresh, if one runs and answers.
pub fn vouched(root: &Path) -> Option<String> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    // Not blocking: a stopped watcher's queue of connections may be full.
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .ok()?;
    rustix::net::connect(&fd, &SocketAddrUnix::new(root.join(SOCKET)).ok()?).ok()?;
    let stream = UnixStream::from(fd);
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(ASK_TIMEOUT)).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    Some(line.strip_prefix("fresh ")?.strip_suffix('\n')?.to_string())
}

/// What the watcher tells its user.
pub enum Report<'a> {
    /// It is watching this many folders.
    Watching(usize),
    /// It checked the index after a change (it may be up to date).
    Checked(&'a IndexSummary),
    /// The sources cannot be indexed; searches check for themselves until this is mended.
    Failed(&'a Diagnostics),
    /// It cannot vouch for the index, for this reason; searches check for themselves.
    Unsure(&'a str),
    /// Notifications were lost, for this reason: every source is checked again.
    Missed(&'a str),
}

enum Message {
    Change(notify::Result<notify::Event>),
    Ask(UnixStream),
}

/// Watches the project's sources until it fails (or is killed). The index should have been
/// brought up to date just before.
pub fn watch(root: &Path, report: &mut dyn FnMut(Report<'_>)) -> Result<(), Diagnostics> {
    let root = fs::canonicalize(root).map_err(|e| {
        Diagnostic::error(format!("cannot read {}: {e}", root.display())).path(root)
    })?;
    if !root.join(RUNBOOK_DIR).is_dir() {
        return Err(
            Diagnostic::error(format!("no `{RUNBOOK_DIR}` folder in {}", root.display()))
                .path(&root)
                .help("run runbook in a project root, or point at one with -C DIR")
                .into(),
        );
    }
    let store = Store::new(&root);
    let state_dir = root.join(crate::project::CACHE_DIR);
    fs::create_dir_all(&state_dir).map_err(|e| io_error("create", &state_dir, e))?;

    let lock_path = root.join(LOCK);
    let lock = crate::atomic::lock_file(&lock_path)?;
    if lock.try_lock().is_err() {
        return Err(Diagnostic::error(
            "another `runbook index --watch` is already watching this project",
        )
        .path(&root)
        .into());
    }

    let socket = root.join(SOCKET);
    if socket.as_os_str().len() > SOCKET_PATH_MAX {
        return Err(Diagnostic::error(format!(
            "the project's path is too long for a socket ({} bytes; at most {SOCKET_PATH_MAX})",
            socket.as_os_str().len()
        ))
        .path(&socket)
        .help("watch the project from a shorter path (a symbolic link to it will do)")
        .into());
    }
    // Left by a watcher that was killed; the lock says none runs now.
    match fs::remove_file(&socket) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(io_error("remove", &socket, e).into());
        }
        _ => {}
    }
    let listener = UnixListener::bind(&socket).map_err(|e| io_error("listen on", &socket, e))?;
    // Cookies left by a watcher that was killed.
    for entry in fs::read_dir(&state_dir).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(COOKIE_PREFIX)
        {
            let _ = fs::remove_file(entry.path());
        }
    }

    let (tx, rx) = mpsc::channel();
    let changes = tx.clone();
    let fs_watcher = notifier(&changes)
        .map_err(|e| Diagnostic::error(format!("cannot watch files: {e}")).path(&root))?;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => {
                    if tx.send(Message::Ask(stream)).is_err() {
                        return;
                    }
                }
                // Out of file descriptors, say: the search asking checks for itself.
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    });

    let mut w = Watch {
        root,
        store,
        state_dir,
        fs_watcher,
        changes,
        watched: BTreeMap::new(),
        dirty: true,
        checked: None,
        vouch: false,
        problem: None,
        asked: 0,
        seen: 0,
        pending: Vec::new(),
    };
    w.watch_state_dir()?;
    w.check(report);
    report(Report::Watching(w.watched.len().saturating_sub(1)));
    loop {
        let message = if !w.pending.is_empty() {
            rx.recv_timeout(ASK_TIMEOUT)
        } else if w.dirty {
            rx.recv_timeout(SETTLE)
        } else {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        };
        match message {
            Ok(Message::Change(Ok(event))) if event.need_rescan() => {
                report(Report::Missed(
                    "the kernel's queue of notifications overflowed",
                ));
                w.missed()?;
            }
            Ok(Message::Change(Ok(event))) => w.change(&event)?,
            Ok(Message::Change(Err(e))) => {
                report(Report::Missed(&e.to_string()));
                w.missed()?;
            }
            Ok(Message::Ask(stream)) => w.ask(stream),
            // A cookie not seen in time (its searches have given up by now): they are
            // told nothing is vouched for.
            Err(RecvTimeoutError::Timeout) if !w.pending.is_empty() => w.give_up(),
            Err(RecvTimeoutError::Timeout) => w.check(report),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Diagnostic::error("stopped receiving file notifications")
                    .path(&w.root)
                    .into());
            }
        }
        if w.pending.iter().any(|(n, _)| *n <= w.seen) {
            w.answer(report);
        }
    }
}

struct Watch {
    root: PathBuf,
    store: Store,
    /// `.runbook/`, where the cookies are made.
    state_dir: PathBuf,
    fs_watcher: notify::RecommendedWatcher,
    /// Where notifications go, for a new `fs_watcher`.
    changes: mpsc::Sender<Message>,
    /// The folders watched, with the file (device and inode) each was when its watch was
    /// added.
    watched: BTreeMap<PathBuf, (u64, u64)>,
    /// A source may have changed since the last check.
    dirty: bool,
    /// The token of the index state in use at the last check (none if there was no index).
    checked: Option<String>,
    /// Whether that state can be vouched for.
    vouch: bool,
    /// Why not, when it cannot be, as last reported (each reason is reported once).
    problem: Option<String>,
    /// The number of the last cookie made, and of the last one seen.
    asked: u64,
    seen: u64,
    /// Searches waiting for an answer, with their cookie's number.
    pending: Vec<(u64, UnixStream)>,
}

impl Watch {
    fn cookie(&self, n: u64) -> PathBuf {
        self.state_dir
            .join(format!("{COOKIE_PREFIX}{}-{n}", std::process::id()))
    }

    /// Notifications were lost: the next check covers every change made so far, so every
    /// search waiting can be answered after it. Which watches still hold is unknown (a
    /// folder may have been swapped, or made anew with the same inode number), so they are
    /// all made afresh, on a new inotify instance.
    fn missed(&mut self) -> Result<(), Diagnostic> {
        self.dirty = true;
        self.seen = self.asked;
        self.fs_watcher = notifier(&self.changes)
            .map_err(|e| Diagnostic::error(format!("cannot watch files: {e}")).path(&self.root))?;
        self.watched.clear();
        self.watch_state_dir()
    }

    fn watch_state_dir(&mut self) -> Result<(), Diagnostic> {
        let state_dir = self.state_dir.clone();
        self.add_watch(&state_dir)
            .map_err(|why| Diagnostic::error(why).path(&state_dir))
    }

    /// Answers the searches still waiting that nothing is vouched for.
    fn give_up(&mut self) {
        for (n, stream) in std::mem::take(&mut self.pending) {
            let _ = fs::remove_file(self.cookie(n));
            reply(stream, None);
        }
    }

    fn change(&mut self, event: &notify::Event) -> Result<(), Diagnostic> {
        // Opening or reading a file changes nothing (the check itself opens the sources).
        if matches!(event.kind, EventKind::Access(kind) if kind != AccessKind::Close(AccessMode::Write))
        {
            return Ok(());
        }
        let gone = matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        );
        for path in &event.paths {
            // The project itself moved, or its `.runbook/`: what is watched is elsewhere now.
            if gone && self.state_dir.starts_with(path) {
                return Err(Diagnostic::error(format!(
                    "{} was removed or moved: stopped watching",
                    path.display()
                ))
                .path(path));
            }
            // notify stops watching a folder removed or moved away, and every folder below
            // it: watch them afresh if they come back.
            if gone {
                let below: Vec<PathBuf> = self
                    .watched
                    .range(path.clone()..)
                    .map(|(p, _)| p)
                    .take_while(|p| p.starts_with(path))
                    .cloned()
                    .collect();
                for p in below {
                    let _ = self.fs_watcher.unwatch(&p);
                    self.watched.remove(&p);
                }
            }
            if path.parent() == Some(self.state_dir.as_path()) {
                if let Some(n) = self.cookie_number(path) {
                    self.seen = self.seen.max(n);
                }
                // Nothing else in `.runbook/` is a source.
                continue;
            }
            self.dirty = true;
        }
        Ok(())
    }

    fn cookie_number(&self, path: &Path) -> Option<u64> {
        let name = path.file_name()?.to_str()?;
        let rest = name.strip_prefix(COOKIE_PREFIX)?;
        let (pid, n) = rest.split_once('-')?;
        (pid == std::process::id().to_string())
            .then(|| n.parse().ok())
            .flatten()
    }

    fn ask(&mut self, stream: UnixStream) {
        self.asked += 1;
        let n = self.asked;
        match File::create_new(self.cookie(n)) {
            Ok(_) => self.pending.push((n, stream)),
            Err(_) => reply(stream, None),
        }
    }

    /// Answers the searches whose cookie was seen, after a check if a change came.
    fn answer(&mut self, report: &mut dyn FnMut(Report<'_>)) {
        // Someone else may have refreshed the index, or removed it: check what is in use
        // before vouching for it.
        if self.dirty || self.store.token() != self.checked {
            self.check(report);
        }
        let token = if self.vouch {
            self.checked.clone()
        } else {
            None
        };
        let (ready, waiting) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(n, _)| *n <= self.seen);
        self.pending = waiting;
        for (n, stream) in ready {
            let _ = fs::remove_file(self.cookie(n));
            reply(stream, token.as_deref());
        }
    }

    /// Brings the index up to date, and watches every folder its sources are in.
    fn check(&mut self, report: &mut dyn FnMut(Report<'_>)) {
        self.vouch = false;
        // A folder watched only now may have changed before: check once more after adding.
        for _ in 0..8 {
            self.dirty = false;
            let outcome = super::index(&self.root, false, &Quiet);
            let current = self.store.current().ok();
            self.checked = current.as_ref().map(|c| c.token.clone());
            let manifest = current.and_then(|c| Manifest::parse(&c.text).ok());
            if let Err(d) = outcome {
                // Watch what can be, so that the mending is noticed.
                let _ = self.rewatch(self.fallback_folders(manifest.as_ref()));
                let text = d.render(false);
                if self.problem.as_ref() != Some(&text) {
                    report(Report::Failed(&d));
                }
                self.problem = Some(text);
                return;
            }
            if let Ok(summary) = &outcome
                && summary.outcome != super::Outcome::UpToDate
            {
                report(Report::Checked(summary));
            }
            let Some(m) = manifest else {
                return self.unsure(report, "the index cannot be read back".into());
            };
            let folders = match folders(&self.root, &m) {
                Ok(folders) => folders,
                Err(why) => {
                    let _ = self.rewatch(self.fallback_folders(Some(&m)));
                    return self.unsure(report, why);
                }
            };
            match self.rewatch(folders) {
                Ok(0) => {
                    self.problem = None;
                    self.vouch = true;
                    return;
                }
                Ok(_) => {}
                Err(why) => return self.unsure(report, why),
            }
        }
        self.dirty = true;
    }

    fn unsure(&mut self, report: &mut dyn FnMut(Report<'_>), why: String) {
        if self.problem.as_ref() != Some(&why) {
            report(Report::Unsure(&why));
        }
        self.problem = Some(why);
    }

    /// What to watch when the sources cannot all be vouched for: the root, every folder
    /// under `runbooks/`, and the folders of the manifest's files that are inside.
    fn fallback_folders(&self, m: Option<&Manifest>) -> BTreeSet<PathBuf> {
        let mut set = BTreeSet::from([self.root.clone()]);
        set.extend(
            walkdir::WalkDir::new(self.root.join(RUNBOOK_DIR))
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_dir())
                .map(walkdir::DirEntry::into_path),
        );
        if let Some(m) = m {
            let files = m.book.iter().chain(&m.shared).chain(m.facts.as_ref());
            set.extend(
                files
                    .filter_map(|e| self.root.join(&e.path).parent().map(Path::to_path_buf))
                    .filter(|dir| dir.starts_with(&self.root) && dir.is_dir()),
            );
        }
        set
    }

    /// Watches exactly `folders` (and the cookies' folder). Returns how many watches were
    /// added, counting a folder that is now another (moved in, or made anew, while
    /// notifications were lost) or that is gone: either way, a change to check for.
    fn rewatch(&mut self, mut folders: BTreeSet<PathBuf>) -> Result<usize, String> {
        folders.insert(self.state_dir.clone());
        let now: BTreeMap<PathBuf, Option<(u64, u64)>> = folders
            .into_iter()
            .map(|p| (p.clone(), identity(&p)))
            .collect();
        // Every watch that goes, before any is added: adding one for a folder moved here
        // may give back a watch the kernel holds under its old name, which removing that
        // name would take away.
        let stale: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(p, id)| now.get(*p).is_none_or(|found| found.as_ref() != Some(*id)))
            .map(|(p, _)| p.clone())
            .collect();
        for path in &stale {
            let _ = self.fs_watcher.unwatch(path);
            self.watched.remove(path);
        }
        let mut added = 0;
        for (path, id) in now {
            if id.is_none() {
                // Gone since the check: a change to check for.
                added += 1;
            } else if !self.watched.contains_key(&path) {
                self.add_watch(&path)?;
                added += 1;
            }
        }
        Ok(added)
    }

    fn add_watch(&mut self, path: &Path) -> Result<(), String> {
        let cannot = |why: String| format!("cannot watch {}: {why}", path.display());
        local(path).map_err(cannot)?;
        let before = identity(path);
        self.fs_watcher
            .watch(path, RecursiveMode::NonRecursive)
            .map_err(|e| cannot(describe(&e.kind)))?;
        // Recorded before the watch: were the folder replaced meanwhile, the next check sees
        // another and watches it again.
        if let Some(id) = before {
            self.watched.insert(path.to_path_buf(), id);
        }
        Ok(())
    }
}

/// A folder's device and inode numbers.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(path).ok()?;
    meta.is_dir().then(|| (meta.dev(), meta.ino()))
}

/// Refuses a folder on a file system whose changes may not all be notified: network and
/// FUSE file systems (changes made by other machines or by the server go unnoticed), and
/// any other not known to notify every change made on this machine.
fn local(path: &Path) -> Result<(), String> {
    // Linux's magic numbers (linux/magic.h): ext2/3/4, xfs, btrfs, tmpfs, f2fs, overlayfs,
    // zfs, bcachefs, jfs, reiserfs.
    const LOCAL: [u64; 10] = [
        0xEF53,
        0x5846_5342,
        0x9123_683E,
        0x0102_1994,
        0xF2F5_2010,
        0x794C_7630,
        0x2FC1_2FC1,
        0xCA45_1A4E,
        0x3153_464A,
        0x5265_4973,
    ];
    let fs = rustix::fs::statfs(path).map_err(|e| io::Error::from(e).to_string())?;
    #[allow(clippy::unnecessary_cast)] // The field's type differs between targets.
    let kind = fs.f_type as u64;
    if LOCAL.contains(&kind) {
        Ok(())
    } else {
        Err(format!(
            "it is on a file system (type {kind:#x}) that may not report every change, \
             such as a network or FUSE file system"
        ))
    }
}

fn describe(kind: &notify::ErrorKind) -> String {
    match kind {
        notify::ErrorKind::MaxFilesWatch => {
            "the system's limit of watches is reached (fs.inotify.max_user_watches)".into()
        }
        notify::ErrorKind::Io(e) => e.to_string(),
        notify::ErrorKind::PathNotFound => "it is not there".into(),
        other => format!("{other:?}"),
    }
}

fn notifier(changes: &mpsc::Sender<Message>) -> notify::Result<notify::RecommendedWatcher> {
    let changes = changes.clone();
    notify::recommended_watcher(move |event| {
        let _ = changes.send(Message::Change(event));
    })
}

fn reply(mut stream: UnixStream, token: Option<&str>) {
    let answer = match token {
        Some(token) => format!("fresh {token}\n"),
        None => "unsure\n".to_string(),
    };
    let _ = stream.write_all(answer.as_bytes());
}

/// The folders in which a change to any source the manifest records is reported: the project
/// root, the runbooks' folders, and every folder on the way to a chapter or include (and the
/// folder recorded for one that is absent). An error says why some change would not be.
fn folders(root: &Path, m: &Manifest) -> Result<BTreeSet<PathBuf>, String> {
    let mut set = BTreeSet::from([root.to_path_buf()]);
    // The scan lists real folders only, without following links, below `runbooks/`.
    let runbooks = root.join(RUNBOOK_DIR);
    if fs::symlink_metadata(&runbooks).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Err(format!(
            "{} is a symbolic link, whose target's changes are not watched",
            runbooks.display()
        ));
    }
    set.extend(m.dirs.iter().map(|d| root.join(&d.path)));
    for e in &m.book {
        let rel = Path::new(&e.path);
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) && e.path != "." {
            return Err(format!("{} is outside the project", e.path));
        }
        let full = root.join(rel);
        if fs::canonicalize(&full).ok().as_deref() != Some(full.as_path()) {
            return Err(format!(
                "{} is reached through a symbolic link, whose target's changes are not watched",
                full.display()
            ));
        }
        set.extend(
            full.ancestors()
                .skip(1)
                .take_while(|dir| dir.starts_with(root))
                .map(Path::to_path_buf),
        );
        if e.hash == chapters::FOLDER {
            set.insert(full);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_cover_every_chapter_and_refuse_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join("runbooks")).unwrap();
        fs::create_dir_all(root.join("guide/part")).unwrap();
        fs::write(root.join("guide/part/a.md"), "# A\n").unwrap();
        let entry = |path: &str, hash| super::super::manifest::Entry {
            path: path.to_string(),
            stamp: super::super::manifest::Stamp { mtime: 0, size: 0 },
            hash,
        };
        let mut m = Manifest {
            dirs: vec![entry("runbooks", 0)],
            book: vec![
                entry("guide/part/a.md", 1),
                entry("guide", chapters::FOLDER),
            ],
            ..Manifest::default()
        };
        let set = folders(&root, &m).unwrap();
        let want: BTreeSet<PathBuf> = ["", "runbooks", "guide", "guide/part"]
            .iter()
            .map(|p| {
                if p.is_empty() {
                    root.clone()
                } else {
                    root.join(p)
                }
            })
            .collect();
        assert_eq!(set, want);

        m.book.push(entry("../elsewhere.md", 1));
        assert!(
            folders(&root, &m)
                .unwrap_err()
                .contains("outside the project")
        );
        m.book.pop();

        std::os::unix::fs::symlink(root.join("guide/part/a.md"), root.join("guide/b.md")).unwrap();
        m.book.push(entry("guide/b.md", 1));
        assert!(folders(&root, &m).unwrap_err().contains("symbolic link"));
    }
}
