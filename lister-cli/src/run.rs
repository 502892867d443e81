//! `lister run FORGE`: one listing into the database, with progress, signals and a summary.

use std::process::ExitCode;

use anyhow::Context;
use lister_core::{IndexRange, RunContext, RunOptions, RunStats, StopReason};
use lister_http::TransportConfig;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, RunArgs, seconds};
use crate::config::Config;
use crate::failure::{Failure, INTERRUPTED};
use crate::{credentials, detect, progress, registry, store};

/// Runs one listing. Everything that can be checked is checked before the database is
/// opened, so a usage error writes nothing.
pub(crate) async fn run(
    cli: &Cli,
    args: &RunArgs,
    bar: indicatif::ProgressBar,
) -> Result<ExitCode, Failure> {
    let mut config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
    let forge = match &args.forge {
        Some(name) => registry::find(name)
            .context("unknown forge")
            .map_err(Failure::usage)?,
        None => detected(args).await?,
    };
    let name = match (&args.instance, &args.url) {
        (Some(name), _) => name.clone(),
        (None, Some(url)) if forge.is_main_instance(url) => "default".to_owned(),
        (None, Some(url)) => lister_http::instance_name(url),
        (None, None) => "default".to_owned(),
    };
    let instance = config.instance(forge.name, &name);
    let credentials = credentials::resolve(forge.name, args.token_file.as_deref(), &instance)
        .map_err(Failure::usage)?;
    let url = args.url.clone().or_else(|| instance.url.clone());
    let (max_concurrency, rate) = politeness(args, forge, url.as_ref())?;
    let transport = TransportConfig {
        credentials,
        request_timeout: seconds("--timeout", args.timeout)?,
        max_quota_wait: seconds("--max-quota-wait", args.max_quota_wait)?,
        allow_insecure_http: args.allow_insecure_http,
        max_concurrency,
        rate,
        ..TransportConfig::default()
    };
    let clone_base = args.base_git_url.clone().or(instance.base_git_url.clone());
    if clone_base.is_some() && !forge.takes_base_git_url {
        let takers = registry::FORGES.iter().filter(|f| f.takes_base_git_url);
        let takers: Vec<&str> = takers.map(|f| f.name).collect();
        let message = format!("--base-git-url applies to {} only", takers.join(" and "));
        return Err(Failure::usage(anyhow::anyhow!(message)));
    }
    if args.parallel.is_some() && !forge.parallel {
        let takers = registry::FORGES.iter().filter(|f| f.parallel);
        let takers: Vec<&str> = takers.map(|f| f.name).collect();
        let message = format!("--parallel applies to {} only", takers.join(", "));
        return Err(Failure::usage(anyhow::anyhow!(message)));
    }
    let lister = (forge.build)(Some(&name), url, transport).map_err(Failure::usage)?;
    let options = RunOptions {
        max_pages: args.max_pages.or(instance.max_pages),
        range: match (&args.first_id, &args.last_id) {
            (Some(first), Some(last)) => Some(IndexRange {
                first: first.clone(),
                last: last.clone(),
            }),
            _ => None,
        },
        full_pass: args.full_pass,
        parallel: args.parallel.map(usize::from),
        lease: Some(seconds("--lease", args.lease)?),
        clone_base,
        ..RunOptions::default()
    };
    let store = store::open(cli, &config).await?;

    let context = RunContext::default();
    watch_signals(context.cancel.clone());
    let follower = progress::follow(bar.clone(), context.progress.clone());
    let outcome = lister.run(&store, &options, &context).await;
    follower.abort();
    bar.finish_and_clear();

    let (stats, error) = match outcome {
        Ok(stats) => (stats, None),
        Err(failure) => {
            let message = failure.to_string();
            (failure.stats, Some(message))
        }
    };
    if args.json {
        let mut summary = serde_json::to_value(&stats).map_err(Failure::failed)?;
        summary["error"] = error.clone().into();
        println!("{summary}");
    } else if !cli.quiet {
        eprintln!("{}", summary(&stats));
    }
    match (error, stats.stopped) {
        (Some(message), _) => Err(Failure::failed(anyhow::anyhow!(message))),
        (None, Some(StopReason::Cancelled)) => Ok(ExitCode::from(INTERRUPTED)),
        // A signal during the final fold: the listing is whole, but the run was interrupted.
        (None, _) if context.cancel.is_cancelled() => Ok(ExitCode::from(INTERRUPTED)),
        (None, _) => Ok(ExitCode::SUCCESS),
    }
}

/// The forge at `--url`, detected as `lister detect` does, when no forge name is given.
async fn detected(args: &RunArgs) -> Result<&'static registry::Entry, Failure> {
    let url = args
        .url
        .as_ref()
        .context("give the forge's name, or --url to detect it there")
        .map_err(Failure::usage)?;
    let timeout = seconds("--timeout", args.timeout)?;
    let config = detect::transport(timeout, args.allow_insecure_http);
    let hint = "name the forge: lister run FORGE --url URL";
    let detection = match detect::detect(url, &config).await {
        Ok(detection) => detection,
        Err(
            error @ (lister_http::Error::InvalidBaseUrl { .. }
            | lister_http::Error::InsecureHttp { .. }),
        ) => return Err(Failure::usage(error)),
        Err(error) => {
            let context = format!("cannot detect the forge at --url ({hint})");
            return Err(Failure::failed(anyhow::Error::new(error).context(context)));
        }
    };
    let Some(finding) = &detection.finding else {
        let error = detect::nothing_found(url, &detection);
        return Err(Failure::failed(error.context(hint)));
    };
    let found = detect::describe(finding);
    let Some(forge) = detection.forge() else {
        return Err(Failure::usage(anyhow::anyhow!("--url runs {found}")));
    };
    match finding.confidence {
        detect::Confidence::Certain => {
            tracing::info!("detected {found}: listing it as {}", forge.name);
        }
        detect::Confidence::Likely => tracing::warn!(
            "detected {found}: listing it as {} (name the forge to choose another)",
            forge.name
        ),
    }
    Ok(forge)
}

/// Requests in flight and a second: as given, else generous on a forge's main instance (its
/// quota paces the run; 4 in flight, or one per `--parallel` walk), conservative on a self-hosted one (a small server, often one machine),
/// and unbounded on loopback (the operator's own).
fn politeness(
    args: &RunArgs,
    forge: &crate::registry::Entry,
    url: Option<&url::Url>,
) -> Result<(Option<usize>, Option<f64>), Failure> {
    if let Some(rate) = args.rate
        && !(rate > 0.0 && rate <= 10_000.0)
    {
        let message = format!(
            "--rate needs a number of requests a second above 0, at most 10000, not {rate}"
        );
        return Err(Failure::usage(anyhow::anyhow!(message)));
    }
    let loopback = url.and_then(url::Url::host).is_some_and(|host| match host {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    });
    let main = url.is_none_or(|url| forge.is_main_instance(url));
    let parallel = args.parallel.map_or(1, usize::from);
    let (concurrency, rate) = match (loopback, main) {
        (true, _) => (None, None),
        (false, true) => (Some(parallel.max(4)), None),
        (false, false) => (Some(2), Some(5.0)),
    };
    let concurrency = args.max_concurrency.map(usize::from).or(concurrency);
    Ok((concurrency, args.rate.or(rate)))
}

/// Ctrl-C or SIGTERM cancels the run (the pages already fetched are committed); a second one
/// exits at once with 130.
fn watch_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        for round in 0.. {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            if round > 0 {
                eprintln!("aborted");
                std::process::exit(i32::from(INTERRUPTED));
            }
            tracing::warn!(
                "interrupted: saving the pages already fetched, then stopping (again to abort at once)"
            );
            cancel.cancel();
        }
    });
}

/// The human summary printed on stderr at the end of a run.
fn summary(stats: &RunStats) -> String {
    let outcome = match stats.stopped {
        Some(StopReason::EndOfListing) => "listing complete",
        Some(StopReason::EndOfRange) => "range complete",
        Some(StopReason::MaxPages) => "stopped at --max-pages",
        Some(StopReason::Cancelled) => "interrupted",
        None => "failed",
    };
    let index = |index: &Option<String>| index.clone().unwrap_or_else(|| "-".into());
    format!(
        "{}: {outcome} in {:.1}s\n  pages {} · items rejected {} · origins {} seen, {} new, {} updated, {} rejected, {} repeated, {} disabled\n  \
         requests {} · retries {} · not modified {} · waited for quota {:.1}s\n  cursor {} → {} · saved {}",
        stats.lister,
        stats.duration_seconds,
        stats.pages,
        stats.items_rejected,
        stats.origins_seen,
        stats.origins_new,
        stats.origins_updated,
        stats.origins_rejected,
        stats.origins_duplicate,
        stats.origins_disabled,
        stats.requests,
        stats.retries,
        stats.not_modified,
        stats.quota_wait_seconds,
        index(&stats.first_cursor),
        index(&stats.last_cursor),
        index(&stats.saved_cursor),
    )
}
