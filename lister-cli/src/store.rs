//! Choosing and opening the database.

use anyhow::Context;
use lister_store::{DatabaseUrl, Store};

use crate::cli::Cli;
use crate::config::Config;
use crate::failure::Failure;

/// The database URL: --database-url / LISTER_DATABASE_URL, else the config file's, else the
/// default SQLite file in the platform's data directory (created on first use).
pub(crate) fn url(cli: &Cli, config: &Config) -> Result<DatabaseUrl, Failure> {
    if let Some(raw) = cli.database_url.as_ref().or(config.database_url.as_ref()) {
        return DatabaseUrl::parse(raw).map_err(Failure::usage);
    }
    let dirs = directories::ProjectDirs::from("", "", "lister")
        .context("no home directory to keep the default database in; pass --database-url")
        .map_err(Failure::usage)?;
    Ok(DatabaseUrl::Sqlite(dirs.data_dir().join("lister.db")))
}

/// Opens the store, creating the default database's directory if needed.
pub(crate) async fn open(cli: &Cli, config: &Config) -> Result<Store, Failure> {
    let url = url(cli, config)?;
    let is_default = cli.database_url.is_none() && config.database_url.is_none();
    if let (DatabaseUrl::Sqlite(path), true) = (&url, is_default)
        && let Some(dir) = path.parent()
    {
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))
                .map_err(Failure::failed)?;
        }
    }
    Store::open_url(url).await.map_err(Failure::failed)
}

/// Opens the store for a reading command: one connection that cannot write (no directory
/// or database is created, nothing is migrated or folded).
pub(crate) async fn open_reader(cli: &Cli) -> Result<Store, Failure> {
    let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
    Store::open_reader(url(cli, &config)?)
        .await
        .map_err(Failure::failed)
}

/// Opens the store for a one-shot writing command (`queue grab`, `queue ack`): one
/// connection from start to end.
pub(crate) async fn open_one_shot(cli: &Cli) -> Result<Store, Failure> {
    let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
    Store::open_one_shot(url(cli, &config)?)
        .await
        .map_err(Failure::failed)
}
