//! sourcehut's GraphQL API, as git.sr.ht serves it at `POST /query` (here `/sourcehut/query`,
//! and hg.sr.ht's at `/sourcehut-hg/query`): a JSON body `{"query", "variables"}`, of which
//! the fake answers `me { repositories(cursor: $cursor) { cursor results { … } } }`, the
//! token owner's repositories (public, unlisted and private), 25 a page, most recently updated
//! first (`ORDER BY updated DESC`, as git.sr.ht's `QueryWithCursor`), behind an opaque cursor
//! (`null` on the last page).
//!
//! The cursor is base64 of `{"count":25,"next":"<unix seconds>","search":""}`, the fields of
//! sourcehut's (which encrypts them): the next page holds the repositories updated at or
//! before `next`. An unknown cursor is a GraphQL error inside a `200`, as sourcehut reports
//! an argument it cannot read. Authentication is core.sr.ht's: no `Authorization` header is a
//! `401`, a header that is not `Bearer` with a token of sourcehut's shape a `400`, each with
//! `{"message": "Authentication error: …"}`; [`Fault::Status`]`(403)` is its answer to an
//! expired token, and [`Fault::GraphqlError`] a GraphQL error inside a `200`.
//!
//! Repository `k` (from 1) is updated `k` hours after [`EPOCH`], so repositories added later
//! come first; every 7th (from the 3rd) is private, every 5th (from the 2nd) unlisted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};
use url::Url;

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// Repositories a page (sourcehut's default `count`).
pub(crate) const PAGE_SIZE: u64 = 25;
/// The owner of the token, whose repositories `me` lists.
pub(crate) const OWNER: &str = "~alice";
/// When repository 0 would have been updated (2023-11-14T22:13:20Z).
const EPOCH: i64 = 1_700_000_000;

/// When repository `k` was last updated, in Unix seconds.
fn updated(k: u64) -> i64 {
    EPOCH + 3_600 * i64::try_from(k).unwrap_or(0)
}

fn rfc3339(seconds: i64) -> String {
    let time = chrono::DateTime::from_timestamp(seconds, 0).expect("a time in range");
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The name of repository `k`: sourcehut allows dots, dashes and underscores.
fn name(k: u64) -> String {
    match k % 4 {
        0 => format!("project-{k}"),
        1 => format!("dotted.name.{k}"),
        2 => format!("snake_case_{k}"),
        _ => format!("Repo{k}"),
    }
}

fn visibility(k: u64) -> &'static str {
    match k {
        _ if k % 7 == 3 => "PRIVATE",
        _ if k % 5 == 2 => "UNLISTED",
        _ => "PUBLIC",
    }
}

/// What a correct lister lists for `count` repositories at `site`: `{site}/~alice/{name}`,
/// the service's visit type, private ones disabled, the last update from `updated`; in
/// listing order (most recently updated first).
pub(crate) fn origins(count: u64, site: &Url, visit_type: &str) -> Vec<ExpectedOrigin> {
    (1..=count)
        .rev()
        .map(|k| ExpectedOrigin {
            url: site
                .join(&format!("{OWNER}/{}", name(k)))
                .expect("a path joins")
                .to_string(),
            visit_type: visit_type.to_owned(),
            enabled: visibility(k) != "PRIVATE",
            is_fork: None,
            last_update: Some(rfc3339(updated(k))),
        })
        .collect()
}

/// Repository `k`, with the fields of git.sr.ht's `Repository` a listing may ask.
fn repository(k: u64) -> Value {
    let description = match k % 3 {
        0 => Value::Null,
        1 => json!(format!("Tool {k}: «unicode», \"quotes\" and a\nnewline")),
        _ => json!(""),
    };
    json!({
        "id": 1_000 + k,
        "created": rfc3339(updated(k) - 86_400),
        "updated": rfc3339(updated(k)),
        "name": name(k),
        "description": description,
        "visibility": visibility(k),
        "owner": {"canonicalName": OWNER},
    })
}

/// The cursor of the page that starts at the repositories updated at or before `next`.
pub(crate) fn cursor(next: i64) -> String {
    let fields = json!({"count": PAGE_SIZE, "next": next.to_string(), "search": ""});
    STANDARD.encode(fields.to_string())
}

/// The `next` of a cursor this fake handed out; `None` for any other text.
fn read_cursor(text: &str) -> Option<i64> {
    let fields: Value = serde_json::from_slice(&STANDARD.decode(text).ok()?).ok()?;
    fields["next"].as_str()?.parse().ok()
}

/// The page of `count` repositories from the cursor's position (`None`: the first page): the
/// results, and the next page's cursor.
pub(crate) fn page(count: u64, next: Option<i64>) -> (Vec<Value>, Option<String>) {
    let mut ks = (1..=count)
        .rev()
        .filter(|k| next.is_none_or(|next| updated(*k) <= next));
    let shown: Vec<u64> = ks.by_ref().take(PAGE_SIZE as usize).collect();
    let following = ks.next().map(|k| cursor(updated(k)));
    (shown.into_iter().map(repository).collect(), following)
}

/// core.sr.ht's authentication error: `{"message": "Authentication error: …"}`.
fn auth_error(status: StatusCode, reason: &str) -> Response<Body> {
    let body = json!({"message": format!("Authentication error: {reason}")});
    full(status, "application/json", body.to_string())
}

/// A GraphQL error: `{"errors": [{"message", "path"}], "data": null}`.
pub(crate) fn graphql_error(status: StatusCode, message: &str) -> Response<Body> {
    let error = json!({"message": message, "path": ["me", "repositories"]});
    let body = json!({"errors": [error], "data": null});
    full(status, "application/json", body.to_string())
}

/// The answer to a fault that sourcehut gives its own way: a `403` is its refusal of an
/// expired token.
pub(crate) fn replacement(fault: &Fault) -> Option<Response<Body>> {
    match fault {
        Fault::Status(403) => Some(auth_error(
            StatusCode::FORBIDDEN,
            "Invalid or expired OAuth 2.0 bearer token",
        )),
        _ => None,
    }
}

/// Whether `token` has the shape of a sourcehut token: an OAuth 2.0 one, or a legacy one
/// (32 hexadecimal digits).
fn token_shape(token: &str) -> bool {
    let oauth2 = token.len() >= 33
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+/".contains(&b));
    let legacy = token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    oauth2 || legacy
}

/// core.sr.ht's authentication, before anything else: its refusal, if it refuses.
fn refusal(headers: &HeaderMap) -> Option<Response<Body>> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        let reason = "Authorization header is required. Expected 'Authorization: Bearer <token>'";
        return Some(auth_error(StatusCode::UNAUTHORIZED, reason));
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some(("Bearer", token)) if token_shape(token) => None,
        Some(("Bearer", _)) => Some(auth_error(
            StatusCode::BAD_REQUEST,
            "Invalid OAuth bearer token",
        )),
        _ => Some(auth_error(
            StatusCode::BAD_REQUEST,
            "Invalid Authorization header",
        )),
    }
}

/// Serves `POST /sourcehut/query` and `POST /sourcehut-hg/query`.
pub(crate) async fn query(call: Call<'_>, instance: Instance) -> Result<Response<Body>, Dropped> {
    if let Some(refused) = refusal(call.headers) {
        return Ok(refused);
    }
    let Ok(document) = serde_json::from_slice::<Value>(call.body) else {
        let message = "json request body could not be decoded";
        return Ok(graphql_error(StatusCode::BAD_REQUEST, message));
    };
    let compact: String = document["query"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if !compact.contains("me{repositories(") || !compact.contains("results{") {
        let message = "the fake serves only `me { repositories(cursor: …) { cursor results } }`";
        return Ok(graphql_error(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    let next = match &document["variables"]["cursor"] {
        Value::Null => None,
        Value::String(text) => match read_cursor(text) {
            Some(next) => Some(next),
            None => return Ok(graphql_error(StatusCode::OK, "Invalid cursor")),
        },
        _ => return Ok(graphql_error(StatusCode::OK, "cursor must be strings")),
    };
    let (results, following) = page(call.state.count(instance), next);
    let following = match &call.fault {
        Some(Fault::LoopingNext) => Some(cursor(i64::MAX)),
        _ => following,
    };
    let repositories = json!({"cursor": following, "results": results});
    let body = json!({"data": {"me": {"canonicalName": OWNER, "repositories": repositories}}});
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    let body = serde_json::to_vec(&body).expect("JSON serializes");
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_go_newest_first_and_end_with_a_null_cursor() {
        let (first, next) = page(60, None);
        assert_eq!(first.len(), 25);
        assert_eq!(first[0]["name"], name(60));
        assert_eq!(first[24]["name"], name(36));
        let next = next.expect("a second page");
        let (second, next) = page(60, read_cursor(&next));
        assert_eq!(second[0]["name"], name(35));
        let (third, last) = page(60, read_cursor(&next.unwrap()));
        assert_eq!(third.len(), 10);
        assert_eq!(third[9]["name"], name(1));
        assert_eq!(last, None);
        assert_eq!(read_cursor("not-a-cursor"), None);
        let site = Url::parse("http://127.0.0.1:1/sourcehut/").unwrap();
        let expected = origins(60, &site, "git");
        assert_eq!(
            expected[0].url,
            "http://127.0.0.1:1/sourcehut/~alice/project-60"
        );
        assert_eq!(
            expected[0].last_update.as_deref(),
            Some("2023-11-17T10:13:20Z")
        );
        assert!(
            !expected
                .iter()
                .find(|o| o.url.ends_with("/Repo3"))
                .unwrap()
                .enabled
        );
    }

    #[test]
    fn only_sourcehut_shaped_bearer_tokens_pass() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert!(refusal(&HeaderMap::new()).is_some());
        assert!(refusal(&headers("Bearer short")).is_some());
        assert!(refusal(&headers("token 0123456789abcdef0123456789abcdef")).is_some());
        assert!(refusal(&headers("Bearer 0123456789abcdef0123456789abcdef")).is_none());
        let oauth2 = "Bearer AIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+lister/test";
        assert!(refusal(&headers(oauth2)).is_none());
    }
}
