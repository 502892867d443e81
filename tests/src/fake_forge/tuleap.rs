//! Tuleap's two listings: `GET /tuleap/api/projects?limit=L&offset=O` (a JSON array of
//! projects, by id) and `GET /tuleap/api/projects/{id}/git?limit=L&offset=O&order_by=…`
//! (`{"repositories": [...]}`, by `path`, or by last push, newest first, without
//! `order_by=path`). Both are paged by offset, with `X-PAGINATION-LIMIT`,
//! `X-PAGINATION-OFFSET`, `X-PAGINATION-SIZE` (the total) and `X-PAGINATION-LIMIT-MAX: 50`;
//! `limit` defaults to 10, and one above 50 is a 400, as Tuleap's `{@max 50}` answers.
//!
//! Project `k` (from 1) has the id `100 + k` and the short name `project-k`. Projects with
//! `k % 10 == 3` have no repository, those with `k % 40 == 5` have 120 (three pages of 50),
//! the others 1 to 4; project 7's git listing answers 403 (its git service is hidden from the
//! caller). As Tuleap does, `X-PAGINATION-SIZE` counts every repository, and a page leaves out
//! those the caller may not read: every 9th of a project here.

use chrono::{DateTime, Duration, FixedOffset};
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};
use url::Url;

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// The largest page (`X-PAGINATION-LIMIT-MAX`).
pub(crate) const MAX_LIMIT: u64 = 50;
/// `limit` when the request names none.
const DEFAULT_LIMIT: u64 = 10;

/// The project whose git listing answers 403.
pub(crate) const FORBIDDEN: u64 = 7;

/// The id of project `k`.
pub(crate) fn project_id(k: u64) -> u64 {
    100 + k
}

/// How many repositories project `k` has, readable or not.
fn repository_count(k: u64) -> u64 {
    match k {
        _ if k % 10 == 3 => 0,
        _ if k % 40 == 5 => 120,
        _ => k % 4 + 1,
    }
}

/// Whether the caller may read repository `j` (from 1) of a project.
fn readable(j: u64) -> bool {
    !j.is_multiple_of(9)
}

/// The `path` of repository `j` of project `k`: some in a folder, as Tuleap allows.
fn path(k: u64, j: u64) -> String {
    match j % 3 {
        0 => format!("project-{k}/tools/repo-{j}.git"),
        _ => format!("project-{k}/repo-{j}.git"),
    }
}

/// The last push to repository `j` of project `k`, at a `+01:00` offset as Tuleap writes it.
fn last_update(k: u64, j: u64) -> String {
    let start = DateTime::parse_from_rfc3339("2021-03-12T10:33:13+01:00").expect("a date");
    let minutes = i64::try_from(k * 1_000 + j).unwrap_or(0);
    let at: DateTime<FixedOffset> = start + Duration::minutes(minutes);
    at.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The git listing's path under the prefix for project `k`.
pub(crate) fn git_path(k: u64) -> String {
    format!("/api/projects/{}/git", project_id(k))
}

/// The project number of a git listing path under the prefix (`/api/projects/{id}/git`).
pub(crate) fn git_project(rest: &str) -> Option<u64> {
    let id = rest.strip_prefix("/api/projects/")?.strip_suffix("/git")?;
    id.parse::<u64>().ok()?.checked_sub(100).filter(|k| *k > 0)
}

/// What a correct lister lists, for the instance at `site` with `count` projects, in listing
/// order (projects by id, repositories by path).
pub(crate) fn origins(count: u64, site: &Url) -> Vec<ExpectedOrigin> {
    let mut origins = Vec::new();
    for k in (1..=count).filter(|k| *k != FORBIDDEN) {
        let mut paths: Vec<(String, u64)> = (1..=repository_count(k))
            .filter(|j| readable(*j))
            .map(|j| (path(k, j), j))
            .collect();
        paths.sort();
        origins.extend(paths.into_iter().map(|(path, j)| {
            ExpectedOrigin {
                url: site
                    .join(&format!("plugins/git/{path}"))
                    .expect("a path joins")
                    .to_string(),
                visit_type: "git".to_owned(),
                enabled: true,
                is_fork: None,
                last_update: Some(last_update(k, j)),
            }
        }));
    }
    origins
}

/// Project `k`, with every field Tuleap's representation has.
fn project(k: u64) -> Value {
    let id = project_id(k);
    let resource = |kind: &str| json!({"type": kind, "uri": format!("projects/{id}/{kind}")});
    let kinds = [
        "git",
        "svn",
        "trackers",
        "backlog",
        "milestones",
        "user_groups",
        "labels",
    ];
    json!({
        "id": id,
        "uri": format!("projects/{id}"),
        "label": format!("Project {k} « demo »"),
        "shortname": format!("project-{k}"),
        "status": "active",
        "access": if k.is_multiple_of(5) { "unrestricted" } else { "public" },
        "is_public": true,
        "is_template": false,
        "icon": if k.is_multiple_of(2) { "🐹" } else { "" },
        "is_member_of": k.is_multiple_of(3),
        "description": format!("The {k}th project"),
        "resources": kinds.map(resource),
        "additional_informations": {},
        "additional_fields": [],
    })
}

/// Repository `j` of project `k`, with every field of the `basic` representation.
fn repository(k: u64, j: u64) -> Value {
    let id = k * 1_000 + j;
    let path = path(k, j);
    let name = path
        .trim_start_matches(&format!("project-{k}/"))
        .trim_end_matches(".git")
        .to_owned();
    let label = name.rsplit('/').next().unwrap_or_default().to_owned();
    let folder = name.rsplit_once('/').map_or("", |(folder, _)| folder);
    json!({
        "id": id,
        "uri": format!("git/{id}"),
        "name": name,
        "label": label,
        "path": path,
        "path_without_project": folder,
        "description": "-- Default description --",
        "last_update_date": last_update(k, j),
        "permissions": null,
        "server": null,
        "html_url": format!("/plugins/git/project-{k}/{name}"),
        "default_branch": "main",
        "additional_information": [],
    })
}

/// The page of projects at `offset`, of `count`.
pub(crate) fn projects_page(offset: u64, limit: u64, count: u64) -> Vec<u8> {
    let first = offset.saturating_add(1);
    let last = offset.saturating_add(limit).min(count);
    let page: Vec<Value> = (first..=last).map(project).collect();
    serde_json::to_vec(&page).expect("a JSON value serializes")
}

/// The page of project `k`'s repositories at `offset`, by path when `by_path`, else by last
/// push (newest first); the unreadable ones are left out.
pub(crate) fn git_page(k: u64, offset: u64, limit: u64, by_path: bool) -> Vec<u8> {
    let mut all: Vec<u64> = (1..=repository_count(k)).collect();
    if by_path {
        all.sort_by_key(|j| path(k, *j));
    } else {
        all.sort_by_key(|j| std::cmp::Reverse(last_update(k, *j)));
    }
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
        .min(all.len());
    let shown = all[start..end].iter().filter(|j| readable(**j));
    let repositories: Vec<Value> = shown.map(|j| repository(k, *j)).collect();
    serde_json::to_vec(&json!({ "repositories": repositories })).expect("JSON serializes")
}

/// Tuleap's error: `{"error": {"code", "message"}}`.
fn error(status: StatusCode, message: &str) -> Response<Body> {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body =
        json!({"error": {"code": status.as_u16(), "message": format!("{reason}: {message}")}});
    full(status, "application/json", body.to_string())
}

/// Serves `GET /tuleap/api/projects` and `GET /tuleap/api/projects/{id}/git`.
pub(crate) async fn serve(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let number = |name: &str, default: u64| match call.param(name) {
        None => Ok(default),
        Some(value) => value
            .parse::<u64>()
            .map_err(|_| format!("{name} is not an integer")),
    };
    let (offset, limit) = match (number("offset", 0), number("limit", DEFAULT_LIMIT)) {
        (Ok(offset), Ok(limit)) => (offset, limit),
        (Err(message), _) | (_, Err(message)) => {
            return Ok(error(StatusCode::BAD_REQUEST, &message));
        }
    };
    if limit > MAX_LIMIT {
        let message = format!("Invalid value specified for `limit`. Maximum is {MAX_LIMIT}");
        return Ok(error(StatusCode::BAD_REQUEST, &message));
    }
    let count = call.state.count(Instance::Tuleap);
    let rest = call
        .path
        .strip_prefix(Instance::Tuleap.prefix())
        .unwrap_or_default();
    let (body, size) = match git_project(rest) {
        None => (projects_page(offset, limit, count), count),
        Some(k) if k > count => return Ok(error(StatusCode::NOT_FOUND, "Project does not exist")),
        Some(FORBIDDEN) => return Ok(error(StatusCode::FORBIDDEN, "Git service is hidden")),
        Some(k) => {
            let by_path = call.param("order_by") == Some("path");
            (git_page(k, offset, limit, by_path), repository_count(k))
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value("application/json"));
    for (name, value) in [
        ("x-pagination-limit", limit),
        ("x-pagination-offset", offset),
        ("x-pagination-size", size),
        ("x-pagination-limit-max", MAX_LIMIT),
    ] {
        headers.insert(name, header_value(&value.to_string()));
    }
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &[u8]) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn projects_page_by_id() {
        let page = json(&projects_page(50, 50, 120));
        let page = page.as_array().unwrap();
        assert_eq!(page.len(), 50);
        assert_eq!(page[0]["id"], 151);
        assert_eq!(page[0]["shortname"], "project-51");
        assert_eq!(page[0]["resources"][0]["uri"], "projects/151/git");
        assert_eq!(
            json(&projects_page(100, 50, 120)).as_array().unwrap().len(),
            20
        );
        assert!(
            json(&projects_page(150, 50, 120))
                .as_array()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn git_pages_leave_out_what_the_caller_may_not_read() {
        // Project 5: 120 repositories, 13 of them unreadable.
        let pages: Vec<Value> = [0, 50, 100]
            .map(|offset| json(&git_page(5, offset, 50, true)))
            .into();
        let paths: Vec<&str> = pages
            .iter()
            .flat_map(|page| page["repositories"].as_array().unwrap())
            .map(|repo| repo["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths.len(), 120 - 13);
        assert!(paths.windows(2).all(|pair| pair[0] < pair[1]), "by path");
        let site = Url::parse("http://127.0.0.1:1/tuleap/").unwrap();
        let expected: Vec<String> = origins(5, &site).into_iter().map(|o| o.url).collect();
        let listed: Vec<String> = paths
            .iter()
            .map(|path| format!("http://127.0.0.1:1/tuleap/plugins/git/{path}"))
            .collect();
        assert!(expected.ends_with(&listed));
        let repo = &pages[0]["repositories"][0];
        assert_eq!(
            repo["html_url"],
            format!("/plugins/git/project-5/{}", repo["name"].as_str().unwrap())
        );
        assert_eq!(repository_count(3), 0);
        assert_eq!(git_project("/api/projects/107/git"), Some(FORBIDDEN));
        assert_eq!(git_project("/api/projects/100/git"), None);
        assert_eq!(git_project("/api/projects"), None);
        assert_eq!(last_update(1, 2), "2021-03-13T03:15:13+01:00");
    }
}
