//! A row the database refuses at a fold is quarantined with its reason; the rest folds, and
//! every later fold and reader works. One test per backend, each on a fresh database.

use lister_core::{ListerKey, Origin};
use lister_store::testing::{TestDatabase, commit_origins};

/// Commits good origins around sightings the database refuses (written straight into the
/// table, as a store written by an older or broken lister could hold them), then folds.
async fn refused_rows_are_quarantined_and_the_rest_folds(db: TestDatabase) {
    let store = db.open().await;
    let key = ListerKey::new("github", "default");
    let lister = store.register_lister(&key).await.unwrap();
    let good = |n: u32| Origin::new(format!("https://h/{n}"), "git");
    commit_origins(&store, &lister, &[good(1), good(2)]).await;
    // Random letters: PostgreSQL compresses an index key that repeats itself.
    let mut seed = 0x2545_f491_u64;
    let noise: String = (0..3_000)
        .map(|_| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            char::from(b'a' + (seed >> 59) as u8 % 26)
        })
        .collect();
    let long = format!("https://h/{noise}");
    let columns = "lister_id, url, visit_type, seen_at, enabled, extra_loader_arguments";
    // On SQLite, a lister that does not exist breaks listed_origins' foreign key (PostgreSQL
    // has none there); on PostgreSQL, a 3,000-byte URL is too long for the key's index.
    let refused = match db.is_postgres() {
        false => vec!["999999, 'https://h/orphan'".to_owned()],
        true => vec![format!("{}, '{long}'", lister.id)],
    };
    for values in &refused {
        db.execute(&format!(
            "INSERT INTO origin_sightings ({columns}) \
             VALUES ({values}, 'git', '2026-01-01 00:00:00', true, '{{}}')"
        ))
        .await;
    }
    commit_origins(&store, &lister, &[good(3)]).await;

    let folded = store.fold_sightings(None).await.unwrap();
    assert_eq!(folded.new, 3, "{folded:?}");
    assert_eq!(folded.quarantined, refused.len() as u64, "{folded:?}");
    let listed = store.listed_origins(&key).await.unwrap();
    let urls: Vec<&str> = listed.iter().map(|o| o.origin.url.as_str()).collect();
    assert_eq!(urls, ["https://h/1", "https://h/2", "https://h/3"]);

    // Nothing is left to fail the next fold, and the quarantine says why.
    commit_origins(&store, &lister, &[good(4)]).await;
    let again = store.fold_sightings(None).await.unwrap();
    assert_eq!((again.new, again.quarantined), (1, 0));
    let summaries = store.lister_summaries().await.unwrap();
    assert_eq!(summaries[0].origins, 4);
    let quarantined = store.quarantined_sightings(10).await.unwrap();
    assert_eq!(quarantined.len(), refused.len());
    let (url, reason) = match db.is_postgres() {
        false => ("https://h/orphan", "foreign key"),
        true => (long.as_str(), "index row size"),
    };
    assert_eq!(quarantined[0].url, url);
    let said = quarantined[0].reason.to_lowercase();
    assert!(said.contains(reason), "the database's reason: {said}");
    db.drop_database().await;
}

lister_store::backend_tests!(refused_rows_are_quarantined_and_the_rest_folds);
