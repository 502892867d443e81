//! Choosing the clone URL to record when a forge offers several (cgit's and gitweb's summary
//! pages list every URL a repository is served at), and computing it from a base URL where an
//! instance's pages show none (`--base-git-url`).

use url::Url;

/// The schemes a clone URL is recorded with, the preferred first: an archive clones
/// anonymously, so `ssh` (and anything else) is never chosen.
pub const CLONE_SCHEMES: [&str; 3] = ["https", "http", "git"];

/// The clone URL to record among `urls`: the first `https` one, else the first `http` one,
/// else the first `git://` one (as Software Heritage prefers them); `None` when none is (ssh,
/// scp-like `git@host:path`, relative or unparsable ones are passed over). The URL is
/// returned as the store keeps it: parsed and serialized (a space becomes `%20`).
///
/// ```
/// use lister_core::preferred_clone_url;
/// let offered = ["git@git.example.org:a.git", "git://git.example.org/a.git", "https://git.example.org/my a.git"];
/// assert_eq!(preferred_clone_url(offered).as_deref(), Some("https://git.example.org/my%20a.git"));
/// assert_eq!(preferred_clone_url(["ssh://git@git.example.org/a.git"]), None);
/// ```
pub fn preferred_clone_url<S: AsRef<str>>(urls: impl IntoIterator<Item = S>) -> Option<String> {
    let rank = |url: &Url| CLONE_SCHEMES.iter().position(|s| *s == url.scheme());
    let parsed = urls
        .into_iter()
        .filter_map(|url| Url::parse(url.as_ref().trim()).ok());
    let ranked = parsed.filter_map(|url| Some((rank(&url)?, url)));
    // `min_by_key` keeps the first of equal ranks: the order the forge gives them in.
    let (_, best) = ranked.min_by_key(|(rank, _)| *rank)?;
    Some(String::from(best))
}

/// Where a web forge's repository page says the repository's path, for instances whose
/// pages show no clone URL: with a base clone URL (`lister run cgit --base-git-url URL`), a
/// repository's origin is the base followed by that path, and its page is not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositoryPath {
    /// The forge's pages name no repository path: a base clone URL does not apply.
    Unknown,
    /// The page's URL under the instance's address (cgit: `{site}group/repo.git/`).
    UnderSite,
    /// A query parameter of the page's URL (gitweb: `?p=group/repo.git`).
    Query(&'static str),
}

impl RepositoryPath {
    /// The clone URL of the repository whose page is at `page`, on an instance at `site` whose
    /// repositories are cloned under `base`; `None` when the page names no path.
    ///
    /// ```
    /// use lister_core::RepositoryPath;
    /// let url = |text: &str| url::Url::parse(text).unwrap();
    /// let (site, base) = (url("https://git.example.org/cgit/"), url("https://git.example.org/git"));
    /// let page = url("https://git.example.org/cgit/group/a%20b.git/");
    /// let origin = RepositoryPath::UnderSite.clone_url(&page, &site, &base);
    /// assert_eq!(origin.as_deref(), Some("https://git.example.org/git/group/a%20b.git"));
    /// let page = url("https://git.example.org/gitweb.cgi?p=group/a+b.git;a=summary");
    /// let origin = RepositoryPath::Query("p").clone_url(&page, &site, &base);
    /// assert_eq!(origin.as_deref(), Some("https://git.example.org/git/group/a%20b.git"));
    /// ```
    pub fn clone_url(&self, page: &Url, site: &Url, base: &Url) -> Option<String> {
        let path = match self {
            RepositoryPath::Unknown => return None,
            RepositoryPath::UnderSite => page.as_str().strip_prefix(site.as_str())?.to_owned(),
            RepositoryPath::Query(name) => {
                let query = page.query()?.replace(';', "&");
                let mut pairs = url::form_urlencoded::parse(query.as_bytes());
                pairs.find(|(key, _)| key == name)?.1.into_owned()
            }
        };
        let path = path.split(['?', '#']).next()?.trim_matches('/');
        let joined = format!("{}/{path}", base.as_str().trim_end_matches('/'));
        (!path.is_empty()).then(|| Url::parse(&joined).ok().map(String::from))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_then_http_then_git_never_ssh() {
        let https = "https://h.example.org/a.git";
        let http = "http://h.example.org/a.git";
        let git = "git://h.example.org/a.git";
        let ssh = "ssh://git@h.example.org/a.git";
        assert_eq!(
            preferred_clone_url([ssh, git, http, https]).as_deref(),
            Some(https)
        );
        assert_eq!(preferred_clone_url([git, ssh, http]).as_deref(), Some(http));
        assert_eq!(preferred_clone_url([ssh, git]).as_deref(), Some(git));
        assert_eq!(preferred_clone_url([ssh, "git@h.example.org:a.git"]), None);
        assert_eq!(preferred_clone_url(Vec::<String>::new()), None);
    }

    #[test]
    fn the_first_of_a_scheme_wins_and_urls_come_out_as_stored() {
        let first = "https://one.example.org/a.git";
        let second = "https://two.example.org/a.git";
        assert_eq!(preferred_clone_url([first, second]).as_deref(), Some(first));
        // Relative and unparsable URLs are passed over; escapes are kept as given.
        let offered = [
            "a.git",
            "https://",
            " https://h.example.org/caf%c3%a9 x.git ",
        ];
        assert_eq!(
            preferred_clone_url(offered).as_deref(),
            Some("https://h.example.org/caf%c3%a9%20x.git")
        );
    }
}
