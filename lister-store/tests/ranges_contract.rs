//! The ranges of a parallel listing, on SQLite and (when configured) PostgreSQL: created once,
//! claimed under leases, advanced by page commits, finished in order.

use std::time::Duration;

use chrono::NaiveDateTime;
use lister_core::Error;
use lister_core::store::{NewRange, PageWrite, RangeLease, StateWrite, now};
use lister_store::Store;
use lister_store::testing::{TestDatabase, register_github};

fn state(cursor: u64) -> String {
    format!(r#"{{"cursor":{cursor}}}"#)
}

/// Three ranges: (0, 100], (100, 200], (200, 300].
fn three() -> Vec<NewRange> {
    (0..3)
        .map(|i| NewRange {
            start_state: state(i * 100),
            end_state: state(i * 100 + 100),
        })
        .collect()
}

fn later(seconds: u64) -> NaiveDateTime {
    now() + Duration::from_secs(seconds)
}

async fn ranges_are_created_once_and_taken_one_run_at_a_time(db: TestDatabase) {
    let store: Store = db.open().await;
    let lister = register_github(&store, "default").await;
    let version = lister.state_version;
    assert!(
        store
            .create_ranges(lister.id, version, &three())
            .await
            .unwrap()
    );
    assert!(
        !store
            .create_ranges(lister.id, version + 1, &three())
            .await
            .unwrap(),
        "a second cut is refused while ranges exist"
    );
    let other = register_github(&store, "other").await;
    assert!(
        !store
            .create_ranges(other.id, other.state_version + 5, &three())
            .await
            .unwrap(),
        "a stale state version creates nothing"
    );
    assert!(store.ranges(other.id).await.unwrap().is_empty());

    let a = store
        .claim_range(lister.id, "a", now(), later(60))
        .await
        .unwrap()
        .unwrap();
    let b = store
        .claim_range(lister.id, "b", now(), later(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.seq, b.seq), (0, 1), "in order, each to one run");
    let c = store
        .claim_range(lister.id, "b", now(), later(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.seq, 2);
    assert!(
        store
            .claim_range(lister.id, "c", now(), later(60))
            .await
            .unwrap()
            .is_none()
    );
    // The lease on the last one runs out: another run takes it over, at a new version.
    let taken = store
        .claim_range(lister.id, "c", later(2), later(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.seq, taken.owner.as_deref()), (2, Some("c")));
    assert!(taken.version > c.version);
    // The run that lost it is refused at its next commit.
    let lister = store.lister(&lister.key()).await.unwrap().unwrap();
    let stale = StateWrite {
        json: state(250),
        expected_version: c.version,
        range: Some(RangeLease {
            range_id: c.id,
            until: later(60),
        }),
    };
    let write = PageWrite {
        lister: &lister,
        origins: Vec::new(),
        state: Some(stale),
        pages: &[],
    };
    let refused = store.commit_page(write).await.unwrap_err();
    assert!(matches!(refused, Error::StateConflict { .. }), "{refused}");
    assert!(matches!(
        store.finish_range(&c).await.unwrap_err(),
        Error::StateConflict { .. }
    ));
    // Given back, a range is free again.
    store.release_ranges(lister.id, "a").await.unwrap();
    let again = store
        .claim_range(lister.id, "d", now(), later(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.seq, 0);
    db.drop_database().await;
}

async fn the_state_follows_the_finished_prefix_and_the_last_finish_closes(db: TestDatabase) {
    let store: Store = db.open().await;
    let lister = register_github(&store, "default").await;
    assert!(
        store
            .create_ranges(lister.id, lister.state_version, &three())
            .await
            .unwrap()
    );
    let mut held = Vec::new();
    for owner in ["a", "b", "c"] {
        held.push(
            store
                .claim_range(lister.id, owner, now(), later(60))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let saved = async || store.lister(&lister.key()).await.unwrap().unwrap().state;
    // A page of the middle range moves its position, not the instance's state.
    let lister = store.lister(&lister.key()).await.unwrap().unwrap();
    let page = StateWrite {
        json: state(150),
        expected_version: held[1].version,
        range: Some(RangeLease {
            range_id: held[1].id,
            until: later(60),
        }),
    };
    let write = PageWrite {
        lister: &lister,
        origins: Vec::new(),
        state: Some(page),
        pages: &[],
    };
    let written = store.commit_page(write).await.unwrap();
    assert_eq!(written.state_version, Some(held[1].version + 1));
    let middle = &store.ranges(lister.id).await.unwrap()[1];
    assert_eq!(middle.position, state(150));
    assert_eq!(saved().await, None, "the state waits for the first range");
    held[1].version += 1;
    // The middle one finishes first: the state stays before the first range.
    assert!(!store.finish_range(&held[1]).await.unwrap());
    assert_eq!(saved().await.as_deref(), Some(state(0).as_str()));
    assert!(!store.finish_range(&held[0]).await.unwrap());
    assert_eq!(
        saved().await.as_deref(),
        Some(state(200).as_str()),
        "over 0 and 1"
    );
    assert!(
        store.finish_range(&held[2]).await.unwrap(),
        "the last one closes"
    );
    assert_eq!(saved().await.as_deref(), Some(state(300).as_str()));
    assert!(
        store.ranges(lister.id).await.unwrap().is_empty(),
        "the rows go"
    );
    db.drop_database().await;
}

lister_store::backend_tests!(
    ranges_are_created_once_and_taken_one_run_at_a_time,
    the_state_follows_the_finished_prefix_and_the_last_finish_closes,
);
