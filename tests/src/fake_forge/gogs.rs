//! Gogs' `GET /gogs/api/v1/repos/search?q=KEYWORD&page=P&limit=N`: `{"ok":true,"data":[…]}`
//! of the public repositories whose name or description is `LIKE '%keyword%'` (`_` matches
//! any one character, so `q=_` lists everything; no `q` means the keyword `.`, which matches
//! nothing here), in id order, and a `Link` header whose URLs carry only `page` (Gogs drops
//! the other parameters: a client must put `q` and `limit` back).

use std::sync::LazyLock;

use http::{HeaderMap, Response, StatusCode};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::gitea::{form_int, link_pages};
use super::payload::{
    Template, first_object, minify, push_number, push_time, sparse_id, time_text,
};
use super::routes::Call;
use super::server::{Body, Dropped, header_value};

/// `limit` when the request names none (or zero).
pub(crate) const DEFAULT_LIMIT: u64 = 10;
/// The largest page served: `MAX_RESPONSE_ITEMS`.
pub(crate) const MAX_LIMIT: u64 = 50;

/// The description of every repository (no `.` in it, so that the keyword `.` finds nothing).
const DESCRIPTION: &str = "A painless self-hosted Git service";

/// The host of the clone URLs.
const HOST: &str = "gogs.example.org";

/// Gogs here writes times in UTC+8.
const OFFSET_MINUTES: i32 = 480;

/// The id of the `k`-th repository (from 1): sparse and strictly increasing.
pub(crate) fn repository_id(k: u64) -> u64 {
    sparse_id(k, 2)
}

/// Every 8th repository is private: no search shows it.
fn is_private(k: u64) -> bool {
    k.is_multiple_of(8)
}

/// Every 6th repository is a fork (of the `k / 6`-th).
fn is_fork(k: u64) -> bool {
    k.is_multiple_of(6)
}

fn name(k: u64) -> String {
    format!("repo-{k}")
}

fn created(k: u64) -> i64 {
    1_445_000_000 + k as i64 * 5_400 + (k * 7919 % 3_600) as i64
}

fn updated(k: u64) -> i64 {
    created(k) + (k % 300 + 1) as i64 * 86_400 + (k % 4_000) as i64
}

/// What a correct lister lists, in id order.
pub(crate) fn origins(count: u64) -> Vec<ExpectedOrigin> {
    (1..=count)
        .filter(|&k| !is_private(k))
        .map(|k| ExpectedOrigin {
            url: format!("https://{HOST}/user{}/repo-{k}.git", k % 23),
            visit_type: "git".to_owned(),
            enabled: true,
            is_fork: Some(is_fork(k)),
            last_update: Some(time_text(updated(k), None, OFFSET_MINUTES)),
        })
        .collect()
}

/// Go's `path.Base`: the last element of `path`, `.` for an empty one.
fn path_base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// SQL `LIKE`: `_` is any one character, `%` any run of them (no escapes).
fn like(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|skip| like(&text[skip..], rest)),
        Some((&c, rest)) => text
            .split_first()
            .is_some_and(|(&t, text)| (c == '_' || c == t) && like(text, rest)),
    }
}

/// Whether the `k`-th repository matches `keyword`, as `lower_name LIKE '%kw%' OR
/// description LIKE '%kw%'` (case-insensitively).
fn matches(k: u64, keyword: &str) -> bool {
    let pattern: Vec<char> = format!("%{}%", keyword.to_lowercase()).chars().collect();
    [name(k), DESCRIPTION.to_lowercase()]
        .iter()
        .any(|text| like(&text.chars().collect::<Vec<_>>(), &pattern))
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    OwnerId,
    Owner,
    Name,
    Host,
    Fork,
    Parent,
    Created,
    Updated,
}

static TEMPLATE: LazyLock<Template<Slot>> = LazyLock::new(|| {
    let fixture = minify(include_str!("../../fixtures/gogs_repos_search_page.json"));
    let data = &fixture[fixture.find("\"data\":").expect("fixture has data")..];
    let needles = [
        ("{\"id\":27,", Slot::Id),
        ("\"owner\":{\"id\":1,", Slot::OwnerId),
        ("gopher", Slot::Owner),
        ("hello-gogs", Slot::Name),
        ("gogs.example.com", Slot::Host),
        ("\"fork\":false", Slot::Fork),
        ("\"parent\":null", Slot::Parent),
        ("2015-10-21T15:00:44+08:00", Slot::Created),
        ("2016-02-04T13:25:02+08:00", Slot::Updated),
    ];
    Template::split(first_object(data), &needles)
});

/// Appends the `k`-th repository; a fork's `parent` is its parent's object (whose own
/// `parent` is `null`).
fn render_repository(out: &mut Vec<u8>, k: u64, nested: bool) {
    TEMPLATE.render(out, |slot, out| match slot {
        Slot::Id => {
            out.extend_from_slice(b"{\"id\":");
            push_number(out, repository_id(k));
            out.push(b',');
        }
        Slot::OwnerId => {
            out.extend_from_slice(b"\"owner\":{\"id\":");
            push_number(out, 10 + k % 23);
            out.push(b',');
        }
        Slot::Owner => out.extend_from_slice(format!("user{}", k % 23).as_bytes()),
        Slot::Name => out.extend_from_slice(name(k).as_bytes()),
        Slot::Host => out.extend_from_slice(HOST.as_bytes()),
        Slot::Fork => out.extend_from_slice(format!("\"fork\":{}", is_fork(k)).as_bytes()),
        Slot::Parent if is_fork(k) && !nested => {
            out.extend_from_slice(b"\"parent\":");
            render_repository(out, k / 6, true);
        }
        Slot::Parent => out.extend_from_slice(b"\"parent\":null"),
        Slot::Created => push_time(out, created(k), None, OFFSET_MINUTES),
        Slot::Updated => push_time(out, updated(k), None, OFFSET_MINUTES),
    });
}

/// `{"ok":true,"data":[…]}` for the repositories at positions `ks`.
fn render_page(ks: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ks.len() * 1_500 + 32);
    out.extend_from_slice(b"{\"ok\":true,\"data\":[");
    for (at, &k) in ks.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        render_repository(&mut out, k, false);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Serves `GET /gogs/api/v1/repos/search`.
pub(crate) async fn page(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let limit = match form_int(&call, "limit") {
        0 => DEFAULT_LIMIT,
        limit => limit.min(MAX_LIMIT),
    };
    let page = form_int(&call, "page").max(1);
    let keyword = path_base(call.param("q").unwrap_or(""));
    let count = call.state.count(super::instance::Instance::Gogs);
    let ks: Vec<u64> = (1..=count)
        .filter(|&k| !is_private(k) && matches(k, keyword))
        .collect();
    let total = ks.len() as u64;
    let start = ((page - 1) * limit).min(total) as usize;
    let shown = &ks[start..(start + limit as usize).min(ks.len())];
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
            format!("<{base}/gogs/api/v1/repos/search?page={page}>; rel=\"{rel}\"")
        })
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json; charset=UTF-8"),
    );
    if !link.is_empty() {
        headers.insert(http::header::LINK, header_value(&link.join(",")));
    }
    let body = render_page(shown);
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_like_patterns() {
        assert_eq!(path_base(""), ".");
        assert_eq!(path_base("a/b/"), "b");
        assert!(matches(12, "_"));
        assert!(matches(12, "REPO-1_"));
        assert!(!matches(12, "repo-1_3"));
        assert!(matches(12, "self-hosted"));
        assert!(matches(12, "r%2"));
        assert!(!matches(12, "."));
    }

    #[test]
    fn repositories_are_full_json() {
        let body: serde_json::Value = serde_json::from_slice(&render_page(&[5, 6])).unwrap();
        let data = body["data"].as_array().unwrap();
        assert_eq!(data[0]["id"], repository_id(5));
        assert_eq!(
            data[0]["clone_url"],
            "https://gogs.example.org/user5/repo-5.git"
        );
        assert!(data[0]["parent"].is_null());
        assert_eq!(data[1]["fork"], true);
        assert_eq!(data[1]["parent"]["full_name"], "user1/repo-1");
        assert!(data[1]["parent"]["parent"].is_null());
        assert_eq!(
            data[1]["updated_at"],
            origins(6)[5].last_update.clone().unwrap()
        );
        assert!(data[1]["updated_at"].as_str().unwrap().ends_with("+08:00"));
    }
}
