//! The two backends behind one interface.
//!
//! A [`DbConnection`] holds a connection to PostgreSQL or to SQLite. What differs between the
//! two is one trait, [`StoreBackend`], implemented once per backend: [`postgres`] for
//! `AsyncPgConnection` (through `tokio-postgres`, no libpq), [`sqlite`] for SQLite's
//! connection run on the blocking thread pool behind `SyncConnectionWrapper`, so that database
//! I/O never blocks the runtime's worker threads. An operation asks
//! [`DbConnection::backend`] for the interface and calls it once (one commit, one fold); no
//! operation looks at which backend it runs on.
//!
//! A diesel query that is the same on both backends is written once, in the operation that
//! runs it, and run through [`DbConnection::load`], [`get_result`](DbConnection::get_result),
//! [`first`](DbConnection::first) or [`execute`](DbConnection::execute).
//!
//! A new operation that differs by backend is a method of [`StoreBackend`] and one function
//! in each backend's module; the operation's own module calls it and never the reverse.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use diesel::query_dsl::methods::LimitDsl;
use diesel::result::QueryResult;
use diesel::sqlite::Sqlite;
use diesel::{Selectable, SqliteConnection};
use diesel_async::methods::{ExecuteDsl, LoadQuery};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::commit_rows::{Commit, StaleVersion};
use crate::fold_sql::Counts;
use lister_core::store::PageWritten;
use lister_core::{Error, Result};

/// A connection to one of the two backends.
pub enum DbConnection {
    /// PostgreSQL, through `tokio-postgres`.
    Postgres(Box<AsyncPgConnection>),
    /// SQLite, run on the blocking thread pool.
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
}

/// What the store does differently on each backend: each method is one operation (a page
/// commit, a fold) or one piece of SQL that differs. Implemented by
/// [`postgres`] and [`sqlite`].
#[async_trait]
pub(crate) trait StoreBackend: Send {
    /// Writes a page's sightings, its lister's advanced state and its page records in one
    /// transaction; `Err(StaleVersion)`, with nothing written, when the state write is
    /// refused.
    async fn commit_page(
        &mut self,
        commit: Commit<'_>,
    ) -> Result<std::result::Result<PageWritten, StaleVersion>>;

    /// Whether a fold runs on the store's writer connection (SQLite: one writer at a time),
    /// rather than on a pooled connection beside the writer, helped by a second one.
    fn folds_on_writer(&self) -> bool;

    /// Folds the sightings of one instance (or of all) into `listed_origins`, in committed
    /// steps of at most `step` sightings where the backend commits in steps, with `helper`
    /// (a second connection, when one was free at once) folding part of each step. Returns
    /// what folded, and the error that stopped the rest, if any.
    async fn fold(
        &mut self,
        helper: Option<&mut DbConnection>,
        lister_id: Option<i64>,
        step: i64,
    ) -> (Counts, Option<Error>);

    /// The `n`th bound parameter in SQL text (`$n` or `?n`).
    fn placeholder(&self, n: u8) -> String;

    /// The statement that begins a transaction that will write (SQLite takes the write lock
    /// at once, so that no other writer comes between its reads and its writes).
    fn begin_writing(&self) -> &'static str;

    /// What a `SELECT … FOR` clause says so that rows other transactions are taking are
    /// skipped (PostgreSQL's `FOR UPDATE SKIP LOCKED`; nothing on SQLite, whose writers go one
    /// at a time).
    fn skip_locked(&self) -> &'static str;

    /// The SQL expression of how many origins a `page_validators` row remembers (`NULL` when
    /// it remembers none), as a `BIGINT`.
    fn remembered_origins(&self) -> &'static str;

    /// The version of the newest migration this lister embeds for the backend.
    fn newest_migration(&self) -> String;
}

/// How a connection is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    /// With the session settings, for reading and writing.
    Plain,
    /// As [`Opening::Plain`], then with every embedded migration applied.
    Migrated,
    /// Unable to write, and without touching the database's files or settings: see
    /// `read_only`.
    Reader,
}

/// The newest migration's version in `source`, as `__diesel_schema_migrations` records it.
fn newest<DB: diesel::backend::Backend>(
    source: &impl diesel::migration::MigrationSource<DB>,
) -> String {
    let migrations = source.migrations().unwrap_or_default();
    let versions = migrations.iter().map(|m| m.name().version().to_string());
    versions.max().unwrap_or_default()
}

/// A query running on either backend (boxed: one allocation per query, never per row).
pub type Running<'c, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = QueryResult<T>> + Send + 'c>>;

/// A query whose rows of type `T` both backends load: a diesel query written once for both.
pub trait Loads<'q, T>:
    LoadQuery<'q, AsyncPgConnection, T>
    + LoadQuery<'q, SyncConnectionWrapper<SqliteConnection>, T>
    + RunQueryDsl<AsyncPgConnection>
    + RunQueryDsl<SyncConnectionWrapper<SqliteConnection>>
    + Send
    + 'q
{
}

impl<'q, T, Q> Loads<'q, T> for Q where
    Q: LoadQuery<'q, AsyncPgConnection, T>
        + LoadQuery<'q, SyncConnectionWrapper<SqliteConnection>, T>
        + RunQueryDsl<AsyncPgConnection>
        + RunQueryDsl<SyncConnectionWrapper<SqliteConnection>>
        + Send
        + 'q
{
}

/// A statement both backends execute: a diesel statement written once for both.
pub trait Executes<'q>:
    ExecuteDsl<AsyncPgConnection> + ExecuteDsl<SyncConnectionWrapper<SqliteConnection>> + Send + 'q
{
}

impl<'q, Q> Executes<'q> for Q where
    Q: ExecuteDsl<AsyncPgConnection>
        + ExecuteDsl<SyncConnectionWrapper<SqliteConnection>>
        + Send
        + 'q
{
}

/// The columns of `T`, to select it in a query both backends run: the same on both, where
/// `T::as_select()` names one backend.
pub fn columns<T: Selectable<Sqlite>>() -> <T as Selectable<Sqlite>>::SelectExpression {
    T::construct_selection()
}

impl DbConnection {
    /// What differs by backend, for this connection's backend.
    pub(crate) fn backend(&mut self) -> &mut dyn StoreBackend {
        match self {
            DbConnection::Postgres(conn) => &mut **conn,
            DbConnection::Sqlite(conn) => conn,
        }
    }

    /// Loads every row of `query`.
    pub fn load<'c, 'q: 'c, T, Q>(&'c mut self, query: Q) -> Running<'c, Vec<T>>
    where
        T: Send + 'static,
        Q: Loads<'q, T>,
    {
        match self {
            DbConnection::Postgres(conn) => Box::pin(query.load(&mut **conn)),
            DbConnection::Sqlite(conn) => Box::pin(query.load(conn)),
        }
    }

    /// Loads the one row of `query` (diesel's `NotFound` when there is none).
    pub fn get_result<'c, 'q: 'c, T, Q>(&'c mut self, query: Q) -> Running<'c, T>
    where
        T: Send + 'static,
        Q: Loads<'q, T>,
    {
        match self {
            DbConnection::Postgres(conn) => Box::pin(query.get_result(&mut **conn)),
            DbConnection::Sqlite(conn) => Box::pin(query.get_result(conn)),
        }
    }

    /// Loads the first row of `query` (diesel's `NotFound` when there is none).
    pub fn first<'c, 'q: 'c, T, Q>(&'c mut self, query: Q) -> Running<'c, T>
    where
        T: Send + 'static,
        Q: LimitDsl,
        Q::Output: Loads<'q, T>,
    {
        self.get_result(query.limit(1))
    }

    /// Executes `statement`, and returns how many rows it changed.
    pub fn execute<'c, 'q: 'c, Q: Executes<'q>>(&'c mut self, statement: Q) -> Running<'c, usize> {
        match self {
            DbConnection::Postgres(conn) => Box::pin(ExecuteDsl::execute(statement, &mut **conn)),
            DbConnection::Sqlite(conn) => Box::pin(ExecuteDsl::execute(statement, conn)),
        }
    }

    /// Executes `sql`, one or more statements without parameters.
    pub async fn batch_execute(&mut self, sql: &str) -> QueryResult<()> {
        match self {
            DbConnection::Postgres(conn) => conn.batch_execute(sql).await,
            DbConnection::Sqlite(conn) => conn.batch_execute(sql).await,
        }
    }
}
