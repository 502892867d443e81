//! The `lister` command: list every repository of a code forge into a database.

mod cli;
mod config;
mod credentials;
mod detect;
mod export;
mod failure;
mod logging;
mod malloc;
mod output;
mod progress;
mod queue;
mod registry;
mod run;
mod store;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    malloc::limit_arenas();
    let cli = Cli::parse();
    let bar = match &cli.command {
        Command::Run(_) => progress::bar(cli.quiet),
        _ => indicatif::ProgressBar::hidden(),
    };
    logging::init(&cli, bar.clone());
    // One thread runs the walk and its HTTP connection, so a response's bytes need no
    // hand-over between threads. Database work and page parsing run on the blocking pool: a
    // page commit, a read or a fold beside it, and a page parsing while the next is fetched.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .thread_keep_alive(std::time::Duration::from_secs(600))
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return failure::Failure::failed(err).report(),
    };
    let outcome = runtime.block_on(async {
        match &cli.command {
            Command::Run(args) => run::run(&cli, args, bar).await,
            Command::Forges => registry::print_forges(),
            Command::Detect(args) => detect::command(args).await,
            Command::Listers(args) => export::listers(&cli, args).await,
            Command::Origins(args) => export::origins(&cli, args).await,
            Command::Queue(command) => queue::run(&cli, command).await,
            Command::Completions { shell } => {
                let mut script = Vec::new();
                clap_complete::generate(*shell, &mut Cli::command(), "lister", &mut script);
                output::finish(std::io::Write::write_all(&mut std::io::stdout(), &script))
            }
        }
    });
    outcome.unwrap_or_else(failure::Failure::report)
}
