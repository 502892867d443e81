//! Parsing database URLs: `sqlite://PATH`, a plain path, or `postgres://…`.

use std::fmt;
use std::path::PathBuf;

use lister_core::{Error, Result};

/// Which database a URL names. `Display` never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…`, `postgresql://…` or a plain path.
    ///
    /// ```
    /// use lister_store::DatabaseUrl;
    /// let url = DatabaseUrl::parse("postgres://me:secret@db/lister").unwrap();
    /// assert_eq!(url.to_string(), "postgres://me:***@db/lister");
    /// assert_eq!(DatabaseUrl::parse("sqlite:///tmp/l.db").unwrap(),
    ///            DatabaseUrl::Sqlite("/tmp/l.db".into()));
    /// ```
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        let invalid = |reason: &str| Error::DatabaseUrl {
            url: redact(raw),
            reason: reason.to_owned(),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|err| invalid(&err.to_string()))?;
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = match raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            Some(path) => path,
            None if raw.contains("://") => {
                return Err(invalid("use sqlite://PATH, a plain path, or postgres://…"));
            }
            None => raw,
        };
        if path.is_empty() {
            return Err(invalid("the SQLite path is empty"));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// The URL with its password (and any `password=` query parameter) replaced by `***`.
pub fn redact(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        // Not a URL: hide everything between `:` and `@` in case it holds a password.
        return match (raw.find("://"), raw.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                let userinfo = &raw[start + 3..at];
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{}{user}:***{}", &raw[..start + 3], &raw[at..])
            }
            _ => raw.to_owned(),
        };
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    let has_secret_param = url.query_pairs().any(|(key, _)| key == "password");
    if has_secret_param {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            DatabaseUrl::parse("a.db").unwrap(),
            DatabaseUrl::Sqlite("a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://a.db").unwrap(),
            DatabaseUrl::Sqlite("a.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn rejects_unknown_schemes_without_showing_the_password() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mysql://root:***@h/db"), "{err}");
        assert!(!err.contains("hunter2"));
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn redacts_passwords_everywhere() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db?password=hunter2").unwrap();
        assert!(!format!("{url} {url:?}").contains("hunter2"));
    }
}
