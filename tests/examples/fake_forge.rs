//! The fake forge as a standalone server, for profiling or trying the binary by hand:
//! `cargo run --release -p lister-tests --example fake_forge -- 100000` prints its GitHub and
//! Bitbucket base URLs and serves that many repositories of each until interrupted.

use lister_tests::fake_forge::{Config, FakeForge, QuotaConfig};

#[tokio::main]
async fn main() {
    let count = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let quota = QuotaConfig {
        token_limit: u64::MAX / 2,
        anonymous_limit: u64::MAX / 2,
        ..QuotaConfig::default()
    };
    let forge = FakeForge::start_with(Config {
        github_repositories: count,
        bitbucket_repositories: count,
        quota,
        ..Config::default()
    })
    .await;
    println!("github: {}", forge.github_url());
    println!("bitbucket: {}", forge.bitbucket_url());
    let _ = tokio::signal::ctrl_c().await;
}
