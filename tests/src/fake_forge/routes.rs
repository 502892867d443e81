//! The fake forge's endpoints: GitHub (`/repositories`, `/api/v3/repositories`),
//! Bitbucket Cloud (`/2.0/repositories`) and the [`Instance`]s (GitLab, Heptapod, Gitea,
//! Forgejo, Gogs, Phabricator, Phorge, Bitbucket Data Center, Gitiles), with quotas and
//! scripted faults.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use url::Url;

use super::faults::{Fault, Script, json_error, primary_limit, too_many_requests};
use super::instance::Instance;
use super::quota::{QuotaKey, Quotas};
use super::server::{Body, Dropped, Log, RecordedRequest, empty, header_value, lock};
use super::{GithubEnd, bitbucket, github};

/// The largest request body read (a Conduit form is a few hundred bytes).
const MAX_REQUEST_BODY: usize = 1 << 20;

/// Everything the endpoints share.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) log: Arc<Log>,
    pub(crate) script: Mutex<Script>,
    pub(crate) quotas: Mutex<Quotas>,
    pub(crate) github_count: AtomicU64,
    /// The positions (from 1) of GitHub repositories removed since they were created.
    pub(crate) github_removed: Mutex<std::collections::BTreeSet<u64>>,
    pub(crate) bitbucket_count: AtomicU64,
    pub(crate) github_end: GithubEnd,
    /// Repositories per GitHub page.
    pub(crate) github_page_size: u64,
    /// GitHub items with only `id`, `html_url` and `fork`.
    pub(crate) github_minimal_items: bool,
    /// The repository count of each [`Instance`], by [`Instance::index`].
    pub(crate) counts: [AtomicU64; Instance::ALL.len()],
    /// Launchpad's entries modified since their creation, and when (git, then bzr).
    pub(crate) launchpad_touched: Mutex<[LaunchpadTouched; 2]>,
    /// The GitHub App installation tokens minted, in order.
    pub(crate) app_tokens: Mutex<Vec<String>>,
    /// SourceForge's projects changed since they were created, and when.
    pub(crate) sourceforge_touched: Mutex<super::sourceforge::Touched>,
    /// How long every listing request waits before its answer.
    pub(crate) latency: std::time::Duration,
}

/// Launchpad entries (by number) and their new `date_last_modified`.
pub(crate) type LaunchpadTouched = std::collections::BTreeMap<u64, chrono::DateTime<chrono::Utc>>;

impl State {
    /// How many repositories `instance` has.
    pub(crate) fn count(&self, instance: Instance) -> u64 {
        self.counts[instance.index()].load(Ordering::Relaxed)
    }

    /// SourceForge's touched projects.
    pub(crate) fn sourceforge_touched(&self) -> super::sourceforge::Touched {
        lock(&self.sourceforge_touched).clone()
    }

    /// Launchpad's touched entries of `collection`.
    pub(crate) fn launchpad_touched(
        &self,
        collection: super::launchpad::Collection,
    ) -> LaunchpadTouched {
        lock(&self.launchpad_touched)[collection as usize].clone()
    }
}

/// One request's view of the forge.
pub(crate) struct Call<'a> {
    pub(crate) state: &'a State,
    /// The fault scripted for this request, if any (one that replaces the answer is already
    /// served).
    pub(crate) fault: Option<Fault>,
    pub(crate) key: QuotaKey,
    pub(crate) headers: &'a HeaderMap,
    /// The request's path (`/tuleap/api/projects/101/git`).
    pub(crate) path: &'a str,
    /// The query parameters, then those of a form-encoded body.
    pub(crate) query: Vec<(String, String)>,
    /// The request's body (a GraphQL API's JSON document).
    pub(crate) body: &'a [u8],
    /// `http://127.0.0.1:PORT`, as the request reached the fake.
    pub(crate) base: String,
}

impl Call<'_> {
    /// The first value of a parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Which endpoint a path names.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// GitHub, under this API prefix (`""` or `/api/v3`).
    Github(&'static str),
    /// A GitHub App's installation token.
    GithubApp(u64),
    /// A SourceForge project's CVS host, asked through the fake as an HTTP proxy.
    SourceforgeCvs,
    Bitbucket,
    Forge(Instance),
}

fn parse_form(text: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(text).into_owned()
}

/// Serves one request.
pub(crate) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
    local: SocketAddr,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    state
        .log
        .push(RecordedRequest::from_parts(&parts, body.clone(), local));
    let cvs_host = parts
        .uri
        .host()
        .filter(|host| host.ends_with(".cvs.sourceforge.net"));
    let route = match parts.uri.path() {
        _ if cvs_host.is_some() => Route::SourceforgeCvs,
        "/repositories" => Route::Github(""),
        "/api/v3/repositories" => Route::Github("/api/v3"),
        "/2.0/repositories" => Route::Bitbucket,
        path if super::github_app::installation(path).is_some() => {
            Route::GithubApp(super::github_app::installation(path).unwrap_or_default())
        }
        path => match Instance::route(path) {
            Some(instance) => Route::Forge(instance),
            None => {
                let base = format!("http://{local}");
                return Ok(super::signatures::answer(&parts.method, path, &base)
                    .unwrap_or_else(|| json_error(StatusCode::NOT_FOUND, "Not Found")));
            }
        },
    };
    let allowed = match route {
        Route::Forge(instance) if instance.is_conduit() => {
            parts.method == Method::GET || parts.method == Method::POST
        }
        Route::Forge(instance) if instance.is_graphql() => parts.method == Method::POST,
        Route::GithubApp(_) => parts.method == Method::POST,
        _ => parts.method == Method::GET,
    };
    if !allowed {
        return Ok(json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
        ));
    }
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let fault = lock(&state.script).next(parts.uri.path());
    let mut query: Vec<(String, String)> =
        parse_form(parts.uri.query().unwrap_or("").as_bytes()).collect();
    let form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if form {
        query.extend(parse_form(&body));
    }
    let key = match route {
        Route::Forge(instance) if instance.is_conduit() => query
            .iter()
            .find(|(name, _)| name == "api.token")
            .map_or(QuotaKey::Anonymous, |(_, token)| QuotaKey::token(token)),
        _ => QuotaKey::of(&parts.headers),
    };
    if let Some(Fault::EchoingUnauthorized) = &fault {
        let echoed: Vec<String> = ["authorization", "private-token"]
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(*name)?.to_str().ok()?;
                Some(format!("{name}: {value}"))
            })
            .collect();
        let message = format!("Bad credentials (you sent {})", echoed.join(", "));
        return Ok(json_error(StatusCode::UNAUTHORIZED, &message));
    }
    if let Some(fault) = &fault {
        let usage = lock(&state.quotas)
            .charge(&key, false)
            .unwrap_or_else(|usage| usage);
        if let Route::Forge(instance) = route
            && let Some(response) = instance.replacement(fault, usage, &key)
        {
            return Ok(response);
        }
        if let Some(response) = fault.replacement(usage) {
            return response;
        }
    }
    let call = Call {
        state: &state,
        fault,
        key,
        headers: &parts.headers,
        path: parts.uri.path(),
        query,
        body: &body,
        base: format!("http://{local}"),
    };
    match route {
        Route::Github(prefix) => github_page(call, prefix).await,
        Route::GithubApp(installation) => Ok(super::github_app::access_token(&call, installation)),
        Route::SourceforgeCvs => {
            let count = call.state.count(Instance::Sourceforge);
            let page = super::sourceforge::cvs_page(cvs_host.unwrap_or_default(), count);
            Ok(match page {
                Some(page) => super::server::full(StatusCode::OK, "text/html; charset=utf-8", page),
                None => {
                    super::server::full(StatusCode::NOT_FOUND, "text/html", "<h1>Not Found</h1>")
                }
            })
        }
        Route::Bitbucket => bitbucket_page(call).await,
        Route::Forge(instance) => instance.serve(call).await,
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison).
pub(crate) fn matches(headers: &HeaderMap, etag: &str) -> bool {
    let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    headers
        .get_all(http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == "*" || weak(tag) == weak(etag))
}

async fn github_page(call: Call<'_>, prefix: &str) -> Result<Response<Body>, Dropped> {
    let since = match call.param("since").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(since)) => since,
        Some(Err(_)) => {
            return Ok(json_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid since",
            ));
        }
    };
    let count = call.state.github_count.load(Ordering::Relaxed);
    let positions = github::page_positions(since, count, call.state.github_page_size);
    let removed = lock(&call.state.github_removed).clone();
    let etag = github::etag(&positions, &removed);
    let not_modified = matches(call.headers, &etag);
    let free = not_modified && call.key != QuotaKey::Anonymous;
    let usage = match lock(&call.state.quotas).charge(&call.key, !free) {
        Ok(usage) => usage,
        Err(usage) => return Ok(primary_limit(usage)),
    };
    let mut headers = HeaderMap::new();
    usage.write_headers(&mut headers);
    headers.insert(http::header::ETAG, header_value(&etag));
    headers.insert(
        http::header::CACHE_CONTROL,
        header_value("private, max-age=60, s-maxage=60"),
    );
    let api = format!("{}{prefix}", call.base);
    if not_modified {
        let mut response = empty(StatusCode::NOT_MODIFIED);
        response.headers_mut().extend(headers);
        return Ok(response);
    }
    let more = match call.state.github_end {
        GithubEnd::EmptyPage => !positions.is_empty(),
        GithubEnd::NoNextLink => !positions.is_empty() && positions.end <= count,
    };
    // The page's last repository: GitHub's next link names its id.
    let last = positions.clone().rev().find(|k| !removed.contains(k));
    let last_id = github::repository_id(last.unwrap_or(positions.end.saturating_sub(1)));
    let other_api = match &call.fault {
        Some(Fault::OffHostNext(other)) => {
            format!("{}{prefix}", other.as_str().trim_end_matches('/'))
        }
        _ => String::new(),
    };
    let next = match &call.fault {
        Some(Fault::LoopingNext) => Some((api.as_str(), 0)),
        Some(Fault::HostileNext) => Some((api.as_str(), u64::MAX)),
        Some(Fault::OffHostNext(_)) => Some((other_api.as_str(), last_id)),
        _ if more => Some((api.as_str(), last_id)),
        _ => None,
    };
    headers.insert(http::header::LINK, header_value(&github::link(&api, next)));
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json; charset=utf-8"),
    );
    let junk = call.fault == Some(Fault::JunkEntries);
    let minimal = call.state.github_minimal_items;
    let body = github::render_page(positions, junk, minimal, &removed);
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

fn bitbucket_error(message: &str) -> Response<Body> {
    let body = serde_json::json!({"type": "error", "error": {"message": message}});
    super::server::full(
        StatusCode::BAD_REQUEST,
        "application/json",
        body.to_string(),
    )
}

async fn bitbucket_page(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let pagelen = match call.param("pagelen").map(str::parse::<u64>) {
        None => bitbucket::DEFAULT_PAGELEN,
        Some(Ok(pagelen)) => pagelen.clamp(1, bitbucket::MAX_PAGELEN),
        Some(Err(_)) => return Ok(bitbucket_error("Invalid pagelen")),
    };
    let after = match call.param("after") {
        None => None,
        Some(after) => match bitbucket::parse_after(after) {
            Some(after) => Some(after),
            None => return Ok(bitbucket_error("Invalid after: not an ISO-8601 date-time")),
        },
    };
    if lock(&call.state.quotas).charge(&call.key, true).is_err() {
        return Ok(too_many_requests());
    }
    let count = call.state.bitbucket_count.load(Ordering::Relaxed);
    let positions = bitbucket::page_positions(after, pagelen, count);
    let more = !positions.is_empty() && positions.end <= count;
    let next = match &call.fault {
        Some(Fault::LoopingNext) => Some((call.base.clone(), bitbucket::cursor_after(&(0..1)))),
        Some(Fault::OffHostNext(other)) if more => Some((
            other.as_str().trim_end_matches('/').to_owned(),
            bitbucket::cursor_after(&positions),
        )),
        _ if more => Some((call.base.clone(), bitbucket::cursor_after(&positions))),
        _ => None,
    };
    let next = next.map(|(base, cursor)| {
        let mut url = Url::parse(&format!("{base}/2.0/repositories")).expect("the fake's own URL");
        let mut query = url.query_pairs_mut();
        query
            .append_pair("pagelen", &pagelen.to_string())
            .append_pair("after", &cursor);
        if let Some(fields) = call.param("fields") {
            query.append_pair("fields", fields);
        }
        drop(query);
        url.to_string()
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json; charset=utf-8"),
    );
    let junk = call.fault == Some(Fault::JunkEntries);
    let body = bitbucket::render_page(positions, pagelen, next.as_deref(), junk);
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}
