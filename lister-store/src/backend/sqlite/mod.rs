//! The SQLite backend: connections run on the blocking thread pool behind
//! `SyncConnectionWrapper`, and [`StoreBackend`] for them. Its page commit is one immediate
//! transaction of multi-row inserts ([`commit`]); its fold, one immediate transaction of
//! sorted upserts ([`fold`]).

mod commit;
#[cfg(test)]
mod first_listing_tests;
mod fold;
mod queue_rows_after_fold;

use std::path::Path;

use async_trait::async_trait;
use diesel::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, Opening, StoreBackend, newest};
use crate::commit_rows::{Commit, StaleVersion};
use crate::fold_sql::Counts;
use lister_core::store::PageWritten;
use lister_core::{Error, Result};

/// A SQLite connection, run on the blocking thread pool.
type Connection = SyncConnectionWrapper<SqliteConnection>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

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
const SETTINGS: &str = "PRAGMA page_size = 8192; PRAGMA busy_timeout = 30000; \
    PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
    PRAGMA cache_size = -2000; PRAGMA wal_autocheckpoint = 1000; PRAGMA threads = 1;";

/// Session settings of a SQLite reader: no write, not even to the journal mode.
const READER_SETTINGS: &str =
    "PRAGMA busy_timeout = 30000; PRAGMA query_only = 1; PRAGMA cache_size = -2000;";

#[async_trait]
impl StoreBackend for Connection {
    async fn commit_page(
        &mut self,
        write: Commit<'_>,
    ) -> Result<std::result::Result<PageWritten, StaleVersion>> {
        commit::commit_page(self, write).await
    }

    fn folds_on_writer(&self) -> bool {
        true
    }

    async fn fold(
        &mut self,
        _helper: Option<&mut DbConnection>,
        lister_id: Option<i64>,
        _step: i64,
    ) -> (Counts, Option<Error>) {
        // Fast enough in one step, even for a backlog.
        let folded = self
            .spawn_blocking(move |conn| fold::fold(conn, lister_id, fold::CHUNK))
            .await;
        match folded {
            Ok(counts) => (counts, None),
            Err(error) => {
                let failed = Error::query("folding sightings into listed origins");
                (Counts::default(), Some(failed(error)))
            }
        }
    }

    fn placeholder(&self, n: u8) -> String {
        format!("?{n}")
    }

    fn begin_writing(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    fn skip_locked(&self) -> &'static str {
        ""
    }

    fn remembered_origins(&self) -> &'static str {
        "json_array_length(origins)"
    }

    fn newest_migration(&self) -> String {
        newest::<diesel::sqlite::Sqlite>(&MIGRATIONS)
    }
}

/// Opens the SQLite database at `path`, as `opening` says (creating it, unless for a
/// reader); the error is the reason, in plain words.
pub(crate) async fn open(path: &Path, opening: Opening) -> std::result::Result<Connection, String> {
    if let Some(reason) = path_error(path) {
        return Err(reason);
    }
    if opening == Opening::Reader {
        return open_reader(path).await;
    }
    let path = path.to_str().ok_or("the path is not UTF-8")?;
    let mut conn = Connection::establish(path)
        .await
        .map_err(|err| err.to_string())?;
    // WAL lets readers run beside the writer; busy_timeout makes writers queue. Switching to
    // WAL takes an exclusive lock without waiting on busy_timeout, so two processes opening a
    // database at once retry that for a while.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match conn.batch_execute(SETTINGS).await {
            Ok(()) => break,
            Err(err) if attempts < 300 && err.to_string().contains("locked") => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err.to_string()),
        }
    }
    if opening == Opening::Migrated {
        conn.spawn_blocking(|conn| {
            conn.immediate_transaction(|conn| {
                conn.run_pending_migrations(MIGRATIONS)
                    .map(drop)
                    .map_err(diesel::result::Error::QueryBuilderError)
            })
        })
        .await
        .map_err(|err| format!("migration failed: {err}"))?;
    }
    Ok(conn)
}

/// A connection that cannot write, to an existing database.
async fn open_reader(path: &Path) -> std::result::Result<Connection, String> {
    if !path.exists() {
        return Err("there is no database there yet (a run creates it)".into());
    }
    let uri = read_only_uri(path).ok_or("the path is not UTF-8")?;
    let mut conn = Connection::establish(&uri)
        .await
        .map_err(|err| err.to_string())?;
    conn.batch_execute(READER_SETTINGS)
        .await
        .map_err(|err| err.to_string())?;
    Ok(conn)
}

/// What is wrong with a SQLite database path, in plain words: a directory, or a directory
/// that does not exist.
fn path_error(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some("it is a directory, not a database file".into());
    }
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty())?;
    (!dir.is_dir()).then(|| format!("the directory {} does not exist", dir.display()))
}

/// A SQLite URI that opens `path` read-only (the characters a URI gives a meaning to are
/// escaped).
fn read_only_uri(path: &Path) -> Option<String> {
    const ESCAPED: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b'?').add(b'#').add(b'%');
    let path = percent_encoding::utf8_percent_encode(path.to_str()?, ESCAPED);
    Some(format!("file:{path}?mode=ro"))
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

    async fn setting(conn: &mut Connection, pragma: &str) -> i64 {
        let query = format!("SELECT {pragma} AS value FROM pragma_{pragma}()");
        sql_query(query)
            .get_result::<Setting>(conn)
            .await
            .unwrap()
            .value
    }

    fn remove_database(file: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }

    #[tokio::test]
    async fn a_missing_directory_or_a_directory_is_named_plainly() {
        let dir = std::env::temp_dir().join(format!("lister-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let error = open(&dir, Opening::Plain).await.err().expect("no database");
        assert!(error.contains("it is a directory"), "{error}");
        let missing = dir.join("no/such/place/lister.db");
        let error = open(&missing, Opening::Plain)
            .await
            .err()
            .expect("no directory");
        assert!(error.contains("no/such/place does not exist"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn sqlite_connections_get_the_session_settings() {
        let file = std::env::temp_dir().join(format!("lister_settings_{}.db", std::process::id()));
        let mut conn = open(&file, Opening::Plain).await.unwrap();
        conn.batch_execute("CREATE TABLE t (x)").await.unwrap();
        let settings = [
            setting(&mut conn, "page_size").await,
            setting(&mut conn, "threads").await,
            setting(&mut conn, "cache_size").await,
            setting(&mut conn, "synchronous").await,
        ];
        // Not readable as a table-valued function: it may checkpoint as a side effect.
        let checkpoint_every = sql_query("PRAGMA wal_autocheckpoint")
            .get_result::<Checkpoint>(&mut conn)
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
        let mut older = Connection::establish(path).await.unwrap();
        older
            .batch_execute("PRAGMA page_size = 4096; CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        drop(older);
        let mut conn = open(&file, Opening::Plain).await.unwrap();
        let page_size = setting(&mut conn, "page_size").await;
        let rows = sql_query("SELECT count(*) AS value FROM t")
            .get_result::<Setting>(&mut conn)
            .await
            .unwrap()
            .value;
        drop(conn);
        remove_database(&file);
        assert_eq!((page_size, rows), (4096, 1));
    }
}
