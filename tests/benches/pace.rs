//! The pace benchmark: `lister run github` (the real release binary) against the fake forge
//! answering every page after 50 ms, as a real forge does, with per-token quotas.
//!
//! ```sh
//! cargo build --release -p lister-cli
//! LISTER_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench -p lister-tests --bench pace       # add `-- --quick` for 20,000 repositories
//! ```
//!
//! Prints one line per figure, with its target (issue 26's):
//! 1. the wall time of a sequential run, `--parallel 4` and `--parallel 16` over 100,000
//!    repositories into SQLite, and their speed-ups (16 at least 12 times faster);
//! 2. with 4 tokens of 40 requests per 2-second window, `--parallel 16`: the share of each
//!    window that ended which was spent (at least 95 %), and the quota errors drawn (none);
//! 3. a full pass over the unchanged forge: its requests and the quota they spent (none);
//! 4. one run against two runs at once, each `--parallel 8`, into one PostgreSQL database
//!    (two at most 0.6 of one's wall time), when `LISTER_BENCH_POSTGRES_URL` is set.

use std::process::Command;
use std::time::{Duration, Instant};

use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig, QuotaKey};

/// A real forge's answer time.
const LATENCY: Duration = Duration::from_millis(50);

/// The fake GitHub with `repositories`, 50 ms a page, and `quota` per token.
async fn forge(repositories: u64, quota: QuotaConfig) -> FakeForge {
    FakeForge::start_with(Config {
        github_repositories: repositories,
        latency: LATENCY,
        quota,
        ..Config::default()
    })
    .await
}

fn plenty() -> QuotaConfig {
    QuotaConfig {
        token_limit: 100_000_000,
        anonymous_limit: 100_000_000,
        ..QuotaConfig::default()
    }
}

/// A `lister run github` of `forge` into `database` with `tokens` and `more` arguments.
fn command(database: &str, forge: &FakeForge, tokens: &[&str], more: &[&str]) -> Command {
    let mut command = Command::new(lister_tests::lister_binary());
    let url = forge.github_url();
    command
        .args(["-q", "--database-url", database, "run", "github", "--json"])
        .args(["--url", url.as_str()])
        .args(more)
        .env_remove("GITHUB_TOKEN")
        .env("GITHUB_TOKENS", tokens.join(","))
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("lister-bench-no-config"),
        );
    command
}

/// Runs `command` to its end (the forge serves it from this runtime's other threads): its
/// wall time and `--json` summary.
fn timed(mut command: Command) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    let output = tokio::task::block_in_place(|| command.output().expect("run lister"));
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "lister failed: {stderr}");
    let summary = serde_json::from_slice(&output.stdout).expect("a JSON summary");
    (elapsed, summary)
}

/// Prints a figure, with whether it met its target; returns whether it did.
fn figure(name: &str, value: String, target: Option<(&str, bool)>) -> bool {
    match target {
        Some((target, met)) => {
            let verdict = if met { "met" } else { "MISSED" };
            println!("{name:<52} {value:>14}   target {target}: {verdict}");
            met
        }
        None => {
            println!("{name:<52} {value:>14}");
            true
        }
    }
}

/// Sequential against `--parallel 4` and `--parallel 16`, each into a fresh SQLite database.
async fn speed(repositories: u64, met: &mut Vec<bool>) {
    let forge = forge(repositories, plenty()).await;
    let mut sequential = None;
    for parallel in [None, Some("4"), Some("16")] {
        let db = TestDatabase::sqlite();
        let more: Vec<&str> = parallel.map_or(vec![], |n| vec!["--parallel", n]);
        let (elapsed, summary) = timed(command(&db.url, &forge, &["t"], &more));
        assert_eq!(summary["origins_new"], repositories, "{summary}");
        let name = format!(
            "{repositories} repositories at 50 ms, {}",
            parallel.map_or("sequential".into(), |n| format!("--parallel {n}"))
        );
        let requests = summary["requests"].as_u64().unwrap_or(0);
        figure(&name, format!("{:.2} s", elapsed.as_secs_f64()), None);
        figure("  requests", requests.to_string(), None);
        let Some(base) = sequential else {
            sequential = Some(elapsed);
            continue;
        };
        let speedup = base.as_secs_f64() / elapsed.as_secs_f64();
        let target = (parallel == Some("16")).then_some(("≥ 12×", speedup >= 12.0));
        met.push(figure(
            "  faster than sequential",
            format!("{speedup:.1}×"),
            target,
        ));
    }
}

/// Four tokens of 40 requests per 2-second window, `--parallel 16`.
async fn quota(met: &mut Vec<bool>) {
    const LIMIT: u64 = 40;
    let quota = QuotaConfig {
        token_limit: LIMIT,
        anonymous_limit: 0,
        reset_after: Duration::from_secs(2),
    };
    let forge = forge(50_000, quota).await;
    let tokens = ["q1", "q2", "q3", "q4"];
    let db = TestDatabase::sqlite();
    let (elapsed, summary) = timed(command(&db.url, &forge, &tokens, &["--parallel", "16"]));
    assert_eq!(summary["origins_new"], 50_000, "{summary}");
    let windows: Vec<u64> = tokens
        .iter()
        .flat_map(|token| forge.closed_quota_windows(&QuotaKey::token(token)))
        .collect();
    let spent: u64 = windows.iter().sum();
    let share = 100.0 * spent as f64 / (LIMIT * windows.len() as u64) as f64;
    let name = "4 tokens × 40 a 2 s window, --parallel 16: run";
    figure(name, format!("{:.1} s", elapsed.as_secs_f64()), None);
    figure("  windows that ended", windows.len().to_string(), None);
    let used = format!("{share:.1} %");
    met.push(figure(
        "  quota spent of those windows",
        used,
        Some(("≥ 95 %", share >= 95.0)),
    ));
    let refused = forge.quota_refusals();
    met.push(figure(
        "  quota errors drawn",
        refused.to_string(),
        Some(("0", refused == 0)),
    ));
}

/// A full pass over the forge a run has just listed.
async fn full_pass(repositories: u64, met: &mut Vec<bool>) {
    let forge = forge(repositories, plenty()).await;
    let db = TestDatabase::sqlite();
    timed(command(&db.url, &forge, &["f"], &[]));
    let before = forge.quota_used(&QuotaKey::token("f"));
    let (elapsed, summary) = timed(command(&db.url, &forge, &["f"], &["--full-pass"]));
    let spent = forge.quota_used(&QuotaKey::token("f")) - before;
    let name = format!("unchanged full pass of {repositories}: requests");
    figure(&name, summary["requests"].to_string(), None);
    figure(
        "  of them not modified",
        summary["not_modified"].to_string(),
        None,
    );
    figure("  run", format!("{:.1} s", elapsed.as_secs_f64()), None);
    met.push(figure(
        "  quota spent",
        spent.to_string(),
        Some(("0", spent == 0)),
    ));
    let disabled = summary["origins_disabled"].as_u64().unwrap_or(u64::MAX);
    figure("  origins disabled", disabled.to_string(), None);
}

/// One run, then two at once, each `--parallel 8`, into fresh PostgreSQL databases.
async fn two_processes(repositories: u64, met: &mut Vec<bool>) {
    let Ok(admin) = std::env::var("LISTER_BENCH_POSTGRES_URL") else {
        println!("two processes on PostgreSQL: skipped (LISTER_BENCH_POSTGRES_URL is not set)");
        return;
    };
    let forge = forge(repositories, plenty()).await;
    let parallel = ["--parallel", "8"];
    let one = TestDatabase::postgres_at(&admin).await;
    let (alone, _) = timed(command(&one.url, &forge, &["p"], &parallel));
    let two = TestDatabase::postgres_at(&admin).await;
    let started = Instant::now();
    let (a, b) = (
        command(&two.url, &forge, &["p"], &parallel),
        command(&two.url, &forge, &["p"], &parallel),
    );
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking(move || timed(a)),
        tokio::task::spawn_blocking(move || timed(b)),
    );
    let together = started.elapsed();
    let listed = a.unwrap().1["origins_new"].as_u64().unwrap_or(0)
        + b.unwrap().1["origins_new"].as_u64().unwrap_or(0);
    assert_eq!(
        listed, repositories,
        "the two runs listed each repository once"
    );
    let name = format!("{repositories} into PostgreSQL, --parallel 8: one run");
    figure(&name, format!("{:.2} s", alone.as_secs_f64()), None);
    figure(
        "  two runs at once",
        format!("{:.2} s", together.as_secs_f64()),
        None,
    );
    let ratio = together.as_secs_f64() / alone.as_secs_f64();
    let target = Some(("≤ 0.6", ratio <= 0.6));
    met.push(figure(
        "  two runs' time / one run's",
        format!("{ratio:.2}"),
        target,
    ));
    one.drop_database().await;
    two.drop_database().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let repositories = if quick { 20_000 } else { 100_000 };
    let mut met = Vec::new();
    speed(repositories, &mut met).await;
    quota(&mut met).await;
    full_pass(repositories, &mut met).await;
    two_processes(repositories, &mut met).await;
    let hit = met.iter().filter(|met| **met).count();
    println!("targets met: {hit} of {}", met.len());
}
