//! A fake code forge on `127.0.0.1`: the listing endpoints of several forges on one port,
//! with per-token quotas, scripted faults and a record of every request.
//!
//! | forge | endpoint | paging | items |
//! |---|---|---|---|
//! | GitHub | `GET /repositories?since=ID` (also under `/api/v3`) | `Link` next | minimal repositories |
//! | Bitbucket Cloud | `GET /2.0/repositories?after=DATE&pagelen=N` | body `next` | repositories |
//! | GitLab | `GET /api/v4/projects?pagination=keyset&order_by=id&sort=asc&id_after=ID` | `Link` next | projects (full view with a token, "simple" view anonymously) |
//! | Heptapod | the same under `/heptapod` | as GitLab | projects with `vcs_type` |
//! | Gitea | `GET /api/v1/repos/search?sort=id&order=asc&limit=N&page=P` | `Link`, `x-total-count` | `{"ok":true,"data":[…]}` |
//! | Forgejo | the same under `/forgejo` | as Gitea | Forgejo's repositories |
//! | Gogs | `GET /gogs/api/v1/repos/search?q=_&limit=N&page=P` | `Link` (page only) | `{"ok":true,"data":[…]}` |
//! | Phabricator | `POST /api/diffusion.repository.search` (form) | body `cursor.after` | repositories with their URIs |
//! | Phorge | the same under `/phorge` | as Phabricator | as Phabricator |
//! | Bitbucket Data Center | `GET /bitbucket-server/rest/api/1.0/repos?start=N&limit=L` | body `nextPageStart` (absent on the last page, `isLastPage`) | repositories |
//! | Gitiles | `GET /gitiles/?format=JSON` | none: the whole host, after `)]}'` | name → `{name, clone_url, description}` |
//! | Pagure | `GET /pagure/api/0/projects?per_page=N&page=P` | body `pagination.next` (`null` on the last page) | projects and forks, by name |
//! | Gerrit | `GET /gerrit/projects/?n=N&S=OFFSET` | `_more_projects` on a page's last entry, after `)]}'` | name → `ProjectInfo` |
//! | Launchpad | `GET /launchpad/devel/+git?ws.op=getRepositories` and `…/branches?ws.op=getBranches` (`order_by`, `modified_since_date`, `ws.start`, `ws.size`) | body `next_collection_link` | git repositories, Bazaar branches |
//! | grokmirror | `GET /grokmirror/manifest.js.gz` | none: the whole mirror, a gzip file (`304` to `If-Modified-Since`) | path → `{modified, reference, symlinks, …}` |
//! | Tuleap | `GET /tuleap/api/projects?limit=L&offset=O`, then each project's `…/projects/{id}/git?limit=L&offset=O&order_by=path` | offset to `X-PAGINATION-SIZE` (limit at most 50) | projects; `{"repositories": […]}` (some projects without, one answering 403) |
//! | stagit | `GET /stagit/index.html` (also `/stagit/`), then each repository's `GET /stagit/{name}/log.html` | none: one index | static HTML as `stagit-index` and `stagit` write it (escaped names and descriptions, some repositories without a `url` file or commits) |
//! | SourceForge | `GET /sourceforge/allura_sitemap/sitemap.xml`, its shards `…/sitemap-N.xml`, then each project's `GET /sourceforge/rest/{ns}/{project}` | the index names the shards (20 projects each) | XML sitemaps of the projects' tools; `{"shortname", "tools": [{"name", "mount_point"…}]…}` (git, svn, hg, bzr, none; subprojects; one answering 404) |
//! | sourcehut | `POST /sourcehut/query` (git.sr.ht) and `/sourcehut-hg/query` (hg.sr.ht): GraphQL `me { repositories(cursor) }`, `Authorization: Bearer` required | body `cursor` (opaque, `null` on the last page), 25 a page, most recently updated first | the token owner's repositories: public, unlisted, private |
//!
//! Each forge also has an address of its own ([`Site`]: `/gitlab`, `/forgejo`…, see
//! [`FakeForge::site_url`]) where it answers its home page and version endpoints as the real
//! one does, and its own 404 elsewhere: what `lister detect` reads.
//!
//! Items are built from the fixtures in `tests/fixtures/`, so they have the real shapes.
//! The repositories' URLs are on `*.example.org` hosts (never contacted); what a correct
//! lister makes of them is [`ExpectedOrigin`] (`FakeForge::gitlab_origins` and the like).
//! Every listing request counts for [`Fault`]s; quotas apply to GitHub, Bitbucket, GitLab
//! and Phabricator (Gitea, Forgejo, Gogs, Bitbucket Data Center and Gitiles have none here).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use lister_tests::fake_forge::{FakeForge, Fault};
//!
//! let forge = FakeForge::start().await;
//! forge.inject(Fault::Status(502), 1, 0);
//! let url = forge.github_url().join("repositories?since=0").unwrap();
//! let status = reqwest::get(url.clone()).await.unwrap().status();
//! assert_eq!(status, 502);
//! let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
//! let page: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
//! assert_eq!(page.len(), 100);
//! assert_eq!(forge.requests().len(), 2);
//! # }
//! ```

mod bitbucket;
mod bitbucket_server;
mod conduit;
mod faults;
mod gerrit;
mod gitea;
mod github;
pub mod github_app;
mod gitiles;
mod gitlab;
mod gitlab_route;
mod gogs;
mod grokmirror;
mod instance;
mod launchpad;
mod origins;
mod other_host;
mod pagure;
mod payload;
mod phabricator;
mod quota;
mod routes;
mod server;
mod signatures;
mod sourceforge;
mod sourcehut;
mod stagit;
mod tuleap;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

pub use faults::Fault;
pub use origins::ExpectedOrigin;
pub use other_host::OtherHost;
pub use quota::{QuotaConfig, QuotaKey};
pub use server::RecordedRequest;
pub use signatures::{FORGEJO_VERSION, GHES_VERSION, GITEA_VERSION, Site};

use routes::State;
use server::lock;

/// How GitHub's listing ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GithubEnd {
    /// The last non-empty page links to a `[]` page, which has no `rel="next"`.
    #[default]
    EmptyPage,
    /// The last non-empty page has no `rel="next"` (only `rel="first"`).
    NoNextLink,
}

/// What the fake forge starts with.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many GitHub repositories exist.
    pub github_repositories: u64,
    /// How many Bitbucket repositories exist.
    pub bitbucket_repositories: u64,
    /// How GitHub's listing ends.
    pub github_end: GithubEnd,
    /// Repositories per GitHub page (GitHub's own: 100). A larger one makes the pages as
    /// large as the transport accepts, for memory measurements.
    pub github_page_size: u64,
    /// GitHub items with only `id`, `html_url` and `fork` (about 80 bytes each), so that a
    /// page holds the most repositories its size allows.
    pub github_minimal_items: bool,
    /// How many GitLab projects exist (public, internal and private).
    pub gitlab_projects: u64,
    /// How many Heptapod projects exist.
    pub heptapod_projects: u64,
    /// How many Gitea repositories exist (public and private).
    pub gitea_repositories: u64,
    /// How many Forgejo repositories exist.
    pub forgejo_repositories: u64,
    /// How many Gogs repositories exist (private ones included, which no search shows).
    pub gogs_repositories: u64,
    /// How many Phabricator repositories exist.
    pub phabricator_repositories: u64,
    /// How many Phorge repositories exist.
    pub phorge_repositories: u64,
    /// How many Bitbucket Data Center repositories exist (every 6th not public).
    pub bitbucket_server_repositories: u64,
    /// How many repositories the Gitiles host has.
    pub gitiles_repositories: u64,
    /// How many Pagure projects exist (every 5th a fork).
    pub pagure_projects: u64,
    /// How many Gerrit projects exist, besides `All-Projects` and `All-Users`.
    pub gerrit_projects: u64,
    /// How many git repositories Launchpad has.
    pub launchpad_repositories: u64,
    /// How many Bazaar branches Launchpad has.
    pub launchpad_branches: u64,
    /// How many repositories the grokmirror manifest lists (every 5th a fork, every 4th with
    /// symlinks).
    pub grokmirror_repositories: u64,
    /// How many Tuleap projects exist (see `tuleap.rs` for their repositories).
    pub tuleap_projects: u64,
    /// How many repositories the token owner has on git.sr.ht.
    pub sourcehut_repositories: u64,
    /// How many repositories the token owner has on hg.sr.ht.
    pub sourcehut_hg_repositories: u64,
    /// How many repositories the stagit index lists (see `stagit.rs` for their pages).
    pub stagit_repositories: u64,
    /// How many SourceForge projects exist (see `sourceforge.rs` for their tools).
    pub sourceforge_projects: u64,
    /// The quotas.
    pub quota: QuotaConfig,
    /// How long every listing request waits before its answer (a real forge's latency).
    pub latency: Duration,
}

impl Default for Config {
    /// 1,000 GitHub repositories (10 pages), 250 of every other forge's (several pages each),
    /// GitHub's default quotas.
    fn default() -> Self {
        Config {
            github_repositories: 1_000,
            bitbucket_repositories: 250,
            github_end: GithubEnd::EmptyPage,
            github_page_size: github::PAGE_SIZE,
            github_minimal_items: false,
            gitlab_projects: 250,
            heptapod_projects: 250,
            gitea_repositories: 250,
            forgejo_repositories: 250,
            gogs_repositories: 250,
            phabricator_repositories: 250,
            phorge_repositories: 250,
            bitbucket_server_repositories: 250,
            gitiles_repositories: 250,
            pagure_projects: 250,
            gerrit_projects: 1_200,
            launchpad_repositories: 700,
            launchpad_branches: 700,
            grokmirror_repositories: 250,
            tuleap_projects: 120,
            sourcehut_repositories: 250,
            sourcehut_hg_repositories: 250,
            stagit_repositories: 210,
            sourceforge_projects: 160,
            quota: QuotaConfig::default(),
            latency: Duration::ZERO,
        }
    }
}

/// The fake forge, serving until dropped. Start it inside a tokio runtime.
#[derive(Debug)]
pub struct FakeForge {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeForge {
    /// Starts with the default [`Config`].
    pub async fn start() -> FakeForge {
        FakeForge::start_with(Config::default()).await
    }

    /// Starts on `127.0.0.1:0`. Panics if the loopback port cannot be bound.
    pub async fn start_with(config: Config) -> FakeForge {
        let state = Arc::new(State {
            log: Arc::default(),
            script: Mutex::default(),
            quotas: Mutex::new(quota::Quotas::new(config.quota)),
            github_count: AtomicU64::new(config.github_repositories),
            github_removed: Mutex::default(),
            bitbucket_count: AtomicU64::new(config.bitbucket_repositories),
            github_end: config.github_end,
            github_page_size: config.github_page_size.max(1),
            github_minimal_items: config.github_minimal_items,
            counts: [
                config.gitlab_projects,
                config.heptapod_projects,
                config.gitea_repositories,
                config.forgejo_repositories,
                config.gogs_repositories,
                config.phabricator_repositories,
                config.phorge_repositories,
                config.bitbucket_server_repositories,
                config.gitiles_repositories,
                config.pagure_projects,
                config.gerrit_projects,
                config.launchpad_repositories,
                config.launchpad_branches,
                config.grokmirror_repositories,
                config.tuleap_projects,
                config.sourcehut_repositories,
                config.sourcehut_hg_repositories,
                config.stagit_repositories,
                config.sourceforge_projects,
            ]
            .map(AtomicU64::new),
            launchpad_touched: Mutex::default(),
            sourceforge_touched: Mutex::default(),
            app_tokens: Mutex::default(),
            latency: config.latency,
        });
        let shared = state.clone();
        let handler: server::Handler = Arc::new(move |request, local| {
            Box::pin(routes::handle(shared.clone(), request, local))
        });
        let (addr, task) =
            server::start(IpAddr::V4(Ipv4Addr::LOCALHOST), state.log.clone(), handler)
                .await
                .expect("bind a loopback port");
        FakeForge { addr, state, task }
    }

    /// The address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`: GitHub's API base (`/repositories`), Bitbucket's
    /// (`/2.0/repositories`), and the instance URL of GitLab, Gitea and Phabricator.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("a socket address makes a URL")
    }

    /// GitHub's API base, as [`base_url`](Self::base_url).
    pub fn github_url(&self) -> Url {
        self.base_url()
    }

    /// A GitHub Enterprise Server API base: `http://127.0.0.1:PORT/api/v3`.
    pub fn github_enterprise_url(&self) -> Url {
        self.base_url()
            .join("api/v3")
            .expect("a relative path joins")
    }

    /// The address of `site`, as a user gives it: `http://127.0.0.1:PORT/gitlab`.
    pub fn site_url(&self, site: Site) -> Url {
        self.base_url()
            .join(site.prefix().trim_start_matches('/'))
            .expect("a relative path joins")
    }

    /// Bitbucket Cloud's API base, as [`base_url`](Self::base_url).
    pub fn bitbucket_url(&self) -> Url {
        self.base_url()
    }

    /// Applies `fault` to `times` listing requests, once `after_requests` more listing
    /// requests have been served (see [`Fault`]).
    pub fn inject(&self, fault: Fault, times: u32, after_requests: u64) {
        lock(&self.state.script).inject(fault, times, after_requests);
    }

    /// How many listing requests were served (faulty ones included).
    pub fn listing_requests(&self) -> u64 {
        lock(&self.state.script).served()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log.requests()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.state.log.clear();
    }

    /// Adds `n` GitHub repositories after the existing ones.
    pub fn add_github_repositories(&self, n: u64) {
        self.state.github_count.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `n` Bitbucket repositories after the existing ones.
    pub fn add_bitbucket_repositories(&self, n: u64) {
        self.state.bitbucket_count.fetch_add(n, Ordering::Relaxed);
    }

    /// Removes the GitHub repositories at `positions` (from 1, in listing order): their
    /// pages list them no more, and change their `ETag`. (Keep one repository a page: an
    /// empty page ends GitHub's listing.)
    pub fn remove_github_repositories(&self, positions: impl IntoIterator<Item = u64>) {
        lock(&self.state.github_removed).extend(positions);
    }

    /// The positions (from 1) of the GitHub repositories that exist, in listing order.
    fn github_positions(&self) -> Vec<u64> {
        let removed = lock(&self.state.github_removed).clone();
        (1..=self.state.github_count.load(Ordering::Relaxed))
            .filter(|k| !removed.contains(k))
            .collect()
    }

    /// The ids of the GitHub repositories, in listing order.
    pub fn github_ids(&self) -> Vec<u64> {
        let positions = self.github_positions().into_iter();
        positions.map(github::repository_id).collect()
    }

    /// The `html_url` of every GitHub repository, in listing order.
    pub fn github_html_urls(&self) -> Vec<String> {
        let positions = self.github_positions().into_iter();
        positions.map(github::html_url).collect()
    }

    /// The `html_url` of the GitHub repository at `position` (from 1, in listing order).
    pub fn github_html_url(&self, position: u64) -> String {
        github::html_url(position)
    }

    /// The `full_name` of every Bitbucket repository, in listing order.
    pub fn bitbucket_full_names(&self) -> Vec<String> {
        (1..=self.state.bitbucket_count.load(Ordering::Relaxed))
            .map(bitbucket::full_name)
            .collect()
    }

    /// Sets one bucket's limit, starting a fresh window for it.
    pub fn set_quota(&self, key: QuotaKey, limit: u64) {
        lock(&self.state.quotas).set_limit(key, limit, None);
    }

    /// Sets one bucket's limit and reset window, starting a fresh window for it.
    pub fn set_quota_with_reset(&self, key: QuotaKey, limit: u64, reset_after: Duration) {
        lock(&self.state.quotas).set_limit(key, limit, Some(reset_after));
    }

    /// Sets when quota windows reset (from their first request), refilling every bucket.
    pub fn set_quota_reset_after(&self, reset_after: Duration) {
        lock(&self.state.quotas).set_reset_after(reset_after);
    }

    /// Refills every bucket.
    pub fn refill_quotas(&self) {
        lock(&self.state.quotas).refill();
    }

    /// The requests one bucket spent in its current window (a `304` to an authorized
    /// GitHub request spends none, as on GitHub).
    pub fn quota_used(&self, key: &QuotaKey) -> u64 {
        lock(&self.state.quotas).used(key)
    }

    /// The requests one bucket spent in each of its quota windows that ended, in order.
    pub fn closed_quota_windows(&self, key: &QuotaKey) -> Vec<u64> {
        lock(&self.state.quotas).closed_windows(key)
    }

    /// The requests refused so far because their quota was spent (quota errors drawn).
    pub fn quota_refusals(&self) -> u64 {
        lock(&self.state.quotas).refused()
    }
}

impl Drop for FakeForge {
    fn drop(&mut self) {
        self.task.abort();
    }
}
