//! Validation of origin URLs before they reach the store.
//!
//! An origin URL must parse, use one of the schemes `https`, `http`, `git` or `ssh`, and name a
//! host. Credentials are **removed, not rejected**: a password is always dropped, and so is a
//! user name on `http`, `https` and `git` URLs (it is often a token, as in
//! `https://TOKEN@host/…`). An `ssh` URL keeps a user name without a password, because there it
//! names the account to log in as (`ssh://git@host/…`). The scp-like form `user@host:path` is
//! rewritten to `ssh://user@host/path`. Query parameters that carry credentials
//! ([`SECRET_PARAMETERS`]) are removed too, and so is a fragment (it never reaches a server,
//! and a token is sometimes pasted there): the origin is kept without them. An origin URL is at
//! most [`MAX_URL_BYTES`] long; a longer one is rejected (no forge's clone URL comes near it,
//! and PostgreSQL's index on origin URLs cannot hold a much longer one).

use url::Url;

/// The URL schemes an origin may use: `rsync` is how a CVS repository is copied (SourceForge's
/// CVS modules, as Software Heritage records them).
pub const ALLOWED_SCHEMES: [&str; 5] = ["https", "http", "git", "ssh", "rsync"];

/// The longest origin URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Query parameters whose value is a credential (compared without regard to case): removed
/// from origin URLs.
pub const SECRET_PARAMETERS: [&str; 9] = [
    "access_token",
    "private_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "client_secret",
    "password",
    "auth",
];

/// Why an origin URL was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The URL does not parse.
    #[error("not a URL ({0})")]
    Unparsable(String),
    /// The scheme is not one of [`ALLOWED_SCHEMES`].
    #[error("scheme `{0}` is not one of https, http, git, ssh")]
    Scheme(String),
    /// The URL names no host.
    #[error("no host")]
    NoHost,
    /// The URL is longer than [`MAX_URL_BYTES`].
    #[error("{0} bytes long, more than the {MAX_URL_BYTES} allowed")]
    TooLong(usize),
}

/// A URL that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidUrl {
    /// The URL to store (credentials removed).
    pub url: String,
    /// Whether credentials had to be removed.
    pub credentials_removed: bool,
}

/// Validates an origin URL, removing any credentials it holds.
///
/// ```
/// use lister_core::validate::validate_origin_url;
/// let valid = validate_origin_url("https://user:secret@github.com/a/b").unwrap();
/// assert_eq!(valid.url, "https://github.com/a/b");
/// assert!(valid.credentials_removed);
/// assert!(validate_origin_url("ftp://example.org/x").is_err());
/// ```
pub fn validate_origin_url(raw: &str) -> Result<ValidUrl, Rejection> {
    if raw.len() > MAX_URL_BYTES {
        return Err(Rejection::TooLong(raw.len()));
    }
    let mut url = match Url::parse(raw) {
        Ok(url) => url,
        Err(err) => match scp_like_to_ssh(raw) {
            Some(url) => url,
            None => return Err(Rejection::Unparsable(err.to_string())),
        },
    };
    if !ALLOWED_SCHEMES.contains(&url.scheme()) {
        return Err(Rejection::Scheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Rejection::NoHost);
    }
    let mut credentials_removed = false;
    if url.password().is_some() {
        // Cannot fail: the URL has a host.
        let _ = url.set_password(None);
        credentials_removed = true;
        let _ = url.set_username("");
    } else if !url.username().is_empty() && url.scheme() != "ssh" {
        let _ = url.set_username("");
        credentials_removed = true;
    }
    if url.fragment().is_some() {
        url.set_fragment(None);
        credentials_removed = true;
    }
    let secret = |key: &str| {
        SECRET_PARAMETERS
            .iter()
            .any(|name| key.eq_ignore_ascii_case(name))
    };
    if url.query_pairs().any(|(key, _)| secret(&key)) {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| !secret(key))
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        credentials_removed = true;
    }
    let url = String::from(url);
    if url.len() > MAX_URL_BYTES {
        return Err(Rejection::TooLong(url.len()));
    }
    Ok(ValidUrl {
        url,
        credentials_removed,
    })
}

/// `git@host:owner/repo.git` → `ssh://git@host/owner/repo.git`; `None` if `raw` is not that form.
fn scp_like_to_ssh(raw: &str) -> Option<Url> {
    let (user_host, path) = raw.split_once(':')?;
    let (user, host) = user_host.split_once('@')?;
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', ' ', '@']);
    if !plain(user) || !plain(host) || path.starts_with("//") {
        return None;
    }
    Url::parse(&format!(
        "ssh://{user}@{host}/{}",
        path.trim_start_matches('/')
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_four_schemes_and_rejects_others() {
        for ok in ["https://h/a", "http://h/a", "git://h/a", "ssh://git@h/a"] {
            assert!(validate_origin_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            validate_origin_url("ftp://h/a"),
            Err(Rejection::Scheme("ftp".into()))
        );
        assert_eq!(
            validate_origin_url("file:///etc/passwd"),
            Err(Rejection::Scheme("file".into()))
        );
        assert!(matches!(
            validate_origin_url("not a url"),
            Err(Rejection::Unparsable(_))
        ));
        assert!(matches!(
            validate_origin_url(""),
            Err(Rejection::Unparsable(_))
        ));
    }

    #[test]
    fn removes_credentials() {
        let v = validate_origin_url("https://ghp_token@github.com/a/b").unwrap();
        assert_eq!(v.url, "https://github.com/a/b");
        assert!(v.credentials_removed);
        let v = validate_origin_url("ssh://git:pw@h/a").unwrap();
        assert_eq!(v.url, "ssh://h/a");
        let v = validate_origin_url("ssh://git@h/a").unwrap();
        assert_eq!(v.url, "ssh://git@h/a");
        assert!(!v.credentials_removed);
    }

    #[test]
    fn removes_secrets_from_the_query_and_the_fragment() {
        let v =
            validate_origin_url("https://h/a.git?access_token=s3cr3t&ref=main#ghp_abc").unwrap();
        assert_eq!(v.url, "https://h/a.git?ref=main");
        assert!(v.credentials_removed);
        let v = validate_origin_url("https://h/a.git?Private_Token=x").unwrap();
        assert_eq!(v.url, "https://h/a.git");
        let v = validate_origin_url("https://h/a.git?ref=main").unwrap();
        assert_eq!(
            (v.url.as_str(), v.credentials_removed),
            ("https://h/a.git?ref=main", false)
        );
    }

    #[test]
    fn refuses_urls_longer_than_the_limit() {
        let long = format!("https://h/{}", "a".repeat(3000));
        assert_eq!(validate_origin_url(&long), Err(Rejection::TooLong(3010)));
        let at_limit = format!("https://h/{}", "a".repeat(MAX_URL_BYTES - 10));
        assert!(validate_origin_url(&at_limit).is_ok());
    }

    #[test]
    fn rewrites_scp_like_ssh() {
        let v = validate_origin_url("git@bitbucket.org:team/repo.git").unwrap();
        assert_eq!(v.url, "ssh://git@bitbucket.org/team/repo.git");
    }

    proptest! {
        #[test]
        fn never_panics_and_never_keeps_a_password(raw in ".{0,80}") {
            if let Ok(valid) = validate_origin_url(&raw) {
                let url = Url::parse(&valid.url).unwrap();
                prop_assert!(url.password().is_none());
                prop_assert!(ALLOWED_SCHEMES.contains(&url.scheme()));
            }
        }

        #[test]
        fn url_shaped_input_keeps_scheme_and_host(
            scheme in "(https|http|git|ssh)", user in "[a-z]{0,5}", host in "[a-z]{1,10}\\.[a-z]{2,3}",
            path in "(/[a-zA-Z0-9_.-]{1,8}){0,3}",
        ) {
            let at = if user.is_empty() { String::new() } else { format!("{user}:pw@") };
            let valid = validate_origin_url(&format!("{scheme}://{at}{host}{path}")).unwrap();
            let url = Url::parse(&valid.url).unwrap();
            prop_assert_eq!(url.scheme(), scheme.as_str());
            prop_assert_eq!(url.host_str(), Some(host.as_str()));
            prop_assert!(url.password().is_none());
        }
    }
}
