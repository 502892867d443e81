//! The real hgweb: Mercurial's `hg serve --web-conf` (Debian's `mercurial` package) on a
//! loopback port, over real repositories made by `hg init`: what `tests/hgweb.rs` lists with
//! the real `lister` binary.
//!
//! The Debian package `mercurial` must be installed (`.ci/run` installs it): without it the
//! tests fail, saying so, rather than pass without listing.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HG: &str = "/usr/bin/hg";

/// The repositories under `[paths] / = repos/**`, by path: a space, non-ASCII, characters
/// hgweb escapes where a browser would not (`+ & ( )`), and sub-directories, which the index
/// shows as directories to walk (`web.collapse`).
pub const REPOSITORIES: &[&str] = &[
    "alpha",
    "with space",
    "café",
    "odd+name&(1)",
    "group/sub",
    "group/deeper/nested",
];

/// The repositories of a `[collections]` folder, by path under it: one at its top, one in a
/// sub-directory.
pub const COLLECTION: &[&str] = &["coll-top", "cdir/coll-deep"];

/// A repository hidden from the index (`web.hidden`): not listed.
pub const HIDDEN: &str = "hidden";

/// How many more repositories are served, copies of one, in nested folders (`bulk/3/r-011`):
/// a few hundred in all.
pub const BULK: usize = 200;

/// The directories the index shows, each one request: `group/`, `group/deeper/`, `cdir/`,
/// `bulk/` and its 8 folders.
pub const DIRECTORIES: usize = 3 + 1 + 8;

/// A running `hg serve --web-conf`; stopped and its folder removed when dropped.
pub struct Hgweb {
    dir: PathBuf,
    server: Option<Child>,
    port: u16,
    created: Vec<String>,
}

/// Runs `hg` with `args` in `cwd`, without any user or system configuration.
fn hg(args: &[&str], cwd: &Path) {
    let out = Command::new(HG)
        .args(args)
        .current_dir(cwd)
        .env("HGRCPATH", "")
        .env("HGUSER", "T <t@example.org>")
        .env("HOME", cwd)
        .output()
        .expect("hg runs");
    assert!(out.status.success(), "hg {args:?}: {out:?}");
}

impl Hgweb {
    /// Creates the repositories and the configuration, and starts the server.
    pub fn start() -> Hgweb {
        assert!(
            Path::new(HG).exists(),
            "{HG} is missing: the hgweb tests need the Debian package `mercurial` \
             (apt-get install -y mercurial; .ci/run installs it)"
        );
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lister-hgweb-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("repos")).unwrap();
        std::fs::create_dir_all(dir.join("coll")).unwrap();
        let mut server = Hgweb {
            dir,
            server: None,
            port: free_port(),
            created: Vec::new(),
        };
        for path in REPOSITORIES {
            server.add_repository(path);
        }
        for path in COLLECTION {
            server.init(&server.dir.join("coll").join(path), path);
            server.created.push(path.to_string());
        }
        let template = server.dir.join("template");
        server.init(&template, "template");
        for k in 0..BULK {
            let path = format!("bulk/{}/r-{k:03}", k % 8);
            let target = server.dir.join("repos").join(&path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            let copied = Command::new("cp")
                .arg("-a")
                .arg(&template)
                .arg(&target)
                .status();
            assert!(copied.unwrap().success());
            server.created.push(path);
        }
        server.init(&server.dir.join("repos").join(HIDDEN), HIDDEN);
        let hgrc = server.dir.join("repos").join(HIDDEN).join(".hg/hgrc");
        std::fs::write(hgrc, "[web]\nhidden = true\n").unwrap();
        let d = server.dir.display();
        let conf = format!(
            "[paths]\n/ = {d}/repos/**\n[collections]\n{d}/coll = {d}/coll\n\
             [web]\ncollapse = true\ndescend = true\nrefreshinterval = 0\n"
        );
        std::fs::write(server.dir.join("web.conf"), conf).unwrap();
        let child = Command::new(HG)
            .args(["serve", "--web-conf", "web.conf", "--address", "127.0.0.1"])
            .args(["--port", &server.port.to_string(), "-E", "error.log"])
            .current_dir(&server.dir)
            .env("HGRCPATH", "")
            .env("HOME", &server.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hg serve");
        server.server = Some(child);
        server.wait_until_serving();
        server
    }

    /// `hg init` at `target`, with one commit and a description hgweb escapes.
    fn init(&self, target: &Path, path: &str) {
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        hg(&["init", target.to_str().unwrap()], &self.dir);
        std::fs::write(target.join("file"), path).unwrap();
        hg(&["add", "-q", "file"], target);
        hg(&["commit", "-q", "-m", "first"], target);
        let hgrc = format!("[web]\ndescription = {path}: a & b <c> ünïcode\n");
        std::fs::write(target.join(".hg/hgrc"), hgrc).unwrap();
    }

    /// Waits until the server answers, or fails with what it said.
    fn wait_until_serving(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let server = self.server.as_mut().expect("started");
            if let Ok(Some(status)) = server.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                panic!("hg serve stopped ({status}): {log}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "hg serve did not listen on 127.0.0.1:{} within 30 s",
            self.port
        );
    }

    /// A new repository at `path` under `[paths]`'s root, shown by the index (hgweb reads
    /// its configuration's folders at each request).
    pub fn add_repository(&mut self, path: &str) {
        self.init(&self.dir.join("repos").join(path), path);
        self.created.push(path.to_owned());
    }

    /// The address a user gives.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Every repository shown, as the index links it: its path escaped as Python's `quote`
    /// escapes it, a trailing slash.
    pub fn expected_urls(&self) -> BTreeSet<String> {
        let quote = |path: &str| {
            let keep = |b: u8| b.is_ascii_alphanumeric() || b"_.-~/".contains(&b);
            let escape = |b: u8| match keep(b) {
                true => (b as char).to_string(),
                false => format!("%{b:02X}"),
            };
            path.bytes().map(escape).collect::<String>()
        };
        let url = |path: &String| format!("{}{}/", self.url(), quote(path));
        self.created.iter().map(url).collect()
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Drop for Hgweb {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
