//! Gitea's `GET /api/v1/repos/search?sort=id&order=asc&limit=N&page=P` (and Forgejo's,
//! under `/forgejo`): `{"ok":true,"data":[…]}`, page numbers from 1, `limit` clamped to
//! `MAX_RESPONSE_ITEMS` (50), Gitea's `Link` and `x-total-count` headers, and Gitea's
//! default order, by name (`alpha`), when the request names no `sort`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use http::{HeaderMap, Response, StatusCode};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::payload::{
    Template, first_object, minify, push_number, push_time, sparse_id, time_text,
};
use super::quota::QuotaKey;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// `limit` when the request names none (or zero): `DEFAULT_PAGING_NUM`.
pub(crate) const DEFAULT_LIMIT: u64 = 30;
/// The largest page served: `MAX_RESPONSE_ITEMS`.
pub(crate) const MAX_LIMIT: u64 = 50;

/// The id of the `k`-th repository (from 1): sparse and strictly increasing.
pub(crate) fn repository_id(instance: Instance, k: u64) -> u64 {
    match instance {
        Instance::Forgejo => sparse_id(k, 3),
        _ => sparse_id(k, 4),
    }
}

/// Every 9th repository is private.
pub(crate) fn is_private(k: u64) -> bool {
    k.is_multiple_of(9)
}

/// Every 5th repository is a fork (of the `k / 5`-th).
fn is_fork(k: u64) -> bool {
    k.is_multiple_of(5)
}

fn name(k: u64) -> String {
    format!("repo-{k}")
}

/// The `clone_url` of the `k`-th repository.
pub(crate) fn clone_url(instance: Instance, k: u64) -> String {
    format!("https://{}/owner{}/repo-{k}.git", instance.host(), k % 31)
}

/// Forgejo (Codeberg) writes times in the server's zone, Gitea here in UTC.
fn offset_minutes(instance: Instance) -> i32 {
    if instance == Instance::Forgejo { 60 } else { 0 }
}

fn created(k: u64) -> i64 {
    1_500_000_000 + k as i64 * 7_200 + (k * 7919 % 3_600) as i64
}

fn updated(k: u64) -> i64 {
    created(k) + (k % 700 + 1) as i64 * 86_400 + (k % 5_000) as i64
}

/// What a correct lister lists, in id order.
pub(crate) fn origins(instance: Instance, count: u64, authenticated: bool) -> Vec<ExpectedOrigin> {
    (1..=count)
        .filter(|&k| authenticated || !is_private(k))
        .map(|k| ExpectedOrigin {
            url: clone_url(instance, k),
            visit_type: "git".to_owned(),
            enabled: !is_private(k),
            is_fork: Some(is_fork(k)),
            last_update: Some(time_text(updated(k), None, offset_minutes(instance))),
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    OwnerId,
    Owner,
    Name,
    Host,
    Private,
    Fork,
    Parent,
    Created,
    Updated,
}

fn template(fixture: &str, host: &str, created: &str, updated: &str) -> Template<Slot> {
    let fixture = minify(fixture);
    let data = &fixture[fixture.find("\"data\":").expect("fixture has data")..];
    let needles = [
        ("{\"id\":5017,", Slot::Id),
        ("\"owner\":{\"id\":1609,", Slot::OwnerId),
        ("alice", Slot::Owner),
        ("hello-world", Slot::Name),
        (host, Slot::Host),
        ("\"private\":false", Slot::Private),
        ("\"fork\":false", Slot::Fork),
        ("\"parent\":null,", Slot::Parent),
        (created, Slot::Created),
        (updated, Slot::Updated),
    ];
    Template::split(first_object(data), &needles)
}

static GITEA: LazyLock<Template<Slot>> = LazyLock::new(|| {
    let fixture = include_str!("../../fixtures/gitea_repos_search_page.json");
    template(
        fixture,
        "gitea.example.com",
        "2018-03-30T19:34:44Z",
        "2018-05-29T20:09:40Z",
    )
});

static FORGEJO: LazyLock<Template<Slot>> = LazyLock::new(|| {
    let fixture = include_str!("../../fixtures/forgejo_repos_search_page.json");
    let (created, updated) = ("2018-03-30T21:34:44+02:00", "2018-05-29T22:09:40+02:00");
    template(fixture, "codeberg.example.com", created, updated)
});

/// Appends the `k`-th repository; a fork's `parent` is its parent's object (without a
/// `parent` of its own, as Gitea writes it).
fn render_repository(out: &mut Vec<u8>, instance: Instance, k: u64, nested: bool) {
    let template = if instance == Instance::Forgejo {
        &FORGEJO
    } else {
        &GITEA
    };
    template.render(out, |slot, out| match slot {
        Slot::Id => {
            out.extend_from_slice(b"{\"id\":");
            push_number(out, repository_id(instance, k));
            out.push(b',');
        }
        Slot::OwnerId => {
            out.extend_from_slice(b"\"owner\":{\"id\":");
            push_number(out, 100 + k % 31);
            out.push(b',');
        }
        Slot::Owner => out.extend_from_slice(format!("owner{}", k % 31).as_bytes()),
        Slot::Name => out.extend_from_slice(name(k).as_bytes()),
        Slot::Host => out.extend_from_slice(instance.host().as_bytes()),
        Slot::Private => out.extend_from_slice(format!("\"private\":{}", is_private(k)).as_bytes()),
        Slot::Fork => out.extend_from_slice(format!("\"fork\":{}", is_fork(k)).as_bytes()),
        Slot::Parent if nested => {}
        Slot::Parent if is_fork(k) => {
            out.extend_from_slice(b"\"parent\":");
            render_repository(out, instance, k / 5, true);
            out.push(b',');
        }
        // Forgejo omits the empty `parent`; Gitea's older API writes `null`.
        Slot::Parent if instance == Instance::Forgejo => {}
        Slot::Parent => out.extend_from_slice(b"\"parent\":null,"),
        Slot::Created => push_time(out, created(k), None, offset_minutes(instance)),
        Slot::Updated => push_time(out, updated(k), None, offset_minutes(instance)),
    });
}

/// `{"ok":true,"data":[…]}` for the repositories at positions `ks`.
pub(crate) fn render_page(instance: Instance, ks: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ks.len() * 4_000 + 32);
    out.extend_from_slice(b"{\"ok\":true,\"data\":[");
    for (at, &k) in ks.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        render_repository(&mut out, instance, k, false);
    }
    out.extend_from_slice(b"]}");
    out
}

/// The `Link` targets of page `page` (as Gitea's and Gogs' paginator computes them):
/// `(rel, page)` for next, last, first and prev, in that order.
pub(crate) fn link_pages(page: u64, total: u64, size: u64) -> Vec<(&'static str, u64)> {
    let pages = if total == 0 { 1 } else { total.div_ceil(size) };
    let current = page.clamp(1, pages);
    let mut links = Vec::new();
    if current < pages {
        links.push(("next", current + 1));
    }
    if current != pages {
        links.push(("last", pages));
    }
    if current != 1 {
        links.push(("first", 1));
    }
    if current > 1 {
        links.push(("prev", current - 1));
    }
    links
}

/// A Gitea API error: `{"message": …, "url": …}`.
fn api_error(status: StatusCode, message: &str) -> Response<Body> {
    let body =
        serde_json::json!({"message": message, "url": "https://gitea.example.org/api/swagger"});
    full(status, "application/json;charset=utf-8", body.to_string())
}

/// An integer parameter as Gitea reads it (`0` when absent or not a number).
pub(crate) fn form_int(call: &Call<'_>, name: &str) -> u64 {
    call.param(name)
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// The sort key of the `k`-th repository for a `sort` mode (`None`: not a mode).
fn sort_key(mode: &str, k: u64) -> Option<(String, u64)> {
    let number = |n: u64| Some((String::new(), n));
    match mode {
        "alpha" => Some((name(k), k)),
        "id" | "created" => number(k),
        "updated" => number(updated(k) as u64),
        "size" | "git_size" | "lfs_size" => number(k * 7919 % 10_000),
        "stars" | "forks" => number(k % 17),
        _ => None,
    }
}

/// Serves `GET {prefix}/api/v1/repos/search`.
pub(crate) async fn page(call: Call<'_>, instance: Instance) -> Result<Response<Body>, Dropped> {
    let limit = match form_int(&call, "limit") {
        0 => DEFAULT_LIMIT,
        limit => limit.min(MAX_LIMIT),
    };
    let page = form_int(&call, "page").max(1);
    let (mode, descending) = match call.param("sort").filter(|mode| !mode.is_empty()) {
        None => ("alpha", false),
        Some(mode) => {
            let descending = match call.param("order").unwrap_or("asc") {
                "asc" | "" => false,
                "desc" => true,
                order => {
                    let message = format!("Invalid sort order: \"{order}\"");
                    return Ok(api_error(StatusCode::UNPROCESSABLE_ENTITY, &message));
                }
            };
            if sort_key(mode, 1).is_none() {
                let message = format!("Invalid sort mode: \"{mode}\"");
                return Ok(api_error(StatusCode::UNPROCESSABLE_ENTITY, &message));
            }
            (mode, descending)
        }
    };
    let authenticated = call.key != QuotaKey::Anonymous;
    let count = call.state.count(instance);
    let mut ks: Vec<u64> = (1..=count)
        .filter(|&k| authenticated || !is_private(k))
        .collect();
    ks.sort_by_cached_key(|&k| sort_key(mode, k));
    if descending {
        ks.reverse();
    }
    let total = ks.len() as u64;
    let start = ((page - 1) * limit).min(total) as usize;
    let shown = &ks[start..(start + limit as usize).min(ks.len())];
    let path = format!("{}/api/v1/repos/search", instance.prefix());
    let href = |base: &str, page: u64| {
        let mut params: BTreeMap<String, String> = call.query.iter().cloned().collect();
        params.insert("page".to_owned(), page.to_string());
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{base}{path}?{query}")
    };
    let mut links = link_pages(page, total, limit);
    if call.fault == Some(Fault::LoopingNext) {
        links.retain(|(rel, _)| *rel != "next");
        links.insert(0, ("next", 1));
    }
    let link: Vec<String> = links
        .into_iter()
        .map(|(rel, page)| {
            let base = match &call.fault {
                Some(Fault::OffHostNext(other)) if rel == "next" => {
                    other.as_str().trim_end_matches('/').to_owned()
                }
                _ => call.base.clone(),
            };
            format!("<{}>; rel=\"{rel}\"", href(&base, page))
        })
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json;charset=utf-8"),
    );
    if !link.is_empty() {
        headers.insert(http::header::LINK, header_value(&link.join(",")));
    }
    headers.insert("x-total-count", total.into());
    headers.insert(
        http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header_value("X-Total-Count, Link"),
    );
    let body = render_page(instance, shown);
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_full_json() {
        let page = render_page(Instance::Gitea, &[9, 10]);
        let body: serde_json::Value = serde_json::from_slice(&page).unwrap();
        let data = body["data"].as_array().unwrap();
        assert_eq!(body["ok"], true);
        assert_eq!(data[0]["id"], repository_id(Instance::Gitea, 9));
        assert_eq!(
            data[0]["clone_url"],
            "https://gitea.example.org/owner9/repo-9.git"
        );
        assert_eq!(data[0]["full_name"], "owner9/repo-9");
        assert_eq!(data[0]["owner"]["login"], "owner9");
        assert_eq!(data[0]["private"], true);
        assert!(data[0]["parent"].is_null());
        assert_eq!(data[1]["fork"], true);
        assert_eq!(data[1]["parent"]["full_name"], "owner2/repo-2");
        assert!(data[1]["parent"].get("parent").is_none());
        assert_eq!(
            data[1]["updated_at"],
            origins(Instance::Gitea, 10, true)[9]
                .last_update
                .clone()
                .unwrap()
        );

        let forgejo = render_page(Instance::Forgejo, &[1]);
        let body: serde_json::Value = serde_json::from_slice(&forgejo).unwrap();
        let repository = &body["data"][0];
        assert_eq!(repository["object_format_name"], "sha1");
        assert!(repository.get("parent").is_none());
        assert!(
            repository["updated_at"]
                .as_str()
                .unwrap()
                .ends_with("+01:00")
        );
        assert_eq!(
            repository["clone_url"],
            "https://codeberg.example.org/owner1/repo-1.git"
        );
    }

    #[test]
    fn links_follow_the_paginator() {
        assert_eq!(link_pages(1, 120, 50), [("next", 2), ("last", 3)]);
        assert_eq!(
            link_pages(2, 120, 50),
            [("next", 3), ("last", 3), ("first", 1), ("prev", 1)]
        );
        assert_eq!(link_pages(3, 120, 50), [("first", 1), ("prev", 2)]);
        assert_eq!(link_pages(9, 120, 50), [("first", 1), ("prev", 2)]);
        assert!(link_pages(1, 0, 50).is_empty());
    }
}
