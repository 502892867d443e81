//! The plug-in point: what a forge says about itself, and nothing else.

use serde::Deserialize;
use url::Url;

use crate::clone_url::RepositoryPath;
use crate::cursor::Cursor;
use crate::next::NextCursor;
use crate::page::{Classification, PageResponse, QuotaSignal};
use crate::parse_error::ParseError;
use crate::read::PageRead;
use crate::read::SubPage;
use crate::request::PageRequest;
use crate::{Origin, page_url_with};

/// Form fields, names and values, in order.
pub type FormFields = &'static [(&'static str, &'static str)];

/// How a forge wants a credential presented. A user name and password always go as HTTP
/// basic authentication; a token goes as the forge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer TOKEN`.
    Bearer,
    /// `Authorization: token TOKEN` (GitHub, Gitea, Gogs).
    Token,
    /// A header of its own holding the token alone (GitLab's `PRIVATE-TOKEN`).
    Header(&'static str),
    /// A field of the form body (Phabricator's `api.token`).
    FormField(&'static str),
}

/// A code forge: its name and instance, how a page is requested from a cursor, and how a
/// response becomes origins and the next cursor. Fetching, retries, quota waits, credentials,
/// validation, de-duplication, storage and state are the framework's.
///
/// The smallest forge names its constants, its item type and what an item's origin is:
///
/// ```
/// use lister_core::{Forge, NextCursor, Origin};
///
/// /// `GET /api/v1/repos?after=ID` answers `{"repos": [{"clone_url": "https://…"}]}` and
/// /// names the next page in `Link: <…?after=ID>; rel="next"`.
/// struct Tiny;
///
/// #[derive(serde::Deserialize)]
/// struct Repo { clone_url: String }
///
/// impl Forge for Tiny {
///     type Cursor = u64;
///     type Item<'a> = Repo;
///     const NAME: &'static str = "tiny";
///     const DEFAULT_URL: &'static str = "https://forge.example.org";
///     const API_PATH: &'static str = "api/v1";
///     const PATH: &'static str = "/repos?after={cursor}";
///     const ITEMS: &'static str = "/repos";
///     const NEXT: NextCursor = NextCursor::LinkParam("after");
///
///     fn origin(&self, repo: Repo, _site: &url::Url) -> Option<Origin> {
///         Some(Origin::new(repo.clone_url, "git"))
///     }
/// }
/// ```
pub trait Forge: Send + Sync + 'static {
    /// Where a page starts (see [`Cursor`]).
    type Cursor: Cursor;
    /// One listed item as the forge's JSON has it; it may borrow strings from the body.
    type Item<'a>: Deserialize<'a>;

    /// The forge's name on the command line and in the store (`github`).
    const NAME: &'static str;
    /// The address of its main instance as a user knows it (`https://github.com`); empty for
    /// software that is only self-hosted (an instance's address is then required).
    const DEFAULT_URL: &'static str;
    /// Where the API is under an instance's address (`api/v4`); see [`api_base`](Self::api_base).
    const API_PATH: &'static str = "";
    /// The main instance's web host and API base when its API is on a host of its own
    /// (`("github.com", "https://api.github.com")`); see [`api_base`](Self::api_base).
    const PUBLIC_API: Option<(&'static str, &'static str)> = None;
    /// Where the next page's cursor is named (see [`next_cursor`](Self::next_cursor)).
    const NEXT: NextCursor;
    /// The listing path under the API base, with a `{cursor}` placeholder, or the
    /// placeholders of the cursor's parts ([`Cursor::placeholders`]: `{time}` and `{skip}` of a
    /// [`TimeKey`](crate::TimeKey)); the default [`request`](Self::request) is a GET of it.
    const PATH: &'static str = "";
    /// Where the items are in a page: a JSON pointer (`/data`) to an array of items, or to an
    /// object whose values are the items; empty when the page is that array or object.
    const ITEMS: &'static str = "";
    /// The field name under which each item of an object of items (see [`ITEMS`](Self::ITEMS))
    /// receives its key, when the key is a fact the value does not repeat (grokmirror maps each
    /// repository's path to its facts): the item is deserialized as if its value held one more
    /// field, of this name, whose value is the key. Empty: keys are dropped. Items of an array
    /// have no key; a value that also has a field of this name is rejected (a duplicate field).
    const ITEM_KEY: &'static str = "";
    /// What the forge puts before its JSON to guard against cross-site script inclusion
    /// (Gerrit's and Gitiles' `)]}'`): removed, with what follows it on its line, when a page
    /// starts with it.
    const JSON_PREFIX: &'static str = "";
    /// The visit type of the forge's origins when an item does not say.
    const VISIT_TYPE: &'static str = "git";
    /// How a credential is presented.
    const AUTH: Auth = Auth::Bearer;
    /// Whether listing needs a credential (Phabricator): the run refuses to start without.
    const NEEDS_CREDENTIAL: bool = false;
    /// Form fields: when there are any, a page is a POST of them to [`PATH`](Self::PATH)
    /// (Phabricator's Conduit) rather than a GET.
    const FORM: FormFields = &[];
    /// The form field that carries the cursor, with [`FORM`](Self::FORM).
    const CURSOR_FIELD: &'static str = "after";
    /// A GraphQL query (sourcehut): when set, a page is a POST to `PATH` of the JSON document
    /// `{"query": GRAPHQL, "variables": {"cursor": …}}` (`null` while the cursor is empty),
    /// and GraphQL errors inside a `200` stop the run ([`graphql_errors`]).
    const GRAPHQL: &'static str = "";
    /// Whether the listing comes newest first (sourcehut: by last update, most recent first),
    /// so that what is new is at its start: a listing that reached its end then saves
    /// [`first_cursor`](Self::first_cursor), and the next run lists from the first page
    /// rather than asking the last one again.
    const NEWEST_FIRST: bool = false;
    /// Whether a page can be asked at any cursor of the listing's order, its position
    /// ([`Cursor::position`]: GitHub's `since`, GitLab's `id_after`, a date, the page number of
    /// a listing sorted by id): then `--parallel` cuts the listing into ranges walked at once.
    const PARALLEL: bool = false;
    /// Whether the forge is a website rather than an API (cgit, gitweb…): its `robots.txt` is
    /// read once per run and obeyed (a page it disallows is not asked for, its `Crawl-delay`
    /// slows the run), and an API's is not (an API is not crawled: `api.github.com`'s
    /// disallows everything).
    const WEBSITE: bool = false;
    /// Headers every request carries (`Accept`, an API version…).
    const HEADERS: &'static [(&'static str, &'static str)] = &[];
    /// Where a sub-listing's URL names its repository's path, for instances whose pages show
    /// no clone URL: with a base clone URL (`--base-git-url`) the origin is computed from it
    /// instead of fetching the page. [`RepositoryPath::Unknown`]: the option does not apply.
    const REPOSITORY_PATH: RepositoryPath = RepositoryPath::Unknown;
    /// Whether a sub-listing dated by its naming page ([`PageRequest::last_update`]: a
    /// sitemap's `lastmod`) more than a day before the instance's last complete pass started
    /// is left out of the next passes (its origins are known already; `--full-pass` asks every
    /// one again). Only for a date that any change to the listing moves: SourceForge's
    /// `lastmod`, not cgit's "Idle" (a repository pushed with old commits is new but dated old).
    const SKIP_UNCHANGED: bool = false;
    /// Statuses by which the forge says it is over its rate limit, without a header saying
    /// so (SourceForge's `403` with a JavaScript challenge): the run slows down and asks again
    /// (a second, then doubling, within `--max-quota-wait`), as after a bare `429`.
    const SLOW_DOWN_ON: &'static [u16] = &[];
    /// Hosts besides the instance's that the forge's pages name listings on, each a suffix
    /// (SourceForge's CVS modules, on `{project}.cvs.sourceforge.net`): asked without a
    /// credential, at the run's pace, through the user's HTTP proxy if there is one. Any other
    /// host is refused.
    const OTHER_HOSTS: &'static [&'static str] = &[];

    /// The API base of the instance at `url`, the address a user knows. By default: the
    /// [`PUBLIC_API`](Self::PUBLIC_API) base for its web host; an address on that API's host
    /// as it is; else [`API_PATH`](Self::API_PATH) under the address, unless the address
    /// already ends with it (an explicit API base).
    fn api_base(&self, url: &Url) -> Url {
        if let Some((web_host, api)) = Self::PUBLIC_API {
            let api = Url::parse(api).expect("PUBLIC_API is a URL");
            if url.host_str() == Some(web_host) {
                return api;
            }
            if url.host_str() == api.host_str() {
                return url.clone();
            }
        }
        api_under(url, Self::API_PATH)
    }

    /// Where a listing with no saved state starts: the cursor's default (0, the epoch, no
    /// token).
    fn first_cursor(&self) -> Self::Cursor {
        Self::Cursor::default()
    }

    /// The request of the page at `cursor`: by default a GET of [`PATH`](Self::PATH) under
    /// the API base, with `{cursor}` replaced by the cursor's text (each of the cursor's
    /// [placeholders](Cursor::placeholders) by its value), percent-encoded; with
    /// [`FORM`](Self::FORM), a POST of those fields to `PATH`, the cursor in
    /// [`CURSOR_FIELD`](Self::CURSOR_FIELD) (left out while the cursor is empty).
    fn request(&self, api: &Url, cursor: &Self::Cursor) -> Result<PageRequest, ParseError> {
        let text = cursor.text();
        let url = page_url_with(api, Self::PATH, &cursor.placeholders())?;
        if !Self::GRAPHQL.is_empty() {
            let variables = serde_json::json!({ "cursor": Some(text).filter(|t| !t.is_empty()) });
            let document = serde_json::json!({ "query": Self::GRAPHQL, "variables": variables });
            return Ok(PageRequest::post_json(url, document));
        }
        if Self::FORM.is_empty() {
            return Ok(PageRequest::get(url));
        }
        let cursor_field = (!text.is_empty()).then_some((Self::CURSOR_FIELD, text.as_str()));
        let fields = Self::FORM.iter().copied().chain(cursor_field);
        Ok(PageRequest::post_form(url, fields))
    }

    /// Where the listing goes after the page fetched at `cursor`; `None` ends it. By default,
    /// what [`NEXT`](Self::NEXT) names. It should read headers or a small part of the body:
    /// the items are parsed apart, off the async thread.
    fn next_cursor(
        &self,
        cursor: Self::Cursor,
        response: &PageResponse,
    ) -> Result<Option<Self::Cursor>, ParseError> {
        let _ = cursor;
        Self::NEXT.read(response)
    }

    /// The origin of one item; `None` skips it (an item without a clone URL…). `site` is the
    /// instance's address as the user gave it (`--url`, else [`DEFAULT_URL`](Self::DEFAULT_URL)),
    /// ending with `/`: for forges whose items name a repository but not its URL
    /// (`site.join(name)`). By default none: a forge that reads its pages itself
    /// ([`read_page`](Self::read_page), [`sub_page`](Self::sub_page)) has no items to read.
    fn origin(&self, item: Self::Item<'_>, site: &Url) -> Option<Origin> {
        let _ = (item, site);
        None
    }

    /// Forges whose pages are not JSON (an HTML index, an XML sitemap): the page's origins and
    /// the sub-listings it names, read by the forge itself (with a maintained parser: `scraper`
    /// for HTML, `quick-xml` for XML). `None`, the default: the page is JSON, read item by item
    /// at [`ITEMS`](Self::ITEMS).
    fn read_page(&self, page: &PageResponse, site: &Url) -> Option<Result<PageRead, ParseError>> {
        let _ = (page, site);
        None
    }

    /// Two-level forges (Tuleap: projects, then each project's git repositories): the request
    /// of the listing `item` names, whose pages go to [`sub_page`](Self::sub_page) (see
    /// `sub_listing` for what is committed when). `None`, the default: the item is listed by
    /// [`origin`](Self::origin) alone.
    fn sub_listing(&self, item: &Self::Item<'_>, site: &Url) -> Option<PageRequest> {
        let _ = (item, site);
        None
    }

    /// One page of a sub-listing ([`sub_listing`](Self::sub_listing)): its origins and the
    /// request of its next page. By default, the page read as [`read_page`](Self::read_page)
    /// reads the forge's own pages, the listings it names walked in turn (a tree whose levels
    /// read alike: hgweb's directories); empty for a JSON forge.
    fn sub_page(&self, response: &PageResponse, site: &Url) -> Result<SubPage, ParseError> {
        match self.read_page(response, site) {
            Some(read) => read.map(SubPage::from),
            None => Ok(SubPage::default()),
        }
    }

    /// Other addresses of the repository an item stands for (grokmirror's `symlinks`: other
    /// paths to the same repository), each recorded as an origin of its own with the facts of
    /// the item's [`origin`](Self::origin) (visit type, last update, fork, enabled), after it;
    /// dropped when `origin` skips the item. By default none.
    fn aliases(&self, item: &Self::Item<'_>, site: &Url) -> Vec<String> {
        let _ = (item, site);
        Vec::new()
    }

    /// The cursor an item stands for (GitHub: its id), when the next cursor is one of the
    /// page's items: a next cursor past the furthest of them is then refused, so that a
    /// hostile or broken forge cannot make the saved state skip what it never listed.
    fn item_cursor(&self, item: &Self::Item<'_>) -> Option<Self::Cursor> {
        let _ = item;
        None
    }

    /// The forge's own reading of a response, asked before the default classifier (quota
    /// headers, status codes); `None` hands over to it. Phabricator reports errors inside a
    /// 200; GitHub's secondary limit is a 403 with a message. By default, a status of
    /// [`SLOW_DOWN_ON`](Self::SLOW_DOWN_ON), and a [`GRAPHQL`](Self::GRAPHQL) forge's GraphQL
    /// errors.
    fn classify(&self, response: &PageResponse) -> Option<Classification> {
        if Self::SLOW_DOWN_ON.contains(&response.status.as_u16()) {
            let at_least = std::time::Duration::from_secs(1);
            let retry_after = None;
            return Some(Classification::Quota(QuotaSignal::SlowDown {
                retry_after,
                at_least,
            }));
        }
        match Self::GRAPHQL.is_empty() {
            true => None,
            false => graphql_errors(response),
        }
    }
}

/// `url` with its path ending in `/`, so that [`Url::join`] resolves under it: the `site` a
/// forge's [`origin`](Forge::origin) is given.
pub(crate) fn site_address(url: &Url) -> Url {
    let mut site = url.clone();
    if !site.path().ends_with('/') {
        site.set_path(&format!("{}/", site.path()));
    }
    site.set_query(None);
    site.set_fragment(None);
    site
}

/// `url` with `path` appended, unless its path already ends with it: how a forge reaches its
/// API from the address a user knows (`https://gitlab.example.org` → `…/api/v4`).
///
/// ```
/// use lister_core::api_under;
/// let url = |text| url::Url::parse(text).unwrap();
/// assert_eq!(api_under(&url("https://git.example.org"), "api/v4").as_str(), "https://git.example.org/api/v4");
/// assert_eq!(api_under(&url("https://example.org/gitlab/"), "api/v4").as_str(), "https://example.org/gitlab/api/v4");
/// assert_eq!(api_under(&url("https://git.example.org/api/v4/"), "api/v4").as_str(), "https://git.example.org/api/v4/");
/// ```
pub fn api_under(url: &Url, path: &str) -> Url {
    let current = url.path().trim_end_matches('/');
    if path.trim_matches('/').is_empty() {
        return url.clone();
    }
    if current.ends_with(&format!("/{}", path.trim_matches('/'))) {
        return url.clone();
    }
    let mut api = url.clone();
    api.set_path(&format!("{current}/{}", path.trim_matches('/')));
    api
}

/// An error a forge reports inside a successful answer (Phabricator's Conduit: `error_code`
/// and `error_info`): fatal, with the forge's code and message; `None` when the code at
/// `code` is absent or `null`, or the body is not JSON. For [`Forge::classify`].
///
/// ```
/// # use lister_core::{Classification, PageResponse};
/// # let page = |body: &'static str| PageResponse {
/// #     url: "https://phorge.example.org/api/x".parse().unwrap(),
/// #     status: http::StatusCode::OK,
/// #     headers: Default::default(),
/// #     body: bytes::Bytes::from_static(body.as_bytes()),
/// # };
/// let failed = page(r#"{"result": null, "error_code": "ERR-INVALID-AUTH", "error_info": "bad token"}"#);
/// let error = lister_core::error_in_body(&failed, "/error_code", "/error_info");
/// assert_eq!(error, Some(Classification::Fatal("ERR-INVALID-AUTH: bad token".into())));
/// let fine = page(r#"{"result": {}, "error_code": null}"#);
/// assert_eq!(lister_core::error_in_body(&fine, "/error_code", "/error_info"), None);
/// ```
pub fn error_in_body(response: &PageResponse, code: &str, info: &str) -> Option<Classification> {
    let code: Option<String> = response.json_at(code).ok()?;
    let info: Option<String> = response.json_at(info).ok().flatten();
    let info = info.unwrap_or_default();
    code.map(|code| Classification::Fatal(format!("{code}: {info}")))
}

/// The errors a GraphQL API reports inside a successful answer (`{"errors": [{"message"}]}`):
/// fatal, with their messages; `None` when there are none, or the body is not JSON. For
/// [`Forge::classify`].
///
/// ```
/// use lister_core::{Classification, PageResponse};
/// let failed = PageResponse::ok("https://git.example.org/query",
///     r#"{"data": null, "errors": [{"message": "Access denied"}, {"message": "Try again"}]}"#);
/// assert_eq!(lister_core::graphql_errors(&failed), Some(Classification::Fatal("Access denied; Try again".into())));
/// let fine = PageResponse::ok("https://git.example.org/query", r#"{"data": {"me": null}}"#);
/// assert_eq!(lister_core::graphql_errors(&fine), None);
/// ```
pub fn graphql_errors(response: &PageResponse) -> Option<Classification> {
    #[derive(Deserialize)]
    struct GraphqlError {
        message: String,
    }
    let errors: Option<Vec<GraphqlError>> = response.json_at("/errors").ok()?;
    let messages: Vec<String> = errors?.into_iter().map(|error| error.message).collect();
    (!messages.is_empty()).then(|| Classification::Fatal(messages.join("; ")))
}
