//! A page's origins made ready to store: URLs validated (credentials removed), repeats within
//! the page dropped, and what was dropped counted and logged.
//!
//! A walk cleans a page on the blocking thread that parses it: the walk's own thread only
//! fetches.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use url::Url;

use crate::progress::RunProgress;
use crate::validate::validate_origin_url;
use crate::{ListerKey, Origin};

/// Cleans the pages of one run, counting into its progress.
pub(crate) struct OriginCleaner {
    key: ListerKey,
    progress: Arc<RunProgress>,
}

impl OriginCleaner {
    pub(crate) fn new(key: ListerKey, progress: Arc<RunProgress>) -> OriginCleaner {
        OriginCleaner { key, progress }
    }

    /// The lister instance, for log lines.
    pub(crate) fn key(&self) -> &ListerKey {
        &self.key
    }

    /// Counts items of a page that did not parse.
    pub(crate) fn count_rejected_items(&self, n: u64) {
        RunProgress::add(&self.progress.items_rejected, n);
    }

    /// Validates and de-duplicates a page's origins, counting and logging what it drops.
    pub(crate) fn clean(&self, origins: Vec<Origin>) -> Vec<Origin> {
        let count = |counter: &AtomicU64, n: u64| RunProgress::add(counter, n);
        count(&self.progress.origins_seen, origins.len() as u64);
        let mut valid = Vec::with_capacity(origins.len());
        for mut origin in origins {
            if !valid_visit_type(&origin.visit_type) {
                let visit_type = loggable(&origin.visit_type);
                tracing::warn!(lister = %self.key, url = %loggable(&origin.url), %visit_type, "origin rejected: not a visit type");
                count(&self.progress.origins_rejected, 1);
                continue;
            }
            match validate_origin_url(&origin.url) {
                Ok(checked) => {
                    if checked.credentials_removed {
                        tracing::warn!(lister = %self.key, url = %checked.url, "credentials removed from an origin URL");
                    }
                    origin.url = checked.url;
                    valid.push(origin);
                }
                Err(reason) => {
                    tracing::warn!(lister = %self.key, url = %loggable(&origin.url), %reason, "origin rejected");
                    count(&self.progress.origins_rejected, 1);
                }
            }
        }
        // The first sighting of each origin stays; the set borrows the URLs rather than copy
        // them.
        let mut seen = HashSet::with_capacity(valid.len());
        let first: Vec<bool> = valid
            .iter()
            .map(|origin| seen.insert((origin.url.as_str(), origin.visit_type.as_str())))
            .collect();
        drop(seen);
        let mut first = first.into_iter();
        valid.retain(|origin| {
            let keep = first.next().unwrap_or(true);
            if !keep {
                tracing::debug!(lister = %self.key, url = %origin.url, "origin repeated within a page");
                count(&self.progress.origins_duplicate, 1);
            }
            keep
        });
        valid
    }
}

/// A visit type is a short lowercase word (`git`, `hg`, `svn`, `bzr`, `cvs`, `tarball-directory`):
/// a forge's text there (a NUL byte PostgreSQL refuses, a kilobyte of junk) never reaches
/// the store.
pub(crate) fn valid_visit_type(visit_type: &str) -> bool {
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    (1..=32).contains(&visit_type.len()) && visit_type.chars().all(word)
}

/// Text a forge sent, safe to log: a URL without user info when it parses, else only its
/// length when it may hold one; control characters escaped (`\n`, `\u{1b}`), so that it can
/// neither forge a log line nor write into a terminal.
pub fn loggable(raw: &str) -> String {
    let text = match Url::parse(raw) {
        Ok(mut url) => {
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.into()
        }
        Err(_) if raw.contains('@') => return format!("<{} characters, not shown>", raw.len()),
        Err(_) => raw.to_owned(),
    };
    text.chars()
        .flat_map(|c| match c.is_control() {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visit_types_are_short_lowercase_words() {
        for good in ["git", "hg", "svn", "tarball-directory", "bzr"] {
            assert!(valid_visit_type(good), "{good}");
        }
        for bad in ["", "Git", "g\0it", "git\n", &"x".repeat(33), "hg git"] {
            assert!(!valid_visit_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_page_keeps_its_good_origins_and_counts_the_rest() {
        let progress = Arc::new(RunProgress::default());
        let cleaner = OriginCleaner::new(ListerKey::new("t", "t"), progress.clone());
        let origins = vec![
            Origin::new("https://h.test/a", "git"),
            Origin::new("https://h.test/b", "g\u{0}it"),
            Origin::new("not a url", "git"),
            Origin::new("https://h.test/a", "git"),
        ];
        let kept = cleaner.clean(origins);
        assert_eq!(kept.len(), 1);
        assert_eq!(RunProgress::get(&progress.origins_rejected), 2);
        assert_eq!(RunProgress::get(&progress.origins_duplicate), 1);
        assert_eq!(
            loggable("a\nforged line \u{1b}[31m"),
            "a\\nforged line \\u{1b}[31m"
        );
    }
}
