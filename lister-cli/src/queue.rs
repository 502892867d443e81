//! `lister queue`: consumers grab origins to visit, acknowledge visits, and see the queue.

use std::io::Write;
use std::process::ExitCode;

use lister_queue::Queue;

use crate::cli::{Cli, QueueCommand};
use crate::failure::Failure;
use crate::{output, store};

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
