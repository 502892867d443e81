//! GitLab's `GET /api/v4/projects` endpoint (and Heptapod's, under `/heptapod`): the
//! parameters, keyset pagination by id (`pagination=keyset&order_by=id&sort=asc&id_after=ID`,
//! a `Link` next while pages are full), offset pagination without `pagination=keyset`, the
//! full view for `PRIVATE-TOKEN` or Bearer requests and the "simple" one otherwise, and
//! GitLab's `RateLimit-*` headers and throttled answer.

use std::collections::BTreeMap;

use http::{HeaderMap, Response, StatusCode};

use super::faults::Fault;
use super::gitlab::{project_id, render_page, visibility};
use super::instance::Instance;
use super::payload::first_position;
use super::quota::{QuotaKey, Usage};
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value, lock};

/// `per_page` when the request names none.
pub(crate) const DEFAULT_PER_PAGE: u64 = 20;
/// The largest `per_page` served (larger requests are clamped).
pub(crate) const MAX_PER_PAGE: u64 = 100;

/// Whether GitLab takes the request as authenticated (`PRIVATE-TOKEN`, or a Bearer token).
fn authenticated(headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().to_ascii_lowercase().starts_with("bearer "));
    bearer || headers.contains_key("private-token")
}

fn api_error(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    full(status, "application/json", body.to_string())
}

/// GitLab's `RateLimit-*` headers (`RateLimit-Reset` is an epoch, as GitLab sends it).
fn write_rate_limit(usage: Usage, key: &QuotaKey, headers: &mut HeaderMap) {
    let name = match key {
        QuotaKey::Anonymous => "throttle_unauthenticated_api",
        _ => "throttle_authenticated_api",
    };
    headers.insert("ratelimit-name", header_value(name));
    headers.insert("ratelimit-limit", usage.limit.into());
    headers.insert("ratelimit-observed", usage.used.into());
    headers.insert("ratelimit-remaining", usage.remaining().into());
    headers.insert("ratelimit-reset", usage.reset.into());
    let reset = std::time::UNIX_EPOCH + std::time::Duration::from_secs(usage.reset);
    headers.insert(
        "ratelimit-resettime",
        header_value(&httpdate::fmt_http_date(reset)),
    );
}

/// GitLab's throttled answer: 429, `Retry-After`, the `RateLimit-*` headers, `Retry later`.
fn throttled(usage: Usage, key: &QuotaKey) -> Response<Body> {
    let mut response = full(StatusCode::TOO_MANY_REQUESTS, "text/plain", "Retry later\n");
    let spent = Usage {
        used: usage.limit,
        ..usage
    };
    write_rate_limit(spent, key, response.headers_mut());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let wait = usage.reset.saturating_sub(now).max(1);
    response
        .headers_mut()
        .insert(http::header::RETRY_AFTER, wait.into());
    response
}

/// The answer to a fault that GitLab gives its own way.
pub(crate) fn replacement(fault: &Fault, usage: Usage, key: &QuotaKey) -> Option<Response<Body>> {
    match fault {
        Fault::PrimaryLimit => Some(throttled(usage, key)),
        Fault::BareTooManyRequests => Some(full(
            StatusCode::TOO_MANY_REQUESTS,
            "text/plain",
            "Retry later\n",
        )),
        _ => None,
    }
}

/// A query parameter as a number; `Err` with GitLab's message when it is not one.
fn number(call: &Call<'_>, name: &str) -> Result<Option<u64>, String> {
    match call.param(name).map(str::parse::<u64>) {
        None => Ok(None),
        Some(Ok(n)) => Ok(Some(n)),
        Some(Err(_)) => Err(format!("{name} is invalid")),
    }
}

/// The request's parameters with `changes` applied, as a sorted query string.
fn query_with(call: &Call<'_>, changes: &[(&str, Option<String>)]) -> String {
    let mut params: BTreeMap<String, String> = call.query.iter().cloned().collect();
    for (name, value) in changes {
        match value {
            Some(value) => params.insert((*name).to_owned(), value.clone()),
            None => params.remove(*name),
        };
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// Serves `GET {prefix}/api/v4/projects`.
pub(crate) async fn page(call: Call<'_>, instance: Instance) -> Result<Response<Body>, Dropped> {
    let parsed = (|| {
        let per_page =
            number(&call, "per_page")?.map_or(DEFAULT_PER_PAGE, |n| n.clamp(1, MAX_PER_PAGE));
        Ok::<_, String>((
            per_page,
            number(&call, "page")?.unwrap_or(1).max(1),
            number(&call, "id_after")?,
            number(&call, "id_before")?,
        ))
    })();
    let (per_page, page_number, id_after, id_before) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            let body = serde_json::json!({ "error": message });
            return Ok(api_error(StatusCode::BAD_REQUEST, body));
        }
    };
    let order_by = call.param("order_by").unwrap_or("created_at");
    let ascending = match call.param("sort").unwrap_or("desc") {
        "asc" => true,
        "desc" => false,
        _ => {
            let body = serde_json::json!({"error": "sort does not have a valid value"});
            return Ok(api_error(StatusCode::BAD_REQUEST, body));
        }
    };
    let keyset = call.param("pagination") == Some("keyset");
    if keyset && order_by != "id" {
        let body = serde_json::json!({"message": "Keyset pagination is not yet available for this type of request"});
        return Ok(api_error(StatusCode::METHOD_NOT_ALLOWED, body));
    }
    let usage = match lock(&call.state.quotas).charge(&call.key, true) {
        Ok(usage) => usage,
        Err(usage) => return Ok(throttled(usage, &call.key)),
    };
    let authenticated = authenticated(call.headers);
    let full_view = authenticated && call.param("simple") != Some("true");
    let count = call.state.count(instance);
    let id = |k| project_id(instance, k);
    let low = id_after.map_or(1, |after| first_position(count, |k| id(k) > after));
    let high = id_before.map_or(count + 1, |before| {
        first_position(count, |k| id(k) >= before)
    });
    let visible = |k: &u64| authenticated || visibility(*k) == "public";
    let range = low..high.max(low);
    let (ks, total): (Vec<u64>, u64) = if keyset {
        let take = per_page as usize;
        let ks = match ascending {
            true => range.filter(visible).take(take).collect(),
            false => range.rev().filter(visible).take(take).collect(),
        };
        (ks, 0)
    } else {
        let mut all: Vec<u64> = range.filter(visible).collect();
        if !ascending {
            all.reverse();
        }
        let skip = ((page_number - 1) * per_page) as usize;
        let total = all.len() as u64;
        (
            all.into_iter().skip(skip).take(per_page as usize).collect(),
            total,
        )
    };
    let base = match &call.fault {
        Some(Fault::OffHostNext(other)) => other.as_str().trim_end_matches('/').to_owned(),
        _ => call.base.clone(),
    };
    let api = format!("{base}{}/api/v4/projects", instance.prefix());
    let per_page_text = Some(per_page.to_string());
    let mut headers = HeaderMap::new();
    let link = if keyset {
        let cursor = if ascending { "id_after" } else { "id_before" };
        let next = match (&call.fault, ks.last()) {
            (Some(Fault::LoopingNext), _) => Some(query_with(
                &call,
                &[("per_page", per_page_text), (cursor, None)],
            )),
            (_, Some(&last)) if ks.len() as u64 == per_page => Some(query_with(
                &call,
                &[
                    ("per_page", per_page_text),
                    (cursor, Some(id(last).to_string())),
                ],
            )),
            _ => None,
        };
        next.map(|query| format!("<{api}?{query}>; rel=\"next\""))
    } else {
        let pages = total.div_ceil(per_page).max(1);
        let at = |n: u64| {
            query_with(
                &call,
                &[
                    ("page", Some(n.to_string())),
                    ("per_page", per_page_text.clone()),
                ],
            )
        };
        let mut links = Vec::new();
        if page_number > 1 {
            links.push(format!("<{api}?{}>; rel=\"prev\"", at(page_number - 1)));
        }
        let next = match call.fault {
            Some(Fault::LoopingNext) => Some(1),
            _ => (page_number < pages).then_some(page_number + 1),
        };
        if let Some(next) = next {
            links.push(format!("<{api}?{}>; rel=\"next\"", at(next)));
            headers.insert("x-next-page", next.into());
        } else {
            headers.insert("x-next-page", header_value(""));
        }
        links.push(format!("<{api}?{}>; rel=\"first\"", at(1)));
        links.push(format!("<{api}?{}>; rel=\"last\"", at(pages)));
        headers.insert("x-page", page_number.into());
        headers.insert("x-per-page", per_page.into());
        let prev = if page_number > 1 {
            (page_number - 1).to_string()
        } else {
            String::new()
        };
        headers.insert("x-prev-page", header_value(&prev));
        headers.insert("x-total", total.into());
        headers.insert("x-total-pages", pages.into());
        Some(links.join(", "))
    };
    if let Some(link) = link {
        headers.insert(http::header::LINK, header_value(&link));
    }
    write_rate_limit(usage, &call.key, &mut headers);
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    headers.insert(
        http::header::CACHE_CONTROL,
        header_value("max-age=0, private, must-revalidate"),
    );
    headers.insert(http::header::VARY, header_value("Accept-Encoding, Origin"));
    let body = render_page(instance, &ks, full_view);
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}
