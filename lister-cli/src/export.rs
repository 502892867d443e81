//! `lister listers` and `lister origins`: what the database holds.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use lister_core::ListedOrigin;
use lister_store::Store;
use serde::Serialize;

use crate::cli::{Cli, ExportFormat, ListersArgs, OriginsArgs};
use crate::failure::Failure;
use crate::{output, store};

/// Rows fetched per query while streaming origins.
const BATCH: i64 = 5_000;

/// Prints every lister instance with its state, origin counts and last finished listing.
pub(crate) async fn listers(cli: &Cli, args: &ListersArgs) -> Result<ExitCode, Failure> {
    let store = store::open_reader(cli).await?;
    let summaries = store.lister_summaries().await.map_err(Failure::failed)?;
    note_unfolded(&summaries);
    let mut out = std::io::stdout().lock();
    let result = (|| -> std::io::Result<()> {
        if args.json {
            for summary in &summaries {
                output::json_line(&mut out, summary)?;
            }
            return Ok(());
        }
        writeln!(
            out,
            "{:<28} {:>10} {:>10}  {:<20}  STATE",
            "LISTER", "ORIGINS", "ENABLED", "LAST FINISHED"
        )?;
        for summary in &summaries {
            let finished = summary
                .last_listing_finished_at
                .map_or("never".into(), |t| {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                });
            let state = summary
                .state
                .as_ref()
                .map_or("-".into(), |state| state.to_string());
            let lister = summary.lister.to_string();
            writeln!(
                out,
                "{lister:<28} {:>10} {:>10}  {finished:<20}  {state}",
                summary.origins, summary.enabled
            )?;
        }
        Ok(())
    })();
    output::finish(result)
}

/// Says on stderr what a reader does not show: sightings not folded yet (a reader writes
/// nothing, so it does not fold them) and quarantined ones.
fn note_unfolded(summaries: &[lister_store::ListerSummary]) {
    let unfolded: i64 = summaries.iter().map(|summary| summary.unfolded).sum();
    let quarantined: i64 = summaries.iter().map(|summary| summary.quarantined).sum();
    if unfolded > 0 {
        eprintln!(
            "note: {unfolded} origins committed by a run in progress or interrupted are not \
             folded yet, and not shown; that run folds them as it goes and at its end, and \
             after an interruption the instance's next run or `lister queue grab` does"
        );
    }
    if quarantined > 0 {
        eprintln!(
            "warning: {quarantined} origins the database refused are quarantined, with the \
             reason, in the table quarantined_sightings"
        );
    }
}

/// One exported origin, flat, for JSON lines and CSV alike.
#[derive(Serialize)]
struct Row<'a> {
    lister: &'a str,
    instance: &'a str,
    url: &'a str,
    visit_type: &'a str,
    last_update: Option<DateTime<Utc>>,
    is_fork: Option<bool>,
    enabled: bool,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    extra_loader_arguments: String,
}

impl<'a> From<&'a ListedOrigin> for Row<'a> {
    fn from(listed: &'a ListedOrigin) -> Row<'a> {
        Row {
            lister: &listed.lister.name,
            instance: &listed.lister.instance,
            url: &listed.origin.url,
            visit_type: &listed.origin.visit_type,
            last_update: listed.origin.last_update,
            is_fork: listed.origin.is_fork,
            enabled: listed.origin.enabled,
            first_seen: listed.first_seen,
            last_seen: listed.last_seen,
            extra_loader_arguments: listed.origin.extra_loader_arguments.to_string(),
        }
    }
}

/// Streams the origins of the chosen listers to stdout, a batch at a time.
pub(crate) async fn origins(cli: &Cli, args: &OriginsArgs) -> Result<ExitCode, Failure> {
    let store = store::open_reader(cli).await?;
    let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = match args.format {
        ExportFormat::Jsonl => {
            let mut out = out;
            let written = stream(&store, args, |row| output::json_line(&mut out, &row)).await;
            written.map(|()| out.flush())
        }
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            let written = stream(&store, args, |row| {
                csv.serialize(row).map_err(std::io::Error::other)
            })
            .await;
            written.map(|()| csv.flush())
        }
    };
    match result {
        Ok(flushed) => output::finish(flushed),
        Err(StreamError::Io(err)) => output::finish(Err(err)),
        Err(StreamError::Store(err)) => Err(Failure::failed(err)),
    }
}

enum StreamError {
    Io(std::io::Error),
    Store(lister_core::Error),
}

/// Hands every chosen origin to `write`, reading `BATCH` rows at a time by keyset.
async fn stream(
    store: &Store,
    args: &OriginsArgs,
    mut write: impl FnMut(Row<'_>) -> std::io::Result<()>,
) -> Result<(), StreamError> {
    let summaries = store.lister_summaries().await.map_err(StreamError::Store)?;
    let chosen: Vec<_> = summaries
        .into_iter()
        .filter(|summary| {
            args.lister
                .as_ref()
                .is_none_or(|name| *name == summary.lister.name)
                && args
                    .instance
                    .as_ref()
                    .is_none_or(|instance| *instance == summary.lister.instance)
        })
        .collect();
    note_unfolded(&chosen);
    for summary in &chosen {
        let Some(lister) = store
            .lister(&summary.lister)
            .await
            .map_err(StreamError::Store)?
        else {
            continue;
        };
        let mut after: Option<(String, String)> = None;
        loop {
            let cursor = after
                .as_ref()
                .map(|(url, kind)| (url.as_str(), kind.as_str()));
            let batch = store
                .listed_origins_page(&lister, cursor, BATCH)
                .await
                .map_err(StreamError::Store)?;
            let Some(last) = batch.last() else { break };
            after = Some((last.origin.url.clone(), last.origin.visit_type.clone()));
            for listed in &batch {
                write(Row::from(listed)).map_err(StreamError::Io)?;
            }
        }
    }
    Ok(())
}
