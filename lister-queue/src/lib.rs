//! The visit queue: every lister feeds it, consumers (loaders, mirrors, analysers, on any
//! machine, in any language) take origins to visit from it.
//!
//! The model: parallel across origins, strictly one consumer at a time per origin.
//!
//! - An *origin* is a `(url, visit_type)` pair, whichever listers list it. Its row in
//!   `visit_stats` appears when a lister first lists it (triggers on `listed_origins` keep
//!   the row's `last_update` and its count of enabled listings up to date).
//! - [`Queue::grab`] leases up to `count` *due* origins to a consumer, chosen by a named
//!   [`Policy`]; each [`Grant`] carries a random lease token and an expiry. Concurrent grabs
//!   never receive the same origin.
//! - [`Queue::ack`] / [`Queue::ack_many`] record how the visit went ([`VisitStatus`]), end the
//!   lease and set a cooldown (see [`cooldown`] for the rules). An ack whose lease was
//!   granted again to someone else after it expired is refused
//!   ([`Error::StaleLease`](lister_core::Error::StaleLease)).
//! - A lease that runs out returns its origin to the queue by itself: the next grab hands it
//!   out again before anything else. A consumer that dies loses nothing.
//! - Due means: some lister lists it enabled, the queue has not disabled it, not leased (or
//!   its lease ran out), and its cooldown is over.
//! - [`Queue::queue_stats`] counts the queue per lister instance and visit type;
//!   [`Queue::visit_stats`] shows one origin.
//!
//! Two kinds of disabling are kept apart. A lister's (`listed_origins.enabled`, set by the
//! forge's facts or by [`Store::disable_unseen`](lister_store::Store::disable_unseen) after a complete pass) follows the listings:
//! listing the origin again enables it. The queue's (`visit_stats.disabled_at`, after
//! [`cooldown::NOT_FOUND_LIMIT`] consecutive `not_found` visits) is not undone by a listing
//! that still reports the origin; [`Queue::reenable_origin`] lifts it.
//!
//! Times are UTC. Leases and cooldowns follow the database server's clock on PostgreSQL
//! (consumers on several machines agree on it), this process's clock on SQLite.
//!
//! Durability: a grab commits durably; an ack on PostgreSQL commits without waiting for the
//! disk (`synchronous_commit = off`): an ack lost in a server crash only means that its
//! lease runs out and the origin is visited again.
//!
//! The tables and the SQL a consumer in another language runs are in `docs/queue.md`; the
//! tables are created by the store's migration (`lister-store`).
//!
//! ```
//! use std::time::Duration;
//! use lister_core::{ListerKey, Origin};
//! use lister_core::store::PageWrite;
//! use lister_queue::{Policy, Queue, VisitStatus};
//! use lister_store::Store;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> lister_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("lister_queue_doc_{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("lister.db");
//! let store = Store::open(&format!("sqlite://{}", path.display())).await?;
//! let lister = store.register_lister(&ListerKey::new("github", "default")).await?;
//! let origins = vec![Origin::new("https://github.com/rust-lang/rust", "git")];
//! store.commit_page(PageWrite { lister: &lister, origins, state: None, pages: &[] }).await?;
//!
//! let queue = Queue::new(store);
//! let grants = queue.grab("git", 10, Policy::default(), Duration::from_secs(3600)).await?;
//! assert_eq!(grants.len(), 1);
//! queue.ack(&grants[0].lease_token, VisitStatus::Successful, None).await?;
//! # std::fs::remove_dir_all(dir).unwrap();
//! # Ok(())
//! # }
//! ```

mod ack;
mod ack_plan;
mod backend;
pub mod cooldown;
mod grab;
mod grant;
mod origin_stats;
pub mod policy;
mod prepared;
mod queue;
mod resume;
mod retry;
pub mod schema;
mod stats;
mod status;

pub use ack_plan::{AckRequest, Acked};
pub use grant::Grant;
pub use origin_stats::VisitStats;
pub use policy::Policy;
pub use queue::Queue;
pub use stats::QueueStats;
pub use status::VisitStatus;
