//! [`Store`]: the pools of connections to one database, and how they are opened.

use std::time::Duration;

use crate::connection::{ConnectionManager, DbConnection, Pool, PooledConnection};
use crate::database_url::DatabaseUrl;
use lister_core::{Backend, Error, Result};

/// The database behind every lister: a small pool of connections to SQLite or PostgreSQL.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// One connection that writes pages and folds sightings: SQLite keeps its page cache warm
    /// only on the connection that made the last write.
    writer: Pool,
    url: DatabaseUrl,
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
        let conn = DbConnection::establish_migrated(&url).await?;
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
        let conn = DbConnection::establish_migrated(&url).await?;
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
        Store { pool, writer, url }
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

    /// A pooled connection, for readers and for crates that run their own statements on the
    /// store's database (the queue).
    pub async fn connection(&self) -> Result<PooledConnection> {
        self.checkout(&self.pool).await
    }

    /// The writer connection (see [`Store`]'s `writer`).
    pub(crate) async fn writer(&self) -> Result<PooledConnection> {
        self.checkout(&self.writer).await
    }

    /// A pooled connection if one is free at once (a PostgreSQL fold's helper): waiting for
    /// a second connection while holding one could deadlock concurrent folds, and a store of
    /// one connection has none.
    pub(crate) async fn free_connection(&self) -> Option<PooledConnection> {
        let at_once = deadpool::managed::Timeouts {
            wait: Some(Duration::ZERO),
            create: None,
            recycle: None,
        };
        self.pool.timeout_get(&at_once).await.ok()
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
