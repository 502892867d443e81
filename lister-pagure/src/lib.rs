//! Pagure (pagure.io, src.fedoraproject.org and self-hosted instances) for lister: every
//! project and fork, through `GET /api/0/projects?per_page=100&page=N`, paged by page number.
//!
//! The cursor is the page number; the next one is the `page` of the body's `pagination.next`
//! URL, and the listing ends where it is `null`. Pagure lists projects by name, not by
//! creation, so a page number says only where to resume: an incremental run asks the last page
//! again and goes on, and finds the projects whose names sort after the last one listed;
//! only `--full-pass` guarantees the others. The origin is `{instance}/{fullname}`, as
//! Software Heritage records it (a fork's `fullname` starts with `forks/`:
//! `https://pagure.io/forks/user/project`); a project is a fork when its `fullname` says so,
//! and its last update is `date_modified` (seconds since the epoch, as a string). The listing
//! is anonymous; a token goes as `Authorization: token`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://src.fedoraproject.org")?;
//! let listing = lister_http::http_listing(lister_pagure::Pagure, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::DateTime;
use lister_core::{Auth, Forge, NextCursor, Origin};
use serde::Deserialize;

/// The Pagure lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pagure;

/// A project (or a fork), as the listing reads it.
#[derive(Deserialize)]
pub struct Project {
    fullname: Option<String>,
    date_modified: Option<String>,
}

impl Forge for Pagure {
    type Cursor = u64;
    type Item<'a> = Project;
    const NAME: &'static str = "pagure";
    const DEFAULT_URL: &'static str = "https://pagure.io";
    const API_PATH: &'static str = "api/0";
    const PATH: &'static str = "/projects?per_page=100&page={cursor}";
    const ITEMS: &'static str = "/projects";
    const NEXT: NextCursor = NextCursor::BodyUrlParam("/pagination/next", "page");
    const AUTH: Auth = Auth::Token;

    fn first_cursor(&self) -> u64 {
        1
    }

    /// `{instance}/{fullname}`, as Software Heritage records it.
    fn origin(&self, project: Project, site: &url::Url) -> Option<Origin> {
        let fullname = project.fullname?;
        let seconds = project.date_modified.and_then(|text| text.parse().ok());
        let url = site.join(&format!("./{fullname}")).ok()?;
        let origin = Origin::new(url, "git").with_fork(Some(fullname.starts_with("forks/")));
        Some(origin.with_last_update(seconds.and_then(|s| DateTime::from_timestamp(s, 0))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lister_core::PageResponse;
    use url::Url;

    /// A project as `GET /api/0/projects` answers it (pagure.io's fields).
    fn project(
        fullname: &str,
        name: &str,
        namespace: &str,
        parent: &str,
        modified: &str,
    ) -> String {
        let fork = fullname.starts_with("forks/");
        let full_url = match fork {
            true => format!(
                "https://pagure.io/{}",
                fullname.replacen("forks/", "fork/", 1)
            ),
            false => format!("https://pagure.io/{fullname}"),
        };
        format!(
            r#"{{"access_groups": {{"admin": [], "collaborator": [], "commit": [], "ticket": []}},
              "access_users": {{"admin": [], "collaborator": [], "commit": [], "owner": ["ankursinha"], "ticket": []}},
              "close_status": ["Fixed", "Invalid"], "custom_keys": [], "date_created": "1564047918",
              "date_modified": "{modified}", "description": "Slides & notes", "full_url": "{full_url}",
              "fullname": "{fullname}", "id": 6523, "milestones": {{}}, "name": "{name}",
              "namespace": {namespace}, "parent": {parent}, "priorities": {{}}, "tags": ["talk"],
              "url_path": "{}", "user": {{"full_url": "https://pagure.io/user/ankursinha",
              "fullname": "Ankur Sinha", "name": "ankursinha", "url_path": "user/ankursinha"}}}}"#,
            fullname.trim_start_matches("forks/")
        )
    }

    fn page(next: Option<&str>, projects: &[String]) -> PageResponse {
        let next = next.map_or("null".to_owned(), |next| format!("\"{next}\""));
        let body = format!(
            r#"{{"args": {{"fork": null, "namespace": null, "owner": null, "page": 2, "pattern": null,
              "per_page": 100, "short": false, "tags": [], "username": null}},
              "pagination": {{"first": "https://pagure.io/api/0/projects?per_page=100&page=1",
              "last": "https://pagure.io/api/0/projects?per_page=100&page=99", "next": {next},
              "page": 2, "pages": 99, "per_page": 100,
              "prev": "https://pagure.io/api/0/projects?per_page=100&page=1"}},
              "projects": [{}], "total_projects": 9842}}"#,
            projects.join(",")
        );
        PageResponse::ok("https://pagure.io/api/0/projects?per_page=100&page=2", body)
    }

    #[test]
    fn projects_and_forks_become_instance_urls_by_fullname() {
        let projects = [
            project("2019-flock", "2019-flock", "null", "null", "1565348955"),
            project(
                "fedora-infra/ansible",
                "ansible",
                "\"fedora-infra\"",
                "null",
                "1700000000",
            ),
            project(
                "forks/neuro-sig/fedora-infra/ansible",
                "ansible",
                "\"fedora-infra\"",
                r#"{"fullname": "fedora-infra/ansible", "name": "ansible"}"#,
                "not a date",
            ),
        ];
        let listed = page(
            Some("https://pagure.io/api/0/projects?per_page=100&page=3"),
            &projects,
        );
        let site = Url::parse("https://pagure.io/").unwrap();
        let read = lister_core::page_origins(&Pagure, &site, &listed).unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        let facts: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str(), o.is_fork))
            .collect();
        assert_eq!(
            facts,
            [
                ("https://pagure.io/2019-flock", "git", Some(false)),
                ("https://pagure.io/fedora-infra/ansible", "git", Some(false)),
                (
                    "https://pagure.io/forks/neuro-sig/fedora-infra/ansible",
                    "git",
                    Some(true)
                ),
            ]
        );
        let updated = read.origins[0].last_update.unwrap();
        assert_eq!(updated.to_rfc3339(), "2019-08-09T11:09:15+00:00");
        assert_eq!(
            read.origins[2].last_update, None,
            "an unreadable date is no date"
        );
        assert_eq!(Pagure.next_cursor(2, &listed).unwrap(), Some(3));
        // The last page: `next` is null.
        assert_eq!(
            Pagure.next_cursor(99, &page(None, &projects)).unwrap(),
            None
        );
    }

    #[test]
    fn the_api_is_under_api_0_of_the_instance() {
        let site = Url::parse("https://src.fedoraproject.org").unwrap();
        let api = Pagure.api_base(&site);
        assert_eq!(api.as_str(), "https://src.fedoraproject.org/api/0");
        let request = Pagure.request(&api, &Pagure.first_cursor()).unwrap();
        assert_eq!(
            request.url.as_str(),
            "https://src.fedoraproject.org/api/0/projects?per_page=100&page=1"
        );
        // An instance under a path keeps it in its origins.
        let site = Url::parse("https://example.org/pagure/").unwrap();
        let listed = page(
            None,
            &[project("rpms/bash", "bash", "\"rpms\"", "null", "1")],
        );
        let read = lister_core::page_origins(&Pagure, &site, &listed).unwrap();
        assert_eq!(read.origins[0].url, "https://example.org/pagure/rpms/bash");
    }
}
