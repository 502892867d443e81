//! What each forge answers besides its listing, at an address of its own (`/gitlab`,
//! `/forgejo`…): its home page, its version endpoints, and its own 404 everywhere else under
//! its prefix. `lister detect` reads these; the shapes are the real forges' (their sources
//! and documentation are cited beside each).
//!
//! Listing endpoints are routed before this module is asked, so `/gitiles/?format=JSON` is
//! Gitiles' host index and `/heptapod/api/v4/projects` Heptapod's projects.

use http::{HeaderMap, Method, Response, StatusCode};

use super::server::{Body, full, header_value};

/// A forge at an address of its own on the fake, as `lister detect` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// GitLab, at `/gitlab` (its listing also answers at the root).
    Gitlab,
    /// Heptapod, at `/heptapod`.
    Heptapod,
    /// Gitea 1.21, at `/gitea` (its listing also answers at the root).
    Gitea,
    /// Forgejo 7, at `/forgejo`.
    Forgejo,
    /// Gogs, at `/gogs`.
    Gogs,
    /// Phabricator, at `/phabricator` (its listing also answers at the root).
    Phabricator,
    /// Phorge, at `/phorge`.
    Phorge,
    /// Bitbucket Data Center, at `/bitbucket-server`.
    BitbucketServer,
    /// Gitiles, at `/gitiles`.
    Gitiles,
    /// GitHub Enterprise Server, at `/github-enterprise` (signatures only: its listing is the
    /// root's `/api/v3`).
    GithubEnterprise,
    /// Pagure, at `/pagure`.
    Pagure,
    /// Gerrit, at `/gerrit`.
    Gerrit,
    /// A grokmirror mirror, at `/grokmirror`: a plain web server's index page.
    Grokmirror,
    /// Tuleap, at `/tuleap` (its listing, `/tuleap/api/projects`, is the probe's answer).
    Tuleap,
    /// A self-hosted git.sr.ht, at `/sourcehut` (its GraphQL `/sourcehut/query` is the
    /// listing's). Named likely: hg.sr.ht answers alike.
    Sourcehut,
}

/// Forgejo's version since 7.0: its own, then the Gitea version it is compatible with
/// (`/api/v1/version`, `/api/forgejo/v1/version`).
pub const FORGEJO_VERSION: &str = "7.0.0+gitea-1.22.0";
/// Gitea's `/api/v1/version`.
pub const GITEA_VERSION: &str = "1.21.11";
/// GitHub Enterprise Server's `installed_version`.
pub const GHES_VERSION: &str = "3.12.3";

impl Site {
    /// Every site.
    pub const ALL: [Site; 15] = [
        Site::Gitlab,
        Site::Heptapod,
        Site::Gitea,
        Site::Forgejo,
        Site::Gogs,
        Site::Phabricator,
        Site::Phorge,
        Site::BitbucketServer,
        Site::Gitiles,
        Site::GithubEnterprise,
        Site::Pagure,
        Site::Gerrit,
        Site::Grokmirror,
        Site::Tuleap,
        Site::Sourcehut,
    ];

    /// The name lister gives the forge.
    pub fn forge(self) -> &'static str {
        match self {
            Site::Gitlab => "gitlab",
            Site::Heptapod => "heptapod",
            Site::Gitea => "gitea",
            Site::Forgejo => "forgejo",
            Site::Gogs => "gogs",
            Site::Phabricator => "phabricator",
            Site::Phorge => "phorge",
            Site::BitbucketServer => "bitbucket-server",
            Site::Gitiles => "gitiles",
            Site::GithubEnterprise => "github",
            Site::Pagure => "pagure",
            Site::Gerrit => "gerrit",
            Site::Grokmirror => "grokmirror",
            Site::Tuleap => "tuleap",
            Site::Sourcehut => "sourcehut",
        }
    }

    /// The path prefix (`/gitlab`).
    pub fn prefix(self) -> &'static str {
        match self {
            Site::GithubEnterprise => "/github-enterprise",
            Site::Gitlab => "/gitlab",
            Site::Heptapod => "/heptapod",
            Site::Gitea => "/gitea",
            Site::Forgejo => "/forgejo",
            Site::Gogs => "/gogs",
            Site::Phabricator => "/phabricator",
            Site::Phorge => "/phorge",
            Site::BitbucketServer => "/bitbucket-server",
            Site::Gitiles => "/gitiles",
            Site::Pagure => "/pagure",
            Site::Gerrit => "/gerrit",
            Site::Grokmirror => "/grokmirror",
            Site::Tuleap => "/tuleap",
            Site::Sourcehut => "/sourcehut",
        }
    }

    /// The site whose prefix starts `path`, and the rest of the path (`""` or `/…`).
    fn of(path: &str) -> Option<(Site, &str)> {
        Site::ALL.into_iter().find_map(|site| {
            let rest = path.strip_prefix(site.prefix())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((site, rest))
        })
    }
}

/// The answer of the site `path` falls under, if it falls under one.
pub(crate) fn answer(method: &Method, path: &str, base: &str) -> Option<Response<Body>> {
    let (site, rest) = Site::of(path)?;
    let home = format!("{base}{}", site.prefix());
    let rest = if rest.is_empty() { "/" } else { rest };
    Some(match site {
        Site::Gitea | Site::Forgejo => gitea(site, rest),
        Site::Gogs => gogs(rest),
        Site::Gitlab | Site::Heptapod => gitlab(rest, &home),
        Site::Phabricator | Site::Phorge => conduit(site, method, rest),
        Site::BitbucketServer => bitbucket_server(rest, &home),
        Site::GithubEnterprise => github_enterprise(rest, &home),
        Site::Pagure => pagure(rest),
        Site::Gerrit => gerrit(rest),
        Site::Tuleap => tuleap(rest),
        Site::Sourcehut => sourcehut(rest),
        // The manifest is the listing; the rest is a web server's directory index and 404s.
        Site::Grokmirror if rest == "/" => html(
            StatusCode::OK,
            "<html><head><title>Index of /</title></head><body><h1>Index of /</h1><pre>\
             <a href=\"manifest.js.gz\">manifest.js.gz</a>\n<a href=\"pub/\">pub/</a>\n</pre></body></html>\n"
                .to_owned(),
        ),
        // Gitiles' host index is the listing; anything else here is a plain 404.
        Site::Gitiles | Site::Grokmirror => full(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "Not Found",
        ),
    })
}

fn with_headers(mut response: Response<Body>, headers: &[(&str, &str)]) -> Response<Body> {
    let map: &mut HeaderMap = response.headers_mut();
    for (name, value) in headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("the fake's header names"),
            header_value(value),
        );
    }
    response
}

fn html(status: StatusCode, body: String) -> Response<Body> {
    full(status, "text/html; charset=utf-8", body)
}

/// Gitea's and Forgejo's pages (`templates/base/head.tmpl`): the default `author` and
/// `keywords` meta tags, and the session cookie `i_like_gitea` (Forgejo keeps the name).
fn gitea_page(site: Site, status: StatusCode, title: &str) -> Response<Body> {
    let (author, keywords) = match site {
        Site::Forgejo => ("Forgejo – Beyond coding. We forge.", "git,forge,forgejo"),
        _ => ("Gitea - Git with a cup of tea", "go,git,self-hosted,gitea"),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en-US\" data-theme=\"auto\">\n<head>\n\
         \t<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         \t<title>{title}</title>\n\
         \t<meta name=\"author\" content=\"{author}\">\n\
         \t<meta name=\"keywords\" content=\"{keywords}\">\n\
         </head>\n<body><div class=\"page-content home\"></div></body>\n</html>\n"
    );
    with_headers(
        html(status, body),
        &[
            (
                "set-cookie",
                "i_like_gitea=5f0e1d2c3b4a5968; Path=/; HttpOnly; SameSite=Lax",
            ),
            (
                "set-cookie",
                "_csrf=aGVsbG8td29ybGQ; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax",
            ),
            ("x-frame-options", "SAMEORIGIN"),
        ],
    )
}

/// Gitea (`routers/api/v1/misc/version.go`: `{"version": AppVer}`) and Forgejo (the same,
/// plus `routers/api/forgejo/v1`'s `/version`, written without a content type, so Go sends
/// `text/plain`). Gitea answers an unknown API path with its JSON 404, any other with its
/// 404 page.
fn gitea(site: Site, rest: &str) -> Response<Body> {
    let version = match site {
        Site::Forgejo => FORGEJO_VERSION,
        _ => GITEA_VERSION,
    };
    match rest {
        "/" => gitea_page(site, StatusCode::OK, "Gitea: Git with a cup of tea"),
        "/api/v1/version" => full(
            StatusCode::OK,
            "application/json;charset=utf-8",
            format!("{{\"version\":\"{version}\"}}\n"),
        ),
        "/api/forgejo/v1/version" if site == Site::Forgejo => full(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            format!("{{\"version\":\"{version}\"}}\n"),
        ),
        api if api.starts_with("/api/v1/") => full(
            StatusCode::NOT_FOUND,
            "application/json;charset=utf-8",
            "{\"errors\":null,\"message\":\"not found\",\"url\":\"/api/swagger\"}\n",
        ),
        _ => gitea_page(site, StatusCode::NOT_FOUND, "Page Not Found"),
    }
}

/// Gogs (`templates/base/head.tmpl`, `internal/context/context.go`): every page carries the
/// `Gogs` meta tags and the `i_like_gogs` cookie; it has no version endpoint, and its API's
/// catch-all (`m.Any("/*", c.NotFound())`) renders the HTML 404 page.
fn gogs(rest: &str) -> Response<Body> {
    let (status, title) = match rest {
        "/" => (StatusCode::OK, "Gogs"),
        _ => (StatusCode::NOT_FOUND, "Page Not Found - Gogs"),
    };
    let body = format!(
        "<!DOCTYPE html>\n<html>\n<head data-suburl=\"/gogs\">\n\
         \t<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n\
         \t<meta name=\"author\" content=\"Gogs - Go Git Service\" />\n\
         \t<meta name=\"description\" content=\"Gogs(Go Git Service) a painless self-hosted Git Service written in Go\" />\n\
         \t<meta name=\"keywords\" content=\"go, git, self-hosted, gogs\">\n\
         \t<title>{title}</title>\n</head>\n<body></body>\n</html>\n"
    );
    with_headers(
        html(status, body),
        &[
            ("set-cookie", "lang=en-US; Path=/; Max-Age=2147483647"),
            (
                "set-cookie",
                "i_like_gogs=8d3c5f0a1b2e4d67; Path=/; HttpOnly",
            ),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "deny"),
        ],
    )
}

/// GitLab and Heptapod: an anonymous visitor is sent to the sign-in page (with a session
/// cookie); `/api/v4/version` needs a token (`doc/api/version.md`: "200 OK for authenticated
/// users"), and other unknown API paths answer Grape's JSON 404.
fn gitlab(rest: &str, home: &str) -> Response<Body> {
    let session = (
        "set-cookie",
        "_gitlab_session=0f1e2d3c4b5a69788796a5b4c3d2e1f0; path=/; HttpOnly; SameSite=None",
    );
    match rest {
        "/users/sign_in" => with_headers(
            html(
                StatusCode::OK,
                "<!DOCTYPE html>\n<html class=\"devise-layout-html\" lang=\"en\">\n<head>\n\
                 <meta content=\"GitLab\" property=\"og:site_name\">\n<title>Sign in · GitLab</title>\n\
                 </head>\n<body></body>\n</html>\n"
                    .to_owned(),
            ),
            &[session],
        ),
        "/api/v4/version" => full(
            StatusCode::UNAUTHORIZED,
            "application/json",
            "{\"message\":\"401 Unauthorized\"}",
        ),
        api if api.starts_with("/api/") => full(
            StatusCode::NOT_FOUND,
            "application/json",
            "{\"error\":\"404 Not Found\"}",
        ),
        _ => {
            let to = format!("{home}/users/sign_in");
            let body = format!("<html><body>You are being <a href=\"{to}\">redirected</a>.</body></html>");
            with_headers(
                html(StatusCode::FOUND, body),
                &[("location", &to), session],
            )
        }
    }
}

/// Phabricator and Phorge: every page carries the wordmark, the platform's name
/// (`PhabricatorMainMenuView`: `PlatformSymbols::getPlatformServerName()` in Phorge,
/// "Phabricator" in Phabricator); Conduit answers `{result, error_code, error_info}`.
fn conduit(site: Site, method: &Method, rest: &str) -> Response<Body> {
    let json = |body: String| full(StatusCode::OK, "application/json", body);
    match rest.strip_prefix("/api/") {
        Some("conduit.ping") if method == Method::GET || method == Method::POST => {
            json("{\"result\":\"web01.phabricator.example.org\",\"error_code\":null,\"error_info\":null}".to_owned())
        }
        Some(name) => json(format!(
            "{{\"result\":null,\"error_code\":\"ERR-CALL-UNKNOWN\",\"error_info\":\"The method you are trying to call (\\\"{name}\\\") does not exist.\"}}"
        )),
        None => {
            let wordmark = match site {
                Site::Phorge => "Phorge",
                _ => "Phabricator",
            };
            let (status, title) = match rest {
                "/" => (StatusCode::OK, "Login"),
                _ => (StatusCode::NOT_FOUND, "404 Not Found"),
            };
            let body = format!(
                "<!DOCTYPE html><html><head><meta charset=\"UTF-8\" /><title>{title}</title></head>\
                 <body class=\"device-desktop platform-linux phui-theme-blindigo\">\
                 <div class=\"phabricator-main-menu phabricator-main-menu-background\">\
                 <a class=\"phabricator-main-menu-brand\" href=\"/\"><span aural=\"true\">Home</span>\
                 <span class=\"phabricator-main-menu-eye\"></span>\
                 <span class=\"phabricator-wordmark\">{wordmark}</span></a></div></body></html>"
            );
            with_headers(html(status, body), &[("x-frame-options", "Deny")])
        }
    }
}

/// Bitbucket Data Center: every answer names its request (`X-AREQUESTID`); the home page
/// sends an anonymous visitor on; `application-properties` names the product and version.
fn bitbucket_server(rest: &str, home: &str) -> Response<Body> {
    let request_id = ("x-arequestid", "@1U5OZ3Fx1025x4181x0");
    match rest {
        "/" => {
            let to = format!("{home}/dashboard");
            with_headers(
                full(StatusCode::FOUND, "", ""),
                &[("location", &to), request_id],
            )
        }
        "/rest/api/1.0/application-properties" => with_headers(
            full(
                StatusCode::OK,
                "application/json;charset=UTF-8",
                "{\"version\":\"8.19.1\",\"buildNumber\":\"8019001\",\"buildDate\":\"1712661036562\",\"displayName\":\"Bitbucket\"}",
            ),
            &[request_id],
        ),
        api if api.starts_with("/rest/") => with_headers(
            full(
                StatusCode::NOT_FOUND,
                "application/json;charset=UTF-8",
                format!("{{\"errors\":[{{\"context\":null,\"message\":\"The resource {api} does not exist.\",\"exceptionName\":null}}]}}"),
            ),
            &[request_id],
        ),
        _ => with_headers(
            html(StatusCode::NOT_FOUND, "<!DOCTYPE html><html><head><title>Page not found - Bitbucket</title></head><body></body></html>".to_owned()),
            &[request_id],
        ),
    }
}

/// GitHub Enterprise Server: `X-GitHub-Request-Id` on every answer, the enterprise version
/// on the API's; `meta` carries `installed_version`; an anonymous visitor is sent to log in.
fn github_enterprise(rest: &str, home: &str) -> Response<Body> {
    let request_id = ("x-github-request-id", "C0DE:1A2B:3C4D5E:6F7A8B:66A1B2C3");
    let api_headers = [
        request_id,
        ("x-github-enterprise-version", GHES_VERSION),
        ("x-github-media-type", "github.v3; format=json"),
    ];
    match rest {
        "/" => {
            let to = format!("{home}/login");
            with_headers(full(StatusCode::FOUND, "text/html; charset=utf-8", ""), &[("location", &to), request_id])
        }
        "/api/v3/meta" => with_headers(
            full(
                StatusCode::OK,
                "application/json; charset=utf-8",
                format!(
                    "{{\"verifiable_password_authentication\":true,\"hooks\":[],\"git\":[],\"pages\":[],\
                     \"importer\":[],\"installed_version\":\"{GHES_VERSION}\"}}"
                ),
            ),
            &api_headers,
        ),
        api if api.starts_with("/api/v3") => with_headers(
            full(
                StatusCode::NOT_FOUND,
                "application/json; charset=utf-8",
                "{\"message\":\"Not Found\",\"documentation_url\":\"https://docs.github.com/enterprise-server@3.12/rest\"}",
            ),
            &api_headers,
        ),
        _ => with_headers(
            html(StatusCode::NOT_FOUND, "<!DOCTYPE html><html><head><title>Page not found · GitHub</title></head><body></body></html>".to_owned()),
            &[request_id],
        ),
    }
}

/// Pagure (`pagure/api/__init__.py`: `/api/0/version` answers `{"version": …}`; the
/// templates sign the footer); Flask's plain 404 elsewhere.
fn pagure(rest: &str) -> Response<Body> {
    match rest {
        "/" => html(
            StatusCode::OK,
            "<!DOCTYPE html><html lang=\"en\"><head><title>Home - Pagure</title></head><body>\
             <footer><div class=\"container\">Powered by \
             <a href=\"https://pagure.io/pagure\">Pagure</a> 5.14.1</div></footer></body></html>"
                .to_owned(),
        ),
        "/api/0/version" | "/api/0/version/" => full(
            StatusCode::OK,
            "application/json",
            "{\n  \"version\": \"0.31\"\n}\n",
        ),
        _ => html(
            StatusCode::NOT_FOUND,
            "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
                .to_owned(),
        ),
    }
}

/// Gerrit (`Documentation/rest-api-config.txt`: `GET /config/server/version` answers the
/// version as a JSON string, behind `)]}'` as every Gerrit JSON answer); its web app is one
/// `<gr-app>` element.
fn gerrit(rest: &str) -> Response<Body> {
    match rest {
        "/" => html(
            StatusCode::OK,
            "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Gerrit Code Review</title>\
             <body><gr-app id=\"app\"></gr-app></body></html>"
                .to_owned(),
        ),
        "/config/server/version" => full(
            StatusCode::OK,
            "application/json; charset=utf-8",
            ")]}'\n\"3.9.1\"\n",
        ),
        _ => full(StatusCode::NOT_FOUND, "text/plain; charset=UTF-8", "Not found\n"),
    }
}

/// Tuleap: its home page, in the BurningParrot theme (Enalean/tuleap,
/// `src/themes/BurningParrot/templates/header.mustache`: the `<body>` data attributes,
/// `data-user-has-accessibility-mode` among them); Restler's JSON 404 for an unknown REST
/// route, the HTML one elsewhere.
fn tuleap(rest: &str) -> Response<Body> {
    let page = |status, title: &str| {
        html(
            status,
            format!(
                "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n\n\
                 \x20       <title>{title}</title>\n\
                 \x20       <meta name=\"theme-color\" content=\"#f79514\">\n    </head>\n\
                 \x20   <body class=\"theme-orange\"\n\
                 \x20         data-user-locale=\"en_US\"\n\
                 \x20         data-user-id=\"0\"\n\
                 \x20         data-user-timezone=\"Europe/Paris\"\n\
                 \x20         data-date-time-format=\"d/m/Y H:i\"\n\
                 \x20         data-user-has-accessibility-mode=\"0\"\n    >\n\
                 \x20   <div id=\"main-container\"><main role=\"main\"></main></div>\n    </body>\n</html>\n"
            ),
        )
    };
    match rest {
        "/" => page(StatusCode::OK, "Welcome - Tuleap"),
        api if api.starts_with("/api/") => full(
            StatusCode::NOT_FOUND,
            "application/json",
            "{\"error\":{\"code\":404,\"message\":\"Not Found\"}}",
        ),
        _ => page(StatusCode::NOT_FOUND, "Page not found - Tuleap"),
    }
}

/// A self-hosted git.sr.ht: core.sr.ht's `srht/templates/layout.html` (artoj/core.sr.ht:
/// sourcehut's icon embedded as a `data:` URI, shortened here after the part that is its
/// signature, the navbar naming the site) around git.sr.ht's `gitsrht/templates/index.html`
/// (sourcehut-mirrors/git.sr.ht) for an anonymous visitor; Flask's 404 elsewhere (its
/// GraphQL `query` is the listing's).
fn sourcehut(rest: &str) -> Response<Body> {
    match rest {
        "/" => html(
            StatusCode::OK,
            "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n\
             \x20   <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             \x20   <title>git.example.org</title>\n\
             \x20   <link rel=\"icon\" type=\"image/png\" href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAIAAAACACAMAAAD04JH5AAAACXBIWXMAAAsTAAALEwEAmpwYAAAAB3RJTUUH4QIGCC8n92KyhQAAAj1QTFRFAAAA\" />\n\
             \x20   <link rel=\"stylesheet\" href=\"/static/main.min.css\">\n  </head>\n  <body>\n\
             \x20   <nav class=\"container navbar navbar-light navbar-expand-sm\">\n\
             \x20     <span class=\"navbar-brand\"><a class=\"navbar-brand\" href=\"/\">example\n\
             \x20       <span class=\"text-danger\">git</span></a></span>\n    </nav>\n\
             \x20   <div class=\"container\"><p>Welcome to <strong>git.example.org</strong>! This is the git\n\
             \x20   hosting service for <a href=\"https://example.org\">example</a>.</p></div>\n  </body>\n</html>\n"
                .to_owned(),
        ),
        _ => html(
            StatusCode::NOT_FOUND,
            "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_by_prefix() {
        assert_eq!(Site::of("/gitlab"), Some((Site::Gitlab, "")));
        assert_eq!(
            Site::of("/forgejo/api/v1/version"),
            Some((Site::Forgejo, "/api/v1/version"))
        );
        assert_eq!(Site::of("/gitlabx/api"), None);
        assert_eq!(Site::of("/api/v1/version"), None);
        for site in Site::ALL {
            assert_eq!(Site::of(site.prefix()), Some((site, "")), "{site:?}");
        }
    }
}
