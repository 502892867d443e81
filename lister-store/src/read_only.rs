//! Connections for reading commands: they cannot write, and they migrate nothing.
//!
//! A reader works wherever the data can be read: a SQLite file on a read-only mount or a full
//! disk, a PostgreSQL standby or a role without write rights. It refuses a database whose
//! schema is older than this lister's (a writing command brings it up to date) or that holds
//! no lister schema at all.

use diesel::SqliteConnection;
use diesel::migration::MigrationSource;
use diesel::sql_types::{Nullable, Text};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::connection::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, sqlite_path_error};
use crate::database_url::DatabaseUrl;
use lister_core::{Error, Result};

/// Session settings of a SQLite reader: no write, not even to the journal mode.
const SQLITE_READER_SETTINGS: &str =
    "PRAGMA busy_timeout = 30000; PRAGMA query_only = 1; PRAGMA cache_size = -2000;";

#[derive(diesel::QueryableByName)]
struct Applied {
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

const APPLIED: &str = "SELECT max(version) AS version FROM __diesel_schema_migrations";

impl DbConnection {
    /// A connection that cannot write, to a database whose schema is current.
    pub(crate) async fn establish_reader(url: &DatabaseUrl) -> Result<DbConnection> {
        let open_error = |reason: String| Error::Open {
            url: url.to_string(),
            reason,
        };
        let (mut conn, newest) = match url {
            DatabaseUrl::Postgres(_) => {
                let mut conn = DbConnection::establish(url).await?;
                if let DbConnection::Postgres(pg) = &mut conn {
                    let read_only = "SET default_transaction_read_only = on";
                    pg.batch_execute(read_only)
                        .await
                        .map_err(|err| open_error(err.to_string()))?;
                }
                (conn, newest::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS))
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(reason) = sqlite_path_error(path) {
                    return Err(open_error(reason));
                }
                if !path.exists() {
                    let reason = "there is no database there yet (a run creates it)";
                    return Err(open_error(reason.into()));
                }
                let uri = read_only_uri(path)
                    .ok_or_else(|| open_error("the path is not UTF-8".into()))?;
                let conn = SyncConnectionWrapper::<SqliteConnection>::establish(&uri)
                    .await
                    .map_err(|err| open_error(err.to_string()))?;
                let mut conn = DbConnection::Sqlite(conn);
                if let DbConnection::Sqlite(sqlite) = &mut conn {
                    sqlite
                        .batch_execute(SQLITE_READER_SETTINGS)
                        .await
                        .map_err(|err| open_error(err.to_string()))?;
                }
                (conn, newest::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS))
            }
        };
        let applied = crate::dispatch!(&mut conn, conn => diesel::sql_query(APPLIED)
            .get_result::<Applied>(conn)
            .await);
        match applied.map(|applied| applied.version) {
            Ok(Some(version)) if version >= newest => Ok(conn),
            Ok(_) => Err(open_error(
                "the database's schema is older than this lister's: run a writing command \
                 (`lister run`, `lister queue grab`) once to bring it up to date"
                    .into(),
            )),
            Err(_) => Err(open_error(
                "it holds no lister schema (nothing was listed into it yet)".into(),
            )),
        }
    }
}

/// The newest migration's version, as `__diesel_schema_migrations` records it.
fn newest<DB: diesel::backend::Backend>(source: &impl MigrationSource<DB>) -> String {
    let migrations = source.migrations().unwrap_or_default();
    let versions = migrations.iter().map(|m| m.name().version().to_string());
    versions.max().unwrap_or_default()
}

/// A SQLite URI that opens `path` read-only (the characters a URI gives a meaning to are
/// escaped).
fn read_only_uri(path: &std::path::Path) -> Option<String> {
    const ESCAPED: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b'?').add(b'#').add(b'%');
    let path = percent_encoding::utf8_percent_encode(path.to_str()?, ESCAPED);
    Some(format!("file:{path}?mode=ro"))
}
