//! The storage contract, run against SQLite and (when configured) PostgreSQL, a fresh database
//! per test.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use lister_core::store::{
    Folded, HeldOrigins, ListerRecord, PageRecord, PageWrite, PageWritten, StateWrite,
};
use lister_core::{Error, ListerKey, Origin, Validators};
use lister_store::Store;
use lister_store::testing::{TestDatabase, commit_origins};
use serde::{Deserialize, Serialize};

fn origins(urls: &[&str]) -> Vec<Origin> {
    urls.iter().map(|url| Origin::new(*url, "git")).collect()
}

/// The record of a listing page at `url` with ETag `etag`.
fn record(url: &str, etag: &str) -> PageRecord {
    PageRecord {
        url: url.into(),
        validators: Validators {
            etag: Some(etag.into()),
            last_modified: None,
        },
        next_url: None,
        next_index: None,
        origins: HeldOrigins::Unknown,
    }
}

/// The record of a fetched listing page at `url` with ETag `etag`, holding the write's next
/// `held` origins.
fn fetched(url: &str, etag: &str, held: usize) -> PageRecord {
    PageRecord {
        origins: HeldOrigins::Held(held),
        ..record(url, etag)
    }
}

/// The record of a listing page at `url` answered `304`.
fn unchanged(url: &str) -> PageRecord {
    PageRecord {
        origins: HeldOrigins::Unchanged,
        ..record(url, "\"unchanged\"")
    }
}

/// Commits `pages` (without a state) and returns what the commit wrote.
async fn commit_pages(
    store: &Store,
    lister: &ListerRecord,
    origins: Vec<Origin>,
    pages: &[PageRecord],
) -> PageWritten {
    let write = PageWrite {
        lister,
        origins,
        state: None,
        pages,
    };
    store.commit_page(write).await.unwrap()
}

/// When each origin of `key` was last seen, by URL.
async fn last_seen(store: &Store, key: &ListerKey) -> BTreeMap<String, NaiveDateTime> {
    let listed = store.listed_origins(key).await.unwrap();
    listed
        .into_iter()
        .map(|o| (o.origin.url, o.last_seen.naive_utc()))
        .collect()
}

/// Commits one page of `origins` (as sightings, not folded).
async fn commit(store: &Store, lister: &ListerRecord, origins: &[Origin]) {
    let written = commit_origins(store, lister, origins).await;
    assert_eq!(written.sightings, origins.len() as u64);
}

/// Commits one page of `origins` and folds it.
async fn write(store: &Store, key: &ListerKey, origins: &[Origin]) -> Folded {
    let lister = store.register_lister(key).await.unwrap();
    commit(store, &lister, origins).await;
    store.fold_sightings(Some(lister.id)).await.unwrap()
}

async fn upsert_keeps_first_seen_and_refreshes_last_seen(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let first = write(&store, &key, &origins(&["https://h/a", "https://h/b"])).await;
    assert_eq!((first.new, first.updated), (2, 0), "{}", db.url);
    let before = store.listed_origins(&key).await.unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let changed = Origin::new("https://h/a", "git")
        .with_fork(Some(true))
        .with_enabled(false)
        .with_last_update(Some(chrono::Utc::now()));
    let second = write(
        &store,
        &key,
        &[changed.clone(), Origin::new("https://h/c", "git")],
    )
    .await;
    assert_eq!((second.new, second.updated), (1, 1), "{}", db.url);

    let after = store.listed_origins(&key).await.unwrap();
    assert_eq!(after.len(), 3);
    let (a_before, a_after) = (&before[0], &after[0]);
    assert_eq!(a_after.origin.url, "https://h/a");
    assert_eq!(
        a_after.first_seen, a_before.first_seen,
        "first_seen is set once"
    );
    assert!(
        a_after.last_seen > a_before.last_seen,
        "last_seen is refreshed"
    );
    assert_eq!(
        a_after.origin.is_fork,
        Some(true),
        "is_fork takes the new value"
    );
    assert!(!a_after.origin.enabled, "enabled takes the new value");
    assert!(
        a_after.origin.last_update.is_some(),
        "last_update takes the new value"
    );
    assert_eq!(
        after[1].last_seen, before[1].last_seen,
        "b was not seen again"
    );
    db.drop_database().await;
}

async fn listers_are_separate_namespaces(db: TestDatabase) {
    let store = db.open().await;
    let one = ListerKey::new("github", "default");
    let two = ListerKey::new("github", "ghe.example.org");
    write(&store, &one, &origins(&["https://h/a"])).await;
    let written = write(&store, &two, &origins(&["https://h/a"])).await;
    assert_eq!(written.new, 1, "the same URL is new to another instance");
    assert_eq!(store.listed_origins(&one).await.unwrap().len(), 1);
    let summaries = store.lister_summaries().await.unwrap();
    assert_eq!(summaries.len(), 2);
    assert_eq!((summaries[0].origins, summaries[0].enabled), (1, 1));
    db.drop_database().await;
}

/// Pages of one lister's origins, among another lister's that interleave with them in URL
/// order (the key starts with the URL), and an origin with two visit types across a page
/// boundary: every origin once, in (url, visit type) order, none of the other lister's.
async fn pages_of_origins_walk_one_lister_among_others(db: TestDatabase) {
    let store = db.open().await;
    let mine = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    let theirs = store
        .register_lister(&ListerKey::new("gitlab", "default"))
        .await
        .unwrap();
    let url = |n: usize| format!("https://h/{n:02}");
    let my_origins: Vec<Origin> = (0..20)
        .filter(|n| n % 3 != 0)
        .map(|n| Origin::new(url(n), "git"))
        .chain([Origin::new(url(5), "hg")])
        .collect();
    let their_origins: Vec<Origin> = (0..20).map(|n| Origin::new(url(n), "git")).collect();
    commit(&store, &mine, &my_origins).await;
    commit(&store, &theirs, &their_origins).await;
    store.fold_sightings(None).await.unwrap();

    let mut walked = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let key = after
            .as_ref()
            .map(|(url, kind)| (url.as_str(), kind.as_str()));
        let page = store.listed_origins_page(&mine, key, 4).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 4);
        after = Some((last.origin.url.clone(), last.origin.visit_type.clone()));
        walked.extend(page.into_iter().map(|listed| listed.origin));
    }
    let mut expected = my_origins.clone();
    expected.sort_by(|a, b| (&a.url, &a.visit_type).cmp(&(&b.url, &b.visit_type)));
    assert_eq!(walked, expected);
    db.drop_database().await;
}

/// Several pages committed before one fold: the fold keeps each origin once, with its
/// earliest sighting as `first_seen` and its latest sighting's facts. A reader folds nothing:
/// what a run left unfolded (as a killed run would leave it) is counted apart until a fold.
async fn a_fold_merges_many_pages_and_readers_do_not_fold(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let other = ListerKey::new("github", "other");
    let lister = store.register_lister(&key).await.unwrap();
    let other_lister = store.register_lister(&other).await.unwrap();
    commit(&store, &lister, &origins(&["https://h/a", "https://h/b"])).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let forked = Origin::new("https://h/a", "git").with_fork(Some(true));
    commit(
        &store,
        &lister,
        &[forked, Origin::new("https://h/c", "git")],
    )
    .await;
    commit(&store, &other_lister, &origins(&["https://h/z"])).await;

    let folded = store.fold_sightings(Some(lister.id)).await.unwrap();
    assert_eq!(
        folded,
        Folded {
            new: 3,
            updated: 1,
            quarantined: 0
        },
        "{}",
        db.url
    );
    let listed = store.listed_origins(&key).await.unwrap();
    let urls: Vec<&str> = listed.iter().map(|o| o.origin.url.as_str()).collect();
    assert_eq!(urls, ["https://h/a", "https://h/b", "https://h/c"]);
    let a = &listed[0];
    assert!(a.first_seen < a.last_seen, "first and last sighting kept");
    assert_eq!(
        a.first_seen, listed[1].first_seen,
        "a was first seen with b"
    );
    assert_eq!(a.origin.is_fork, Some(true), "the latest sighting's facts");

    // The other instance's sighting is still unfolded; readers count it apart.
    assert_eq!(
        store.fold_sightings(Some(lister.id)).await.unwrap(),
        Folded::default()
    );
    assert!(store.listed_origins(&other).await.unwrap().is_empty());
    let summaries = store.lister_summaries().await.unwrap();
    let counts: Vec<_> = summaries.iter().map(|s| (s.origins, s.unfolded)).collect();
    assert_eq!(counts, [(3, 0), (0, 1)], "{}", db.url);
    assert_eq!(store.fold_sightings(None).await.unwrap().new, 1);
    let queued = "SELECT count(*) AS n FROM visit_stats WHERE url = 'https://h/z'";
    assert_eq!(
        db.count(queued).await,
        1,
        "the queue sees the other instance's origin"
    );
    assert_eq!(store.listed_origins(&other).await.unwrap().len(), 1);
    db.drop_database().await;
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TypedState {
    index: u64,
    cursor: Option<String>,
}

async fn state_round_trips_and_survives_reopening(db: TestDatabase) {
    let key = ListerKey::new("bitbucket", "default");
    {
        let store = db.open().await;
        let lister = store.register_lister(&key).await.unwrap();
        assert_eq!(lister.decode_state::<TypedState>().unwrap(), None);
        let state = TypedState {
            index: 42,
            cursor: Some("2024-01-01T00:00:00+00:00".into()),
        };
        let version = store
            .save_state(&lister, &state, lister.state_version)
            .await
            .unwrap();
        assert_eq!(version, lister.state_version + 1);
    }
    let store = db.open().await;
    let lister = store.register_lister(&key).await.unwrap();
    let state: TypedState = lister.decode_state().unwrap().unwrap();
    assert_eq!(state.index, 42);
    assert_eq!(state.cursor.as_deref(), Some("2024-01-01T00:00:00+00:00"));
    db.drop_database().await;
}

async fn concurrent_state_writers_never_move_state_backwards(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    // Eight writers all read version 0 and race to save their own index.
    let writers = (1..=8u64).map(|index| {
        let (store, lister) = (store.clone(), lister.clone());
        tokio::spawn(async move {
            store
                .save_state(
                    &lister,
                    &TypedState {
                        index,
                        cursor: None,
                    },
                    0,
                )
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(writers).await;
    let winners: Vec<u64> = results
        .iter()
        .enumerate()
        .filter(|(_, result)| result.as_ref().unwrap().is_ok())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one writer of version 0 wins on {}",
        db.url
    );
    for result in results {
        if let Err(err) = result.unwrap() {
            assert!(
                matches!(
                    err,
                    Error::StateConflict {
                        expected: 0,
                        found: 1,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("another `lister run`"), "{err}");
        }
    }
    let saved = store.register_lister(&key).await.unwrap();
    assert_eq!(saved.state_version, 1);
    assert_eq!(
        saved.decode_state::<TypedState>().unwrap().unwrap().index,
        winners[0]
    );
    db.drop_database().await;
}

async fn a_page_is_written_whole_or_not_at_all(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    // A trigger makes the last statement of the page (its validators) fail, after the
    // state and the origins were written inside the transaction.
    let trigger = if db.is_postgres() {
        "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ \
         LANGUAGE plpgsql; CREATE TRIGGER boom BEFORE INSERT ON page_validators \
         FOR EACH ROW WHEN (NEW.url = 'https://forge/boom') EXECUTE FUNCTION boom();"
    } else {
        "CREATE TRIGGER boom BEFORE INSERT ON page_validators \
         WHEN NEW.url = 'https://forge/boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;"
    };
    db.execute(trigger).await;
    let state = StateWrite::new(
        &TypedState {
            index: 7,
            cursor: None,
        },
        0,
    )
    .unwrap();
    let failed = store
        .commit_page(PageWrite {
            lister: &lister,
            origins: origins(&["https://h/a", "https://h/b"]),
            state: Some(state.clone()),
            pages: &[record("https://forge/boom", "\"e\"")],
        })
        .await;
    assert!(failed.is_err(), "the trigger fails the page on {}", db.url);
    assert!(
        store.listed_origins(&key).await.unwrap().is_empty(),
        "no origin survives"
    );
    let after = store.register_lister(&key).await.unwrap();
    assert_eq!(
        (after.state_version, after.state),
        (0, None),
        "the state did not move"
    );

    // The same page without the fault commits everything.
    let written = store
        .commit_page(PageWrite {
            lister: &lister,
            origins: origins(&["https://h/a", "https://h/b"]),
            state: Some(state),
            pages: &[record("https://forge/ok", "\"e\"")],
        })
        .await
        .unwrap();
    assert_eq!((written.sightings, written.state_version), (2, Some(1)));
    let record = store
        .page_record(lister.id, "https://forge/ok")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.validators.etag.as_deref(), Some("\"e\""));
    db.drop_database().await;
}

async fn a_stale_state_version_writes_no_origin(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    store
        .save_state(
            &lister,
            &TypedState {
                index: 10,
                cursor: None,
            },
            0,
        )
        .await
        .unwrap();
    let stale = store
        .commit_page(PageWrite {
            lister: &lister,
            origins: origins(&["https://h/late"]),
            state: Some(
                StateWrite::new(
                    &TypedState {
                        index: 5,
                        cursor: None,
                    },
                    0,
                )
                .unwrap(),
            ),
            pages: &[],
        })
        .await;
    assert!(matches!(stale, Err(Error::StateConflict { .. })));
    assert!(store.listed_origins(&key).await.unwrap().is_empty());
    db.drop_database().await;
}

async fn a_page_larger_than_one_statement_is_written_in_chunks(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let many: Vec<Origin> = (0..1_234)
        .map(|i| Origin::new(format!("https://h/r{i:05}"), "git"))
        .collect();
    assert_eq!(write(&store, &key, &many).await.new, 1_234);
    assert_eq!(write(&store, &key, &many).await.updated, 1_234);
    assert_eq!(store.listed_origins(&key).await.unwrap().len(), 1_234);
    db.drop_database().await;
}

#[tokio::test]
async fn bad_database_urls_fail_clearly_without_leaking_the_password() {
    let err = Store::open("postgres://me:hunter2@127.0.0.1:1/nope")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("postgres://me:***@127.0.0.1:1/nope"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let err = Store::open("/nonexistent-dir/sub/lister.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot open database sqlite:///nonexistent-dir/sub/lister.db"),
        "{err}"
    );
    let err = Store::open("redis://localhost")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid database URL"), "{err}");
}

/// Consecutive pages committed together (as a run does when pages queue up): every origin,
/// every page record (a URL given twice keeps its last record) and one step of the state.
async fn several_pages_commit_together_with_one_state_step(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    assert!(!store.has_page_records(lister.id).await.unwrap());
    let state = StateWrite::new(
        &TypedState {
            index: 30,
            cursor: None,
        },
        0,
    )
    .unwrap();
    let written = store
        .commit_page(PageWrite {
            lister: &lister,
            origins: origins(&["https://h/a", "https://h/b", "https://h/a"]),
            state: Some(state),
            pages: &[
                record("https://forge/1", "\"first\""),
                record("https://forge/2", "\"e\""),
                record("https://forge/1", "\"again\""),
            ],
        })
        .await
        .unwrap();
    assert_eq!(
        (written.sightings, written.state_version),
        (3, Some(1)),
        "{}",
        db.url
    );
    let first = store.page_record(lister.id, "https://forge/1").await;
    let first = first.unwrap().unwrap();
    assert_eq!(first.validators.etag.as_deref(), Some("\"again\""));
    assert!(store.has_page_records(lister.id).await.unwrap());
    let folded = store.fold_sightings(Some(lister.id)).await.unwrap();
    assert_eq!(
        folded,
        Folded {
            new: 2,
            updated: 1,
            quarantined: 0
        },
        "{}",
        db.url
    );
    let saved = store.register_lister(&key).await.unwrap();
    assert_eq!(
        saved.decode_state::<TypedState>().unwrap().unwrap().index,
        30
    );
    db.drop_database().await;
}

/// A page answered `304` counts the origins it held as seen: the commit refreshes the
/// `last_seen` of exactly those (not another page's, not another instance's listing of the
/// same URL), keeps what the store remembers of the page, and a full pass that started before
/// it disables only the others. A page without validators remembers nothing (it cannot be
/// answered `304`).
async fn a_page_answered_304_refreshes_the_origins_it_held(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    let other_key = ListerKey::new("github", "other");
    let other = store.register_lister(&other_key).await.unwrap();
    commit(&store, &other, &origins(&["https://h/a"])).await;
    let pages = [
        fetched("https://forge/1", "\"1\"", 2),
        fetched("https://forge/2", "\"2\"", 1),
        PageRecord {
            validators: Validators::default(),
            ..fetched("https://forge/3", "", 1)
        },
    ];
    let listed = origins(&["https://h/a", "https://h/b", "https://h/c", "https://h/d"]);
    commit_pages(&store, &lister, listed, &pages).await;
    store.fold_sightings(None).await.unwrap();
    let remembered = [1, 2, 3].map(|page| format!("https://forge/{page}"));
    let mut held = Vec::new();
    for url in &remembered {
        let record = store.page_record(lister.id, url).await.unwrap().unwrap();
        held.push(record.origins);
    }
    let expected = [
        HeldOrigins::Held(2),
        HeldOrigins::Held(1),
        HeldOrigins::Unknown,
    ];
    assert_eq!(held, expected, "{}", db.url);
    let before = last_seen(&store, &key).await;
    let other_before = last_seen(&store, &other_key).await;

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let pass_started = lister_store::now();
    let written = commit_pages(&store, &lister, Vec::new(), &[unchanged("https://forge/1")]).await;
    assert_eq!((written.sightings, written.refreshed), (0, 2), "{}", db.url);
    let after = last_seen(&store, &key).await;
    for url in ["https://h/a", "https://h/b"] {
        assert!(after[url] >= pass_started, "{url} refreshed on {}", db.url);
    }
    for url in ["https://h/c", "https://h/d"] {
        assert_eq!(after[url], before[url], "{url} untouched on {}", db.url);
    }
    assert_eq!(last_seen(&store, &other_key).await, other_before);
    let page = store.page_record(lister.id, "https://forge/1").await;
    let page = page.unwrap().unwrap();
    assert_eq!(page.origins, HeldOrigins::Held(2), "still remembered");
    assert_eq!(page.validators.etag.as_deref(), Some("\"1\""));

    // A full pass that started before the 304 disables the two origins it did not see.
    let disabled = store.disable_unseen(lister.id, pass_started).await.unwrap();
    assert_eq!(disabled, 2, "{}", db.url);
    let enabled: Vec<(String, bool)> = store
        .listed_origins(&key)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.origin.url, o.origin.enabled))
        .collect();
    let expected = [("a", true), ("b", true), ("c", false), ("d", false)]
        .map(|(name, enabled)| (format!("https://h/{name}"), enabled));
    assert_eq!(enabled, expected);
    db.drop_database().await;
}

/// A page fetched again remembers its new origins (a refresh then counts those), and a page
/// that named sub-listings remembers none: a `304` to it says nothing of its sub-listings.
async fn a_page_fetched_again_remembers_its_new_origins(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    let first = origins(&["https://h/a", "https://h/b", "https://h/c"]);
    let pages = [
        fetched("https://forge/1", "\"1\"", 2),
        PageRecord {
            origins: HeldOrigins::WithSubListings(1),
            ..record("https://forge/2", "\"2\"")
        },
    ];
    commit_pages(&store, &lister, first, &pages).await;
    let again = origins(&["https://h/b"]);
    commit_pages(
        &store,
        &lister,
        again,
        &[fetched("https://forge/1", "\"1b\"", 1)],
    )
    .await;
    store.fold_sightings(Some(lister.id)).await.unwrap();
    let page = store.page_record(lister.id, "https://forge/2").await;
    assert_eq!(page.unwrap().unwrap().origins, HeldOrigins::Unknown);

    let before = last_seen(&store, &key).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let pages = [unchanged("https://forge/1"), unchanged("https://forge/2")];
    let written = commit_pages(&store, &lister, Vec::new(), &pages).await;
    assert_eq!(written.refreshed, 1, "{}", db.url);
    let after = last_seen(&store, &key).await;
    assert!(after["https://h/b"] > before["https://h/b"]);
    assert_eq!(after["https://h/a"], before["https://h/a"]);
    assert_eq!(after["https://h/c"], before["https://h/c"]);
    db.drop_database().await;
}

/// A `304` is committed with its page's state like any page: a stale state version refreshes
/// nothing.
async fn a_stale_state_version_refreshes_nothing(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    let listed = origins(&["https://h/a"]);
    commit_pages(
        &store,
        &lister,
        listed,
        &[fetched("https://forge/1", "\"1\"", 1)],
    )
    .await;
    store.fold_sightings(Some(lister.id)).await.unwrap();
    let before = last_seen(&store, &key).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let state = TypedState {
        index: 1,
        cursor: None,
    };
    let stale = StateWrite::new(&state, 41).unwrap();
    let refused = store
        .commit_page(PageWrite {
            lister: &lister,
            origins: Vec::new(),
            state: Some(stale),
            pages: &[unchanged("https://forge/1")],
        })
        .await;
    assert!(
        matches!(refused, Err(Error::StateConflict { .. })),
        "{refused:?}"
    );
    assert_eq!(last_seen(&store, &key).await, before, "{}", db.url);
    db.drop_database().await;
}

/// A page of more than 50,000 origins is not remembered (its JSON would come on top of the
/// run's memory budget): a full pass asks for it unconditionally.
async fn a_page_of_too_many_origins_is_not_remembered(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    let many: Vec<Origin> = (0..50_001)
        .map(|k| Origin::new(format!("https://h/{k}"), "git"))
        .collect();
    let pages = [fetched("https://forge/big", "\"big\"", many.len())];
    commit_pages(&store, &lister, many, &pages).await;
    let page = store.page_record(lister.id, "https://forge/big").await;
    let page = page.unwrap().unwrap();
    assert_eq!(page.origins, HeldOrigins::Unknown, "{}", db.url);
    assert_eq!(page.validators.etag.as_deref(), Some("\"big\""));
    db.drop_database().await;
}

lister_store::backend_tests!(
    upsert_keeps_first_seen_and_refreshes_last_seen,
    listers_are_separate_namespaces,
    pages_of_origins_walk_one_lister_among_others,
    a_fold_merges_many_pages_and_readers_do_not_fold,
    state_round_trips_and_survives_reopening,
    concurrent_state_writers_never_move_state_backwards,
    a_page_is_written_whole_or_not_at_all,
    a_stale_state_version_writes_no_origin,
    a_page_larger_than_one_statement_is_written_in_chunks,
    several_pages_commit_together_with_one_state_step,
    a_page_answered_304_refreshes_the_origins_it_held,
    a_page_fetched_again_remembers_its_new_origins,
    a_stale_state_version_refreshes_nothing,
    a_page_of_too_many_origins_is_not_remembered,
);

/// A test database is removed when its value is dropped (as a panicking test drops it), not
/// only by `drop_database`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_test_database_is_removed() {
    let sqlite = TestDatabase::sqlite();
    let path = std::path::PathBuf::from(sqlite.url.trim_start_matches("sqlite://"));
    drop(sqlite.open().await);
    assert!(path.exists());
    drop(sqlite);
    assert!(!path.exists(), "the SQLite file is gone");
    let Some(postgres) = TestDatabase::postgres().await else {
        return;
    };
    drop(postgres.open().await);
    let url = postgres.url.clone();
    drop(postgres);
    assert!(
        Store::open(&url).await.is_err(),
        "the PostgreSQL database is gone"
    );
}
