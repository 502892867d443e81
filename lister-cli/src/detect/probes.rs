//! The probes of `lister detect`, in the order they are sent: each is one request, the forges
//! its answer can name, and how it reads the answer. Adding a forge is one entry here (or one
//! in `HOSTED_ONLY` for a forge that exists at its main instance alone).
//!
//! The first probe fetches the address itself: its answer is Gitiles' host index, names a
//! cgit or gitweb page by its generator, an hgweb page by its script or a stagit index by its
//! table, or gives clues (a header, a redirect, a wordmark, a body attribute, an icon) that move
//! the probes of the forge they point at to the front.
//! Clues only change the order: a forge is named from what its own API answers.

use http::{Method, StatusCode};
use lister_core::PageResponse;

use super::answer::{header, json, meta, quote, sets_cookie, text};

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Confidence {
    /// The forge's own API said so.
    Certain,
    /// The answers fit this forge, and another one they cannot rule out.
    Likely,
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
        })
    }
}

/// Which software answers, how sure, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// A forge name of the registry, or other software (cgit, gitweb…).
    pub(crate) software: &'static str,
    pub(crate) confidence: Confidence,
    /// What was asked and answered, for a person.
    pub(crate) evidence: String,
}

/// What one answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing about this probe's forges.
    Nothing,
    /// The software.
    Found(Finding),
    /// Hints that the software is one of these: their probes go first.
    Clue(&'static [&'static str]),
}

/// What is known when an answer is read.
#[derive(Debug, Default)]
pub(crate) struct Known<'a> {
    /// The clues so far.
    pub(crate) clues: &'a [&'static str],
    /// A likely finding that a refining probe may confirm or overturn.
    pub(crate) likely: Option<&'a Finding>,
}

/// One request and how to read its answer.
pub(crate) struct Probe {
    pub(crate) method: Method,
    /// Relative to the address given, which ends with `/`.
    pub(crate) path: &'static str,
    /// The `Accept` header.
    pub(crate) accept: &'static str,
    /// The forges the answer can name (the probe goes first when a clue names one).
    pub(crate) forges: &'static [&'static str],
    /// Sent only to confirm a likely finding of this forge.
    pub(crate) refines: Option<&'static str>,
    /// Reads the answer (`what` is the request, as evidence names it).
    pub(crate) read: fn(&PageResponse, &str, &Known<'_>) -> Verdict,
}

/// Forges that exist at their main instance only: found by host, never probed (the test that
/// every forge is detectable reads it).
#[cfg(test)]
pub(crate) const HOSTED_ONLY: &[&str] = &["bitbucket", "launchpad", "launchpad-bzr", "sourceforge"];

/// Software the probes can name besides the registry's forges (a name the registry does not
/// hold is named, and said unlisted).
#[cfg(test)]
pub(crate) const OTHER_SOFTWARE: &[&str] = &["pagure", "gerrit"];

/// Generators of the pages of forges without an API, named by their `generator` meta tag.
const GENERATORS: &[&str] = &["cgit", "gitweb"];

const JSON: &str = "application/json";

/// The start of the icon every sr.ht service's pages embed as a `data:` URI (artoj/core.sr.ht,
/// srht/templates/layout.html, `{% block favicon %}`): a 128×128 PNG whose `tIME` chunk says
/// it was saved on 2017-02-06 at 08:47:39, which no other forge's icon shares.
pub(crate) const SOURCEHUT_ICON: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAIAAAACACAMAAAD04JH5AAAACXBIWXMAAAsTAAALEwEAmpwYAAAAB3RJTUUH4QIGCC8n92KyhQ";

/// Every probe, in the order they are sent (clues aside).
pub(crate) const PROBES: &[Probe] = &[
    Probe {
        method: Method::GET,
        path: "?format=JSON",
        accept: "text/html",
        forges: &["gitiles", "cgit", "gitweb", "hgweb", "stagit"],
        refines: None,
        read: read_page,
    },
    Probe {
        method: Method::GET,
        path: "api/v1/version",
        accept: JSON,
        forges: &["gitea", "forgejo", "gogs"],
        refines: None,
        read: read_gitea_version,
    },
    Probe {
        method: Method::GET,
        path: "api/forgejo/v1/version",
        accept: JSON,
        forges: &["forgejo"],
        refines: Some("gitea"),
        read: read_forgejo_version,
    },
    Probe {
        method: Method::GET,
        path: "api/v4/projects?per_page=1&simple=true",
        accept: JSON,
        forges: &["gitlab", "heptapod"],
        refines: None,
        read: read_gitlab_projects,
    },
    Probe {
        method: Method::GET,
        path: "manifest.js.gz",
        accept: "*/*",
        forges: &["grokmirror"],
        refines: None,
        read: read_grokmirror_manifest,
    },
    Probe {
        method: Method::POST,
        path: "api/conduit.ping",
        accept: JSON,
        forges: &["phabricator", "phorge"],
        refines: None,
        read: read_conduit_ping,
    },
    Probe {
        method: Method::GET,
        path: "api/v3/meta",
        accept: JSON,
        forges: &["github"],
        refines: None,
        read: read_github_meta,
    },
    Probe {
        method: Method::GET,
        path: "rest/api/1.0/application-properties",
        accept: JSON,
        forges: &["bitbucket-server"],
        refines: None,
        read: read_bitbucket_properties,
    },
    Probe {
        method: Method::GET,
        path: "config/server/version",
        accept: JSON,
        forges: &["gerrit"],
        refines: None,
        read: read_gerrit_version,
    },
    Probe {
        method: Method::GET,
        path: "api/0/version",
        accept: JSON,
        forges: &["pagure"],
        refines: None,
        read: read_pagure_version,
    },
    Probe {
        method: Method::GET,
        path: "api/projects?limit=1",
        accept: JSON,
        forges: &["tuleap"],
        refines: None,
        read: read_tuleap_projects,
    },
    Probe {
        method: Method::POST,
        path: "query",
        accept: JSON,
        forges: &["sourcehut", "sourcehut-hg"],
        refines: None,
        read: read_sourcehut_query,
    },
];

fn found(software: &'static str, confidence: Confidence, evidence: String) -> Verdict {
    Verdict::Found(Finding {
        software,
        confidence,
        evidence,
    })
}

/// A JSON object's string field.
fn field<'a>(value: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(serde_json::Value::as_str)
}

/// Tuleap's projects (when it lets anonymous callers see them): a JSON array paged by the
/// headers of Tuleap's REST layer, `X-PAGINATION-SIZE` and `X-PAGINATION-LIMIT-MAX`.
fn read_tuleap_projects(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    let document = json(answer).filter(|(_, guarded)| !guarded).map(|(d, _)| d);
    let max = header(answer, "x-pagination-limit-max");
    let paged = header(answer, "x-pagination-size").is_some();
    match (answer.status, document, max) {
        (StatusCode::OK, Some(serde_json::Value::Array(_)), Some(max)) if paged => {
            let evidence = format!(
                "{what} answered projects paged by X-PAGINATION-SIZE, at most {}",
                quote(max)
            );
            found("tuleap", Confidence::Certain, evidence)
        }
        _ => Verdict::Nothing,
    }
}

/// sourcehut's GraphQL endpoint asked without a token: core.sr.ht's authentication refuses
/// it before reading the request, with its own message. git.sr.ht and hg.sr.ht answer alike,
/// so the finding is likely, naming git.sr.ht (`sourcehut-hg` lists a Mercurial one).
fn read_sourcehut_query(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    const REFUSAL: &str = "Authentication error: Authorization header is required";
    let document = json(answer).filter(|(_, guarded)| !guarded).map(|(d, _)| d);
    let message = document.as_ref().and_then(|d| field(d, "message"));
    match message {
        Some(message)
            if answer.status == StatusCode::UNAUTHORIZED && message.starts_with(REFUSAL) =>
        {
            let evidence = format!(
                "{what} answered sourcehut's {} (hg.sr.ht answers alike: `lister run sourcehut-hg` for Mercurial)",
                quote(message)
            );
            found("sourcehut", Confidence::Likely, evidence)
        }
        _ => Verdict::Nothing,
    }
}

/// The address itself (with `?format=JSON`, which only Gitiles reads): Gitiles' host index,
/// a cgit or gitweb page, or clues.
fn read_page(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    if answer.status == StatusCode::OK
        && let Some((serde_json::Value::Object(index), guarded)) = json(answer)
    {
        let repositories = index
            .values()
            .filter(|repo| field(repo, "name").is_some() && field(repo, "clone_url").is_some())
            .count();
        if repositories > 0 || (guarded && index.is_empty()) {
            let confidence = if repositories > 0 {
                Confidence::Certain
            } else {
                Confidence::Likely
            };
            let evidence =
                format!("{what} answered a Gitiles host index of {repositories} repositories");
            return found("gitiles", confidence, evidence);
        }
    }
    let html = text(answer);
    for generator in meta(&html, "generator") {
        let lower = generator.to_ascii_lowercase();
        let software = GENERATORS.iter().find(|name| lower.starts_with(*name));
        if let Some(software) = software {
            let evidence = format!("{what} is a page generated by {}", quote(generator));
            return found(software, Confidence::Certain, evidence);
        }
    }
    // hgweb writes no generator, but every page of its HTML templates loads its script from
    // its static folder (`{staticurl}mercurial.js`).
    let document = answer.html();
    let script = "script[src$='/mercurial.js'], script[src='mercurial.js']";
    if !lister_core::html::elements(&document, script).is_empty() {
        let evidence = format!("{what} is an hgweb page (it loads hgweb's mercurial.js)");
        return found("hgweb", Confidence::Certain, evidence);
    }
    // stagit writes no generator, but `stagit-index` writes its index as `table#index`, each
    // row's first cell linking the repository's `log.html` (stagit-index.c, `writelog`).
    let index = "table#index td:first-child > a[href$='/log.html']";
    if !lister_core::html::elements(&document, index).is_empty() {
        let evidence = format!("{what} is a stagit index (table#index linking log.html pages)");
        return found("stagit", Confidence::Certain, evidence);
    }
    // Phabricator and Phorge write their wordmark (the platform's name unless an
    // administrator changed it) on every page.
    if let Some(at) = html.find("class=\"phabricator-wordmark\">") {
        let rest = &html[at + "class=\"phabricator-wordmark\">".len()..];
        return Verdict::Clue(match rest.split('<').next().map(str::trim) {
            Some("Phorge") => &["phorge"],
            Some("Phabricator") => &["phabricator"],
            _ => &["phabricator", "phorge"],
        });
    }
    // Tuleap's BurningParrot theme (its home page's) writes the visitor's accessibility
    // mode on `<body>` (Enalean/tuleap, src/themes/BurningParrot/templates/header.mustache).
    if html.contains("data-user-has-accessibility-mode=") {
        return Verdict::Clue(&["tuleap"]);
    }
    if html.contains(SOURCEHUT_ICON) {
        return Verdict::Clue(&["sourcehut", "sourcehut-hg"]);
    }
    // Gerrit's web app is one custom element; Pagure signs its footer.
    if html.contains("<gr-app") {
        return Verdict::Clue(&["gerrit"]);
    }
    if html.contains("Powered by <a href=\"https://pagure.io/pagure\">Pagure</a>") {
        return Verdict::Clue(&["pagure"]);
    }
    if header(answer, "x-github-request-id").is_some() {
        return Verdict::Clue(&["github"]);
    }
    // Atlassian's server products name each request.
    if header(answer, "x-arequestid").is_some() {
        return Verdict::Clue(&["bitbucket-server"]);
    }
    let signs_in = header(answer, "location").is_some_and(|to| to.ends_with("/users/sign_in"));
    if signs_in || sets_cookie(answer, "_gitlab_session") {
        return Verdict::Clue(&["gitlab", "heptapod"]);
    }
    Verdict::Nothing
}

/// Gitea's and Forgejo's `{"version": …}` (Forgejo's since 7.0 says `+gitea-`); Gogs has no
/// such endpoint and answers its HTML 404 page.
fn read_gitea_version(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    if answer.status == StatusCode::OK
        && let Some((document, false)) = json(answer)
        && let Some(version) = field(&document, "version")
    {
        let evidence = format!("{what} answered {}", quote(version));
        if version.contains("+gitea-") {
            return found("forgejo", Confidence::Certain, evidence);
        }
        return found("gitea", Confidence::Likely, evidence);
    }
    let html = text(answer);
    let gogs_page = meta(&html, "keywords")
        .iter()
        .any(|words| words.split(',').any(|word| word.trim() == "gogs"))
        || meta(&html, "author").iter().any(|a| a.starts_with("Gogs"));
    if answer.status == StatusCode::NOT_FOUND && (gogs_page || sets_cookie(answer, "i_like_gogs")) {
        let evidence = format!("{what} answered Gogs' own 404 page (Gogs has no version endpoint)");
        return found("gogs", Confidence::Certain, evidence);
    }
    Verdict::Nothing
}

/// Forgejo's own version endpoint (since Forgejo 1.18): a Gitea-like version answered here
/// is Forgejo's; a 404 here, Gitea's (another answer leaves Gitea likely).
fn read_forgejo_version(answer: &PageResponse, what: &str, known: &Known<'_>) -> Verdict {
    let before = known
        .likely
        .map_or(String::new(), |f| format!("{}; ", f.evidence));
    if answer.status == StatusCode::OK
        && let Some((document, false)) = json(answer)
        && let Some(version) = field(&document, "version")
    {
        let evidence = format!("{before}{what} answered {}", quote(version));
        return found("forgejo", Confidence::Certain, evidence);
    }
    if answer.status != StatusCode::NOT_FOUND {
        return Verdict::Nothing;
    }
    let evidence = format!("{before}{what} answered HTTP 404");
    found("gitea", Confidence::Certain, evidence)
}

/// GitLab's project list, one project in its anonymous view: Heptapod's projects carry
/// `vcs_type`.
fn read_gitlab_projects(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    let document = json(answer).filter(|(_, guarded)| !guarded).map(|(d, _)| d);
    match (answer.status, document) {
        (StatusCode::OK, Some(serde_json::Value::Array(projects))) => match projects.first() {
            Some(project) if field(project, "path_with_namespace").is_some() => {
                if let Some(vcs) = field(project, "vcs_type") {
                    let evidence =
                        format!("{what} answered a project with vcs_type {}", quote(vcs));
                    found("heptapod", Confidence::Certain, evidence)
                } else {
                    let evidence = format!("{what} answered a project without vcs_type");
                    found("gitlab", Confidence::Certain, evidence)
                }
            }
            Some(_) => Verdict::Nothing,
            None => found(
                "gitlab",
                Confidence::Likely,
                format!("{what} answered an empty list (Heptapod would too)"),
            ),
        },
        (StatusCode::UNAUTHORIZED, Some(document))
            if field(&document, "message") == Some("401 Unauthorized") =>
        {
            let evidence =
                format!("{what} answered GitLab's \"401 Unauthorized\" (Heptapod would too)");
            found("gitlab", Confidence::Likely, evidence)
        }
        _ => Verdict::Nothing,
    }
}

/// A grokmirror manifest (the transport has decompressed the gzip file): an object from
/// repository paths (`/…`) to objects with grokmirror's facts. An empty one is likely.
fn read_grokmirror_manifest(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    let Some((serde_json::Value::Object(manifest), false)) = json(answer) else {
        return Verdict::Nothing;
    };
    let grok = |(path, facts): (&String, &serde_json::Value)| {
        path.starts_with('/')
            && ["modified", "fingerprint"]
                .iter()
                .any(|k| facts.get(k).is_some())
    };
    let repositories = manifest.iter().filter(|entry| grok(*entry)).count();
    if answer.status != StatusCode::OK || repositories < manifest.len() {
        return Verdict::Nothing;
    }
    let evidence = format!("{what} answered a grokmirror manifest of {repositories} repositories");
    match repositories {
        0 => found("grokmirror", Confidence::Likely, evidence),
        _ => found("grokmirror", Confidence::Certain, evidence),
    }
}

/// Conduit's `{result, error_code, error_info}`; which of Phabricator and Phorge, the page's
/// wordmark says.
fn read_conduit_ping(answer: &PageResponse, what: &str, known: &Known<'_>) -> Verdict {
    let Some((document, false)) = json(answer) else {
        return Verdict::Nothing;
    };
    let conduit = ["result", "error_code", "error_info"]
        .iter()
        .all(|key| document.get(key).is_some());
    if !conduit {
        return Verdict::Nothing;
    }
    let phorge = known.clues.contains(&"phorge");
    let phabricator = known.clues.contains(&"phabricator");
    match (phorge, phabricator) {
        (true, false) => found(
            "phorge",
            Confidence::Certain,
            format!("{what} answered Conduit, and the page's wordmark is \"Phorge\""),
        ),
        (false, true) => found(
            "phabricator",
            Confidence::Certain,
            format!("{what} answered Conduit, and the page's wordmark is \"Phabricator\""),
        ),
        _ => found(
            "phabricator",
            Confidence::Likely,
            format!("{what} answered Conduit (Phorge answers alike; both list the same way)"),
        ),
    }
}

/// GitHub Enterprise Server's `meta`: its `installed_version`, or the header every answer of
/// its API carries.
fn read_github_meta(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    let installed = json(answer)
        .and_then(|(document, _)| field(&document, "installed_version").map(str::to_owned));
    let version = installed
        .as_deref()
        .or_else(|| header(answer, "x-github-enterprise-version"));
    match version {
        Some(version) => found(
            "github",
            Confidence::Certain,
            format!(
                "{what} answered GitHub Enterprise Server {}",
                quote(version)
            ),
        ),
        None => Verdict::Nothing,
    }
}

/// Bitbucket Data Center's (formerly Stash's) application properties.
fn read_bitbucket_properties(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    if answer.status != StatusCode::OK {
        return Verdict::Nothing;
    }
    let Some((document, false)) = json(answer) else {
        return Verdict::Nothing;
    };
    match field(&document, "displayName") {
        Some(name @ ("Bitbucket" | "Stash")) => {
            let version = field(&document, "version").unwrap_or("?");
            let evidence = format!("{what} answered {name} {}", quote(version));
            found("bitbucket-server", Confidence::Certain, evidence)
        }
        _ => Verdict::Nothing,
    }
}

/// Gerrit's server version: a JSON string behind the XSSI guard every Gerrit answer has.
fn read_gerrit_version(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    match json(answer) {
        Some((serde_json::Value::String(version), true)) if answer.status == StatusCode::OK => {
            let evidence = format!(
                "{what} answered {} behind Gerrit's )]}}' guard",
                quote(&version)
            );
            found("gerrit", Confidence::Certain, evidence)
        }
        _ => Verdict::Nothing,
    }
}

/// Pagure's API version (`pagure/api/__init__.py`, `api_version`: `{"version": …}`).
fn read_pagure_version(answer: &PageResponse, what: &str, _: &Known<'_>) -> Verdict {
    if answer.status == StatusCode::OK
        && let Some((document, false)) = json(answer)
        && let Some(version) = field(&document, "version")
    {
        let evidence = format!("{what} answered API version {}", quote(version));
        return found("pagure", Confidence::Certain, evidence);
    }
    Verdict::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(status: u16, body: &str) -> PageResponse {
        let mut page = PageResponse::ok("https://forge.example.org/", body.to_owned());
        page.status = StatusCode::from_u16(status).unwrap();
        page
    }

    fn software(verdict: Verdict) -> Option<(&'static str, Confidence)> {
        match verdict {
            Verdict::Found(finding) => Some((finding.software, finding.confidence)),
            _ => None,
        }
    }

    const NONE: Known<'static> = Known {
        clues: &[],
        likely: None,
    };

    #[test]
    fn every_forge_of_the_registry_is_found_by_a_probe_or_its_host() {
        for name in crate::registry::names() {
            let probed = PROBES.iter().any(|probe| probe.forges.contains(&name));
            assert!(
                probed || HOSTED_ONLY.contains(&name),
                "{name}: add a probe (or a HOSTED_ONLY entry) to detect/probes.rs"
            );
        }
        for probe in PROBES {
            for name in probe.forges.iter().chain(probe.refines.iter()) {
                let known = crate::registry::find(name).is_some() || OTHER_SOFTWARE.contains(name);
                assert!(known, "{} names {name}, which is no forge", probe.path);
            }
        }
    }

    #[test]
    fn tuleap_from_its_paged_projects() {
        let paged = |status, body: &str, headers: &[(&'static str, &str)]| {
            let mut answer = page(status, body);
            for (name, value) in headers {
                answer.headers.insert(*name, value.parse().unwrap());
            }
            software(read_tuleap_projects(&answer, "GET p", &NONE))
        };
        let headers = [
            ("x-pagination-size", "1234"),
            ("x-pagination-limit-max", "50"),
        ];
        let projects = r#"[{"id": 101, "shortname": "guinea-pig", "resources": []}]"#;
        assert_eq!(
            paged(200, projects, &headers),
            Some(("tuleap", Confidence::Certain))
        );
        assert_eq!(
            paged(200, "[]", &headers),
            Some(("tuleap", Confidence::Certain))
        );
        assert_eq!(paged(200, projects, &headers[..1]), None);
        assert_eq!(
            paged(200, projects, &[]),
            None,
            "GitLab's projects are no Tuleap's"
        );
        let refused = r#"{"error": {"code": 401, "message": "Unauthorized"}}"#;
        assert_eq!(paged(401, refused, &headers), None);
    }

    #[test]
    fn sourcehut_from_its_refusal_of_a_query_without_a_token() {
        let read =
            |status, body| software(read_sourcehut_query(&page(status, body), "POST q", &NONE));
        let refusal = r#"{"message":"Authentication error: Authorization header is required. Expected 'Authorization: Bearer <token>'"}"#;
        assert_eq!(read(401, refusal), Some(("sourcehut", Confidence::Likely)));
        assert_eq!(read(403, refusal), None);
        assert_eq!(read(401, r#"{"message":"Unauthorized"}"#), None);
        assert_eq!(read(404, r#"{"message":"Not Found"}"#), None);
    }

    #[test]
    fn gitea_forgejo_and_gogs_from_one_answer() {
        let read = |status, body| software(read_gitea_version(&page(status, body), "GET v", &NONE));
        let forgejo = read(200, r#"{"version":"7.0.0+gitea-1.22.0"}"#);
        assert_eq!(forgejo, Some(("forgejo", Confidence::Certain)));
        assert_eq!(
            read(200, r#"{"version":"1.21.4"}"#),
            Some(("gitea", Confidence::Likely))
        );
        let gogs = "<html><head><meta name=\"keywords\" content=\"go, git, self-hosted, gogs\">";
        assert_eq!(read(404, gogs), Some(("gogs", Confidence::Certain)));
        assert_eq!(read(404, r#"{"message":"Not Found"}"#), None);
        assert_eq!(read(200, r#"{"version":7}"#), None);
    }

    #[test]
    fn forgejo_before_7_answers_its_own_endpoint() {
        let likely = Finding {
            software: "gitea",
            confidence: Confidence::Likely,
            evidence: "GET v answered \"1.21.11-1\"".into(),
        };
        let known = Known {
            clues: &[],
            likely: Some(&likely),
        };
        let answer = page(200, "{\"version\":\"1.21.11-1\"}\n");
        let Verdict::Found(forgejo) = read_forgejo_version(&answer, "GET f", &known) else {
            panic!("Forgejo answers its version");
        };
        assert_eq!(forgejo.software, "forgejo");
        assert!(forgejo.evidence.contains("1.21.11-1") && forgejo.evidence.contains("GET f"));
        let gitea = read_forgejo_version(&page(404, "Not found."), "GET f", &known);
        assert_eq!(software(gitea), Some(("gitea", Confidence::Certain)));
        let unavailable = read_forgejo_version(&page(502, "Bad gateway"), "GET f", &known);
        assert_eq!(unavailable, Verdict::Nothing);
    }

    #[test]
    fn gitlab_and_heptapod_from_one_project() {
        let read =
            |status, body| software(read_gitlab_projects(&page(status, body), "GET p", &NONE));
        let gitlab =
            r#"[{"id":1,"path_with_namespace":"a/b","http_url_to_repo":"https://g/a/b.git"}]"#;
        assert_eq!(read(200, gitlab), Some(("gitlab", Confidence::Certain)));
        let heptapod = r#"[{"id":1,"vcs_type":"hg","path_with_namespace":"a/b"}]"#;
        assert_eq!(read(200, heptapod), Some(("heptapod", Confidence::Certain)));
        assert_eq!(read(200, "[]"), Some(("gitlab", Confidence::Likely)));
        let unauthorized = r#"{"message":"401 Unauthorized"}"#;
        assert_eq!(
            read(401, unauthorized),
            Some(("gitlab", Confidence::Likely))
        );
        assert_eq!(read(200, r#"[{"name":"x"}]"#), None);
        assert_eq!(read(404, r#"{"message":"Not Found"}"#), None);
    }

    #[test]
    fn phabricator_or_phorge_by_the_wordmark() {
        let ping = page(
            200,
            r#"{"result":"phab01","error_code":null,"error_info":null}"#,
        );
        let read = |clues| {
            software(read_conduit_ping(
                &ping,
                "POST c",
                &Known {
                    clues,
                    likely: None,
                },
            ))
        };
        assert_eq!(read(&["phorge"]), Some(("phorge", Confidence::Certain)));
        assert_eq!(
            read(&["phabricator"]),
            Some(("phabricator", Confidence::Certain))
        );
        assert_eq!(read(&[]), Some(("phabricator", Confidence::Likely)));
        let wordmark = |name: &str| {
            let html = format!(
                "<a class=\"phabricator-main-menu-brand\" href=\"/\"><span class=\"phabricator-wordmark\">{name}</span></a>"
            );
            read_page(&page(200, &html), "GET /", &NONE)
        };
        assert_eq!(wordmark("Phorge"), Verdict::Clue(&["phorge"]));
        assert_eq!(wordmark("Phabricator"), Verdict::Clue(&["phabricator"]));
        assert_eq!(
            wordmark("Acme Code"),
            Verdict::Clue(&["phabricator", "phorge"])
        );
        let gitea_404 = page(404, r#"{"message":"not found"}"#);
        assert_eq!(
            software(read_conduit_ping(&gitea_404, "POST c", &NONE)),
            None
        );
    }

    #[test]
    fn the_page_names_gitiles_cgit_and_gitweb() {
        let read = |body: &str| software(read_page(&page(200, body), "GET /", &NONE));
        let index = ")]}'\n{\"platform/build\":{\"name\":\"platform/build\",\"clone_url\":\"https://a/platform/build\"}}";
        assert_eq!(read(index), Some(("gitiles", Confidence::Certain)));
        let unguarded =
            "{\"a\":{\"name\":\"a\",\"clone_url\":\"https://g/a\",\"description\":\"\"}}";
        assert_eq!(read(unguarded), Some(("gitiles", Confidence::Certain)));
        assert_eq!(read(")]}'\n{}"), Some(("gitiles", Confidence::Likely)));
        assert_eq!(read("{}"), None);
        let cgit = "<head><meta name='generator' content='cgit v1.2.3'/>";
        assert_eq!(read(cgit), Some(("cgit", Confidence::Certain)));
        let gitweb = "<meta name=\"generator\" content=\"gitweb/2.39.2 git/2.39.2\"/>";
        assert_eq!(read(gitweb), Some(("gitweb", Confidence::Certain)));
        assert_eq!(
            read("<meta name=\"generator\" content=\"WordPress 6.5\">"),
            None
        );
    }

    #[test]
    fn the_page_names_hgweb_by_its_script() {
        let read = |body: &str| software(read_page(&page(200, body), "GET /", &NONE));
        // The head of `hg serve`'s index (Mercurial 6.3, the paper style).
        let paper = "<link rel=\"icon\" href=\"/static/hgicon.png\" type=\"image/png\" />\n\
            <script type=\"text/javascript\" src=\"/static/mercurial.js\"></script>\n\
            <title>Mercurial repositories index</title>";
        assert_eq!(read(paper), Some(("hgweb", Confidence::Certain)));
        let elsewhere = "<script src=\"https://cdn.example.org/hg/mercurial.js\"></script>";
        assert_eq!(read(elsewhere), Some(("hgweb", Confidence::Certain)));
        assert_eq!(
            read("<p>static/mercurial.js</p>"),
            None,
            "a mention is no script"
        );
        assert_eq!(read("<script src=\"/js/notmercurial.js\"></script>"), None);
    }

    #[test]
    fn the_page_names_a_stagit_index_by_its_table() {
        let read = |body: &str| software(read_page(&page(200, body), "GET /", &NONE));
        // As stagit-index writes it.
        let index = "<div id=\"content\">\n<table id=\"index\"><thead>\n<tr><td><b>Name</b></td>\
            <td><b>Description</b></td><td><b>Owner</b></td><td><b>Last commit</b></td></tr>\
            </thead><tbody>\n<tr><td><a href=\"caf%C3%A9/log.html\">caf\u{e9}</a></td>\
            <td>a &amp; b</td><td></td><td>2023-11-14 22:13</td></tr>\n</tbody>\n</table>";
        assert_eq!(read(index), Some(("stagit", Confidence::Certain)));
        // Another table named `index`, or `log.html` links elsewhere, name nothing.
        let other = "<table id=\"index\"><tr><td><a href=\"a/\">a</a></td></tr></table>";
        assert_eq!(read(other), None);
        assert_eq!(
            read("<table><tr><td><a href=\"a/log.html\">a</a></td></tr></table>"),
            None
        );
    }

    #[test]
    fn the_page_gives_clues() {
        let clue = |answer: PageResponse| read_page(&answer, "GET /", &NONE);
        let ghe = page(302, "").with_header("x-github-request-id", "C0DE:1:2:3:4");
        assert_eq!(clue(ghe), Verdict::Clue(&["github"]));
        let bitbucket = page(302, "").with_header("x-arequestid", "@1ABCDEFx1x2x0");
        assert_eq!(clue(bitbucket), Verdict::Clue(&["bitbucket-server"]));
        let gitlab = page(302, "").with_header("location", "https://g.example.org/users/sign_in");
        assert_eq!(clue(gitlab), Verdict::Clue(&["gitlab", "heptapod"]));
        assert_eq!(clue(page(200, "<html></html>")), Verdict::Nothing);
        let tuleap = "<body class=\"theme-orange\" data-user-locale=\"en_US\" data-user-id=\"0\"\n\
                      data-user-has-accessibility-mode=\"0\">";
        assert_eq!(clue(page(200, tuleap)), Verdict::Clue(&["tuleap"]));
        let sourcehut =
            format!("<link rel=\"icon\" type=\"image/png\" href=\"{SOURCEHUT_ICON}AAAj1QTFRF\" />");
        assert_eq!(
            clue(page(200, &sourcehut)),
            Verdict::Clue(&["sourcehut", "sourcehut-hg"])
        );
        let other_png = "<link rel=\"icon\" href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAIAAAACACAMAAAD04JH5\">";
        assert_eq!(clue(page(200, other_png)), Verdict::Nothing);
    }

    #[test]
    fn github_enterprise_and_bitbucket_data_center() {
        let meta = page(
            200,
            r#"{"verifiable_password_authentication":true,"installed_version":"3.12.3"}"#,
        );
        let github = read_github_meta(&meta, "GET m", &NONE);
        assert_eq!(software(github), Some(("github", Confidence::Certain)));
        let private = page(
            401,
            r#"{"message":"Must authenticate to access this API."}"#,
        )
        .with_header("x-github-enterprise-version", "3.12.3");
        assert_eq!(
            software(read_github_meta(&private, "GET m", &NONE)),
            Some(("github", Confidence::Certain))
        );
        assert_eq!(
            software(read_github_meta(&page(404, "{}"), "GET m", &NONE)),
            None
        );
        let properties = page(
            200,
            r#"{"version":"8.19.1","buildNumber":"8019001","buildDate":"1712000000000","displayName":"Bitbucket"}"#,
        );
        let bitbucket = read_bitbucket_properties(&properties, "GET a", &NONE);
        assert_eq!(
            software(bitbucket),
            Some(("bitbucket-server", Confidence::Certain))
        );
        let jira = page(200, r#"{"version":"9.1.0","displayName":"Jira"}"#);
        assert_eq!(
            software(read_bitbucket_properties(&jira, "GET a", &NONE)),
            None
        );
    }

    #[test]
    fn a_grokmirror_manifest() {
        let read = |status, body| {
            software(read_grokmirror_manifest(
                &page(status, body),
                "GET m",
                &NONE,
            ))
        };
        let manifest = r#"{"/pub/scm/git/git.git": {"modified": 1714600000, "fingerprint": "5e9c", "reference": null, "symlinks": []}}"#;
        assert_eq!(
            read(200, manifest),
            Some(("grokmirror", Confidence::Certain))
        );
        assert_eq!(read(200, "{}"), Some(("grokmirror", Confidence::Likely)));
        assert_eq!(read(404, manifest), None);
        assert_eq!(read(200, r#"{"version": "0.31"}"#), None);
        assert_eq!(
            read(200, r#"{"/a.git": {"modified": 1}, "b": {"x": 1}}"#),
            None
        );
    }

    #[test]
    fn gerrit_behind_its_guard_and_pagure() {
        let gerrit = read_gerrit_version(&page(200, ")]}'\n\"3.9.1\""), "GET g", &NONE);
        assert_eq!(software(gerrit), Some(("gerrit", Confidence::Certain)));
        let unguarded = read_gerrit_version(&page(200, "\"3.9.1\""), "GET g", &NONE);
        assert_eq!(software(unguarded), None);
        let pagure = read_pagure_version(&page(200, r#"{"version": "0.31"}"#), "GET p", &NONE);
        assert_eq!(software(pagure), Some(("pagure", Confidence::Certain)));
        assert_eq!(
            software(read_pagure_version(&page(404, "{}"), "GET p", &NONE)),
            None
        );
        let clue = |body: &str| read_page(&page(200, body), "GET /", &NONE);
        assert_eq!(
            clue("<body><gr-app id=\"app\"></gr-app></body>"),
            Verdict::Clue(&["gerrit"])
        );
        let footer = "Powered by <a href=\"https://pagure.io/pagure\">Pagure</a> 5.14.1";
        assert_eq!(clue(footer), Verdict::Clue(&["pagure"]));
    }
}
