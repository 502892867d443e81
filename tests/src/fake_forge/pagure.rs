//! Pagure's `GET /pagure/api/0/projects?per_page=N&page=P`: projects and forks, sorted by
//! name, `per_page` 20 by default and at most 100 (more is a `400`), and the body's
//! `pagination` naming the `next` page's URL (`null` on the last). Each project has the fields
//! pagure.io answers with; a fork's `fullname` is `forks/USER/…` and its `full_url` is
//! `…/fork/USER/…`. Every 5th project is a fork of the one before it (same name: it sorts
//! right after it). Names are numbered, so projects added later sort last.

use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};
use url::Url;

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// `per_page` when the request names none.
pub(crate) const DEFAULT_PER_PAGE: u64 = 20;
/// The largest `per_page` Pagure accepts.
pub(crate) const MAX_PER_PAGE: u64 = 100;

fn is_fork(k: u64) -> bool {
    k.is_multiple_of(5)
}

/// The `k`-th project's namespace and name (a fork: its parent's).
fn namespaced(k: u64) -> (Option<&'static str>, String) {
    let k = if is_fork(k) { k - 1 } else { k };
    let namespace = match k % 3 {
        1 => Some("rpms"),
        2 => Some("fedora-infra"),
        _ => None,
    };
    (namespace, format!("pkg-{k:05}"))
}

/// The `k`-th project's `fullname`.
pub(crate) fn fullname(k: u64) -> String {
    let (namespace, name) = namespaced(k);
    let project = match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name,
    };
    match is_fork(k) {
        true => format!("forks/user{}/{project}", k % 9),
        false => project,
    }
}

fn date_modified(k: u64) -> i64 {
    1_500_000_000 + k as i64 * 3_600
}

/// What a correct lister lists, in listing order, for the instance at `site`.
pub(crate) fn origins(count: u64, site: &Url) -> Vec<ExpectedOrigin> {
    (1..=count)
        .map(|k| ExpectedOrigin {
            url: site.join(&fullname(k)).expect("a path joins").to_string(),
            visit_type: "git".to_owned(),
            enabled: true,
            is_fork: Some(is_fork(k)),
            last_update: chrono::DateTime::from_timestamp(date_modified(k), 0)
                .map(|time| time.to_rfc3339()),
        })
        .collect()
}

/// The `k`-th project, as `GET /api/0/projects` shows it, on the instance at `base`.
fn project(k: u64, base: &str) -> Value {
    let (namespace, name) = namespaced(k);
    let fullname = fullname(k);
    let owner = format!("user{}", k % 9);
    let url_path = fullname.trim_start_matches("forks/").to_owned();
    let full_url = match is_fork(k) {
        true => format!("{base}/fork/{url_path}"),
        false => format!("{base}/{fullname}"),
    };
    let parent = is_fork(k).then(|| project(k - 1, base));
    json!({
        "access_groups": {"admin": ["packagers"], "collaborator": [], "commit": [], "ticket": []},
        "access_users": {"admin": [], "collaborator": [], "commit": [], "owner": [owner], "ticket": []},
        "close_status": ["Fixed", "Invalid", "Duplicate"],
        "custom_keys": [],
        "date_created": (date_modified(k) - 86_400).to_string(),
        "date_modified": date_modified(k).to_string(),
        "description": format!("Package {name}: «tools» & <more>"),
        "full_url": full_url,
        "fullname": fullname,
        "id": 4_000 + k,
        "milestones": {},
        "name": name,
        "namespace": namespace,
        "parent": parent,
        "priorities": {},
        "tags": ["fedora"],
        "url_path": url_path,
        "user": {
            "full_url": format!("{base}/user/{owner}"),
            "fullname": format!("User {}", k % 9),
            "name": owner,
            "url_path": format!("user/{owner}"),
        },
    })
}

/// The page `page` (from 1) of `count` projects, `per_page` each, on the instance at `base`.
pub(crate) fn render_page(
    base: &str,
    page: u64,
    per_page: u64,
    count: u64,
    looping: bool,
) -> Vec<u8> {
    let pages = count.div_ceil(per_page).max(1);
    let first = (page - 1).saturating_mul(per_page) + 1;
    let last = page.saturating_mul(per_page).min(count);
    let projects: Vec<Value> = (first..=last).map(|k| project(k, base)).collect();
    let link = |page: u64| format!("{base}/api/0/projects?per_page={per_page}&page={page}");
    let next = match looping {
        true => Some(link(page)),
        false => (page < pages).then(|| link(page + 1)),
    };
    let body = json!({
        "args": {
            "fork": null, "namespace": null, "owner": null, "page": page, "pattern": null,
            "per_page": per_page, "short": false, "tags": [], "username": null,
        },
        "pagination": {
            "first": link(1),
            "last": link(pages),
            "next": next,
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "prev": (page > 1).then(|| link(page - 1)),
        },
        "projects": projects,
        "total_projects": count,
    });
    serde_json::to_vec_pretty(&body).expect("a JSON value serializes")
}

/// Pagure's answer to input it refuses.
fn invalid(field: &str, message: &str) -> Response<Body> {
    let body = json!({
        "error": "Invalid or incomplete input submitted",
        "error_code": "EINVALIDREQ",
        "errors": {field: [message]},
    });
    full(
        StatusCode::BAD_REQUEST,
        "application/json",
        body.to_string(),
    )
}

/// Serves `GET /pagure/api/0/projects`.
pub(crate) async fn page(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let page = match call.param("page").map(str::parse::<u64>) {
        None => 1,
        Some(Ok(page)) if page >= 1 => page,
        _ => return Ok(invalid("page", "Number must be at least 1.")),
    };
    let per_page = match call.param("per_page").map(str::parse::<u64>) {
        None => DEFAULT_PER_PAGE,
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => n,
        _ => return Ok(invalid("per_page", "Number must be between 1 and 100.")),
    };
    let count = call.state.count(Instance::Pagure);
    let base = format!("{}/pagure", call.base);
    let looping = call.fault == Some(Fault::LoopingNext);
    let body = render_page(&base, page, per_page, count, looping);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_projects_and_forks_by_name() {
        let base = "http://127.0.0.1:1/pagure";
        let page: Value = serde_json::from_slice(&render_page(base, 1, 100, 230, false)).unwrap();
        assert_eq!(page["pagination"]["pages"], 3);
        assert_eq!(
            page["pagination"]["next"],
            format!("{base}/api/0/projects?per_page=100&page=2")
        );
        assert_eq!(page["pagination"]["prev"], Value::Null);
        let projects = page["projects"].as_array().unwrap();
        assert_eq!(projects.len(), 100);
        assert_eq!(projects[0]["fullname"], "rpms/pkg-00001");
        assert_eq!(projects[4]["fullname"], "forks/user5/rpms/pkg-00004");
        assert_eq!(
            projects[4]["full_url"],
            format!("{base}/fork/user5/rpms/pkg-00004")
        );
        assert_eq!(projects[4]["parent"]["fullname"], "rpms/pkg-00004");
        assert_eq!(projects[4]["name"], projects[3]["name"]);
        let names: Vec<&str> = projects
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            names.windows(2).all(|pair| pair[0] <= pair[1]),
            "sorted by name"
        );
        let last: Value = serde_json::from_slice(&render_page(base, 3, 100, 230, false)).unwrap();
        assert_eq!(last["projects"].as_array().unwrap().len(), 30);
        assert_eq!(last["pagination"]["next"], Value::Null);
        let site = Url::parse("http://127.0.0.1:1/pagure/").unwrap();
        let expected = origins(230, &site);
        assert_eq!(
            expected[4].url,
            "http://127.0.0.1:1/pagure/forks/user5/rpms/pkg-00004"
        );
        assert_eq!(expected[4].is_fork, Some(true));
    }
}
