//! The SQL that docs/queue.md gives consumers in other languages, run on
//! PostgreSQL: its grab leases like the library's, and its ack records exactly what the
//! library's does.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use lister_queue::{Policy, Queue, VisitStats, VisitStatus};

use lister_core::{ListerKey, Origin};
use lister_store::Store;
use lister_store::testing::{TestDatabase, commit_origins};

const SCHEMA_DOC: &str = include_str!("../../docs/queue.md");

/// The SQL block after `<!-- name -->` in the document.
fn block(name: &str) -> &'static str {
    let marker = format!("<!-- {name} -->\n```sql\n");
    let start = SCHEMA_DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} block"))
        + marker.len();
    let len = SCHEMA_DOC[start..].find("```").expect("a closed block");
    &SCHEMA_DOC[start..start + len]
}

#[derive(QueryableByName, Debug)]
struct Granted {
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    lease_token: String,
    #[diesel(sql_type = Timestamp)]
    lease_expires_at: NaiveDateTime,
}

async fn list(store: &Store, origins: &[Origin]) {
    let lister = store
        .register_lister(&ListerKey::new("github", "default"))
        .await
        .unwrap();
    commit_origins(store, &lister, origins).await;
}

async fn sql_grab(conn: &mut AsyncPgConnection, statement: &str, visit_type: &str) -> Vec<Granted> {
    diesel::sql_query(statement)
        .bind::<Text, _>(visit_type)
        .bind::<BigInt, _>(10)
        .bind::<BigInt, _>(3600)
        .load(conn)
        .await
        .unwrap()
}

async fn sql_ack(
    conn: &mut AsyncPgConnection,
    token: &str,
    status: VisitStatus,
    at: Option<DateTime<Utc>>,
) -> usize {
    diesel::sql_query(block("ack"))
        .bind::<Text, _>(token)
        .bind::<Text, _>(status.to_string())
        .bind::<Nullable<Timestamp>, _>(at.map(|at| at.naive_utc()))
        .execute(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_documented_grab_leases_due_origins_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    list(
        &store,
        &(0..5)
            .map(|i| Origin::new(format!("https://h/{i}"), "git"))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(
        sql_grab(&mut conn, block("grab"), "git").await.is_empty(),
        "committed sightings reach the queue when folded"
    );
    let folded = diesel::sql_query(block("fold")).execute(&mut conn).await;
    assert_eq!(
        folded.unwrap(),
        5,
        "the documented fold moves every sighting"
    );
    assert!(
        sql_grab(&mut conn, block("grab-expired"), "git")
            .await
            .is_empty()
    );
    let granted = sql_grab(&mut conn, block("grab"), "git").await;
    let urls: Vec<&str> = granted.iter().map(|g| g.url.as_str()).collect();
    assert_eq!(urls.len(), 5);
    assert!(granted.iter().all(|g| g.lease_token.len() == 32));
    assert!(granted[0].lease_expires_at > Utc::now().naive_utc() + TimeDelta::minutes(59));
    assert!(
        sql_grab(&mut conn, block("grab"), "git").await.is_empty(),
        "all leased"
    );
    assert!(
        queue
            .grab(
                "git",
                10,
                Policy::Default,
                std::time::Duration::from_secs(60)
            )
            .await
            .unwrap()
            .is_empty()
    );
    // The library acks a lease the SQL granted.
    let acked = queue
        .ack(&granted[0].lease_token, VisitStatus::Successful, None)
        .await
        .unwrap();
    assert_eq!(acked.url, granted[0].url);
    db.drop_database().await;
}

#[tokio::test]
async fn the_documented_ack_records_what_the_library_records() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let store = db.open().await;
    let queue = Queue::new(store.clone());
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    // The same origin under two visit types: the library acks one, the SQL the other.
    let listed = |update: Option<DateTime<Utc>>| {
        ["git", "hg"].map(|kind| Origin::new("https://h/a", kind).with_last_update(update))
    };
    list(&store, &listed(None)).await;
    let start = Utc::now() - TimeDelta::days(1000);
    let steps = [
        (VisitStatus::Successful, None),
        (VisitStatus::Successful, None),
        (VisitStatus::Successful, Some(5)),
        (VisitStatus::Failed, None),
        (VisitStatus::Failed, None),
        (VisitStatus::Successful, None),
        (VisitStatus::NotFound, None),
        (VisitStatus::Failed, None),
        (VisitStatus::NotFound, None),
        (VisitStatus::NotFound, None),
        (VisitStatus::NotFound, None),
    ];
    for (n, (status, updated_days_later)) in steps.into_iter().enumerate() {
        // Visits far apart and long ago, so that every cooldown is over.
        let at = start + TimeDelta::days(80 * n as i64);
        if let Some(days) = updated_days_later {
            list(
                &store,
                &listed(Some(at - TimeDelta::days(80) + TimeDelta::days(days))),
            )
            .await;
        }
        let lease = std::time::Duration::from_secs(60);
        let by_library = queue.grab("git", 1, Policy::Default, lease).await.unwrap();
        let by_sql = queue.grab("hg", 1, Policy::Default, lease).await.unwrap();
        queue
            .ack(&by_library[0].lease_token, status, Some(at))
            .await
            .unwrap();
        assert_eq!(
            sql_ack(&mut conn, &by_sql[0].lease_token, status, Some(at)).await,
            1
        );
        let library = queue
            .visit_stats("https://h/a", "git")
            .await
            .unwrap()
            .unwrap();
        let sql = queue
            .visit_stats("https://h/a", "hg")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(comparable(sql), comparable(library), "step {n}: {status}");
    }
    // A second ack of the same lease records nothing.
    let grant = queue
        .grab("hg", 1, Policy::Default, std::time::Duration::from_secs(60))
        .await;
    assert!(grant.unwrap().is_empty(), "disabled after three not_found");
    assert_eq!(
        sql_ack(&mut conn, "0123456789abcdef", VisitStatus::Failed, None).await,
        0
    );
    db.drop_database().await;
}

/// What an ack decides, without the key and the scheduling times.
fn comparable(stats: VisitStats) -> VisitStats {
    VisitStats {
        visit_type: String::new(),
        last_scheduled: None,
        ..stats
    }
}
