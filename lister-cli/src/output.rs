//! Writing command output to stdout: JSON lines, and how a write failure ends a command.

use std::io::Write;
use std::process::ExitCode;

use crate::failure::Failure;

/// Writes `value` as one JSON object on its own line.
pub(crate) fn json_line(
    out: &mut impl Write,
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// A closed pipe (`lister origins | head`) is a normal end; other write errors fail.
pub(crate) fn finish(result: std::io::Result<()>) -> Result<ExitCode, Failure> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(err) => Err(Failure::failed(
            anyhow::Error::new(err).context("cannot write to stdout"),
        )),
    }
}
