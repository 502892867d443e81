//! The lister store: SQLite (the embedded default) or PostgreSQL through diesel, chosen by
//! URL. It keeps the lister instances and their state, the pages' records for conditional
//! requests, and every origin listed; [`Store`] implements
//! [`ListingStore`](lister_core::ListingStore), what the run loop of `lister-core` asks of a
//! store.
//!
//! Both backends are reached through one interface: the trait `StoreBackend` in `backend`,
//! implemented once per backend (`backend::sqlite`, `backend::postgres`). An operation (a
//! page commit, a fold) asks its [`DbConnection`](connection::DbConnection) for that
//! interface and calls it once; a query that is the same on both backends is written once
//! and run through the connection's [`load`](connection::DbConnection::load),
//! [`first`](connection::DbConnection::first) and the like. The backend is chosen once, when
//! a connection is opened for a URL.
//!
//! Tables (see `docs/architecture.md` for the SQL): `listers` (instances and their state),
//! `listed_origins` (every origin seen), `origin_sightings` (origins committed by pages, not
//! yet folded into `listed_origins`), `page_validators` (listing pages: their ETags, next
//! cursors and origins), `quarantined_sightings` (sightings the database refused). The visit
//! queue's tables (`lister-queue`) are created by the same migration.
//!
//! ```
//! use lister_core::{ListerKey, Origin};
//! use lister_core::store::PageWrite;
//! use lister_store::Store;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> lister_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("lister_doc_{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("lister.db");
//! let store = Store::open(&format!("sqlite://{}", path.display())).await?;
//! let lister = store.register_lister(&ListerKey::new("github", "default")).await?;
//! let origins = vec![Origin::new("https://github.com/rust-lang/rust", "git")];
//! store.commit_page(PageWrite { lister: &lister, origins, state: None, pages: &[] }).await?;
//! // Committed origins are sightings until a fold moves them into `listed_origins`.
//! assert_eq!(store.fold_sightings(Some(lister.id)).await?.new, 1);
//! assert_eq!(store.listed_origins(&lister.key()).await?.len(), 1);
//! # std::fs::remove_dir_all(dir).unwrap();
//! # Ok(())
//! # }
//! ```

mod backend;
mod commit;
mod commit_rows;
pub mod connection;
mod database_url;
mod fold;
mod fold_sql;
mod listers;
mod listing_store;
mod origins;
mod quarantine;
mod ranges;
mod read_only;
pub mod schema;
mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod unseen;

pub use database_url::{DatabaseUrl, redact};
pub use lister_core::Backend;
pub use lister_core::store::{
    Folded, HeldOrigins, ListerRecord, PageRecord, PageWrite, PageWritten, StateWrite, now,
};
pub use listers::ListerSummary;
pub use quarantine::QuarantinedSighting;
pub use store::Store;
