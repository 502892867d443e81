//! Conduit's `diffusion.repository.search` method, as Phabricator serves it at
//! `POST /api/diffusion.repository.search` (and Phorge under `/phorge`): a form body with
//! `api.token`, `order`, `attachments[uris]`, `after`, `limit`; errors in a 200 body; the
//! cursor `after` until it is `null`; and the per-client limiter's plain-text
//! `TOO MANY REQUESTS`.

use http::{HeaderMap, Response, StatusCode};

use super::faults::Fault;
use super::instance::Instance;
use super::phabricator::{php, push_text, render_repository, repository_id, string_or_null};
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value, lock};

/// The largest (and default) page: Conduit's maximum.
pub(crate) const MAX_LIMIT: u64 = 100;

/// Conduit's answer to a failed call: HTTP 200, `result` null.
fn conduit_error(code: &str, info: &str) -> Response<Body> {
    let body = serde_json::json!({"result": null, "error_code": code, "error_info": info});
    full(StatusCode::OK, "application/json", php(&body.to_string()))
}

/// The per-client rate limiter's answer.
fn too_many_requests() -> Response<Body> {
    let text =
        "TOO MANY REQUESTS\nYou (\"127.0.0.1\") are issuing too many requests too quickly.\n";
    full(
        StatusCode::TOO_MANY_REQUESTS,
        "text/plain; charset=utf-8",
        text,
    )
}

/// The answer to a fault that Phabricator gives its own way.
pub(crate) fn replacement(fault: &Fault) -> Option<Response<Body>> {
    matches!(fault, Fault::BareTooManyRequests | Fault::PrimaryLimit).then(too_many_requests)
}

/// Serves `POST {prefix}/api/diffusion.repository.search`.
pub(crate) async fn search(call: Call<'_>, instance: Instance) -> Result<Response<Body>, Dropped> {
    if lock(&call.state.quotas).charge(&call.key, true).is_err() {
        return Ok(too_many_requests());
    }
    match call.param("api.token").filter(|token| !token.is_empty()) {
        None => {
            return Ok(conduit_error(
                "ERR-INVALID-SESSION",
                "Session key is not present.",
            ));
        }
        Some(token) if token.chars().count() != 32 => {
            let info = format!(
                "API token \"{token}\" has the wrong length. API tokens should be 32 characters long."
            );
            return Ok(conduit_error("ERR-INVALID-AUTH", &info));
        }
        Some(_) => {}
    }
    let limit = call
        .param("limit")
        .and_then(|limit| limit.parse::<i64>().ok())
        .unwrap_or(0);
    let limit = if limit <= 0 { MAX_LIMIT } else { limit as u64 };
    if limit > MAX_LIMIT {
        let info = format!(
            "Maximum page size for Conduit API method calls is {MAX_LIMIT}, but this call specified {limit}."
        );
        return Ok(conduit_error("ERR-CONDUIT-CORE", &info));
    }
    let order = call.param("order").filter(|order| !order.is_empty());
    let oldest = match order {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(other) => {
            let info = format!("Unknown order \"{other}\". Valid orders are: newest, oldest.");
            return Ok(conduit_error("ERR-CONDUIT-CORE", &info));
        }
    };
    let count = call.state.count(instance);
    let position = |id: u64| (1..=count).find(|&k| repository_id(k) == id);
    let mut ks: Vec<u64> = (1..=count).collect();
    if !oldest {
        ks.reverse();
    }
    let start = match call.param("after").filter(|after| !after.is_empty()) {
        None => 0,
        Some(after) => match after.parse().ok().and_then(position) {
            Some(k) => ks.iter().position(|&at| at == k).map_or(0, |at| at + 1),
            None => {
                let info = format!(
                    "Cursor \"{after}\" does not identify a valid object in query \"PhabricatorRepositoryQuery\"."
                );
                return Ok(conduit_error("ERR-CONDUIT-CORE", &info));
            }
        },
    };
    let shown = &ks[start..(start + limit as usize).min(ks.len())];
    let more = start + shown.len() < ks.len();
    let after = match (&call.fault, shown.last()) {
        (Some(Fault::LoopingNext), _) if count > 0 => Some(repository_id(ks[0])),
        (_, Some(&last)) if more => Some(repository_id(last)),
        _ => None,
    };
    let with_uris = matches!(call.param("attachments[uris]"), Some("1" | "true"));
    let mut body = Vec::with_capacity(shown.len() * 6_000 + 256);
    body.extend_from_slice(b"{\"result\":{\"data\":[");
    for (at, &k) in shown.iter().enumerate() {
        if at > 0 {
            body.push(b',');
        }
        render_repository(&mut body, instance, k, with_uris);
    }
    let after = string_or_null(after.map(|id| id.to_string()));
    let order = string_or_null(order.map(str::to_owned));
    push_text(
        &mut body,
        &format!(
            "],\"maps\":{{}},\"query\":{{\"queryKey\":null}},\"cursor\":{{\"limit\":{limit},\"after\":{after},\"before\":null,\"order\":{order}}}}},\"error_code\":null,\"error_info\":null}}"
        ),
    );
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}
