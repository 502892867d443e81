//! The PostgreSQL backend: connections through `tokio-postgres` (no libpq), and
//! [`StoreBackend`] for them. Its page commit is one statement ([`commit`]); its fold runs in
//! two parts at once, each on its own connection ([`fold`]).

mod commit;
mod fold;

use async_trait::async_trait;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, Opening, StoreBackend, newest};
use crate::commit_rows::{Commit, StaleVersion};
use crate::fold_sql::Counts;
use lister_core::store::PageWritten;
use lister_core::{Error, Result};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serializes concurrent migrations of one PostgreSQL database (an arbitrary constant).
const MIGRATION_LOCK: i64 = 0x6c69_7374_6572;

/// How long a PostgreSQL connection may take to open, handshake included, unless the URL's
/// `connect_timeout` (seconds, as libpq reads it) says otherwise.
const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[async_trait]
impl StoreBackend for AsyncPgConnection {
    async fn commit_page(
        &mut self,
        write: Commit<'_>,
    ) -> Result<std::result::Result<PageWritten, StaleVersion>> {
        commit::commit_page(self, write).await
    }

    fn folds_on_writer(&self) -> bool {
        // A run's pages go on committing on the writer while a fold runs.
        false
    }

    async fn fold(
        &mut self,
        helper: Option<&mut DbConnection>,
        lister_id: Option<i64>,
        step: i64,
    ) -> (Counts, Option<Error>) {
        let helper = helper.and_then(|helper| match helper {
            DbConnection::Postgres(helper) => Some(&mut **helper),
            DbConnection::Sqlite(_) => None,
        });
        fold::fold(self, helper, lister_id, step).await
    }

    fn placeholder(&self, n: u8) -> String {
        format!("${n}")
    }

    fn begin_writing(&self) -> &'static str {
        "BEGIN"
    }

    fn skip_locked(&self) -> &'static str {
        "FOR UPDATE SKIP LOCKED"
    }

    fn remembered_origins(&self) -> &'static str {
        "json_array_length(origins::json)::bigint"
    }

    fn newest_migration(&self) -> String {
        newest::<diesel::pg::Pg>(&MIGRATIONS)
    }
}

/// Opens a connection to the PostgreSQL database at `raw`, as `opening` says; the error is
/// the reason, in plain words. A server that does not answer is given up after the connect
/// timeout; TCP keepalives are on (tokio-postgres's default), so a connection to a server
/// that vanished fails instead of hanging.
pub(crate) async fn open(
    raw: &str,
    opening: Opening,
) -> std::result::Result<AsyncPgConnection, String> {
    let limit = connect_timeout(raw);
    let mut conn = match tokio::time::timeout(limit, connect(raw)).await {
        Ok(connected) => connected?,
        Err(_) => {
            return Err(format!(
                "the server did not answer within {} s (set connect_timeout=SECONDS in the \
                 URL to wait longer)",
                limit.as_secs()
            ));
        }
    };
    match opening {
        Opening::Plain => Ok(conn),
        Opening::Migrated => migrate(conn).await,
        Opening::Reader => {
            let read_only = "SET default_transaction_read_only = on";
            conn.batch_execute(read_only)
                .await
                .map_err(|err| err.to_string())?;
            Ok(conn)
        }
    }
}

/// The connect timeout of a PostgreSQL URL.
fn connect_timeout(raw: &str) -> std::time::Duration {
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
async fn connect(raw: &str) -> std::result::Result<AsyncPgConnection, String> {
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

/// Applies the embedded migrations that are not applied yet, one process at a time.
async fn migrate(mut conn: AsyncPgConnection) -> std::result::Result<AsyncPgConnection, String> {
    let lock = format!("SELECT pg_advisory_lock({MIGRATION_LOCK})");
    conn.batch_execute(&lock)
        .await
        .map_err(|err| err.to_string())?;
    let migrated = tokio::task::spawn_blocking(move || {
        let mut wrapper: AsyncConnectionWrapper<AsyncPgConnection> = conn.into();
        let result = wrapper.run_pending_migrations(MIGRATIONS).map(drop);
        (wrapper.into_inner(), result.map_err(|err| err.to_string()))
    })
    .await
    .map_err(|err| err.to_string())?;
    let (mut conn, result) = migrated;
    let unlock = format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})");
    conn.batch_execute(&unlock)
        .await
        .map_err(|err| err.to_string())?;
    result.map_err(|err| format!("migration failed: {err}"))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDatabase;

    /// A role limited to one connection: a second connection waits for the first to close
    /// instead of failing with "too many connections".
    #[tokio::test]
    async fn a_connection_limit_is_waited_out() {
        let Some(database) = TestDatabase::postgres().await else {
            return;
        };
        let role = format!("lister_limited_{}", std::process::id());
        let sql =
            format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CONNECTION LIMIT 1");
        TestDatabase::execute(&database, &sql).await;
        let mut url = url::Url::parse(&database.url).unwrap();
        url.set_username(&role).unwrap();
        let url = url.to_string();
        let first = open(&url, Opening::Plain).await.unwrap();
        let waiting = tokio::spawn({
            let url = url.clone();
            async move { open(&url, Opening::Plain).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the second connection waits");
        drop(first);
        let second = waiting.await.unwrap();
        assert!(second.is_ok(), "{:?}", second.err());
        drop(second);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let sql = format!("DROP ROLE IF EXISTS {role}");
        TestDatabase::execute(&database, &sql).await;
        database.drop_database().await;
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
        let error = open(&url, Opening::Plain)
            .await
            .err()
            .expect("no connection");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(error.contains("did not answer within 1 s"), "{error}");
        held.abort();
        assert_eq!(connect_timeout("postgres://h/db"), DEFAULT_CONNECT_TIMEOUT);
    }
}
