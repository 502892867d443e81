//! The forges served besides GitHub and Bitbucket, each at its own path prefix of the one
//! listening port, with its own repository count.

use http::Response;

use super::faults::Fault;
use super::launchpad::Collection;
use super::quota::{QuotaKey, Usage};
use super::routes::Call;
use super::server::{Body, Dropped};
use super::{
    bitbucket_server, conduit, gerrit, gitea, gitiles, gitlab_route, gogs, grokmirror, launchpad,
    pagure, sourceforge, sourcehut, stagit, tuleap,
};

/// One of the forges served besides GitHub and Bitbucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instance {
    /// GitLab: `/api/v4/projects`.
    Gitlab,
    /// Heptapod: `/heptapod/api/v4/projects`.
    Heptapod,
    /// Gitea: `/api/v1/repos/search`.
    Gitea,
    /// Forgejo: `/forgejo/api/v1/repos/search`.
    Forgejo,
    /// Gogs: `/gogs/api/v1/repos/search`.
    Gogs,
    /// Phabricator: `/api/diffusion.repository.search`.
    Phabricator,
    /// Phorge: `/phorge/api/diffusion.repository.search`.
    Phorge,
    /// Bitbucket Data Center: `/bitbucket-server/rest/api/1.0/repos`.
    BitbucketServer,
    /// Gitiles: `/gitiles/?format=JSON`.
    Gitiles,
    /// Pagure: `/pagure/api/0/projects`.
    Pagure,
    /// Gerrit: `/gerrit/projects/`.
    Gerrit,
    /// Launchpad's git repositories: `/launchpad/devel/+git?ws.op=getRepositories`.
    Launchpad,
    /// Launchpad's Bazaar branches: `/launchpad/devel/branches?ws.op=getBranches`.
    LaunchpadBzr,
    /// A grokmirror manifest: `/grokmirror/manifest.js.gz`.
    Grokmirror,
    /// Tuleap: `/tuleap/api/projects`, then `/tuleap/api/projects/{id}/git`.
    Tuleap,
    /// git.sr.ht's GraphQL API: `POST /sourcehut/query`.
    Sourcehut,
    /// hg.sr.ht's GraphQL API: `POST /sourcehut-hg/query`.
    SourcehutHg,
    /// stagit's static pages: `/stagit/index.html` (also `/stagit/`), then
    /// `/stagit/{name}/log.html`.
    Stagit,
    /// SourceForge: `/sourceforge/allura_sitemap/sitemap.xml`, its shards, then
    /// `/sourceforge/rest/{ns}/{project}`.
    Sourceforge,
}

impl Instance {
    /// Every instance, in the order of [`Instance::index`].
    pub(crate) const ALL: [Instance; 19] = [
        Instance::Gitlab,
        Instance::Heptapod,
        Instance::Gitea,
        Instance::Forgejo,
        Instance::Gogs,
        Instance::Phabricator,
        Instance::Phorge,
        Instance::BitbucketServer,
        Instance::Gitiles,
        Instance::Pagure,
        Instance::Gerrit,
        Instance::Launchpad,
        Instance::LaunchpadBzr,
        Instance::Grokmirror,
        Instance::Tuleap,
        Instance::Sourcehut,
        Instance::SourcehutHg,
        Instance::Stagit,
        Instance::Sourceforge,
    ];

    /// The position in [`Instance::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The path prefix of the instance on the fake (`""` or `/heptapod`…).
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Instance::Heptapod => "/heptapod",
            Instance::Forgejo => "/forgejo",
            Instance::Gogs => "/gogs",
            Instance::Phorge => "/phorge",
            Instance::BitbucketServer => "/bitbucket-server",
            Instance::Gitiles => "/gitiles",
            Instance::Pagure => "/pagure",
            Instance::Gerrit => "/gerrit",
            Instance::Launchpad | Instance::LaunchpadBzr => "/launchpad",
            Instance::Grokmirror => "/grokmirror",
            Instance::Tuleap => "/tuleap",
            Instance::Sourcehut => "/sourcehut",
            Instance::SourcehutHg => "/sourcehut-hg",
            Instance::Stagit => "/stagit",
            Instance::Sourceforge => "/sourceforge",
            _ => "",
        }
    }

    /// Another prefix the instance also answers under, for those served at the root: an
    /// address of its own, as `lister detect` needs (see [`super::Site`]).
    fn alias(self) -> Option<&'static str> {
        match self {
            Instance::Gitlab => Some("/gitlab"),
            Instance::Gitea => Some("/gitea"),
            Instance::Phabricator => Some("/phabricator"),
            _ => None,
        }
    }

    /// The listing endpoint's path under the prefix.
    fn endpoint(self) -> &'static str {
        match self {
            Instance::Gitlab | Instance::Heptapod => "/api/v4/projects",
            Instance::Gitea | Instance::Forgejo | Instance::Gogs => "/api/v1/repos/search",
            Instance::Phabricator | Instance::Phorge => "/api/diffusion.repository.search",
            Instance::BitbucketServer => "/rest/api/1.0/repos",
            Instance::Gitiles => "/",
            Instance::Pagure => "/api/0/projects",
            Instance::Gerrit => "/projects/",
            Instance::Launchpad => "/devel/+git",
            Instance::LaunchpadBzr => "/devel/branches",
            Instance::Tuleap => "/api/projects",
            Instance::Grokmirror => "/manifest.js.gz",
            Instance::Sourcehut | Instance::SourcehutHg => "/query",
            Instance::Stagit => "/index.html",
            Instance::Sourceforge => "/allura_sitemap/sitemap.xml",
        }
    }

    /// The host name in the repositories' URLs (never contacted).
    pub(crate) fn host(self) -> &'static str {
        match self {
            Instance::Gitlab => "gitlab.example.org",
            Instance::Heptapod => "foss.heptapod.example.org",
            Instance::Gitea => "gitea.example.org",
            Instance::Forgejo => "codeberg.example.org",
            Instance::Gogs => "gogs.example.org",
            Instance::Phabricator => "phabricator.example.org",
            Instance::Phorge => "phorge.example.org",
            Instance::BitbucketServer => "bitbucket.example.org",
            Instance::Gitiles => "gitiles.example.org",
            Instance::Pagure => "pagure.example.org",
            Instance::Gerrit => "gerrit.example.org",
            Instance::Launchpad => "git.launchpad.example.org",
            Instance::LaunchpadBzr => "code.launchpad.example.org",
            // Its origins are under the instance's own address.
            Instance::Tuleap => "127.0.0.1",
            // Its origins are under the mirror's own address, which the listing names.
            Instance::Grokmirror => "127.0.0.1",
            // `{instance}/~owner/name`.
            Instance::Sourcehut | Instance::SourcehutHg => "127.0.0.1",
            // As the repositories' `url` files name them.
            Instance::Stagit => "stagit.example.org",
            // `{vcs}.code.sf.net`, as SourceForge's clone URLs are computed.
            Instance::Sourceforge => "code.sf.net",
        }
    }

    /// The instance whose listing endpoint `path` is (Tuleap's second level included).
    pub(crate) fn route(path: &str) -> Option<Instance> {
        Instance::ALL.into_iter().find(|instance| {
            let mut prefixes = std::iter::once(instance.prefix()).chain(instance.alias());
            prefixes.any(|prefix| {
                path.strip_prefix(prefix).is_some_and(|rest| {
                    rest == instance.endpoint()
                        || (*instance == Instance::Tuleap && tuleap::git_project(rest).is_some())
                        || (*instance == Instance::Stagit && stagit::serves(rest))
                        || (*instance == Instance::Sourceforge && sourceforge::serves(rest))
                })
            })
        })
    }

    /// Whether the endpoint is a Conduit method (POST with a form body; GET works too).
    pub(crate) fn is_conduit(self) -> bool {
        matches!(self, Instance::Phabricator | Instance::Phorge)
    }

    /// Whether the endpoint is a GraphQL API (POST of a JSON document only).
    pub(crate) fn is_graphql(self) -> bool {
        matches!(self, Instance::Sourcehut | Instance::SourcehutHg)
    }

    /// Serves a listing request.
    pub(crate) async fn serve(self, call: Call<'_>) -> Result<Response<Body>, Dropped> {
        match self {
            Instance::Gitlab | Instance::Heptapod => gitlab_route::page(call, self).await,
            Instance::Gitea | Instance::Forgejo => gitea::page(call, self).await,
            Instance::Gogs => gogs::page(call).await,
            Instance::Phabricator | Instance::Phorge => conduit::search(call, self).await,
            Instance::BitbucketServer => bitbucket_server::page(call).await,
            Instance::Gitiles => gitiles::index(call).await,
            Instance::Pagure => pagure::page(call).await,
            Instance::Gerrit => gerrit::projects(call).await,
            Instance::Launchpad => launchpad::batch(call, Collection::Git).await,
            Instance::LaunchpadBzr => launchpad::batch(call, Collection::Bzr).await,
            Instance::Tuleap => tuleap::serve(call).await,
            Instance::Grokmirror => grokmirror::manifest(call).await,
            Instance::Sourcehut | Instance::SourcehutHg => sourcehut::query(call, self).await,
            Instance::Stagit => stagit::serve(call).await,
            Instance::Sourceforge => sourceforge::serve(call).await,
        }
    }

    /// The forge's own answer to `fault`, where it differs from the generic one.
    pub(crate) fn replacement(
        self,
        fault: &Fault,
        usage: Usage,
        key: &QuotaKey,
    ) -> Option<Response<Body>> {
        match self {
            Instance::Gitlab | Instance::Heptapod => gitlab_route::replacement(fault, usage, key),
            Instance::Phabricator | Instance::Phorge => conduit::replacement(fault),
            Instance::Sourcehut | Instance::SourcehutHg => sourcehut::replacement(fault),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_path() {
        assert_eq!(Instance::route("/api/v4/projects"), Some(Instance::Gitlab));
        assert_eq!(
            Instance::route("/heptapod/api/v4/projects"),
            Some(Instance::Heptapod)
        );
        assert_eq!(
            Instance::route("/api/v1/repos/search"),
            Some(Instance::Gitea)
        );
        assert_eq!(
            Instance::route("/forgejo/api/v1/repos/search"),
            Some(Instance::Forgejo)
        );
        assert_eq!(
            Instance::route("/gogs/api/v1/repos/search"),
            Some(Instance::Gogs)
        );
        assert_eq!(
            Instance::route("/phorge/api/diffusion.repository.search"),
            Some(Instance::Phorge)
        );
        assert_eq!(
            Instance::route("/bitbucket-server/rest/api/1.0/repos"),
            Some(Instance::BitbucketServer)
        );
        assert_eq!(Instance::route("/gitiles/"), Some(Instance::Gitiles));
        assert_eq!(
            Instance::route("/gitlab/api/v4/projects"),
            Some(Instance::Gitlab)
        );
        assert_eq!(Instance::route("/gitlab/api/v1/repos/search"), None);
        assert_eq!(Instance::route("/gitiles"), None);
        assert_eq!(
            Instance::route("/pagure/api/0/projects"),
            Some(Instance::Pagure)
        );
        assert_eq!(Instance::route("/gerrit/projects/"), Some(Instance::Gerrit));
        assert_eq!(
            Instance::route("/launchpad/devel/+git"),
            Some(Instance::Launchpad)
        );
        assert_eq!(
            Instance::route("/launchpad/devel/branches"),
            Some(Instance::LaunchpadBzr)
        );
        assert_eq!(
            Instance::route("/grokmirror/manifest.js.gz"),
            Some(Instance::Grokmirror)
        );
        assert_eq!(Instance::route("/manifest.js.gz"), None);
        assert_eq!(
            Instance::route("/tuleap/api/projects"),
            Some(Instance::Tuleap)
        );
        assert_eq!(
            Instance::route("/tuleap/api/projects/151/git"),
            Some(Instance::Tuleap)
        );
        assert_eq!(Instance::route("/tuleap/api/projects/x/git"), None);
        assert_eq!(
            Instance::route("/sourcehut/query"),
            Some(Instance::Sourcehut)
        );
        assert_eq!(
            Instance::route("/sourcehut-hg/query"),
            Some(Instance::SourcehutHg)
        );
        assert_eq!(Instance::route("/query"), None);
        for path in ["/stagit/", "/stagit/index.html", "/stagit/repo-1/log.html"] {
            assert_eq!(Instance::route(path), Some(Instance::Stagit), "{path}");
        }
        assert_eq!(Instance::route("/stagit/repo-1/files.html"), None);
        assert_eq!(Instance::route("/index.html"), None);
        for path in [
            "/sourceforge/allura_sitemap/sitemap.xml",
            "/sourceforge/allura_sitemap/sitemap-3.xml",
            "/sourceforge/rest/p/project-7",
            "/sourceforge/rest/p/project-4/docs",
        ] {
            assert_eq!(Instance::route(path), Some(Instance::Sourceforge), "{path}");
        }
        assert_eq!(Instance::route("/sourceforge/rest/p/x"), None);
        assert_eq!(Instance::route("/allura_sitemap/sitemap.xml"), None);
        assert_eq!(Instance::route("/api/projects/151/git"), None);
        assert_eq!(Instance::route("/rest/api/1.0/repos"), None);
        assert_eq!(Instance::route("/gogs/api/v4/projects"), None);
        assert!(
            Instance::ALL
                .iter()
                .enumerate()
                .all(|(at, i)| i.index() == at)
        );
    }
}
