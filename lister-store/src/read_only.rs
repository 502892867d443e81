//! Connections for reading commands: they cannot write, and they migrate nothing.
//!
//! A reader works wherever the data can be read: a SQLite file on a read-only mount or a full
//! disk, a PostgreSQL standby or a role without write rights. It refuses a database whose
//! schema is older than this lister's (a writing command brings it up to date) or that holds
//! no lister schema at all. Each backend opens its reader its own way (`Opening::Reader`);
//! the schema is checked here, the same way on both.

use diesel::sql_types::{Nullable, Text};

use crate::backend::DbConnection;

#[derive(diesel::QueryableByName)]
struct Applied {
    #[diesel(sql_type = Nullable<Text>)]
    version: Option<String>,
}

const APPLIED: &str = "SELECT max(version) AS version FROM __diesel_schema_migrations";

/// Whether the database behind `conn` holds this lister's current schema; the error is the
/// reason, in plain words.
pub(crate) async fn check_schema(conn: &mut DbConnection) -> Result<(), String> {
    let newest = conn.backend().newest_migration();
    let applied = conn
        .get_result::<Applied, _>(diesel::sql_query(APPLIED))
        .await;
    match applied.map(|applied| applied.version) {
        Ok(Some(version)) if version >= newest => Ok(()),
        Ok(_) => Err(
            "the database's schema is older than this lister's: run a writing \
             command (`lister run`, `lister queue grab`) once to bring it up to date"
                .into(),
        ),
        Err(_) => Err("it holds no lister schema (nothing was listed into it yet)".into()),
    }
}
