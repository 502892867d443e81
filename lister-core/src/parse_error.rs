//! The error of a page that did not parse.

/// A page that did not parse: a deterministic failure, so the run stops with it. (A body cut
/// short by a broken connection never gets here: the transport sees the broken read, and
/// retries. A body that ends early with a matching `Content-Length` does, and stops the run.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unparsable body at JSON path `{path}`: {message}")]
pub struct ParseError {
    /// Where in the document parsing failed (`.` for the root).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl ParseError {
    /// A parse error that is not about a JSON path.
    pub fn new(message: impl Into<String>) -> Self {
        ParseError {
            path: ".".into(),
            message: message.into(),
        }
    }
}
