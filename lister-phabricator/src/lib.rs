//! Phabricator and Phorge for lister: every repository of an instance, through Conduit's
//! `POST /api/diffusion.repository.search`, oldest first.
//!
//! Conduit needs a token (`PHABRICATOR_TOKEN`, `PHORGE_TOKEN`), sent as the form field
//! `api.token`. The cursor is Conduit's opaque `after`; an incremental run asks the page of
//! the last cursor again, and goes on from there. An instance hosts git, Mercurial and
//! Subversion repositories: the visit type is the repository's `vcs`. The origin is the
//! repository's own https (else http) clone URI, by short name, else callsign, else id (as
//! Software Heritage records it), never a URI it only mirrors or observes. Repositories not
//! visible to the public are recorded disabled. Conduit reports errors inside a `200`: they
//! stop the run with Conduit's message.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let config = lister_http::TransportConfig {
//!     credentials: vec![lister_http::Credential::token("api-0123456789abcdefghijklmnopqr")],
//!     ..Default::default()
//! };
//! let listing = lister_http::http_listing(lister_phabricator::Phorge::default(), None, None, config)?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::PageResponse;
use lister_core::{Auth, Classification, Forge, FormFields, NextCursor, Opaque, Origin};
use serde_json::Value;

/// The rank of a URI (lower is preferred): the instance's own https, then http, URIs, by
/// short name, callsign, then id; `None` for any other (ssh, a mirror of elsewhere).
fn rank(uri: &Value) -> Option<(usize, &str)> {
    let builtin = &uri["fields"]["builtin"];
    let of = |names: &[&str], value: &Value| names.iter().position(|n| value.as_str() == Some(n));
    let protocol = of(&["https", "http"], &builtin["protocol"])?;
    let identifier = of(&["shortname", "callsign", "id"], &builtin["identifier"])?;
    Some((
        protocol * 3 + identifier,
        uri["fields"]["uri"]["effective"].as_str()?,
    ))
}

/// Phabricator and Phorge, one API (Conduit): `K` picks the forge (0 Phabricator, 1 Phorge).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConduitFamily<const K: usize>;
/// The Phabricator lister.
pub type Phabricator = ConduitFamily<0>;
/// The Phorge lister (Phabricator's community fork).
pub type Phorge = ConduitFamily<1>;

impl<const K: usize> Forge for ConduitFamily<K> {
    type Cursor = Opaque;
    type Item<'a> = Value;
    const NAME: &'static str = ["phabricator", "phorge"][K];
    const DEFAULT_URL: &'static str = ["https://secure.phabricator.com", "https://we.phorge.it"][K];
    const PATH: &'static str = "/api/diffusion.repository.search";
    /// Oldest first, with each repository's URIs; 100 a page, Conduit's default and most.
    const FORM: FormFields = &[("order", "oldest"), ("attachments[uris]", "1")];
    const ITEMS: &'static str = "/result/data";
    const NEXT: NextCursor = NextCursor::BodyValue("/result/cursor/after");
    const AUTH: Auth = Auth::FormField("api.token");
    const NEEDS_CREDENTIAL: bool = true;

    /// A repository: its `fields` and its `attachments`.
    fn origin(&self, repo: Value, _: &url::Url) -> Option<Origin> {
        let uris = repo["attachments"]["uris"]["uris"].as_array()?;
        let (_, url) = uris.iter().filter_map(rank).min()?;
        let view = repo["fields"]["policy"]["view"].as_str();
        let origin = Origin::new(url, repo["fields"]["vcs"].as_str()?);
        Some(origin.with_enabled(matches!(view, None | Some("public"))))
    }

    /// Conduit reports errors inside a `200`.
    fn classify(&self, page: &PageResponse) -> Option<Classification> {
        lister_core::error_in_body(page, "/error_code", "/error_info")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};
    use url::Url;

    fn response(body: &str) -> PageResponse {
        PageResponse {
            url: "https://phorge.example.org/api/diffusion.repository.search"
                .parse()
                .unwrap(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn uri(effective: &str, protocol: &str, identifier: &str) -> String {
        format!(
            r#"{{"id": "1", "type": "RURI", "fields": {{"uri": {{"raw": "x", "display": "x", "effective": "{effective}", "normalized": "x"}},
               "io": {{"effective": "read"}}, "builtin": {{"protocol": {protocol}, "identifier": {identifier}}}, "disabled": false}}}}"#
        )
    }

    fn page(after: &str) -> String {
        let repo = |vcs: &str, view: &str, uris: Vec<String>| {
            format!(
                r#"{{"id": 7, "type": "REPO", "phid": "PHID-REPO-x", "fields": {{"name": "n", "vcs": "{vcs}", "callsign": "N",
                   "shortName": "n", "status": "active", "policy": {{"view": "{view}", "edit": "admin"}}}},
                   "attachments": {{"uris": {{"uris": [{}]}}}}}}"#,
                uris.join(",")
            )
        };
        let git = repo(
            "git",
            "public",
            vec![
                uri(
                    "ssh://git@phorge.example.org/source/n.git",
                    "\"ssh\"",
                    "\"shortname\"",
                ),
                uri(
                    "https://phorge.example.org/diffusion/7/n.git",
                    "\"https\"",
                    "\"id\"",
                ),
                uri(
                    "https://phorge.example.org/source/n.git",
                    "\"https\"",
                    "\"shortname\"",
                ),
                uri("https://github.com/up/n.git", "null", "null"),
            ],
        );
        let hg = repo(
            "hg",
            "users",
            vec![uri(
                "https://phorge.example.org/diffusion/N/",
                "\"https\"",
                "\"callsign\"",
            )],
        );
        let mirror_only = repo(
            "git",
            "public",
            vec![uri("git@github.com:up/m.git", "null", "null")],
        );
        format!(
            r#"{{"result": {{"data": [{git}, {hg}, {mirror_only}], "maps": {{}}, "query": {{"queryKey": null}},
               "cursor": {{"limit": 100, "after": {after}, "before": null, "order": "oldest"}}}}, "error_code": null, "error_info": null}}"#
        )
    }

    #[test]
    fn prefers_the_instances_own_https_uri_by_short_name() {
        let read = lister_core::page_origins(
            &Phorge::default(),
            &"https://forge.example.org/".parse().unwrap(),
            &response(&page("\"7\"")),
        )
        .unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        let facts: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str(), o.enabled))
            .collect();
        assert_eq!(
            facts,
            [
                ("https://phorge.example.org/source/n.git", "git", true),
                ("https://phorge.example.org/diffusion/N/", "hg", false)
            ]
        );
    }

    #[test]
    fn pages_by_the_opaque_after() {
        let next = Phorge::default().next_cursor(Opaque(String::new()), &response(&page("\"7\"")));
        assert_eq!(next.unwrap(), Some(Opaque("7".into())));
        assert_eq!(
            Phorge::default()
                .next_cursor(Opaque("7".into()), &response(&page("null")))
                .unwrap(),
            None
        );
        let api = Url::parse("https://phorge.example.org/").unwrap();
        let first = Phorge::default()
            .request(&api, &Opaque(String::new()))
            .unwrap();
        assert_eq!(first.method, http::Method::POST);
        assert_eq!(
            first.url.as_str(),
            "https://phorge.example.org/api/diffusion.repository.search"
        );
        let lister_core::RequestBody::Form(fields) = Phorge::default()
            .request(&api, &Opaque("7".into()))
            .unwrap()
            .body
        else {
            panic!("a form")
        };
        assert!(
            fields.contains(&("after".into(), "7".into()))
                && fields.contains(&("order".into(), "oldest".into()))
        );
    }

    #[test]
    fn conduit_errors_inside_a_200_are_fatal() {
        let error = r#"{"result": null, "error_code": "ERR-INVALID-AUTH", "error_info": "API token has the wrong length."}"#;
        let classified = Phabricator::default().classify(&response(error));
        assert_eq!(
            classified,
            Some(Classification::Fatal(
                "ERR-INVALID-AUTH: API token has the wrong length.".into()
            ))
        );
        assert_eq!(
            Phabricator::default().classify(&response(&page("null"))),
            None
        );
    }
}
