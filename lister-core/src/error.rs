//! The error type of lister-core.

/// Everything that can go wrong in lister-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL is not one lister understands.
    #[error("invalid database URL `{url}`: {reason}")]
    DatabaseUrl {
        /// The URL, with any password removed.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Connecting to or preparing the database failed.
    #[error("cannot open database {url}: {reason}{}", in_plain_words(reason))]
    Open {
        /// The URL, with any password removed.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A database statement failed (with the cause in plain words, when it is the disk's or
    /// the database's rights rather than lister's).
    #[error("database error while {action}: {source}{}", in_plain_words(&.source.to_string()))]
    Query {
        /// What the store was doing.
        action: &'static str,
        /// The database's error (a `diesel::result::Error` from `lister-store`).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Another run changed a lister's state since this run read it.
    #[error(
        "the state of lister {lister} was changed by another run (version {expected} expected, \
         found {found}); is another `lister run` of this instance running?"
    )]
    StateConflict {
        /// The lister instance.
        lister: String,
        /// The state version this run last wrote or read.
        expected: i64,
        /// The version found in the database.
        found: i64,
    },
    /// A saved state or stored JSON does not decode.
    #[error("stored {what} does not decode: {source}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// The listing goes back or round: a next cursor that does not come after the current one,
    /// or an opaque cursor already requested in this run.
    #[error("pagination loop: {0}")]
    PaginationLoop(String),
    /// A successful page did not parse where it must (not a list of items, an unreadable next
    /// cursor): a deterministic failure, not retried.
    #[error("the page at {url} does not parse: {source}")]
    PageParse {
        /// The page's URL.
        url: String,
        /// What did not parse, and where.
        #[source]
        source: crate::parse_error::ParseError,
    },
    /// Fetching a page failed for good.
    #[error("{0}")]
    Fetch(#[source] crate::source::FetchError),
    /// A run option is invalid (a range bound that does not parse…).
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A queue operation was refused.
    #[error("{0}")]
    Queue(String),
    /// An ack named a lease that is not current: unknown, already acked, or expired and
    /// granted again to another consumer. Nothing was recorded.
    #[error(
        "lease {lease_token} is not held: it is unknown, was already acked, or expired and its \
         origin was granted to another consumer; the visit's outcome was not recorded"
    )]
    StaleLease {
        /// The refused lease token.
        lease_token: String,
    },
}

/// What a database error means for the operator, when it is the environment's doing: a full
/// disk, a read-only database, files SQLite cannot open.
fn in_plain_words(message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|word| message.contains(word));
    if says(&["disk is full", "no space left", "could not extend file"]) {
        " (the disk holding the database is full: nothing was half-written; free space and \
         run again)"
    } else if says(&[
        "readonly database",
        "read-only transaction",
        "read-only file",
    ]) {
        " (the database is read-only here: reading commands work, writing ones need write \
         access)"
    } else if says(&["unable to open database file"]) {
        " (SQLite cannot open or create its files: is the directory writable?)"
    } else {
        ""
    }
}

impl Error {
    /// Whether this is an ack refused because its lease is not current.
    pub fn is_stale_lease(&self) -> bool {
        matches!(self, Error::StaleLease { .. })
    }

    /// Makes a database error an [`Error::Query`] saying what the store was doing.
    pub fn query<E>(action: &'static str) -> impl FnOnce(E) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| Error::Query {
            action,
            source: Box::new(source),
        }
    }
}

/// `Result` with lister-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
