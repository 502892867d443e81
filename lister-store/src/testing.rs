//! Test support: a fresh database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests run when `LISTER_TEST_POSTGRES_URL` is set (CI sets it) and fail if the
//! server is unreachable; when it is unset they are skipped with a printed reason.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::store::Store;
use lister_core::Origin;
use lister_core::store::{ListerRecord, PageWrite, PageWritten};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "LISTER_TEST_POSTGRES_URL";

/// A database that lives as long as the test: a SQLite file in a temporary directory, or a
/// new PostgreSQL database dropped afterwards (when it is dropped, even by a panicking test).
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open it with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
    Done,
}

/// Runs each named test body (an `async fn(TestDatabase)`) once per backend, as tests of its
/// own: `sqlite::NAME` and `postgres::NAME` (skipped, saying so, when
/// `LISTER_TEST_POSTGRES_URL` is unset), each on a fresh database. A failure names its
/// backend, and one backend's failure never hides the other's result.
#[macro_export]
macro_rules! backend_tests {
    ($($body:ident),* $(,)?) => {
        /// The bodies on SQLite.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    super::$body($crate::testing::TestDatabase::sqlite()).await;
                }
            )*
        }
        /// The bodies on PostgreSQL.
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $body() {
                    if let Some(db) = $crate::testing::TestDatabase::postgres().await {
                        super::$body(db).await;
                    }
                }
            )*
        }
    };
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            Cleanup::Done => {}
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            // On a thread of its own: the test's runtime may be the one panicking.
            Cleanup::Postgres { admin_url, name } => {
                let dropping = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(drop_postgres(&admin_url, &name));
                    }
                });
                let _ = dropping.join();
            }
        }
    }
}

/// Drops the PostgreSQL database `name`, connected to the server's own database.
async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(mut admin) = AsyncPgConnection::establish(admin_url).await {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let _ = admin.batch_execute(&drop).await;
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The server named by `LISTER_TEST_POSTGRES_URL`, or `None` (with a printed reason).
fn postgres_admin_url() -> Option<String> {
    let url = std::env::var(POSTGRES_URL_VAR).ok();
    if url.is_none() {
        eprintln!("skipped: {POSTGRES_URL_VAR} is not set, so the PostgreSQL tests do not run");
    }
    url
}

impl TestDatabase {
    /// A fresh SQLite database file.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(unique_name("lister_test"));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.join("lister.db").display());
        TestDatabase {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a printed reason) when
    /// `LISTER_TEST_POSTGRES_URL` is unset. Panics if the server is unreachable.
    pub async fn postgres() -> Option<TestDatabase> {
        Some(Self::postgres_at(&postgres_admin_url()?).await)
    }

    /// A fresh PostgreSQL database on the server at `admin_url` (a user who may create
    /// databases). Panics if the server is unreachable.
    pub async fn postgres_at(admin_url: &str) -> TestDatabase {
        Self::postgres_created(admin_url, "").await
    }

    /// A fresh PostgreSQL database whose default collation is the ICU locale `icu_locale`
    /// (such as `en-US`, where `a` sorts before `B`), or `None` as [`TestDatabase::postgres`].
    /// Panics if the server cannot create one (it needs PostgreSQL 15 built with ICU).
    pub async fn postgres_in_icu_locale(icu_locale: &str) -> Option<TestDatabase> {
        let admin_url = postgres_admin_url()?;
        let options = format!("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'");
        Some(Self::postgres_created(&admin_url, &options).await)
    }

    /// Creates the database with `options` appended to `CREATE DATABASE`.
    async fn postgres_created(admin_url: &str, options: &str) -> TestDatabase {
        let admin_url = admin_url.to_owned();
        let name = unique_name("lister_test");
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|err| panic!("{POSTGRES_URL_VAR} is set but unreachable: {err}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name} {options}"))
            .await
            .expect("create a test database");
        let mut url = url::Url::parse(&admin_url).expect("a valid PostgreSQL URL");
        url.set_path(&name);
        TestDatabase {
            url: url.into(),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// Opens the store (running migrations).
    pub async fn open(&self) -> Store {
        Store::open(&self.url).await.expect("open the test store")
    }

    /// Drops the database now (dropping the value does too, on a thread of its own).
    pub async fn drop_database(mut self) {
        match std::mem::replace(&mut self.cleanup, Cleanup::Done) {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => drop_postgres(&admin_url, &name).await,
            Cleanup::Done => {}
        }
    }
}

impl TestDatabase {
    /// Runs raw SQL on the database through a separate connection (to set up faults such as a
    /// trigger that makes a statement fail).
    pub async fn execute(&self, sql: &str) {
        match &self.cleanup {
            Cleanup::Sqlite(_) => {
                let path = self.url.trim_start_matches("sqlite://").to_owned();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    use diesel::Connection;
                    use diesel::connection::SimpleConnection;
                    let mut conn = diesel::SqliteConnection::establish(&path).expect("open SQLite");
                    conn.batch_execute(&sql).expect("run test SQL");
                })
                .await
                .expect("test SQL task");
            }
            Cleanup::Postgres { .. } | Cleanup::Done => {
                let mut conn = AsyncPgConnection::establish(&self.url)
                    .await
                    .expect("open PostgreSQL");
                conn.batch_execute(sql).await.expect("run test SQL");
            }
        }
    }

    /// Runs `sql`, a query of one row with a `BIGINT` column named `n`, through a separate
    /// connection, and returns `n` (to look at tables this crate has no reader of, such as
    /// the queue's).
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        match &self.cleanup {
            Cleanup::Sqlite(_) => {
                let mut conn = self.sqlite_connection();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    use diesel::RunQueryDsl;
                    diesel::sql_query(sql).get_result::<Count>(&mut conn)
                })
                .await
                .expect("test SQL task")
                .expect("run test SQL")
                .n
            }
            Cleanup::Postgres { .. } | Cleanup::Done => {
                use diesel_async::RunQueryDsl;
                let mut conn = AsyncPgConnection::establish(&self.url)
                    .await
                    .expect("open PostgreSQL");
                let count = diesel::sql_query(sql).get_result::<Count>(&mut conn).await;
                count.expect("run test SQL").n
            }
        }
    }

    /// Whether this is the PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }

    /// A raw connection to the SQLite database, for tests that read its tables directly.
    pub fn sqlite_connection(&self) -> diesel::SqliteConnection {
        use diesel::Connection;
        let path = self.url.trim_start_matches("sqlite://");
        diesel::SqliteConnection::establish(path).expect("open SQLite")
    }
}

/// Registers the `github` lister instance `instance`.
pub async fn register_github(store: &Store, instance: &str) -> ListerRecord {
    let key = lister_core::ListerKey::new("github", instance);
    store
        .register_lister(&key)
        .await
        .expect("register a lister")
}

/// Commits one page of `origins` for `lister`, without a state or page records: the origins
/// become sightings, not yet folded.
pub async fn commit_origins(
    store: &Store,
    lister: &ListerRecord,
    origins: &[Origin],
) -> PageWritten {
    let write = PageWrite {
        lister,
        origins: origins.to_vec(),
        state: None,
        pages: &[],
    };
    store
        .commit_page(write)
        .await
        .expect("commit a page of origins")
}
