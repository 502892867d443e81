//! Retrying PostgreSQL transactions that lost a serialization conflict.
//!
//! The queue's statements never wait for a row lock while holding another (grabs skip locked
//! rows, acks lock their rows without waiting or one at a time), so they cannot deadlock. At
//! the default isolation level (read committed) there are no serialization failures either; a
//! server configured for `serializable` can raise them (SQLSTATE 40001), and then the whole
//! transaction runs again, a bounded number of times.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};

/// How many times a transaction runs at most.
const ATTEMPTS: u32 = 5;

/// Counts the runs of one transaction and decides whether a failed one runs again.
///
/// (A loop rather than a function taking an async closure: futures holding such closures are
/// not `Send` for every lifetime, and callers spawn them.)
#[derive(Debug)]
pub(crate) struct Retry {
    attempt: u32,
}

impl Retry {
    pub(crate) fn new() -> Retry {
        Retry { attempt: 1 }
    }

    /// Whether to run the transaction again after `outcome`; waits a little first if so.
    pub(crate) async fn again<T>(&mut self, outcome: &QueryResult<T>) -> bool {
        let retry = match outcome {
            Err(err) => self.attempt < ATTEMPTS && is_serialization_failure(err),
            Ok(_) => false,
        };
        if retry {
            tokio::time::sleep(Duration::from_millis(5 << self.attempt)).await;
            self.attempt += 1;
        }
        retry
    }
}

fn is_serialization_failure(err: &DieselError) -> bool {
    matches!(
        err,
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)
    )
}
