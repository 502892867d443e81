//! `lister queue`: consumers grab origins to visit, acknowledge visits, and see the queue.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use lister_queue::{Policy, Queue, VisitStatus};

use crate::cli::Cli;
use crate::failure::Failure;
use crate::{output, store};

#[derive(Debug, Subcommand)]
pub(crate) enum QueueCommand {
    /// Lease origins to visit: one JSON object per line (url, visit_type, lister, instance,
    /// last_update, lease_token, lease_expires_at). Expired leases return by themselves.
    Grab {
        /// The visit type to grab (git, hg…).
        #[arg(long)]
        visit_type: String,
        /// How many origins, at most (1 to 10,000).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=MAX_GRAB as i64))]
        count: u16,
        /// The order: default, never_visited_oldest_update_first, oldest_scheduled_first,
        /// already_visited_order_by_lag.
        #[arg(long, default_value = "default")]
        policy: Policy,
        /// How long the lease lasts (1h, 30m, 2h30m…): from 1 s to 7 days.
        #[arg(long, default_value = "1h", value_parser = lease_duration)]
        lease: Duration,
    },
    /// Record a visit's outcome and end its lease.
    Ack {
        /// The lease token `grab` printed.
        #[arg(long)]
        lease: String,
        /// How the visit went: successful, failed or not_found.
        #[arg(long)]
        status: VisitStatus,
        /// When the visit happened (RFC 3339); default now. At most 5 minutes in the future
        /// (clock skew), and not before 2000.
        #[arg(long, value_name = "TIME", value_parser = visit_time)]
        at: Option<DateTime<Utc>>,
    },
    /// Per lister instance and visit type: known, enabled, never visited, leased now,
    /// cooling down, due now, with pending changes.
    Stats {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// The most origins one grab leases.
const MAX_GRAB: u16 = 10_000;

/// A lease duration between 1 s and 7 days: a zero lease would hand one origin to two
/// consumers, an endless one would park it for good.
fn lease_duration(text: &str) -> Result<Duration, String> {
    let lease = humantime::parse_duration(text).map_err(|err| err.to_string())?;
    let range = Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600);
    match range.contains(&lease) {
        true => Ok(lease),
        false => Err(format!("{text} is not between 1s and 7days")),
    }
}

/// A visit time: not in the future beyond a small clock skew, and not absurdly old.
fn visit_time(text: &str) -> Result<DateTime<Utc>, String> {
    let at: DateTime<Utc> = text
        .parse()
        .map_err(|err| format!("{err} (RFC 3339 expected)"))?;
    let skew = chrono::Duration::minutes(5);
    let earliest = DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z").expect("a valid date");
    if at > Utc::now() + skew {
        return Err(format!("{text} is in the future"));
    }
    if at < earliest {
        return Err(format!("{text} is before 2000"));
    }
    Ok(at)
}

/// Runs a queue command.
pub(crate) async fn run(cli: &Cli, command: &QueueCommand) -> Result<ExitCode, Failure> {
    let queue = Queue::new(match command {
        QueueCommand::Stats { .. } => store::open_reader(cli).await?,
        _ => store::open_one_shot(cli).await?,
    });
    let mut out = std::io::stdout().lock();
    let written = match command {
        QueueCommand::Grab {
            visit_type,
            count,
            policy,
            lease,
        } => {
            let grants = queue
                .grab(visit_type, usize::from(*count), *policy, *lease)
                .await
                .map_err(Failure::failed)?;
            grants
                .iter()
                .try_for_each(|grant| output::json_line(&mut out, grant))
        }
        QueueCommand::Ack { lease, status, at } => {
            let acked = queue
                .ack(lease, *status, *at)
                .await
                .map_err(Failure::failed)?;
            output::json_line(&mut out, &acked)
        }
        QueueCommand::Stats { json: true } => {
            let stats = queue.queue_stats().await.map_err(Failure::failed)?;
            stats
                .iter()
                .try_for_each(|row| output::json_line(&mut out, row))
        }
        QueueCommand::Stats { json: false } => {
            let stats = queue.queue_stats().await.map_err(Failure::failed)?;
            let header = [
                "LISTER", "TYPE", "KNOWN", "ENABLED", "NEVER", "LEASED", "COOLING", "DUE",
                "CHANGED",
            ];
            let mut lines = vec![format!(
                "{:<28} {:<5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                header[0],
                header[1],
                header[2],
                header[3],
                header[4],
                header[5],
                header[6],
                header[7],
                header[8]
            )];
            for row in &stats {
                let lister = format!("{}/{}", row.lister, row.instance);
                lines.push(format!(
                    "{lister:<28} {:<5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
                    row.visit_type,
                    row.known,
                    row.enabled,
                    row.never_visited,
                    row.leased_now,
                    row.cooling_down,
                    row.due_now,
                    row.pending_changes
                ));
            }
            lines.iter().try_for_each(|line| writeln!(out, "{line}"))
        }
    };
    output::finish(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_and_visit_times_have_sane_ranges() {
        assert!(lease_duration("30m").is_ok());
        assert!(lease_duration("0s").is_err());
        assert!(lease_duration("30days").is_err());
        assert!(visit_time("2024-01-01T00:00:00Z").is_ok());
        assert!(
            visit_time("9999-01-01T00:00:00Z")
                .unwrap_err()
                .contains("future")
        );
        assert!(
            visit_time("0001-01-01T00:00:00Z")
                .unwrap_err()
                .contains("before 2000")
        );
        let soon = (Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
        assert!(visit_time(&soon).is_ok(), "clock skew is tolerated");
    }
}
