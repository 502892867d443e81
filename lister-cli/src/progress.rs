//! The live progress line on a terminal, and periodic log lines elsewhere.

use std::io::IsTerminal;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lister_core::RunProgress;
use tokio::time::Instant;

/// A progress line on stderr when it is a terminal (and not --quiet), else a hidden one.
pub(crate) fn bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    bar
}

/// Refreshes `bar` from `progress` until dropped; logs a line every 30 s when `bar` is hidden.
pub(crate) fn follow(
    bar: ProgressBar,
    progress: std::sync::Arc<RunProgress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let started = Instant::now();
        let mut last_log = started;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let line = describe(&progress, started.elapsed());
            if bar.is_hidden() {
                if last_log.elapsed() >= Duration::from_secs(30) {
                    tracing::info!("{line}");
                    last_log = Instant::now();
                }
            } else {
                bar.set_message(line);
                bar.tick();
            }
        }
    })
}

/// `pages 12 · origins 1,200 (3,400/s) · index 4567 [· #0 4321 left (reset 12m05s)…]
/// [· waiting for quota 4m12s]`: each credential's quota as the forge last said.
fn describe(progress: &RunProgress, elapsed: Duration) -> String {
    let get = |counter: &AtomicU64| RunProgress::get(counter);
    let origins = get(&progress.origins_seen);
    let rate = origins as f64 / elapsed.as_secs_f64().max(0.001);
    let index = progress.current_index().unwrap_or_else(|| "-".into());
    let mut line = format!(
        "pages {} · origins {origins} ({rate:.0}/s) · index {index}",
        get(&progress.pages)
    );
    let quotas = progress.quotas();
    for (index, quota) in quotas.iter().enumerate() {
        let Some(quota) = quota else { continue };
        line.push_str(&format!(" · #{index} {} left", quota.left));
        if let Some(at) = quota.resets_at {
            let secs = at
                .saturating_duration_since(tokio::time::Instant::now())
                .as_secs();
            line.push_str(&format!(" (reset {}m{:02}s)", secs / 60, secs % 60));
        }
    }
    if let Some(left) = progress.waiting_for() {
        let secs = left.as_secs();
        line.push_str(&format!(
            " · waiting for quota {}m{:02}s",
            secs / 60,
            secs % 60
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_line_shows_each_credentials_quota_and_reset() {
        let progress = RunProgress::default();
        RunProgress::add(&progress.pages, 3);
        progress.set_quota(1, 0, Some(Duration::from_millis(754_500)));
        let line = describe(&progress, Duration::from_secs(1));
        assert!(line.ends_with(" · #1 0 left (reset 12m34s)"), "{line}");
        progress.set_quota(0, 4_321, None);
        let line = describe(&progress, Duration::from_secs(1));
        assert!(line.contains(" · #0 4321 left · #1 0 left"), "{line}");
    }
}
