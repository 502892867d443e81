//! The PostgreSQL page commit: one statement, so one round trip, and atomic without an
//! explicit transaction.
//!
//! A transaction of four statements cost nine round trips per page (each statement parsed
//! again), which bounded listing into PostgreSQL more than the database work did.

use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamp};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::commit_rows::{Commit, PageRow, StaleVersion, loader_arguments, page_rows};
use lister_core::store::PageWritten;
use lister_core::{Error, Origin, Result};

/// The state write (when `$3`: of the instance, or with `$19` of that range, renewing its
/// lease until `$20`), then the sightings, the pages' validators and the refresh of
/// the origins of pages answered `304` (`$18`: their `last_seen`, looked up by
/// `listed_origins`'s key; a run folds what an interrupted run left before it walks, so the
/// origins a page remembers are listed), all only if the state write was not refused. Every part of the statement sees the same snapshot, and
/// the data-modifying parts run whether or not the final SELECT reads them.
const COMMIT: &str = "\
    WITH state AS ( \
        UPDATE listers SET state = $4, state_version = state_version + 1, updated = $2 \
        WHERE $3 AND $19::bigint IS NULL AND id = $1 AND state_version = $5 \
        RETURNING state_version \
    ), range_state AS ( \
        UPDATE listing_ranges SET position = $4, version = version + 1, lease_until = $20 \
        WHERE $3 AND id = $19 AND version = $5 \
        RETURNING version \
    ), allowed AS ( \
        SELECT NOT $3 OR EXISTS (SELECT FROM state) OR EXISTS (SELECT FROM range_state) AS ok \
    ), sightings AS ( \
        INSERT INTO origin_sightings (lister_id, url, visit_type, seen_at, last_update, \
            enabled, is_fork, extra_loader_arguments) \
        SELECT $1, u.url, u.visit_type, $2, u.last_update, u.enabled, u.is_fork, u.arguments \
        FROM UNNEST($6::text[], $7::text[], $8::timestamp[], $9::boolean[], $10::boolean[], \
            $11::text[]) AS u (url, visit_type, last_update, enabled, is_fork, arguments) \
        WHERE (SELECT ok FROM allowed) \
        RETURNING 1 \
    ), pages AS ( \
        INSERT INTO page_validators (lister_id, url, etag, last_modified, next_url, \
            next_index, origins, updated) \
        SELECT $1, p.url, p.etag, p.last_modified, p.next_url, p.next_index, p.origins, $2 \
        FROM UNNEST($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], \
            $17::text[]) AS p (url, etag, last_modified, next_url, next_index, origins) \
        WHERE (SELECT ok FROM allowed) \
        ON CONFLICT (lister_id, url) DO UPDATE SET etag = excluded.etag, \
            last_modified = excluded.last_modified, next_url = excluded.next_url, \
            next_index = excluded.next_index, origins = excluded.origins, \
            updated = excluded.updated \
    ), refreshed AS ( \
        UPDATE listed_origins AS o SET last_seen = $2 \
        FROM (SELECT DISTINCT k->>0 AS url, k->>1 AS visit_type \
            FROM page_validators AS p, json_array_elements(p.origins::json) AS k \
            WHERE p.lister_id = $1 AND p.url = ANY($18::text[])) AS held \
        WHERE (SELECT ok FROM allowed) AND o.url = held.url \
            AND o.visit_type = held.visit_type AND o.lister_id = $1 \
        RETURNING 1 \
    ), touched AS ( \
        UPDATE page_validators SET updated = $2 \
        WHERE (SELECT ok FROM allowed) AND lister_id = $1 AND url = ANY($18::text[]) \
    ) \
    SELECT (SELECT ok FROM allowed) AS allowed, (SELECT count(*) FROM sightings) AS sightings, \
        COALESCE((SELECT state_version FROM state), (SELECT version FROM range_state)) \
            AS state_version, \
        (SELECT count(*) FROM refreshed) AS refreshed";

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Bool)]
    allowed: bool,
    #[diesel(sql_type = BigInt)]
    sightings: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    state_version: Option<i64>,
    #[diesel(sql_type = BigInt)]
    refreshed: i64,
}

/// Writes the page; `Err(StaleVersion)` when the state write was refused (nothing written).
pub(super) async fn commit_page(
    conn: &mut AsyncPgConnection,
    write: Commit<'_>,
) -> Result<Result<PageWritten, StaleVersion>> {
    let rows = page_rows(write.lister_id, write.at, write.pages, &write.origins);
    let (origins, state) = (&write.origins, write.state.as_ref());
    let column = |f: fn(&Origin) -> &str| origins.iter().map(f).collect::<Vec<_>>();
    let unchanged = &rows.unchanged;
    let pages = &rows.fetched;
    let page_text = |f: fn(&PageRow) -> Option<&str>| pages.iter().map(f).collect::<Vec<_>>();
    let range = state.and_then(|state| state.range);
    let outcome: Outcome = diesel::sql_query(COMMIT)
        .bind::<BigInt, _>(write.lister_id)
        .bind::<Timestamp, _>(write.at)
        .bind::<Bool, _>(state.is_some())
        .bind::<Nullable<Text>, _>(state.map(|state| state.json.as_str()))
        .bind::<BigInt, _>(state.map_or(0, |state| state.expected_version))
        .bind::<Array<Text>, _>(column(|origin| &origin.url))
        .bind::<Array<Text>, _>(column(|origin| &origin.visit_type))
        .bind::<Array<Nullable<Timestamp>>, _>(
            origins
                .iter()
                .map(|origin| origin.last_update.map(|t| t.naive_utc()))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Bool>, _>(
            origins
                .iter()
                .map(|origin| origin.enabled)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Bool>>, _>(
            origins
                .iter()
                .map(|origin| origin.is_fork)
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(origins.iter().map(loader_arguments).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(pages.iter().map(|page| &page.url).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(page_text(|page| page.etag.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(page_text(|page| page.last_modified.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(page_text(|page| page.next_url.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(page_text(|page| page.next_index.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(page_text(|page| page.origins.as_deref()))
        .bind::<Array<Text>, _>(unchanged)
        .bind::<Nullable<BigInt>, _>(range.map(|range| range.range_id))
        .bind::<Nullable<Timestamp>, _>(range.map(|range| range.until))
        .get_result(conn)
        .await
        .map_err(Error::query("committing a page"))?;
    if let (false, Some(state)) = (outcome.allowed, state) {
        // Read after the statement, so it names the version that won.
        let (query, id) = match range {
            None => (
                "SELECT state_version AS version FROM listers WHERE id = $1",
                write.lister_id,
            ),
            Some(range) => (
                "SELECT version FROM listing_ranges WHERE id = $1",
                range.range_id,
            ),
        };
        let found = diesel::sql_query(query)
            .bind::<BigInt, _>(id)
            .get_result::<Version>(conn)
            .await
            .optional()
            .map_err(Error::query("reading a state version"))?;
        let expected = state.expected_version;
        let found = found.map_or(-1, |found| found.version);
        return Ok(Err(StaleVersion { expected, found }));
    }
    Ok(Ok(PageWritten {
        sightings: outcome.sightings as u64,
        state_version: outcome.state_version,
        refreshed: outcome.refreshed as u64,
    }))
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    version: i64,
}
