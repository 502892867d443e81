//! The real cgit and gitweb, served by lighttpd on a loopback port, over real bare git
//! repositories: what `tests/web_forges.rs` lists with the real `lister` binary.
//!
//! The Debian packages `cgit`, `gitweb`, `lighttpd` and `git` must be installed (`.ci/run`
//! installs them): without them the tests fail, saying so, rather than pass without listing.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The CGI programs of the Debian packages, and the server.
const CGIT: &str = "/usr/lib/cgit/cgit.cgi";
const GITWEB: &str = "/usr/lib/cgi-bin/gitweb.cgi";
const LIGHTTPD: &str = "/usr/sbin/lighttpd";

/// Where the clone URLs point (cgit's `clone-url`, gitweb's `@git_base_url_list`): never
/// fetched, only recorded.
pub const CLONE_HOST: &str = "git.example.org";

/// The repositories served, by path under the project root: odd names, a space, non-ASCII,
/// sub-directories (a cgit section), and enough of them for three cgit index pages of 5.
pub const REPOSITORIES: &[&str] = &[
    "alpha.git",
    "with space.git",
    "café.git",
    "repo-1.git",
    "repo-2.git",
    "repo-3.git",
    "repo-4.git",
    "repo-5.git",
    "repo-6.git",
    "group/sub.git",
    "group/deeper/nested.git",
];

/// How many more repositories are served, in nested folders (`bulk/3/r-011.git`): a few
/// hundred in all, over several of cgit's index pages.
pub const BULK: usize = 240;

/// A repository neither cgit (`cgit.hide`) nor gitweb (no `git-daemon-export-ok`) shows.
pub const HIDDEN: &str = "hidden.git";

/// cgit's index page size here (`max-repo-count`; cgit's default is 50).
pub const CGIT_PAGE: usize = 50;

/// A running lighttpd serving cgit at `/cgit/` and gitweb at `/gitweb.cgi`; stopped and its
/// folder removed when dropped.
pub struct WebForges {
    dir: PathBuf,
    server: Option<Child>,
    port: u16,
    created: Vec<String>,
}

/// Runs `git` with `args`, panicking with its output if it fails.
fn git(args: &[&str], cwd: &Path) {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", cwd)
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the real-server tests need the Debian package `{package}` \
         (apt-get install -y cgit gitweb lighttpd git; .ci/run installs them)"
    );
}

impl WebForges {
    /// Creates the repositories, the configurations and starts the server.
    pub fn start() -> WebForges {
        require(CGIT, "cgit");
        require(GITWEB, "gitweb");
        require(LIGHTTPD, "lighttpd");
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("lister-web-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (repos, www) = (dir.join("repos"), dir.join("www"));
        std::fs::create_dir_all(&www).unwrap();
        // One repository with a commit, copied for each (with its own description).
        let template = dir.join("template.git");
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&["init", "-q", "--bare", "template.git"], &dir);
        git(&["init", "-q"], &work);
        let commit = ["-c", "user.name=T", "-c", "user.email=t@example.org"];
        git(
            &[
                &commit[..],
                &["commit", "-q", "--allow-empty", "-m", "first"],
            ]
            .concat(),
            &work,
        );
        git(
            &[
                "push",
                "-q",
                template.to_str().unwrap(),
                "HEAD:refs/heads/master",
            ],
            &work,
        );
        let (server, port, created) = (None, 0, Vec::new());
        let mut forges = WebForges {
            dir,
            server,
            port,
            created,
        };
        for path in REPOSITORIES.iter().chain([&HIDDEN]) {
            forges.add_repository(path);
        }
        git(&["config", "cgit.hide", "1"], &repos.join(HIDDEN));
        std::fs::remove_file(repos.join(HIDDEN).join("git-daemon-export-ok")).unwrap();
        forges.created.retain(|path| path != HIDDEN);
        for k in 0..BULK {
            forges.add_repository(&format!("bulk/{}/r-{k:03}.git", k % 8));
        }
        // The idle time cgit shows, from the "agefile" a hook would write.
        let web = repos.join("alpha.git/info/web");
        std::fs::create_dir_all(&web).unwrap();
        std::fs::write(web.join("last-modified"), "2024-03-03 12:34:56 +0200\n").unwrap();
        std::os::unix::fs::symlink(CGIT, www.join("cgit")).unwrap();
        std::os::unix::fs::symlink(GITWEB, www.join("gitweb.cgi")).unwrap();
        let d = forges.dir.display();
        let cgitrc = format!(
            "cache-size=0\nvirtual-root=/cgit/\nmax-repo-count={CGIT_PAGE}\nenable-git-config=1\n\
             section-from-path=1\nclone-url=git://{CLONE_HOST}/$CGIT_REPO_URL \
             http://{CLONE_HOST}/$CGIT_REPO_URL https://{CLONE_HOST}/$CGIT_REPO_URL \
             ssh://git@{CLONE_HOST}/$CGIT_REPO_URL\nscan-path={d}/repos\n"
        );
        std::fs::write(forges.dir.join("cgitrc"), cgitrc).unwrap();
        let gitweb = format!(
            "$projectroot = \"{d}/repos\";\n$export_ok = \"git-daemon-export-ok\";\n\
             @git_base_url_list = (\"git://{CLONE_HOST}\", \"https://{CLONE_HOST}\", \
             \"ssh://git@{CLONE_HOST}\");\n"
        );
        std::fs::write(forges.dir.join("gitweb.conf"), gitweb).unwrap();
        forges.port = free_port();
        let lighttpd = format!(
            "server.document-root = \"{d}/www\"\nserver.bind = \"127.0.0.1\"\n\
             server.port = {}\nserver.modules = (\"mod_cgi\", \"mod_setenv\")\n\
             server.errorlog = \"{d}/error.log\"\n\
             $HTTP[\"url\"] =~ \"^/(cgit|gitweb)\" {{ cgi.assign = (\"\" => \"\") }}\n\
             setenv.add-environment = (\"CGIT_CONFIG\" => \"{d}/cgitrc\", \
             \"GITWEB_CONFIG\" => \"{d}/gitweb.conf\")\n",
            forges.port
        );
        std::fs::write(forges.dir.join("lighttpd.conf"), lighttpd).unwrap();
        let server = Command::new(LIGHTTPD)
            .args(["-D", "-f"])
            .arg(forges.dir.join("lighttpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lighttpd");
        forges.server = Some(server);
        forges.wait_until_serving();
        forges
    }

    /// Waits until the server answers cgit's index, or fails with what it said.
    fn wait_until_serving(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let server = self.server.as_mut().expect("started");
            if let Ok(Some(status)) = server.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
                panic!("lighttpd stopped ({status}): {log}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "lighttpd did not listen on 127.0.0.1:{} within 20 s",
            self.port
        );
    }

    /// A new repository at `path` (under the project root), shown by both.
    pub fn add_repository(&mut self, path: &str) {
        let target = self.dir.join("repos").join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let copied = Command::new("cp")
            .arg("-a")
            .arg(self.dir.join("template.git"))
            .arg(&target)
            .status()
            .unwrap();
        assert!(copied.success());
        std::fs::write(
            target.join("description"),
            format!("{path}: a & b <c> ünïcode\n"),
        )
        .unwrap();
        std::fs::write(target.join("git-daemon-export-ok"), "").unwrap();
        self.created.push(path.to_owned());
    }

    /// How many repositories are shown.
    pub fn shown(&self) -> usize {
        self.created.len()
    }

    /// cgit's address, as a user gives it.
    pub fn cgit_url(&self) -> String {
        format!("http://127.0.0.1:{}/cgit/", self.port)
    }

    /// gitweb's address, as a user gives it.
    pub fn gitweb_url(&self) -> String {
        format!("http://127.0.0.1:{}/gitweb.cgi", self.port)
    }

    /// The https clone URL of every repository shown, as the store keeps it (gitweb).
    pub fn expected_urls(&self) -> BTreeSet<String> {
        let url = |path: &String| url::Url::parse(&format!("https://{CLONE_HOST}/{path}"));
        self.created
            .iter()
            .map(|path| url(path).unwrap().to_string())
            .collect()
    }

    /// The same for cgit, whose clone links escape a path's non-ASCII bytes in lowercase hex
    /// (`caf%c3%a9.git`), kept as given, as Software Heritage records them.
    pub fn expected_cgit_urls(&self) -> BTreeSet<String> {
        let lower = |url: String| {
            let mut parts = url.split('%');
            let first = parts.next().unwrap_or_default().to_owned();
            let escape = |part: &str| format!("%{}{}", part[..2].to_lowercase(), &part[2..]);
            first + &parts.map(escape).collect::<String>()
        };
        self.expected_urls().into_iter().map(lower).collect()
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Drop for WebForges {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
