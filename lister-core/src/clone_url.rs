//! Choosing the clone URL to record when a forge offers several (cgit's and gitweb's summary
//! pages list every URL a repository is served at).

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
