//! Opening connections to either backend, and pools of them. Public for crates that run
//! their own statements on the store's database (the queue).
//!
//! What differs between the backends is in the `backend` module; this module chooses the
//! backend a URL names, once, when it opens a connection.

pub use crate::backend::{DbConnection, Executes, Loads, Running, columns};

use crate::backend::{Opening, postgres, sqlite};
use crate::database_url::DatabaseUrl;
use crate::read_only;
use lister_core::{Error, Result};

/// A pool of connections to one database.
pub(crate) type Pool = deadpool::managed::Pool<ConnectionManager>;

/// A connection checked out of a [`Store`](crate::Store)'s pool.
pub type PooledConnection = deadpool::managed::Object<ConnectionManager>;

impl DbConnection {
    /// Connects to the database at `url` and applies session settings.
    pub(crate) async fn establish(url: &DatabaseUrl) -> Result<DbConnection> {
        Self::open(url, Opening::Plain).await
    }

    /// Connects to the database at `url` and applies the embedded migrations that are not
    /// applied yet, one process at a time.
    pub(crate) async fn establish_migrated(url: &DatabaseUrl) -> Result<DbConnection> {
        Self::open(url, Opening::Migrated).await
    }

    /// A connection that cannot write, to a database whose schema is current (see
    /// `read_only`).
    pub(crate) async fn establish_reader(url: &DatabaseUrl) -> Result<DbConnection> {
        Self::open(url, Opening::Reader).await
    }

    /// Connects to the database at `url`, as `opening` says.
    async fn open(url: &DatabaseUrl, opening: Opening) -> Result<DbConnection> {
        let open_error = |reason: String| Error::Open {
            url: url.to_string(),
            reason,
        };
        let opened = match url {
            DatabaseUrl::Postgres(raw) => postgres::open(raw, opening)
                .await
                .map(|conn| DbConnection::Postgres(Box::new(conn))),
            DatabaseUrl::Sqlite(path) => {
                sqlite::open(path, opening).await.map(DbConnection::Sqlite)
            }
        };
        let mut conn = opened.map_err(open_error)?;
        if opening == Opening::Reader {
            read_only::check_schema(&mut conn)
                .await
                .map_err(open_error)?;
        }
        Ok(conn)
    }
}

/// Opens pooled connections on demand, handing out the connection it was given first.
pub struct ConnectionManager {
    url: DatabaseUrl,
    first: std::sync::Mutex<Option<DbConnection>>,
}

impl ConnectionManager {
    /// Connections to `url`; `first`, when given, is the first one handed out.
    pub(crate) fn new(url: DatabaseUrl, first: Option<DbConnection>) -> ConnectionManager {
        ConnectionManager {
            url,
            first: std::sync::Mutex::new(first),
        }
    }
}

impl deadpool::managed::Manager for ConnectionManager {
    type Type = DbConnection;
    type Error = Error;

    async fn create(&self) -> Result<DbConnection> {
        let first = match self.first.lock() {
            Ok(mut first) => first.take(),
            Err(_) => None,
        };
        match first {
            Some(conn) => Ok(conn),
            None => DbConnection::establish(&self.url).await,
        }
    }

    async fn recycle(
        &self,
        _conn: &mut DbConnection,
        _metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<Error> {
        Ok(())
    }
}
