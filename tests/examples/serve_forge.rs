//! The fake forge on its own, for profiling a `lister` run outside the bench (so the forge's
//! CPU is not the measured process's):
//!
//! ```sh
//! cargo run --release -p lister-tests --example serve_forge -- 100000 &   # prints its URL
//! GITHUB_TOKEN=bench-token lister --database-url /tmp/x.db run github --url URL
//! ```
//!
//! The arguments are how many GitHub repositories it serves (100,000 when left out) and how
//! many milliseconds it waits before each answer (none when left out); the quota is large
//! enough never to run out. It serves until Ctrl-C.

use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};

#[tokio::main]
async fn main() {
    let repositories = match std::env::args().nth(1) {
        Some(count) => count.parse().expect("the number of repositories"),
        None => 100_000,
    };
    let quota = QuotaConfig {
        token_limit: 1_000_000_000_000,
        anonymous_limit: 1_000_000_000_000,
        ..QuotaConfig::default()
    };
    let latency = std::env::args()
        .nth(2)
        .map_or(0, |ms| ms.parse().expect("milliseconds"));
    let forge = FakeForge::start_with(Config {
        github_repositories: repositories,
        latency: std::time::Duration::from_millis(latency),
        quota,
        ..Config::default()
    })
    .await;
    println!("{}", forge.github_url());
    tokio::signal::ctrl_c().await.expect("wait for Ctrl-C");
    drop(forge);
}
