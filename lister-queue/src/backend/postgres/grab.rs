//! A grab on PostgreSQL, in one statement (see [`statement`]).

use chrono::NaiveDateTime;
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
use diesel_async::AsyncPgConnection;

use super::NOW;
use crate::grant::{DUE, Grant, Request, token};
use crate::policy::{Ordering, Selection};
use crate::prepared::{Binds, Prepared, no_parameter};
use crate::resume::{Key, ResumePoints};

/// One index scan of the statement: a selection, whole or one side of its resume point.
#[derive(Debug, Clone, Copy)]
struct Scan {
    /// Which entry of the plan it serves.
    step: usize,
    selection: Selection,
    limit: usize,
    side: Side,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// From the start of the ordering.
    Whole,
    /// After resume point `k`.
    After(usize),
    /// Up to resume point `k`, from the start (the room the `After` scan left).
    UpTo(usize),
}

/// A granted row, with the scan that picked it and its sort key before the grab.
#[derive(QueryableByName)]
struct GrantRow {
    #[diesel(sql_type = Integer)]
    scan: i32,
    #[diesel(sql_type = Nullable<Timestamp>)]
    resume_key: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    visit_type: String,
    #[diesel(sql_type = Text)]
    lister: String,
    #[diesel(sql_type = Text)]
    instance: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    last_update: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    lease_token: String,
    #[diesel(sql_type = Timestamp)]
    lease_expires_at: NaiveDateTime,
}

/// The statement's binds: `$1` the visit type, `$2` the tokens, `$3` the lease in
/// microseconds, then two per resume point: its key (`$4`, `$6`…) and URL (`$5`, `$7`…).
struct GrabBinds {
    visit_type: String,
    tokens: Vec<String>,
    lease_micros: i64,
    points: Vec<Key>,
}

impl Binds<Pg> for GrabBinds {
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        match n {
            1 => out.push_bind_param::<Text, _>(&self.visit_type),
            2 => out.push_bind_param::<Array<Text>, _>(&self.tokens),
            3 => out.push_bind_param::<BigInt, _>(&self.lease_micros),
            n => match n.checked_sub(4).and_then(|k| self.points.get(k / 2)) {
                Some((key, _)) if n % 2 == 0 => out.push_bind_param::<Nullable<Timestamp>, _>(key),
                Some((_, url)) => out.push_bind_param::<Text, _>(url),
                None => Err(no_parameter(n)),
            },
        }
    }
}

pub(super) async fn grab(
    conn: &mut AsyncPgConnection,
    request: &Request,
    resume: &ResumePoints,
) -> QueryResult<Vec<Grant>> {
    use diesel_async::RunQueryDsl;
    let mut scans = Vec::new();
    let mut points = Vec::new();
    for (step, &(selection, limit)) in request.plan.iter().enumerate() {
        let scan = |side| Scan {
            step,
            selection,
            limit,
            side,
        };
        match resumable(selection).and_then(|ordering| resume.get(&request.visit_type, ordering)) {
            Some(point) => {
                scans.extend([
                    scan(Side::After(points.len())),
                    scan(Side::UpTo(points.len())),
                ]);
                points.push(point);
            }
            None => scans.push(scan(Side::Whole)),
        }
    }
    let binds = GrabBinds {
        visit_type: request.visit_type.clone(),
        tokens: (0..request.count).map(|_| token()).collect(),
        lease_micros: request.lease.num_microseconds().unwrap_or(i64::MAX),
        points,
    };
    let rows: Vec<GrantRow> = Prepared::new(statement(&scans, request.count), binds)
        .load(conn)
        .await?;
    record_resume_points(&scans, &rows, &request.visit_type, resume);
    Ok(rows
        .into_iter()
        .map(|row| Grant {
            url: row.url,
            visit_type: row.visit_type,
            lister: row.lister,
            instance: row.instance,
            last_update: row.last_update.map(|t| t.and_utc()),
            lease_token: row.lease_token,
            lease_expires_at: row.lease_expires_at.and_utc(),
        })
        .collect())
}

fn resumable(selection: Selection) -> Option<Ordering> {
    match selection {
        Selection::Free(ordering) => ordering.resume_key().map(|_| ordering),
        Selection::Expired { .. } => None,
    }
}

/// Remembers, per resumable selection, the last origin it granted.
fn record_resume_points(
    scans: &[Scan],
    rows: &[GrantRow],
    visit_type: &str,
    resume: &ResumePoints,
) {
    let last = |scan: usize| {
        rows.iter()
            .rfind(|row| row.scan as usize == scan)
            .map(|row| (row.resume_key, row.url.clone()))
    };
    for (i, scan) in scans.iter().enumerate() {
        let Some(ordering) = resumable(scan.selection) else {
            continue;
        };
        match scan.side {
            Side::Whole => resume.record(visit_type, ordering, last(i), true),
            Side::After(_) => {}
            // The scan after the point is the one before this.
            Side::UpTo(_) => match last(i) {
                Some(wrapped) => resume.record(visit_type, ordering, Some(wrapped), true),
                None => resume.record(visit_type, ordering, last(i - 1), false),
            },
        }
    }
}

/// A whole grab in one statement: each scan is a CTE that picks with `FOR UPDATE SKIP LOCKED`,
/// limited by what the earlier ones left and skipping what they took; then the picked rows
/// are leased in order and joined with their listing. Limits are part of the text, so that
/// the plan PostgreSQL caches for the statement stays index-ordered.
fn statement(scans: &[Scan], count: usize) -> String {
    let due = DUE.replace("{now}", NOW);
    let mut ctes = Vec::with_capacity(scans.len());
    let mut ranked = Vec::with_capacity(scans.len());
    for (i, scan) in scans.iter().enumerate() {
        let filter = scan.selection.filter().replace("{now}", NOW);
        let order = scan.selection.order_postgres();
        let taken = |scans: &mut dyn Iterator<Item = usize>| -> String {
            scans
                .map(|j| format!(" - (SELECT count(*) FROM s{j})"))
                .collect()
        };
        let before = taken(&mut (0..i));
        let own = taken(&mut (0..i).filter(|&j| scans[j].step == scan.step));
        let limit = format!("LEAST({}{own}, {count}{before})", scan.limit);
        // Every scan is of the same visit type, so the URL names an origin. (An array computed
        // once costs far less here than an anti-join, whose rows a locking scan must copy.)
        let taken_by_others: Vec<String> = (0..i)
            .filter(|&j| {
                scans[j].step != scan.step && scan.selection.may_overlap(scans[j].selection)
            })
            .map(|j| format!("SELECT url FROM s{j}"))
            .collect();
        let unique = match taken_by_others.is_empty() {
            true => String::new(),
            false => format!(
                " AND url <> ALL (ARRAY({}))",
                taken_by_others.join(" UNION ALL ")
            ),
        };
        let point = match (
            scan.side,
            resumable(scan.selection).and_then(Ordering::resume_key),
        ) {
            (Side::After(k) | Side::UpTo(k), Some((column, expr))) => {
                let at = expr.replace(column, &format!("${}::timestamp", 4 + 2 * k));
                let op = if matches!(scan.side, Side::After(_)) {
                    ">"
                } else {
                    "<="
                };
                format!(" AND ({expr}, url) {op} ({at}, ${})", 5 + 2 * k)
            }
            _ => String::new(),
        };
        let resume_key = match resumable(scan.selection).and_then(Ordering::resume_key) {
            Some((column, _)) => column,
            None => "NULL::timestamp",
        };
        ctes.push(format!(
            "s{i} AS (
                SELECT url, visit_type, last_update, last_scheduled, last_successful,
                    lease_expires_at
                FROM visit_stats AS v
                WHERE visit_type = $1 AND {filter} AND {due}{point}{unique}
                ORDER BY {order}
                LIMIT {limit}
                FOR UPDATE SKIP LOCKED
            )"
        ));
        ranked.push(format!(
            "SELECT {i} AS scan, row_number() OVER (ORDER BY {order}) AS rank, url, visit_type,
                {resume_key} AS resume_key
            FROM s{i}"
        ));
    }
    let ctes = ctes.join(", ");
    let ranked = ranked.join(" UNION ALL ");
    format!(
        "WITH {ctes},
        picked AS ({ranked}),
        numbered AS (
            SELECT scan, resume_key, url, visit_type,
                row_number() OVER (ORDER BY scan, rank) AS position
            FROM picked
            -- Never more; saying so lets the planner join the few rows by primary key.
            LIMIT {count}
        ), granted AS (
            UPDATE visit_stats AS v
            SET lease_token = t.token,
                lease_expires_at = {NOW} + $3 * INTERVAL '1 microsecond',
                last_scheduled = {NOW}
            FROM numbered
            JOIN unnest($2::text[]) WITH ORDINALITY AS t (token, position) USING (position)
            WHERE v.url = numbered.url AND v.visit_type = numbered.visit_type
            RETURNING numbered.position, numbered.scan, numbered.resume_key, v.url,
                v.visit_type, v.last_update, v.lease_token, v.lease_expires_at
        )
        SELECT g.scan, g.resume_key, g.url, g.visit_type, listing.lister, listing.instance,
            g.last_update, g.lease_token, g.lease_expires_at
        FROM granted AS g
        CROSS JOIN LATERAL (
            SELECT listers.name AS lister, listers.instance
            FROM listed_origins JOIN listers ON listers.id = listed_origins.lister_id
            WHERE listed_origins.url = g.url AND listed_origins.visit_type = g.visit_type
            ORDER BY listed_origins.enabled DESC, listed_origins.last_seen DESC, listers.id
            LIMIT 1
        ) AS listing
        ORDER BY g.position"
    )
}
