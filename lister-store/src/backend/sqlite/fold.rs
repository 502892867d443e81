//! The SQLite fold: chunk by chunk, in one immediate transaction (no other writer can
//! interleave), each chunk one sorted upsert. A first listing's fold writes the queue's rows
//! after its upserts instead of through the queue's triggers (see `queue_rows_after_fold`).
//!
//! A fold also counts the origins it adds. SQLite cannot tell an upsert's inserts from its
//! updates, so they are counted one of two ways, whichever reads less:
//!
//! - **By difference**: the instance's listed origins, counted before and after. Each count
//!   reads the whole of `listed_origins` (its key starts with the URL), about 60 ns a row.
//! - **By sightings**: before each chunk's upsert, its distinct origins that
//!   `listed_origins` lacks. About 1 µs a sighting, whatever the store's size.
//!
//! A first listing into a small store counts by difference: 100,000 new origins cost 6 ms
//! that way and 80 ms by sightings. An incremental run into a large store counts by
//! sightings: 1,000 sightings cost about 1 ms, where counting a store of 10,000,000 origins
//! twice took a second, and grew with every origin listed.

use diesel::sql_types::{BigInt, Nullable};
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};

use super::queue_rows_after_fold::QueueRowsAfterFold;
use crate::fold_sql::{COLUMNS, Counts, ON_CONFLICT};

/// SQLite folds in chunks of this many sightings (oldest first), so that the sort stays small
/// whatever the number of sightings: SQLite's sorter holds more buffers the more sorted runs
/// it merges. Each chunk writes the leaves of the URL-keyed indexes again, so chunks are as
/// large as memory allows: folding 1,000,000 origins took 19.6 s in chunks of 50,000 and
/// 16.9 s in chunks of 100,000, with peak memory 5 % above a 100,000-origin run's. Chunks of
/// 200,000 took 14.4 s but 11 % more memory, and one chunk 13.3 s but 70 % more.
pub(super) const CHUNK: i64 = 100_000;

/// The last sighting of the next chunk, and how many sightings the chunk holds.
const CHUNK_END: &str = "\
    SELECT max(id) AS id, count(*) AS sightings FROM (SELECT id FROM origin_sightings \
        WHERE ?1 IS NULL OR lister_id = ?1 ORDER BY id LIMIT ?2)";

/// Sightings in the order of `listed_origins`'s key (origin, then lister), each an upsert: a
/// repeated origin's later sightings update its first.
fn upsert() -> String {
    format!(
        "INSERT INTO listed_origins ({COLUMNS}) \
        SELECT lister_id, url, visit_type, seen_at, seen_at, last_update, enabled, is_fork, \
            extra_loader_arguments \
        FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2 \
        ORDER BY url, visit_type, lister_id, id {ON_CONFLICT}"
    )
}

/// The chunk's distinct origins that `listed_origins` does not have (counting by sightings).
const CHUNK_NEW: &str = "\
    SELECT count(*) AS n FROM ( \
        SELECT url, visit_type, lister_id FROM origin_sightings \
        WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2 \
        GROUP BY url, visit_type, lister_id \
    ) AS s WHERE NOT EXISTS (SELECT 1 FROM listed_origins AS o \
        WHERE o.url = s.url AND o.visit_type = s.visit_type AND o.lister_id = s.lister_id)";

const DELETE_CHUNK: &str =
    "DELETE FROM origin_sightings WHERE (?1 IS NULL OR lister_id = ?1) AND id <= ?2";

/// Deletes every sighting. Without a `WHERE`, SQLite frees the table's pages in one step
/// instead of deleting row by row (its truncate optimization): 7 ms instead of 28 ms for
/// 100,000 sightings. A fold takes every sighting whenever no other instance's run is
/// committing, so this is the usual case.
const DELETE_ALL: &str = "DELETE FROM origin_sightings";

/// How many sightings there are, of every instance: SQLite counts a table's rows without
/// decoding them.
const ALL_SIGHTINGS: &str = "SELECT count(*) AS n FROM origin_sightings";

/// What the choice between the two ways of counting reads: an upper bound on the sightings
/// waiting (their ids are consecutive), and the database's size.
const SIZES: &str = "\
    SELECT (SELECT coalesce(max(id) - min(id) + 1, 0) FROM origin_sightings) AS sightings, \
        (SELECT page_count FROM pragma_page_count()) \
        * (SELECT page_size FROM pragma_page_size()) AS bytes";

/// About what one listed origin takes in the database: its row in `listed_origins`, and its
/// row in `visit_stats` with that table's key and indexes (370 bytes measured on 8 KiB pages).
const BYTES_PER_ORIGIN: i64 = 370;

/// Counting by sightings is chosen when the store holds more than this many listed origins
/// per sighting to fold: counting twice by difference reads about 2 × 60 ns per listed
/// origin, counting by sightings about 1 µs per sighting.
const LISTED_PER_SIGHTING: i64 = 8;

#[derive(QueryableByName)]
struct ChunkEnd {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    sightings: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Sizes {
    #[diesel(sql_type = BigInt)]
    sightings: i64,
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// How a fold counts the origins it adds (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NewOrigins {
    /// The instance's listed origins, before and after.
    ByDifference,
    /// Each chunk's distinct origins not listed yet.
    BySightings,
}

impl NewOrigins {
    /// The cheaper way for the sightings waiting and the store's size. The database's size
    /// overstates the listed origins (it holds the sightings too, and the queue's state), so
    /// a small store counts by difference, which costs little there.
    fn cheaper(conn: &mut SqliteConnection) -> diesel::QueryResult<NewOrigins> {
        let sizes = diesel::sql_query(SIZES).get_result::<Sizes>(conn)?;
        Ok(Self::for_sizes(sizes.sightings, sizes.bytes))
    }

    /// The cheaper way for at most `sightings` sightings into a database of `bytes`.
    fn for_sizes(sightings: i64, bytes: i64) -> NewOrigins {
        if bytes / BYTES_PER_ORIGIN > LISTED_PER_SIGHTING * sightings {
            NewOrigins::BySightings
        } else {
            NewOrigins::ByDifference
        }
    }
}

/// The listed origins of one instance (or of all).
fn listed(conn: &mut SqliteConnection, lister_id: Option<i64>) -> diesel::QueryResult<i64> {
    use crate::schema::listed_origins::{self, table};
    use diesel::{ExpressionMethods, QueryDsl};
    match lister_id {
        Some(id) => table
            .filter(listed_origins::lister_id.eq(id))
            .count()
            .get_result(conn),
        None => table.count().get_result(conn),
    }
}

/// The SQLite fold of one instance's sightings (or of every instance's), in chunks of
/// `chunk`, counting new origins the cheaper way.
pub(super) fn fold(
    conn: &mut SqliteConnection,
    lister_id: Option<i64>,
    chunk: i64,
) -> diesel::QueryResult<Counts> {
    conn.immediate_transaction(|conn| {
        let counting = NewOrigins::cheaper(conn)?;
        fold_counting(conn, lister_id, chunk, counting)
    })
}

/// The fold's body, counting new origins as `counting` says.
pub(super) fn fold_counting(
    conn: &mut SqliteConnection,
    lister_id: Option<i64>,
    chunk: i64,
    counting: NewOrigins,
) -> diesel::QueryResult<Counts> {
    let listed_before = match counting {
        NewOrigins::ByDifference => listed(conn, lister_id)?,
        NewOrigins::BySightings => 0,
    };
    let mut first_listing = match (counting, listed_before) {
        (NewOrigins::ByDifference, 0) => QueueRowsAfterFold::defer(conn)?,
        _ => None,
    };
    let (mut sightings, mut new) = (0, 0);
    let upsert = upsert();
    loop {
        let end = diesel::sql_query(CHUNK_END)
            .bind::<Nullable<BigInt>, _>(lister_id)
            .bind::<BigInt, _>(chunk)
            .get_result::<ChunkEnd>(conn)?;
        let Some(last) = end.id else {
            if counting == NewOrigins::ByDifference {
                new = listed(conn, lister_id)? - listed_before;
            }
            if let Some(queue_rows) = first_listing.take() {
                queue_rows.write(conn, lister_id)?;
            }
            return Ok(Counts { sightings, new });
        };
        if counting == NewOrigins::BySightings {
            new += diesel::sql_query(CHUNK_NEW)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(last)
                .get_result::<Count>(conn)?
                .n;
        }
        diesel::sql_query(&upsert)
            .bind::<Nullable<BigInt>, _>(lister_id)
            .bind::<BigInt, _>(last)
            .execute(conn)?;
        let all = diesel::sql_query(ALL_SIGHTINGS).get_result::<Count>(conn)?;
        if all.n == end.sightings {
            diesel::sql_query(DELETE_ALL).execute(conn)?;
        } else {
            diesel::sql_query(DELETE_CHUNK)
                .bind::<Nullable<BigInt>, _>(lister_id)
                .bind::<BigInt, _>(last)
                .execute(conn)?;
        }
        sightings += end.sightings;
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;

    use super::*;
    use crate::testing::{TestDatabase, commit_origins, register_github};
    use crate::{ListerRecord, Store};
    use lister_core::Origin;

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Listed {
        #[diesel(sql_type = Text)]
        url: String,
        #[diesel(sql_type = Text)]
        first_seen: String,
        #[diesel(sql_type = Text)]
        last_seen: String,
        #[diesel(sql_type = BigInt)]
        enabled_listings: i64,
    }

    fn listed_origins(conn: &mut SqliteConnection) -> Vec<Listed> {
        diesel::sql_query(
            "SELECT o.url, o.first_seen, o.last_seen, v.enabled_listings FROM listed_origins o \
             JOIN visit_stats v USING (url, visit_type) ORDER BY o.url, o.lister_id",
        )
        .load(conn)
        .unwrap()
    }

    fn sightings_left(conn: &mut SqliteConnection) -> i64 {
        diesel::sql_query(ALL_SIGHTINGS)
            .get_result::<Count>(conn)
            .unwrap()
            .n
    }

    /// Commits one page per list of names, a few milliseconds apart (so that pages have
    /// different times).
    async fn commit_pages(store: &Store, lister: &ListerRecord, pages: &[&[&str]]) {
        for names in pages {
            let origins: Vec<Origin> = names
                .iter()
                .map(|name| Origin::new(format!("https://x.test/{name}"), "git"))
                .collect();
            commit_origins(store, lister, &origins).await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// `fold_counting` on a raw connection to `database`, in one transaction.
    fn fold_with(
        database: &TestDatabase,
        lister_id: Option<i64>,
        chunk: i64,
        counting: NewOrigins,
    ) -> (Counts, SqliteConnection) {
        let mut conn = database.sqlite_connection();
        let counts = conn
            .immediate_transaction(|conn| fold_counting(conn, lister_id, chunk, counting))
            .unwrap();
        (counts, conn)
    }

    const BOTH: [NewOrigins; 2] = [NewOrigins::ByDifference, NewOrigins::BySightings];

    /// A fold in chunks of two sightings, so that origins seen on several pages are upserted
    /// again in later chunks: each keeps the time of its first sighting and takes its last,
    /// and either way of counting counts each new origin once.
    #[tokio::test]
    async fn a_fold_in_several_chunks_keeps_first_and_last_sightings() {
        for counting in BOTH {
            let database = TestDatabase::sqlite();
            let store = database.open().await;
            let lister = register_github(&store, "default").await;
            commit_pages(&store, &lister, &[&["a", "b"], &["b", "c"], &["d", "a"]]).await;
            drop(store);
            let (counts, mut conn) = fold_with(&database, None, 2, counting);
            let listed = listed_origins(&mut conn);

            let left = sightings_left(&mut conn);
            assert_eq!(
                (counts.sightings, counts.new, left),
                (6, 4, 0),
                "{counting:?}"
            );
            let urls: Vec<&str> = listed.iter().map(|o| o.url.as_str()).collect();
            let expected = ["a", "b", "c", "d"].map(|name| format!("https://x.test/{name}"));
            assert_eq!(urls, expected);
            let [a, b, c, d] = &listed[..] else {
                unreachable!("four origins")
            };
            let (page1, page2, page3) = (&a.first_seen, &c.first_seen, &d.first_seen);
            assert!(page1 < page2 && page2 < page3, "{listed:?}");
            assert_eq!((&a.first_seen, &a.last_seen), (page1, page3), "{listed:?}");
            assert_eq!((&b.first_seen, &b.last_seen), (page1, page2), "{listed:?}");
            assert_eq!((&c.last_seen, &d.last_seen), (page2, page3), "{listed:?}");
            assert!(listed.iter().all(|o| o.enabled_listings == 1), "{listed:?}");
            database.drop_database().await;
        }
    }

    /// An incremental fold into a store that lists some of its origins already, beside another
    /// instance's sightings: both ways count the same new origins, whether an origin seen
    /// twice is in one chunk or two, and the other instance's sightings stay, not folded.
    #[tokio::test]
    async fn both_ways_of_counting_agree_on_a_store_that_knows_some_origins() {
        for (counting, chunk) in BOTH.into_iter().flat_map(|way| [(way, 2), (way, 100)]) {
            let database = TestDatabase::sqlite();
            let store = database.open().await;
            let lister = register_github(&store, "default").await;
            let other = register_github(&store, "other").await;
            commit_pages(&store, &lister, &[&["a", "b", "c"]]).await;
            store.fold_sightings(None).await.unwrap();
            commit_pages(&store, &lister, &[&["b", "x"], &["x", "c", "y"]]).await;
            commit_pages(&store, &other, &[&["a", "z"]]).await;
            drop(store);
            let (counts, mut conn) = fold_with(&database, Some(lister.id), chunk, counting);

            let case = format!("{counting:?} in chunks of {chunk}");
            assert_eq!((counts.sightings, counts.new), (5, 2), "{case}");
            assert_eq!(sightings_left(&mut conn), 2, "{case}");
            assert_eq!(listed_origins(&mut conn).len(), 5, "{case}");
            database.drop_database().await;
        }
    }

    #[test]
    fn a_first_listing_counts_by_difference_and_an_incremental_run_by_sightings() {
        const MIB: i64 = 1 << 20;
        // 100,000 sightings waiting in a new database (about 15 MiB of them).
        assert_eq!(
            NewOrigins::for_sizes(100_000, 16 * MIB),
            NewOrigins::ByDifference
        );
        // 1,000,000 origins listed, 200,000 more to fold: counting twice reads less.
        assert_eq!(
            NewOrigins::for_sizes(200_000, 400 * MIB),
            NewOrigins::ByDifference
        );
        // 1,000 sightings into a store of 1,000,000 origins, and 10,000 into 10,000,000.
        assert_eq!(
            NewOrigins::for_sizes(1_000, 400 * MIB),
            NewOrigins::BySightings
        );
        assert_eq!(
            NewOrigins::for_sizes(10_000, 4_000 * MIB),
            NewOrigins::BySightings
        );
    }
}
