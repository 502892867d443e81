//! Storage through diesel: SQLite (the embedded default) and PostgreSQL, chosen by URL, one
//! code path for both.
//!
//! Tables (see `docs/architecture.md` for the SQL): `listers` (instances and their state),
//! `listed_origins` (every origin seen), `origin_sightings` (origins committed by pages, not
//! yet folded into `listed_origins`), `page_validators` (ETags of listing pages).

mod commit;
mod commit_postgres;
pub(crate) mod connection;
mod database_url;
mod fold;
mod fold_postgres;
mod fold_sqlite;
mod listers;
mod origins;
mod quarantine;
mod queue_rows_after_fold;
mod read_only;
pub(crate) mod schema;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

pub use commit::{PageWrite, PageWritten, StateWrite};
pub use database_url::{DatabaseUrl, redact};
pub use fold::Folded;
pub use listers::{ListerRecord, ListerSummary};
pub use origins::PageRecord;
pub use quarantine::QuarantinedSighting;

use crate::{Error, Result};
use connection::{ConnectionManager, DbConnection};

type Pool = deadpool::managed::Pool<ConnectionManager>;
pub(crate) type PooledConnection = deadpool::managed::Object<ConnectionManager>;

/// Which database engine a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for shared, multi-machine use.
    Postgres,
}

/// The database behind every lister: a small pool of connections to SQLite or PostgreSQL.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// One connection that writes pages and folds sightings: SQLite keeps its page cache warm
    /// only on the connection that made the last write.
    writer: Pool,
    url: DatabaseUrl,
    /// Where this process's queue grabs stopped (see `queue::resume`).
    pub(crate) resume: std::sync::Arc<crate::queue::ResumePoints>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database named by `url` (see [`DatabaseUrl::parse`]), creating a SQLite file
    /// if there is none, and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        Self::open_url(DatabaseUrl::parse(url)?).await
    }

    /// Opens an already parsed database URL, for a run: a few pooled connections for
    /// readers, and one for the writer.
    pub async fn open_url(url: DatabaseUrl) -> Result<Store> {
        let conn = DbConnection::establish(&url).await?.migrate(&url).await?;
        let size = match url {
            DatabaseUrl::Sqlite(_) => 4,
            DatabaseUrl::Postgres(_) => 8,
        };
        let pool = Self::pool(&url, size, Some(conn))?;
        let writer = Self::pool(&url, 1, None)?;
        Ok(Self::with_pools(url, pool, writer))
    }

    /// Opens the database for a one-shot command (`lister queue grab`, `ack`…), which reads
    /// and writes through one connection from start to end: a thousand consumers calling it
    /// at once take a thousand connections, not several thousand.
    pub async fn open_one_shot(url: DatabaseUrl) -> Result<Store> {
        let conn = DbConnection::establish(&url).await?.migrate(&url).await?;
        let pool = Self::pool(&url, 1, Some(conn))?;
        Ok(Self::with_pools(url, pool.clone(), pool))
    }

    /// Opens the database for reading only (`lister listers`, `lister origins`, `lister queue
    /// stats`), through one connection that cannot write: it works on a read-only file or
    /// mount, a full disk, or a PostgreSQL standby or read-only role. Nothing is migrated: a
    /// database whose schema is older than this lister's is refused, and a writing command
    /// brings it up to date.
    pub async fn open_reader(url: DatabaseUrl) -> Result<Store> {
        let conn = DbConnection::establish_reader(&url).await?;
        let pool = Self::pool(&url, 1, Some(conn))?;
        Ok(Self::with_pools(url, pool.clone(), pool))
    }

    /// A pool of at most `size` connections to `url`, handing out `first` before it opens
    /// any.
    fn pool(url: &DatabaseUrl, size: usize, first: Option<DbConnection>) -> Result<Pool> {
        Pool::builder(ConnectionManager::new(url.clone(), first))
            .max_size(size)
            .wait_timeout(Some(Duration::from_secs(60)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|err| Error::Open {
                url: url.to_string(),
                reason: err.to_string(),
            })
    }

    fn with_pools(url: DatabaseUrl, pool: Pool, writer: Pool) -> Store {
        Store {
            pool,
            writer,
            url,
            resume: Default::default(),
        }
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        match self.url {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The store's URL (its `Display` hides any password).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub(crate) async fn connection(&self) -> Result<PooledConnection> {
        self.checkout(&self.pool).await
    }

    /// The writer connection (see [`Store`]'s `writer`).
    pub(crate) async fn writer(&self) -> Result<PooledConnection> {
        self.checkout(&self.writer).await
    }

    async fn checkout(&self, pool: &Pool) -> Result<PooledConnection> {
        pool.get().await.map_err(|err| match err {
            deadpool::managed::PoolError::Backend(err) => err,
            other => Error::Open {
                url: self.url.to_string(),
                reason: other.to_string(),
            },
        })
    }
}

/// The current time, truncated to the microseconds both backends keep.
pub(crate) fn now() -> NaiveDateTime {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros())
        .unwrap_or(now)
        .naive_utc()
}

impl From<diesel::result::Error> for Error {
    fn from(source: diesel::result::Error) -> Self {
        Error::Query {
            action: "running a transaction",
            source,
        }
    }
}
