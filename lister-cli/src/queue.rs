//! `lister queue`: consumers grab origins to visit, acknowledge visits, and see the queue.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use lister_core::queue::{Policy, VisitStatus};

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
        /// How many origins, at most.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// The order: default, never_visited_oldest_update_first, oldest_scheduled_first,
        /// already_visited_order_by_lag.
        #[arg(long, default_value = "default")]
        policy: Policy,
        /// How long the lease lasts (1h, 30m, 2h30m…).
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
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
        /// When the visit happened (RFC 3339); default now.
        #[arg(long, value_name = "TIME")]
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

/// Runs a queue command.
pub(crate) async fn run(cli: &Cli, command: &QueueCommand) -> Result<ExitCode, Failure> {
    let store = store::open_existing(cli).await?;
    let mut out = std::io::stdout().lock();
    let written = match command {
        QueueCommand::Grab {
            visit_type,
            count,
            policy,
            lease,
        } => {
            let grants = store
                .grab(visit_type, *count, *policy, *lease)
                .await
                .map_err(Failure::failed)?;
            grants
                .iter()
                .try_for_each(|grant| output::json_line(&mut out, grant))
        }
        QueueCommand::Ack { lease, status, at } => {
            let acked = store
                .ack(lease, *status, *at)
                .await
                .map_err(Failure::failed)?;
            output::json_line(&mut out, &acked)
        }
        QueueCommand::Stats { json: true } => {
            let stats = store.queue_stats().await.map_err(Failure::failed)?;
            stats
                .iter()
                .try_for_each(|row| output::json_line(&mut out, row))
        }
        QueueCommand::Stats { json: false } => {
            let stats = store.queue_stats().await.map_err(Failure::failed)?;
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
