//! Launchpad's web service under `/launchpad/devel`: the named operations
//! `GET +git?ws.op=getRepositories` (git repositories) and `GET branches?ws.op=getBranches`
//! (Bazaar branches), as lazr.restful batches them: `{"total_size_link", "start",
//! "next_collection_link" (absent on the last batch), "prev_collection_link", "entries",
//! "resource_type_link"}`, `ws.size` 75 by default and at most 300 (more is a `400`), from
//! `ws.start`. `order_by=most neglected first` sorts by `date_last_modified`, then id (the
//! default is the reverse: most recently changed first); `modified_since_date` keeps the
//! entries modified at or after it. Entries share dates three by three, so pages end inside
//! runs of equal dates; entries added later, or touched, are modified last.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// `ws.size` when the request names none.
pub(crate) const DEFAULT_SIZE: u64 = 75;
/// The largest batch (lazr.restful's `max_batch_size`).
pub(crate) const MAX_SIZE: u64 = 300;

/// A collection: git repositories or Bazaar branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    Git,
    Bzr,
}

impl Collection {
    fn instance(self) -> Instance {
        match self {
            Collection::Git => Instance::Launchpad,
            Collection::Bzr => Instance::LaunchpadBzr,
        }
    }

    fn operation(self) -> &'static str {
        match self {
            Collection::Git => "+git?ws.op=getRepositories",
            Collection::Bzr => "branches?ws.op=getBranches",
        }
    }
}

/// When the `k`-th entry (from 1) was last modified: three by three, an hour apart.
fn created_date(k: u64) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2012, 3, 4, 5, 6, 7).unwrap();
    base + chrono::Duration::hours((k / 3) as i64) + chrono::Duration::microseconds(123_456)
}

/// The date of every entry, the touched ones moved to their touch (`touched` maps an entry to
/// its new date).
fn date(k: u64, touched: &BTreeMap<u64, DateTime<Utc>>) -> DateTime<Utc> {
    touched.get(&k).copied().unwrap_or_else(|| created_date(k))
}

fn owner(k: u64) -> String {
    format!("~user{}", k % 17)
}

fn project(k: u64) -> String {
    format!("project{}", k % 23)
}

/// The origin of the `k`-th entry: a repository's `git_https_url`, a branch's `web_link`.
fn origin_url(collection: Collection, k: u64) -> String {
    match collection {
        Collection::Git => format!(
            "https://git.launchpad.example.org/{}/{}/+git/repo-{k}",
            owner(k),
            project(k)
        ),
        Collection::Bzr => format!(
            "https://code.launchpad.example.org/{}/{}/branch-{k}",
            owner(k),
            project(k)
        ),
    }
}

/// What a correct lister lists, in listing order.
pub(crate) fn origins(
    collection: Collection,
    count: u64,
    touched: &BTreeMap<u64, DateTime<Utc>>,
) -> Vec<ExpectedOrigin> {
    ordered(count, touched)
        .into_iter()
        .map(|(time, k)| ExpectedOrigin {
            url: origin_url(collection, k),
            visit_type: match collection {
                Collection::Git => "git",
                Collection::Bzr => "bzr",
            }
            .to_owned(),
            enabled: true,
            is_fork: None,
            last_update: Some(time.to_rfc3339()),
        })
        .collect()
}

/// Every entry's date and number, most neglected first.
fn ordered(count: u64, touched: &BTreeMap<u64, DateTime<Utc>>) -> Vec<(DateTime<Utc>, u64)> {
    let mut entries: Vec<_> = (1..=count).map(|k| (date(k, touched), k)).collect();
    entries.sort();
    entries
}

fn launchpad_date(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// The `k`-th entry of `collection`, as the web service shows it.
fn entry(collection: Collection, k: u64, time: DateTime<Utc>, api: &str) -> Value {
    let (owner, project) = (owner(k), project(k));
    let created = launchpad_date(created_date(k) - chrono::Duration::days(400));
    match collection {
        Collection::Git => {
            let path = format!("{owner}/{project}/+git/repo-{k}");
            json!({
                "self_link": format!("{api}/{path}"),
                "web_link": format!("https://code.launchpad.example.org/{path}"),
                "resource_type_link": format!("{api}/#git_repository"),
                "registrant_link": format!("{api}/{owner}"),
                "owner_link": format!("{api}/{owner}"),
                "target_link": format!("{api}/{project}"),
                "name": format!("repo-{k}"),
                "unique_name": path,
                "id": 70_000 + k,
                "date_created": created,
                "date_last_modified": launchpad_date(time),
                "git_identity": format!("lp:{path}"),
                "git_https_url": origin_url(collection, k),
                "git_ssh_url": format!("git+ssh://git.launchpad.example.org/{path}"),
                "private": false,
                "information_type": "Public",
                "repository_type": if k.is_multiple_of(13) { "Imported" } else { "Hosted" },
                "description": if k.is_multiple_of(4) { Value::Null } else { json!(format!("Repository {k} — «tools» & <more>")) },
                "http_etag": format!("\"{k:x}-{:x}\"", time.timestamp()),
            })
        }
        Collection::Bzr => {
            let path = format!("{owner}/{project}/branch-{k}");
            let mirrored = k.is_multiple_of(7);
            json!({
                "self_link": format!("{api}/{path}"),
                "web_link": origin_url(collection, k),
                "resource_type_link": format!("{api}/#branch"),
                "bzr_identity": format!("lp:{path}"),
                "unique_name": path,
                "name": format!("branch-{k}"),
                "display_name": format!("lp:{path}"),
                "branch_type": if mirrored { "Mirrored" } else { "Hosted" },
                "url": if mirrored { json!(format!("http://bzr.example.com/branch-{k}")) } else { Value::Null },
                "lifecycle_status": "Development",
                "private": false,
                "information_type": "Public",
                "owner_link": format!("{api}/{owner}"),
                "project_link": format!("{api}/{project}"),
                "date_created": created,
                "date_last_modified": launchpad_date(time),
                "revision_count": k * 3,
                "last_scanned_id": format!("dev@example.org-2012{k:010}"),
                "http_etag": format!("\"{k:x}-{:x}\"", time.timestamp()),
            })
        }
    }
}

/// What a batch request asks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchQuery {
    pub(crate) neglected_first: bool,
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) start: u64,
    pub(crate) size: u64,
}

/// The batch `query` asks of `count` entries of `collection`, under the API base `api`.
pub(crate) fn render_batch(
    collection: Collection,
    api: &str,
    query: &BatchQuery,
    count: u64,
    touched: &BTreeMap<u64, DateTime<Utc>>,
) -> Vec<u8> {
    let mut kept: Vec<(DateTime<Utc>, u64)> = ordered(count, touched)
        .into_iter()
        .filter(|(time, _)| query.since.is_none_or(|since| *time >= since))
        .collect();
    if !query.neglected_first {
        kept.reverse();
    }
    let from = (query.start as usize).min(kept.len());
    let to = (from + query.size as usize).min(kept.len());
    let entries: Vec<Value> = kept[from..to]
        .iter()
        .map(|(time, k)| entry(collection, *k, *time, api))
        .collect();
    let mut params = vec![];
    if query.neglected_first {
        params.push("order_by=most%20neglected%20first".to_owned());
    }
    if let Some(since) = query.since {
        let since: String =
            url::form_urlencoded::byte_serialize(launchpad_date(since).as_bytes()).collect();
        params.push(format!("modified_since_date={since}"));
    }
    let link = |extra: &str| {
        format!(
            "{api}/{}&{}{extra}",
            collection.operation(),
            params.join("&")
        )
    };
    let mut batch = json!({
        "total_size_link": link("&ws.show=total_size"),
        "start": query.start,
        "entries": entries,
        "resource_type_link": format!("{api}/#{}-page-resource", match collection {
            Collection::Git => "git_repository",
            Collection::Bzr => "branch",
        }),
    });
    if to < kept.len() {
        batch["next_collection_link"] = json!(link(&format!(
            "&memo={to}&ws.size={}&ws.start={to}",
            query.size
        )));
    }
    if from > 0 {
        let back = from.saturating_sub(query.size as usize);
        batch["prev_collection_link"] = json!(link(&format!(
            "&direction=backwards&memo={from}&ws.size={}&ws.start={back}",
            query.size
        )));
    }
    serde_json::to_vec(&batch).expect("a JSON value serializes")
}

fn bad_request(message: &str) -> Response<Body> {
    full(
        StatusCode::BAD_REQUEST,
        "text/plain;charset=utf-8",
        message.to_owned(),
    )
}

/// Serves `GET /launchpad/devel/+git` and `GET /launchpad/devel/branches`.
pub(crate) async fn batch(
    call: Call<'_>,
    collection: Collection,
) -> Result<Response<Body>, Dropped> {
    let operation = collection
        .operation()
        .split_once("ws.op=")
        .map(|(_, op)| op)
        .unwrap_or_default();
    match call.param("ws.op") {
        Some(op) if op == operation => {}
        Some(op) => return Ok(bad_request(&format!("No such operation: {op}"))),
        None => return Ok(bad_request("This fake serves only the named operation")),
    }
    let neglected_first = match call.param("order_by") {
        None | Some("most recently changed first") => false,
        Some("most neglected first") => true,
        Some(other) => return Ok(bad_request(&format!("order_by: Invalid value \"{other}\""))),
    };
    let since = match call.param("modified_since_date") {
        None => None,
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(time) => Some(time.with_timezone(&Utc)),
            Err(_) => {
                return Ok(bad_request(
                    "modified_since_date: Value doesn't look like a date.",
                ));
            }
        },
    };
    let start = match call.param("ws.start").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(_)) => return Ok(bad_request("ws.start: not a number")),
    };
    let size = match call.param("ws.size").map(str::parse::<u64>) {
        None => DEFAULT_SIZE,
        Some(Ok(size)) if size <= MAX_SIZE => size.max(1),
        Some(Ok(_)) => {
            return Ok(bad_request(&format!(
                "Maximum for ws.size parameter is {MAX_SIZE}."
            )));
        }
        Some(Err(_)) => return Ok(bad_request("ws.size: not a number")),
    };
    let query = BatchQuery {
        neglected_first,
        since,
        start,
        size,
    };
    let count = call.state.count(collection.instance());
    let touched = call.state.launchpad_touched(collection);
    let api = format!("{}/launchpad/devel", call.base);
    let body = render_batch(collection, &api, &query, count, &touched);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(query: &BatchQuery, touched: &BTreeMap<u64, DateTime<Utc>>) -> Value {
        let body = render_batch(
            Collection::Git,
            "http://127.0.0.1:1/launchpad/devel",
            query,
            10,
            touched,
        );
        serde_json::from_slice(&body).unwrap()
    }

    fn numbers(batch: &Value) -> Vec<u64> {
        let entries = batch["entries"].as_array().unwrap();
        entries
            .iter()
            .map(|e| e["id"].as_u64().unwrap() - 70_000)
            .collect()
    }

    #[test]
    fn batches_by_date_then_id_from_a_date_and_an_offset() {
        let none = BTreeMap::new();
        let query = BatchQuery {
            neglected_first: true,
            since: None,
            start: 0,
            size: 4,
        };
        let first = batch(&query, &none);
        assert_eq!(numbers(&first), [1, 2, 3, 4]);
        assert_eq!(
            first["entries"][0]["date_last_modified"],
            first["entries"][1]["date_last_modified"]
        );
        let next = first["next_collection_link"].as_str().unwrap();
        assert!(
            next.contains("ws.start=4") && next.contains("order_by=most%20neglected%20first"),
            "{next}"
        );
        assert!(first.get("prev_collection_link").is_none());
        // From the date of entry 4 (shared by 3, 4 and 5), skipping the two already listed.
        let since = Some(created_date(4));
        let query = BatchQuery {
            neglected_first: true,
            since,
            start: 2,
            size: 4,
        };
        let second = batch(&query, &none);
        assert_eq!(numbers(&second), [5, 6, 7, 8]);
        let query = BatchQuery {
            neglected_first: true,
            since,
            start: 6,
            size: 4,
        };
        let last = batch(&query, &none);
        assert_eq!(numbers(&last), [9, 10]);
        assert!(last.get("next_collection_link").is_none());
        // A touched entry moves to the end; the default order is the most recent first.
        let touched = BTreeMap::from([(2, created_date(100))]);
        let query = BatchQuery {
            neglected_first: true,
            since,
            start: 6,
            size: 4,
        };
        assert_eq!(numbers(&batch(&query, &touched)), [9, 10, 2]);
        let query = BatchQuery {
            neglected_first: false,
            since: None,
            start: 0,
            size: 2,
        };
        assert_eq!(numbers(&batch(&query, &none)), [10, 9]);
        let expected = origins(Collection::Bzr, 3, &none);
        assert_eq!(
            expected[2].url,
            "https://code.launchpad.example.org/~user3/project3/branch-3"
        );
    }
}
