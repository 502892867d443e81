//! Lister runs, spawned by a small helper process so that their peak memory is their own.
//!
//! The peak resident memory the kernel reports for a process (`ru_maxrss`, through `wait4`)
//! also counts the process that spawned it, as it was then: until `exec`, the child runs in
//! its parent's address space. This bench serves the fake forge from its own process, and a
//! run it spawned itself measured 36 MiB, its own size, whatever the run's peak. Polling
//! `/proc` instead missed peaks in a run's last moments. So the bench starts this helper
//! first, while it is small, and the helper spawns every run and reaps it with `wait4`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The argument that makes the bench's binary the helper.
pub(crate) const HELPER_ARG: &str = "--spawn-listers";

/// The bench's end of the helper.
pub(crate) struct Spawner {
    helper: Child,
    requests: Option<ChildStdin>,
    replies: BufReader<ChildStdout>,
}

/// How a run ended.
pub(crate) struct Ended {
    /// Its wait status (0 for a success).
    pub(crate) status: i32,
    /// Its peak resident memory, in KiB.
    pub(crate) peak_kib: u64,
}

impl Spawner {
    /// Starts the helper (this binary again), with `env` in its environment and so in every
    /// run's.
    pub(crate) fn start(env: &[(&str, &str)]) -> Spawner {
        let mut helper = Command::new(std::env::current_exe().expect("the bench's binary"))
            .arg(HELPER_ARG)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the helper");
        let requests = helper.stdin.take();
        let replies = BufReader::new(helper.stdout.take().expect("the helper's stdout"));
        Spawner {
            helper,
            requests,
            replies,
        }
    }

    /// Runs `program` with `args` to its end.
    pub(crate) fn run(&mut self, program: &Path, args: &[&str]) -> Ended {
        let mut argv = vec![program.to_str().expect("a UTF-8 path")];
        argv.extend_from_slice(args);
        let requests = self.requests.as_mut().expect("the helper is running");
        let request = serde_json::to_string(&argv).expect("a request");
        writeln!(requests, "{request}").expect("ask the helper");
        let mut reply = String::new();
        self.replies.read_line(&mut reply).expect("hear the helper");
        let (status, peak_kib) = reply
            .trim()
            .split_once(' ')
            .unwrap_or_else(|| panic!("the helper stopped: `{reply}`"));
        Ended {
            status: status.parse().expect("a wait status"),
            peak_kib: peak_kib.parse().expect("a size"),
        }
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        // End of input: the helper returns.
        drop(self.requests.take());
        let _ = self.helper.wait();
    }
}

/// The helper: for each line of standard input (a JSON array: a program, then its
/// arguments), runs it to its end and writes `STATUS PEAK_KIB` on a line of standard output.
pub(crate) fn serve() {
    let mut replies = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let argv: Vec<String> = serde_json::from_str(&line.expect("a request")).expect("JSON");
        let (program, args) = argv.split_first().expect("a program");
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the run");
        let (status, peak_kib) = wait_with_peak_memory(child);
        writeln!(replies, "{status} {peak_kib}").expect("reply");
        replies.flush().expect("reply");
    }
}

/// Reaps `child`: its wait status and the peak resident memory (KiB) the kernel recorded.
#[allow(unsafe_code)]
fn wait_with_peak_memory(child: Child) -> (i32, u64) {
    let pid = libc::pid_t::try_from(child.id()).expect("a process id");
    let mut status = 0;
    // SAFETY: `rusage` is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals, and `pid` is a child of this process that
    // nothing else waits for: its `Child` is dropped below without waiting.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    (status, u64::try_from(usage.ru_maxrss).expect("a size"))
}
