//! Log output: tracing to stderr, as text or JSON, drawn around the progress line.

use std::io::Write;

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::cli::{Cli, LogFormat};

/// Installs the global subscriber: `RUST_LOG` if set, else a level from -q/-v. `bar` is the
/// progress line, hidden while a log line is written.
pub(crate) fn init(cli: &Cli, bar: ProgressBar) {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let default = format!("warn,lister={level},lister_core={level},lister_http={level}");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarWriter(bar));
    match cli.log_format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Writes to stderr with the progress line suspended, so lines and bar never mix.
#[derive(Clone)]
struct BarWriter(ProgressBar);

/// One log line's writer.
struct BarLine(ProgressBar);

impl Write for BarLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for BarWriter {
    type Writer = BarLine;

    fn make_writer(&'a self) -> BarLine {
        BarLine(self.0.clone())
    }
}
