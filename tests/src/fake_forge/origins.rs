//! The fake's API for the forges served besides GitHub and Bitbucket: where each one is,
//! adding repositories, and the origins a correct lister produces from each.

use std::sync::atomic::Ordering;

use url::Url;

use super::instance::Instance;
use super::launchpad::Collection;
use super::server::lock;
use super::{
    FakeForge, bitbucket_server, gerrit, gitea, gitiles, gitlab, gogs, grokmirror, launchpad,
    pagure, phabricator, sourceforge, sourcehut, stagit, tuleap,
};

/// One origin a correct lister produces, as swh-lister would record it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpectedOrigin {
    /// The clone URL (`http_url_to_repo`, `clone_url`, or Phabricator's builtin https URI).
    pub url: String,
    /// `git`, `hg` or `svn`.
    pub visit_type: String,
    /// `false` for repositories the forge says are not public (private, internal).
    pub enabled: bool,
    /// Whether it is a fork, when the listing says so (`None` where the view hides it).
    pub is_fork: Option<bool>,
    /// The last update as the listing writes it (`None` where the lister has none).
    pub last_update: Option<String>,
}

impl FakeForge {
    fn instance_url(&self, instance: Instance) -> Url {
        self.base_url()
            .join(&format!("{}/", instance.prefix().trim_start_matches('/')))
            .expect("a relative path joins")
    }

    fn count(&self, instance: Instance) -> u64 {
        self.state.count(instance)
    }

    fn add(&self, instance: Instance, n: u64) {
        self.state.counts[instance.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// GitLab's instance URL, `http://127.0.0.1:PORT/` (API at `api/v4/projects`).
    pub fn gitlab_url(&self) -> Url {
        self.instance_url(Instance::Gitlab)
    }

    /// Heptapod's instance URL, `http://127.0.0.1:PORT/heptapod/`.
    pub fn heptapod_url(&self) -> Url {
        self.instance_url(Instance::Heptapod)
    }

    /// Gitea's instance URL, `http://127.0.0.1:PORT/` (API at `api/v1/repos/search`).
    pub fn gitea_url(&self) -> Url {
        self.instance_url(Instance::Gitea)
    }

    /// Forgejo's instance URL, `http://127.0.0.1:PORT/forgejo/`.
    pub fn forgejo_url(&self) -> Url {
        self.instance_url(Instance::Forgejo)
    }

    /// Gogs' instance URL, `http://127.0.0.1:PORT/gogs/`.
    pub fn gogs_url(&self) -> Url {
        self.instance_url(Instance::Gogs)
    }

    /// Phabricator's instance URL, `http://127.0.0.1:PORT/` (Conduit at
    /// `api/diffusion.repository.search`).
    pub fn phabricator_url(&self) -> Url {
        self.instance_url(Instance::Phabricator)
    }

    /// Phorge's instance URL, `http://127.0.0.1:PORT/phorge/`.
    pub fn phorge_url(&self) -> Url {
        self.instance_url(Instance::Phorge)
    }

    /// Bitbucket Data Center's base URL, `http://127.0.0.1:PORT/bitbucket-server/` (API at
    /// `rest/api/1.0/repos`).
    pub fn bitbucket_server_url(&self) -> Url {
        self.instance_url(Instance::BitbucketServer)
    }

    /// Gitiles' host URL, `http://127.0.0.1:PORT/gitiles/` (index at `?format=JSON`).
    pub fn gitiles_url(&self) -> Url {
        self.instance_url(Instance::Gitiles)
    }

    /// Adds `n` GitLab projects after the existing ones.
    pub fn add_gitlab_projects(&self, n: u64) {
        self.add(Instance::Gitlab, n);
    }

    /// Adds `n` Heptapod projects after the existing ones.
    pub fn add_heptapod_projects(&self, n: u64) {
        self.add(Instance::Heptapod, n);
    }

    /// Adds `n` Gitea repositories after the existing ones.
    pub fn add_gitea_repositories(&self, n: u64) {
        self.add(Instance::Gitea, n);
    }

    /// Adds `n` Forgejo repositories after the existing ones.
    pub fn add_forgejo_repositories(&self, n: u64) {
        self.add(Instance::Forgejo, n);
    }

    /// Adds `n` Gogs repositories after the existing ones.
    pub fn add_gogs_repositories(&self, n: u64) {
        self.add(Instance::Gogs, n);
    }

    /// Adds `n` Phabricator repositories after the existing ones.
    pub fn add_phabricator_repositories(&self, n: u64) {
        self.add(Instance::Phabricator, n);
    }

    /// Adds `n` Phorge repositories after the existing ones.
    pub fn add_phorge_repositories(&self, n: u64) {
        self.add(Instance::Phorge, n);
    }

    /// GitLab's origins in listing order (id ascending): `http_url_to_repo`, `git`,
    /// `last_activity_at`. Anonymous listings see only the public projects and no fork flag.
    pub fn gitlab_origins(&self, authenticated: bool) -> Vec<ExpectedOrigin> {
        gitlab::origins(
            Instance::Gitlab,
            self.count(Instance::Gitlab),
            authenticated,
        )
    }

    /// Heptapod's origins, as [`gitlab_origins`](Self::gitlab_origins); visit type `hg` for
    /// the `hg` and `hg_git` projects.
    pub fn heptapod_origins(&self, authenticated: bool) -> Vec<ExpectedOrigin> {
        gitlab::origins(
            Instance::Heptapod,
            self.count(Instance::Heptapod),
            authenticated,
        )
    }

    /// Gitea's origins in id order: `clone_url`, `git`, `updated_at`; the private ones only
    /// for an authenticated listing (and disabled).
    pub fn gitea_origins(&self, authenticated: bool) -> Vec<ExpectedOrigin> {
        gitea::origins(Instance::Gitea, self.count(Instance::Gitea), authenticated)
    }

    /// Forgejo's origins, as [`gitea_origins`](Self::gitea_origins).
    pub fn forgejo_origins(&self, authenticated: bool) -> Vec<ExpectedOrigin> {
        gitea::origins(
            Instance::Forgejo,
            self.count(Instance::Forgejo),
            authenticated,
        )
    }

    /// Gogs' origins in id order (the search shows public repositories only, whoever asks).
    pub fn gogs_origins(&self) -> Vec<ExpectedOrigin> {
        gogs::origins(self.count(Instance::Gogs))
    }

    /// Phabricator's origins in id order: the builtin https URI (by short name, else
    /// callsign, else id), the repository's `vcs`, no last update.
    pub fn phabricator_origins(&self) -> Vec<ExpectedOrigin> {
        phabricator::origins(Instance::Phabricator, self.count(Instance::Phabricator))
    }

    /// Adds `n` Bitbucket Data Center repositories after the existing ones.
    pub fn add_bitbucket_server_repositories(&self, n: u64) {
        self.add(Instance::BitbucketServer, n);
    }

    /// Adds `n` repositories to the Gitiles host.
    pub fn add_gitiles_repositories(&self, n: u64) {
        self.add(Instance::Gitiles, n);
    }

    /// Bitbucket Data Center's origins in listing order: the clone link named `http`, `git`,
    /// enabled when `public`, no fork flag, no last update.
    pub fn bitbucket_server_origins(&self) -> Vec<ExpectedOrigin> {
        bitbucket_server::origins(self.count(Instance::BitbucketServer))
    }

    /// Gitiles' origins in the document's order (by name): `clone_url`, `git`, enabled, no
    /// fork flag, no last update.
    pub fn gitiles_origins(&self) -> Vec<ExpectedOrigin> {
        gitiles::origins(self.count(Instance::Gitiles))
    }

    /// Pagure's instance URL, `http://127.0.0.1:PORT/pagure/` (API at `api/0/projects`).
    pub fn pagure_url(&self) -> Url {
        self.instance_url(Instance::Pagure)
    }

    /// Gerrit's server URL, `http://127.0.0.1:PORT/gerrit/` (API at `projects/`).
    pub fn gerrit_url(&self) -> Url {
        self.instance_url(Instance::Gerrit)
    }

    /// Launchpad's address, `http://127.0.0.1:PORT/launchpad/` (web service at `devel/`).
    pub fn launchpad_url(&self) -> Url {
        self.instance_url(Instance::Launchpad)
    }

    /// Adds `n` Pagure projects; their names sort after the existing ones.
    pub fn add_pagure_projects(&self, n: u64) {
        self.add(Instance::Pagure, n);
    }

    /// Adds `n` Gerrit projects; their names sort after the existing ones.
    pub fn add_gerrit_projects(&self, n: u64) {
        self.add(Instance::Gerrit, n);
    }

    /// Adds `n` Launchpad git repositories, modified after every existing one.
    pub fn add_launchpad_repositories(&self, n: u64) {
        self.add(Instance::Launchpad, n);
    }

    /// Adds `n` Launchpad Bazaar branches, modified after every existing one.
    pub fn add_launchpad_branches(&self, n: u64) {
        self.add(Instance::LaunchpadBzr, n);
    }

    /// Modifies the Launchpad git repositories numbered `numbers` (from 1) at `at`: their
    /// `date_last_modified` becomes `at`, which moves them in the listing.
    pub fn touch_launchpad_repositories(&self, numbers: &[u64], at: chrono::DateTime<chrono::Utc>) {
        let mut touched = lock(&self.state.launchpad_touched);
        touched[Collection::Git as usize].extend(numbers.iter().map(|&k| (k, at)));
    }

    /// Pagure's origins in listing order (by name): `{instance}/{fullname}` (a fork's
    /// `fullname` starts with `forks/`), `git`, the fork flag, `date_modified`.
    pub fn pagure_origins(&self) -> Vec<ExpectedOrigin> {
        pagure::origins(self.count(Instance::Pagure), &self.pagure_url())
    }

    /// Gerrit's origins in listing order (by name, `All-Projects` and `All-Users` first):
    /// `{server}/{name}`, `git`, no fork flag, no last update.
    pub fn gerrit_origins(&self) -> Vec<ExpectedOrigin> {
        gerrit::origins(self.count(Instance::Gerrit), &self.gerrit_url())
    }

    /// Launchpad's git origins, most neglected first: `git_https_url`, `git`,
    /// `date_last_modified`.
    pub fn launchpad_origins(&self) -> Vec<ExpectedOrigin> {
        let touched = self.state.launchpad_touched(Collection::Git);
        launchpad::origins(Collection::Git, self.count(Instance::Launchpad), &touched)
    }

    /// Launchpad's Bazaar origins, most neglected first: `web_link`, `bzr`,
    /// `date_last_modified`.
    pub fn launchpad_bzr_origins(&self) -> Vec<ExpectedOrigin> {
        let touched = self.state.launchpad_touched(Collection::Bzr);
        launchpad::origins(
            Collection::Bzr,
            self.count(Instance::LaunchpadBzr),
            &touched,
        )
    }

    /// Phorge's origins, as [`phabricator_origins`](Self::phabricator_origins).
    pub fn phorge_origins(&self) -> Vec<ExpectedOrigin> {
        phabricator::origins(Instance::Phorge, self.count(Instance::Phorge))
    }

    /// The grokmirror mirror's address, `http://127.0.0.1:PORT/grokmirror/` (manifest at
    /// `manifest.js.gz`).
    pub fn grokmirror_url(&self) -> Url {
        self.instance_url(Instance::Grokmirror)
    }

    /// Adds `n` repositories to the grokmirror manifest (its `Last-Modified` moves on).
    pub fn add_grokmirror_repositories(&self, n: u64) {
        self.add(Instance::Grokmirror, n);
    }

    /// grokmirror's origins: each path, then its symlinks, under the mirror's address; `git`,
    /// the last update from `modified`, a fork where `reference` is set.
    pub fn grokmirror_origins(&self) -> Vec<ExpectedOrigin> {
        let site = self.grokmirror_url();
        grokmirror::origins(self.count(Instance::Grokmirror), site.as_str())
    }

    /// Tuleap's instance URL, `http://127.0.0.1:PORT/tuleap/` (API at `api/projects`).
    pub fn tuleap_url(&self) -> Url {
        self.instance_url(Instance::Tuleap)
    }

    /// Adds `n` Tuleap projects, with ids after the existing ones.
    pub fn add_tuleap_projects(&self, n: u64) {
        self.add(Instance::Tuleap, n);
    }

    /// Tuleap's origins in listing order (projects by id, each one's repositories by path):
    /// `{instance}/plugins/git/{path}`, `git`, `last_update_date`; the repositories the caller
    /// may not read and those of the project whose git listing answers 403 are not listed.
    pub fn tuleap_origins(&self) -> Vec<ExpectedOrigin> {
        tuleap::origins(self.count(Instance::Tuleap), &self.tuleap_url())
    }

    /// The Tuleap projects (numbered from 1) whose git listing answers 403: a correct lister
    /// skips and counts them.
    pub fn tuleap_forbidden_projects(&self) -> Vec<u64> {
        (tuleap::FORBIDDEN <= self.count(Instance::Tuleap))
            .then_some(tuleap::FORBIDDEN)
            .into_iter()
            .collect()
    }

    /// git.sr.ht's address, `http://127.0.0.1:PORT/sourcehut/` (GraphQL at `query`).
    pub fn sourcehut_url(&self) -> Url {
        self.instance_url(Instance::Sourcehut)
    }

    /// hg.sr.ht's address, `http://127.0.0.1:PORT/sourcehut-hg/` (GraphQL at `query`).
    pub fn sourcehut_hg_url(&self) -> Url {
        self.instance_url(Instance::SourcehutHg)
    }

    /// Adds `n` repositories to the token owner's on git.sr.ht, updated after every existing
    /// one: they come first in the listing.
    pub fn add_sourcehut_repositories(&self, n: u64) {
        self.add(Instance::Sourcehut, n);
    }

    /// Adds `n` repositories to the token owner's on hg.sr.ht, as
    /// [`add_sourcehut_repositories`](Self::add_sourcehut_repositories).
    pub fn add_sourcehut_hg_repositories(&self, n: u64) {
        self.add(Instance::SourcehutHg, n);
    }

    /// git.sr.ht's origins in listing order (most recently updated first):
    /// `{instance}/~alice/{name}`, `git`, `updated`; the private ones disabled, the unlisted
    /// ones enabled.
    pub fn sourcehut_origins(&self) -> Vec<ExpectedOrigin> {
        let count = self.count(Instance::Sourcehut);
        sourcehut::origins(count, &self.sourcehut_url(), "git")
    }

    /// hg.sr.ht's origins, as [`sourcehut_origins`](Self::sourcehut_origins), visit type `hg`.
    pub fn sourcehut_hg_origins(&self) -> Vec<ExpectedOrigin> {
        let count = self.count(Instance::SourcehutHg);
        sourcehut::origins(count, &self.sourcehut_hg_url(), "hg")
    }

    /// The repositories a sourcehut page holds (25).
    pub fn sourcehut_page_size(&self) -> u64 {
        sourcehut::PAGE_SIZE
    }

    /// The stagit index's address, `http://127.0.0.1:PORT/stagit/` (the index at
    /// `index.html`, each repository's pages under `{name}/`).
    pub fn stagit_url(&self) -> Url {
        self.instance_url(Instance::Stagit)
    }

    /// Adds `n` repositories to the stagit index (in name order: they come last).
    pub fn add_stagit_repositories(&self, n: u64) {
        self.add(Instance::Stagit, n);
    }

    /// How many repositories the stagit index lists (each one a log page to ask).
    pub fn stagit_repositories(&self) -> u64 {
        self.count(Instance::Stagit)
    }

    /// stagit's origins in index order: the clone URL of each repository's `url` file (`https`,
    /// or `git://`), `git`, the last commit's minute; none for the repositories without a `url`
    /// file.
    pub fn stagit_origins(&self) -> Vec<ExpectedOrigin> {
        stagit::origins(self.count(Instance::Stagit))
    }

    /// The path of Tuleap project `k`'s git listing (`/tuleap/api/projects/{100 + k}/git`),
    /// for [`Fault::OnPath`](super::Fault::OnPath).
    pub fn tuleap_git_path(&self, k: u64) -> String {
        format!("{}{}", Instance::Tuleap.prefix(), tuleap::git_path(k))
    }

    /// SourceForge's address, `http://127.0.0.1:PORT/sourceforge/` (the sitemap index at
    /// `allura_sitemap/sitemap.xml`, the projects' descriptions at `rest/{ns}/{project}`).
    pub fn sourceforge_url(&self) -> Url {
        self.instance_url(Instance::Sourceforge)
    }

    /// Adds `n` SourceForge projects, after the existing ones (in the last shard, or new ones),
    /// their `lastmod` today.
    pub fn add_sourceforge_projects(&self, n: u64) {
        let count = self.count(Instance::Sourceforge);
        self.add(Instance::Sourceforge, n);
        (count + 1..=count + n).for_each(|k| self.touch_sourceforge_project(k));
    }

    /// The GitHub App installation tokens minted so far, in order.
    pub fn github_app_tokens(&self) -> Vec<String> {
        lock(&self.state.app_tokens).clone()
    }

    /// Changes SourceForge project `k` today: its sitemap entries' `lastmod` says so.
    pub fn touch_sourceforge_project(&self, k: u64) {
        let today = chrono::Utc::now().date_naive();
        lock(&self.state.sourceforge_touched).insert(k, today);
    }

    /// SourceForge's origins, project by project: one per code tool,
    /// `https://{git,svn}.code.sf.net/{ns}/{project}/{mount_point}`, Mercurial's on `http`,
    /// Bazaar's at `http://{project}.bzr.sourceforge.net/bzrroot/{project}`, each with its
    /// project's `lastmod` day; none for the project whose description answers 404.
    pub fn sourceforge_origins(&self) -> Vec<ExpectedOrigin> {
        let touched = self.state.sourceforge_touched();
        sourceforge::origins(self.count(Instance::Sourceforge), &touched)
    }

    /// The SourceForge projects whose description answers 404: a correct lister skips and
    /// counts them.
    pub fn sourceforge_gone_projects(&self) -> Vec<u64> {
        let count = self.count(Instance::Sourceforge);
        (sourceforge::GONE <= count)
            .then_some(sourceforge::GONE)
            .into_iter()
            .collect()
    }

    /// The requests of a complete SourceForge listing: the index, each shard, each project's
    /// and subproject's description, and the page of each CVS project's modules.
    pub fn sourceforge_listing_requests(&self) -> u64 {
        let count = self.count(Instance::Sourceforge);
        1 + sourceforge::shards(count)
            + self.sourceforge_descriptions()
            + sourceforge::cvs_pages(count)
    }

    /// How many project and subproject descriptions SourceForge has.
    pub fn sourceforge_descriptions(&self) -> u64 {
        sourceforge::descriptions(self.count(Instance::Sourceforge))
    }
}
