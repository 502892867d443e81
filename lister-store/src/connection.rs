//! One connection to either backend, opened and migrated the same way, and a pool of them.
//! Public for crates that run their own statements on the store's database (the queue).
//!
//! diesel has no async connection that spans backends, so [`DbConnection`] is a two-arm enum
//! and [`dispatch!`](crate::dispatch) writes a body once for both arms. PostgreSQL goes through
//! `tokio-postgres` (no libpq); SQLite runs on the blocking thread pool behind
//! `SyncConnectionWrapper`, so database I/O never blocks the runtime's worker threads.

use diesel::SqliteConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::database_url::DatabaseUrl;
use lister_core::{Error, Result};

/// A pool of connections to one database.
pub(crate) type Pool = deadpool::managed::Pool<ConnectionManager>;

/// A connection checked out of a [`Store`](crate::Store)'s pool.
pub type PooledConnection = deadpool::managed::Object<ConnectionManager>;

pub(super) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(super) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes concurrent migrations of one PostgreSQL database (an arbitrary constant).
const MIGRATION_LOCK: i64 = 0x6c69_7374_6572;

/// Session settings of every SQLite connection:
///
/// - 8 KiB pages in a new database (an existing one keeps its page size: SQLite only sets it
///   before the first table). With pages twice as large, the B-trees a fold writes are
///   shallower and the fold reads and writes half as many pages, each one system call:
///   100,000 origins made 92,000 `pread` and `pwrite` calls instead of 169,000, and the fold
///   was a fifth faster. 16 KiB pages made the walk slower and the process 3 MiB larger.
/// - WAL with `synchronous = NORMAL`: a commit is durable once the WAL is synced at a
///   checkpoint, and never torn.
/// - A 2 MiB page cache: 8 MiB listed no faster and held 14 MiB more.
/// - Checkpoints every 1,000 pages (SQLite's default). A checkpoint holds up the commit that
///   runs it, and the pages the walk fetches meanwhile wait in memory. Checkpoints every
///   10,000 pages held commits up for about 100 ms each, long enough for the walk to fill its
///   128 pages ahead: a run of 1,000,000 origins then peaked 4–16 % above one of 100,000 (7
///   runs of the bench; +11 % and +16 % broke the memory target). Every 1,000 pages: +2 to
///   +5 % (6 runs), at the same speed.
/// - One helper thread for sorts: a fold sorts its sightings by URL, and the helper sorts and
///   writes out one part of them while the connection reads the next (the fold of 100,000
///   origins took a fifth less time, in 4 interleaved pairs of runs).
const SQLITE_SETTINGS: &str = "PRAGMA page_size = 8192; PRAGMA busy_timeout = 30000; \
    PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
    PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000; PRAGMA threads = 1;";

/// A connection to one of the two backends.
pub enum DbConnection {
    /// PostgreSQL, through `tokio-postgres`.
    Postgres(Box<AsyncPgConnection>),
    /// SQLite, run on the blocking thread pool.
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
}

/// Runs `$body` with `$conn` bound to the connection of whichever backend `$db` holds (a
/// `&mut` [`DbConnection`]): one body, written once, for both.
#[macro_export]
macro_rules! dispatch {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::connection::DbConnection::Postgres($conn) => {
                let $conn: &mut diesel_async::AsyncPgConnection = &mut *$conn;
                $body
            }
            $crate::connection::DbConnection::Sqlite($conn) => $body,
        }
    };
}

/// How long a PostgreSQL connection may take to open, handshake included, unless the URL's
/// `connect_timeout` (seconds, as libpq reads it) says otherwise.
const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The connect timeout of a PostgreSQL URL.
fn postgres_connect_timeout(raw: &str) -> std::time::Duration {
    let url = url::Url::parse(raw).ok();
    let seconds = url.and_then(|url| {
        let pairs = url.query_pairs();
        pairs
            .filter(|(key, _)| key == "connect_timeout")
            .find_map(|(_, value)| value.parse().ok())
    });
    seconds
        .filter(|seconds: &u64| *seconds > 0)
        .map_or(DEFAULT_CONNECT_TIMEOUT, std::time::Duration::from_secs)
}

/// Connects to PostgreSQL. A server (or role) at its connection limit is asked again, after
/// a pause that doubles up to a second, until the connect timeout ends the attempt: many
/// one-shot commands at once (`lister queue grab` from 200 consumers) queue up instead of
/// failing.
async fn connect_postgres(raw: &str) -> std::result::Result<AsyncPgConnection, String> {
    use tokio_postgres::error::SqlState;
    let mut pause = std::time::Duration::from_millis(20);
    loop {
        match tokio_postgres::connect(raw, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                let conn = AsyncPgConnection::try_from_client_and_connection(client, connection);
                return conn.await.map_err(|err| err.to_string());
            }
            Err(err) if err.code() == Some(&SqlState::TOO_MANY_CONNECTIONS) => {
                tracing::debug!(
                    ?pause,
                    "PostgreSQL is at its connection limit; asking again"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(1));
            }
            Err(err) => return Err(err.to_string()),
        }
    }
}

/// What is wrong with a SQLite database path, in plain words: a directory, or a directory
/// that does not exist.
pub(super) fn sqlite_path_error(path: &std::path::Path) -> Option<String> {
    if path.is_dir() {
        return Some("it is a directory, not a database file".into());
    }
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty())?;
    (!dir.is_dir()).then(|| format!("the directory {} does not exist", dir.display()))
}

impl DbConnection {
    /// Connects and applies session settings. A PostgreSQL server that does not answer is
    /// given up after its connect timeout; TCP keepalives are on (tokio-postgres's default),
    /// so a connection to a server that vanished fails instead of hanging.
    pub(crate) async fn establish(url: &DatabaseUrl) -> Result<DbConnection> {
        let open_error = |reason: String| Error::Open {
            url: url.to_string(),
            reason,
        };
        match url {
            DatabaseUrl::Postgres(raw) => {
                let limit = postgres_connect_timeout(raw);
                match tokio::time::timeout(limit, connect_postgres(raw)).await {
                    Ok(connected) => connected
                        .map(|conn| DbConnection::Postgres(Box::new(conn)))
                        .map_err(open_error),
                    Err(_) => Err(open_error(format!(
                        "the server did not answer within {} s (set connect_timeout=SECONDS in \
                         the URL to wait longer)",
                        limit.as_secs()
                    ))),
                }
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(reason) = sqlite_path_error(path) {
                    return Err(open_error(reason));
                }
                let path = path
                    .to_str()
                    .ok_or_else(|| open_error("the path is not UTF-8".into()))?;
                let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .map_err(|err| open_error(err.to_string()))?;
                // WAL lets readers run beside the writer; busy_timeout makes writers queue.
                // Switching to WAL takes an exclusive lock without waiting on busy_timeout, so
                // two processes opening a database at once retry that for a while.
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    match conn.batch_execute(SQLITE_SETTINGS).await {
                        Ok(()) => return Ok(DbConnection::Sqlite(conn)),
                        Err(err) if attempts < 300 && err.to_string().contains("locked") => {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(err) => return Err(open_error(err.to_string())),
                    }
                }
            }
        }
    }

    /// Applies the embedded migrations that are not applied yet, one process at a time.
    pub(crate) async fn migrate(self, url: &DatabaseUrl) -> Result<DbConnection> {
        let fail = |reason: String| Error::Open {
            url: url.to_string(),
            reason,
        };
        match self {
            DbConnection::Postgres(conn) => {
                let mut conn = *conn;
                let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
                conn.batch_execute(&lock)
                    .await
                    .map_err(|err| fail(err.to_string()))?;
                let migrated = tokio::task::spawn_blocking(move || {
                    let mut wrapper: AsyncConnectionWrapper<AsyncPgConnection> = conn.into();
                    let result = wrapper
                        .run_pending_migrations(POSTGRES_MIGRATIONS)
                        .map(drop);
                    (wrapper.into_inner(), result.map_err(|err| err.to_string()))
                })
                .await
                .map_err(|err| fail(err.to_string()))?;
                let (mut conn, result) = migrated;
                let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
                conn.batch_execute(&unlock)
                    .await
                    .map_err(|err| fail(err.to_string()))?;
                result.map_err(|err| fail(format!("migration failed: {err}")))?;
                Ok(DbConnection::Postgres(Box::new(conn)))
            }
            DbConnection::Sqlite(mut conn) => {
                conn.spawn_blocking(|conn| {
                    conn.immediate_transaction(|conn| {
                        conn.run_pending_migrations(SQLITE_MIGRATIONS)
                            .map(drop)
                            .map_err(diesel::result::Error::QueryBuilderError)
                    })
                })
                .await
                .map_err(|err| fail(format!("migration failed: {err}")))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::{QueryableByName, sql_query, sql_types::BigInt};
    use diesel_async::RunQueryDsl;

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }

    #[derive(QueryableByName)]
    struct Checkpoint {
        #[diesel(sql_type = BigInt)]
        wal_autocheckpoint: i64,
    }

    async fn setting(conn: &mut DbConnection, pragma: &str) -> i64 {
        let query = format!("SELECT {pragma} AS value FROM pragma_{pragma}()");
        sql_query(query)
            .get_result::<Setting>(sqlite(conn))
            .await
            .unwrap()
            .value
    }

    fn remove_database(file: &std::path::Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }

    fn sqlite(conn: &mut DbConnection) -> &mut SyncConnectionWrapper<SqliteConnection> {
        match conn {
            DbConnection::Sqlite(conn) => conn,
            DbConnection::Postgres(_) => unreachable!("a SQLite URL opens a SQLite connection"),
        }
    }

    /// A role limited to one connection: a second connection waits for the first to close
    /// instead of failing with "too many connections".
    #[tokio::test]
    async fn a_connection_limit_is_waited_out() {
        let Some(database) = crate::testing::TestDatabase::postgres().await else {
            return;
        };
        let role = format!("lister_limited_{}", std::process::id());
        let sql =
            format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CONNECTION LIMIT 1");
        crate::testing::TestDatabase::execute(&database, &sql).await;
        let mut url = url::Url::parse(&database.url).unwrap();
        url.set_username(&role).unwrap();
        let url = DatabaseUrl::parse(url.as_str()).unwrap();
        let first = DbConnection::establish(&url).await.unwrap();
        let waiting = tokio::spawn({
            let url = url.clone();
            async move { DbConnection::establish(&url).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the second connection waits");
        drop(first);
        let second = waiting.await.unwrap();
        assert!(second.is_ok(), "{:?}", second.err());
        drop(second);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let sql = format!("DROP ROLE IF EXISTS {role}");
        crate::testing::TestDatabase::execute(&database, &sql).await;
        database.drop_database().await;
    }

    #[tokio::test]
    async fn a_missing_directory_or_a_directory_is_named_plainly() {
        let dir = std::env::temp_dir().join(format!("lister-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::Sqlite(dir.clone());
        let error = DbConnection::establish(&url)
            .await
            .err()
            .expect("no database");
        assert!(error.to_string().contains("it is a directory"), "{error}");
        let missing = DatabaseUrl::Sqlite(dir.join("no/such/place/lister.db"));
        let error = DbConnection::establish(&missing)
            .await
            .err()
            .expect("no directory");
        assert!(
            error.to_string().contains("no/such/place does not exist"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_postgresql_server_that_never_answers_is_given_up() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut accepted = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                accepted.push(stream);
            }
        });
        let url = format!("postgres://lister@127.0.0.1:{port}/db?connect_timeout=1");
        let started = std::time::Instant::now();
        let url = DatabaseUrl::parse(&url).unwrap();
        let error = DbConnection::establish(&url)
            .await
            .err()
            .expect("no connection");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            error.to_string().contains("did not answer within 1 s"),
            "{error}"
        );
        held.abort();
        assert_eq!(
            postgres_connect_timeout("postgres://h/db"),
            DEFAULT_CONNECT_TIMEOUT
        );
    }

    #[tokio::test]
    async fn sqlite_connections_get_the_session_settings() {
        let file = std::env::temp_dir().join(format!("lister_settings_{}.db", std::process::id()));
        let url = DatabaseUrl::parse(&format!("sqlite://{}", file.display())).unwrap();
        let mut conn = DbConnection::establish(&url).await.unwrap();
        sqlite(&mut conn)
            .batch_execute("CREATE TABLE t (x)")
            .await
            .unwrap();
        let settings = [
            setting(&mut conn, "page_size").await,
            setting(&mut conn, "threads").await,
            setting(&mut conn, "cache_size").await,
            setting(&mut conn, "synchronous").await,
        ];
        // Not readable as a table-valued function: it may checkpoint as a side effect.
        let checkpoint_every = sql_query("PRAGMA wal_autocheckpoint")
            .get_result::<Checkpoint>(sqlite(&mut conn))
            .await
            .unwrap()
            .wal_autocheckpoint;
        drop(conn);
        remove_database(&file);
        assert_eq!(settings, [8192, 1, -2000, 1], "synchronous = 1 is NORMAL");
        assert_eq!(checkpoint_every, 1000);
    }

    #[tokio::test]
    async fn an_existing_sqlite_database_keeps_its_page_size() {
        let file = std::env::temp_dir().join(format!("lister_page_size_{}.db", std::process::id()));
        let path = file.to_str().unwrap();
        let mut older = SyncConnectionWrapper::<SqliteConnection>::establish(path)
            .await
            .unwrap();
        older
            .batch_execute("PRAGMA page_size = 4096; CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        drop(older);
        let url = DatabaseUrl::parse(&format!("sqlite://{path}")).unwrap();
        let mut conn = DbConnection::establish(&url).await.unwrap();
        let page_size = setting(&mut conn, "page_size").await;
        let rows = sql_query("SELECT count(*) AS value FROM t")
            .get_result::<Setting>(sqlite(&mut conn))
            .await
            .unwrap()
            .value;
        drop(conn);
        remove_database(&file);
        assert_eq!((page_size, rows), (4096, 1));
    }
}
