//! The command line, as clap reads it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use lister_queue::{Policy, VisitStatus};
use url::Url;

use crate::failure::Failure;
use crate::registry;

const DATABASE_HELP: &str = "Database: sqlite://PATH, a plain path, or postgres://USER@HOST/DB.\n\
    Default: lister.db in the platform's data directory: $XDG_DATA_HOME/lister/ \
    (~/.local/share/lister/) on Linux, ~/Library/Application Support/lister/ on macOS, \
    %APPDATA%\\lister\\data\\ on Windows.";

/// List every repository of a code forge into a database, incrementally.
#[derive(Debug, Parser)]
#[command(
    name = "lister",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[arg(long, env = "LISTER_DATABASE_URL", global = true, hide_env_values = true, long_help = DATABASE_HELP)]
    pub(crate) database_url: Option<String>,

    /// Configuration file (TOML) with per-instance credentials and defaults.
    /// Default: config.toml in the platform's config directory (~/.config/lister/ on Linux).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,

    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    /// Only errors: no progress line, no summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub(crate) log_format: LogFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List a forge into the database, incrementally from the saved state.
    Run(Box<RunArgs>),
    /// The forges lister knows: each one's main instance and the credentials it reads.
    Forges,
    /// Say which forge software answers at an address, how sure, and why.
    #[command(long_about = DETECT_HELP)]
    Detect(DetectArgs),
    /// Show each lister instance: its state, origin counts and last finished listing.
    Listers(ListersArgs),
    /// Write the listed origins to stdout (streamed: constant memory).
    Origins(OriginsArgs),
    /// The visit queue: grab origins to visit, acknowledge visits, see its state.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

const DETECT_HELP: &str = "Say which forge software answers at an address, how sure, and why.\n\n\
    A forge's main instance (github.com, gitlab.com, codeberg.org…) is known by its host, without \
    a request. Otherwise lister asks, one request at a time, what each forge's own API answers: \
    the page itself (Gitiles' ?format=JSON index, a cgit or gitweb generator, clues), \
    /api/v1/version (Gitea, Forgejo, Gogs), /api/v4/projects (GitLab, Heptapod), Conduit's \
    conduit.ping (Phabricator, Phorge), /api/v3/meta (GitHub Enterprise), \
    /rest/api/1.0/application-properties (Bitbucket Data Center), /config/server/version \
    (Gerrit), /api/0/version (Pagure), stopping at the first certain \
    answer. A clue on the page (a wordmark, a header, a redirect) moves its forge's probe first: \
    1 to 3 requests then, and for Gitea, Forgejo, Gogs and GitLab; more for the others without \
    one. No credential is sent.\n\n\
    Prints `FORGE (certain|likely: evidence)`; exit 0 when found, 1 when nothing answered as a \
    forge lister knows, 2 on an unusable address.";

#[derive(Debug, Args)]
pub(crate) struct DetectArgs {
    /// The address as you know it (https://git.example.org).
    pub(crate) url: Url,

    /// Print one JSON object on stdout: forge, confidence, evidence, requests, what was tried.
    #[arg(long)]
    pub(crate) json: bool,

    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub(crate) timeout: f64,

    /// Allow a plain-http address on a non-loopback host.
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The forge to list; without it, `--url` is required and the forge is detected there (as
    /// `lister detect` does), and the log says what was picked.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(registry::names()))]
    #[arg(required_unless_present = "url")]
    pub(crate) forge: Option<String>,

    /// The instance's address as you know it (https://gitlab.example.org), or its API base;
    /// default: the forge's main instance (`lister forges` lists them).
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<Url>,

    /// The instance name: listers of one forge at several addresses keep separate states.
    /// Default: the host of --url (with its port, if --url gives one), else `default`.
    #[arg(long)]
    pub(crate) instance: Option<String>,

    /// Stop after this many pages (the state is saved; the next run continues).
    #[arg(long, value_name = "N")]
    pub(crate) max_pages: Option<u64>,

    /// Relist from this cursor, exclusive (GitHub, GitLab: a repository id); needs --last-id
    /// and a forge whose cursor is ordered. A range run never reads or moves the saved state,
    /// so ranges can run in parallel.
    #[arg(long, value_name = "A", requires = "last_id")]
    pub(crate) first_id: Option<String>,

    /// Relist up to this cursor, inclusive; needs --first-id.
    #[arg(long, value_name = "B", requires = "first_id")]
    pub(crate) last_id: Option<String>,

    /// List from the first cursor without conditional requests; at the end, disable this
    /// instance's origins the pass did not see (they stay known).
    #[arg(long, conflicts_with = "first_id")]
    pub(crate) full_pass: bool,

    /// Walk the listing in ranges, N at once (forges whose pages can be asked anywhere in
    /// the listing: GitHub, GitLab, Heptapod, Bitbucket Cloud, Gitea, Forgejo). The ranges are
    /// kept in the database: runs on several machines sharing one PostgreSQL list together.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    #[arg(conflicts_with_all = ["first_id", "max_pages", "full_pass"])]
    pub(crate) parallel: Option<u16>,

    /// Seconds a run's ranges stay reserved once it stops renewing them (it died): then
    /// another run takes them over.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub(crate) lease: f64,

    /// Read tokens from this file, one per line (blank lines and # comments skipped).
    #[arg(long, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,

    /// Where the instance's repositories are cloned (cgit, gitweb), for an instance whose
    /// pages show no clone URL: each repository's origin is this URL followed by its path,
    /// and its page is not asked for.
    #[arg(long, value_name = "URL")]
    pub(crate) base_git_url: Option<Url>,

    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,

    /// Seconds one request may take before it is retried.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub(crate) timeout: f64,

    /// The longest quota wait to accept, in seconds; a longer one stops the run (the state is
    /// saved, a later run resumes).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600.0)]
    pub(crate) max_quota_wait: f64,

    /// Allow a plain-http API base URL on a non-loopback host (tokens would travel in clear).
    #[arg(long)]
    pub(crate) allow_insecure_http: bool,

    /// Requests in flight at once to the instance [default: 4 on a forge's main instance, or
    /// --parallel if more, 2 on a self-hosted one, no bound on loopback].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) max_concurrency: Option<u16>,

    /// Requests started a second, at most [default: no bound on a forge's main instance,
    /// whose quota paces the run; 5 on a self-hosted one; no bound on loopback].
    #[arg(long, value_name = "PER_SECOND")]
    pub(crate) rate: Option<f64>,
}

#[derive(Debug, Args)]
pub(crate) struct ListersArgs {
    /// One JSON object per lister instance instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OriginsArgs {
    /// Only this lister (e.g. github).
    #[arg(long)]
    pub(crate) lister: Option<String>,

    /// Only this instance.
    #[arg(long)]
    pub(crate) instance: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub(crate) format: ExportFormat,
}

/// Formats of `lister origins`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// `lister queue`'s commands.
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

/// The longest lease, timeout or wait the command line takes.
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

/// A lease duration between 1 s and 7 days: a zero lease would hand one origin to two
/// consumers, an endless one would park it for good.
fn lease_duration(text: &str) -> Result<Duration, String> {
    let lease = humantime::parse_duration(text).map_err(|err| err.to_string())?;
    let range = Duration::from_secs(1)..=WEEK;
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

/// A number of seconds given to `flag`: positive, and at most a week.
pub(crate) fn seconds(flag: &str, value: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|duration| !duration.is_zero() && *duration <= WEEK)
        .with_context(|| {
            format!("{flag} needs a positive number of seconds, at most a week, not {value}")
        })
        .map_err(Failure::usage)
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
