//! Bitbucket Data Center (Server)'s `GET /bitbucket-server/rest/api/1.0/repos?start=N&limit=L`:
//! the "paged API" shape `{"size", "limit", "isLastPage", "values", "start", "nextPageStart"}`,
//! `start` an offset (not an id), `limit` 25 by default and clamped to 1000, no
//! `nextPageStart` on the last page.

use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::payload::sparse_id;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// `limit` when the request names none.
pub(crate) const DEFAULT_LIMIT: u64 = 25;
/// The largest page served (`page.max.repositories` default).
pub(crate) const MAX_LIMIT: u64 = 1_000;

const HOST: &str = "bitbucket.example.org";

/// Every 6th repository is not public.
fn is_public(k: u64) -> bool {
    !k.is_multiple_of(6)
}

/// Every 10th repository is a fork (of the `k / 10`-th).
fn is_fork(k: u64) -> bool {
    k.is_multiple_of(10)
}

fn project_key(k: u64) -> String {
    format!("PRJ{}", k % 7)
}

/// The `http` clone link of the `k`-th repository.
pub(crate) fn clone_url(k: u64) -> String {
    format!("https://{HOST}/scm/prj{}/repo-{k}.git", k % 7)
}

/// What a correct lister lists, in listing order.
pub(crate) fn origins(count: u64) -> Vec<ExpectedOrigin> {
    (1..=count)
        .map(|k| ExpectedOrigin {
            url: clone_url(k),
            visit_type: "git".to_owned(),
            enabled: is_public(k),
            is_fork: None,
            last_update: None,
        })
        .collect()
}

/// The `k`-th repository (from 1); a fork's `origin` is its origin's object.
fn repository(k: u64, nested: bool) -> Value {
    let key = project_key(k);
    let mut value = json!({
        "slug": format!("repo-{k}"),
        "id": sparse_id(k, 5),
        "name": format!("repo-{k}"),
        "hierarchyId": format!("{:020x}", k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 8),
        "scmId": "git",
        "state": "AVAILABLE",
        "statusMessage": "Available",
        "forkable": true,
        "project": {
            "key": key,
            "id": k % 7 + 1,
            "name": format!("Project {}", k % 7),
            "public": false,
            "type": "NORMAL",
            "links": {"self": [{"href": format!("https://{HOST}/projects/{key}")}]},
        },
        "public": is_public(k),
        "archived": false,
        "links": {
            "clone": [
                {"href": clone_url(k), "name": "http"},
                {"href": format!("ssh://git@{HOST}:7999/prj{}/repo-{k}.git", k % 7), "name": "ssh"},
            ],
            "self": [{"href": format!("https://{HOST}/projects/{key}/repos/repo-{k}/browse")}],
        },
    });
    if is_fork(k) && !nested {
        value["origin"] = repository(k / 10, true);
    }
    value
}

/// A Bitbucket Data Center error: `{"errors": [{"context", "message", "exceptionName"}]}`.
fn api_error(message: &str) -> Response<Body> {
    let body = json!({"errors": [{"context": null, "message": message, "exceptionName": null}]});
    full(
        StatusCode::BAD_REQUEST,
        "application/json",
        body.to_string(),
    )
}

/// The page of `count` repositories at offset `start` (the positions `start + 1 ..`).
pub(crate) fn render_page(start: u64, limit: u64, count: u64, looping: bool) -> Vec<u8> {
    let first = start.saturating_add(1);
    let last = start.saturating_add(limit).min(count);
    let values: Vec<Value> = (first..=last).map(|k| repository(k, false)).collect();
    let size = values.len() as u64;
    let is_last = start.saturating_add(size) >= count;
    let mut page = json!({
        "size": size,
        "limit": limit,
        "isLastPage": is_last && !looping,
        "values": values,
        "start": start,
    });
    if looping {
        page["nextPageStart"] = json!(0);
    } else if !is_last {
        page["nextPageStart"] = json!(start + size);
    }
    serde_json::to_vec(&page).expect("a JSON value serializes")
}

/// Serves `GET /bitbucket-server/rest/api/1.0/repos`.
pub(crate) async fn page(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let start = match call.param("start").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(_)) => return Ok(api_error("Invalid start: not a non-negative integer")),
    };
    let limit = match call.param("limit").map(str::parse::<u64>) {
        None => DEFAULT_LIMIT,
        Some(Ok(limit)) => limit.clamp(1, MAX_LIMIT),
        Some(Err(_)) => return Ok(api_error("Invalid limit: not a positive integer")),
    };
    let count = call.state.count(Instance::BitbucketServer);
    let looping = call.fault == Some(Fault::LoopingNext);
    let body = render_page(start, limit, count, looping);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json;charset=UTF-8"),
    );
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_offset() {
        let page: Value = serde_json::from_slice(&render_page(0, 25, 30, false)).unwrap();
        assert_eq!(page["size"], 25);
        assert_eq!(page["isLastPage"], false);
        assert_eq!(page["nextPageStart"], 25);
        let values = page["values"].as_array().unwrap();
        assert_eq!(values[5]["public"], false);
        assert_eq!(values[9]["origin"]["slug"], "repo-1");
        assert!(values[9]["origin"].get("origin").is_none());
        assert_eq!(values[0]["links"]["clone"][0]["href"], clone_url(1));
        let last: Value = serde_json::from_slice(&render_page(25, 25, 30, false)).unwrap();
        assert_eq!(last["size"], 5);
        assert_eq!(last["isLastPage"], true);
        assert!(last.get("nextPageStart").is_none());
    }
}
