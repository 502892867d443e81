//! A website's `robots.txt`, for forges that are websites rather than APIs
//! ([`Forge::WEBSITE`](lister_core::Forge::WEBSITE): cgit, gitweb…), read once per run with
//! `texting_robots` and obeyed as RFC 9309 says: a page it disallows for `lister` is not
//! asked for; its `Crawl-delay` slows the run down to it; a `robots.txt` that is missing
//! (a `4xx`) allows everything; one the server fails to give (a `5xx`, no answer) disallows
//! everything, so the run stops saying why.

use lister_core::PageRequest;
use texting_robots::Robot;
use tokio::sync::OnceCell;
use url::Url;

use crate::error::{Error, scrub};
use crate::transport::Transport;

/// The user-agent token `robots.txt` groups are matched against.
const AGENT: &str = "lister";

/// What a website's `robots.txt` allows.
pub(crate) enum Rules {
    /// Every page (no `robots.txt`, or one with no rule for us).
    Everything,
    /// The pages the file allows.
    File(Box<Robot>),
    /// Nothing: the server failed to give its `robots.txt` (status, or why).
    Nothing(String),
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rules::Everything => f.write_str("Everything"),
            Rules::File(robot) => write!(f, "File(delay {:?})", robot.delay),
            Rules::Nothing(why) => write!(f, "Nothing({why})"),
        }
    }
}

impl Rules {
    /// Reads `body`, the `robots.txt` the server answered with `status`.
    pub(crate) fn read(status: u16, body: &[u8]) -> Rules {
        match status {
            200..=299 => match Robot::new(AGENT, body) {
                Ok(robot) => Rules::File(Box::new(robot)),
                // An unreadable file is no rule at all (RFC 9309: parse what can be parsed).
                Err(_) => Rules::Everything,
            },
            400..=499 => Rules::Everything,
            status => Rules::Nothing(format!("HTTP {status}")),
        }
    }

    /// Whether `url` may be asked for.
    pub(crate) fn allows(&self, url: &Url) -> bool {
        match self {
            Rules::Everything => true,
            Rules::File(robot) => robot.allowed(url.as_str()),
            Rules::Nothing(_) => false,
        }
    }

    /// The pause the file asks between two requests.
    pub(crate) fn crawl_delay(&self) -> Option<std::time::Duration> {
        match self {
            Rules::File(robot) => robot
                .delay
                .and_then(|seconds| std::time::Duration::try_from_secs_f32(seconds).ok()),
            _ => None,
        }
    }
}

/// The rules of one website, fetched on first use.
#[derive(Debug, Default)]
pub(crate) struct Robots {
    rules: OnceCell<Rules>,
}

impl Robots {
    /// Fails with [`Error::Robots`] when the site's `robots.txt` disallows `url`; the first
    /// call fetches it (on `url`'s scheme, host and port, without a credential).
    pub(crate) async fn check(&self, transport: &Transport, url: &Url) -> Result<&Rules, Error> {
        let rules = self
            .rules
            .get_or_init(|| async {
                let Ok(robots) = url.join("/robots.txt") else {
                    return Rules::Everything;
                };
                match transport
                    .exchange(&PageRequest::get(robots), None, None)
                    .await
                {
                    Ok(answer) => Rules::read(answer.status.as_u16(), &answer.body),
                    Err(_) => Rules::Nothing("no answer".into()),
                }
            })
            .await;
        match rules.allows(url) {
            true => Ok(rules),
            false => Err(Error::Robots {
                url: scrub(url),
                why: match rules {
                    Rules::Nothing(why) => format!("its robots.txt could not be read ({why})"),
                    _ => "its robots.txt disallows it".into(),
                },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_file_allows_and_disallows_for_lister_and_says_its_delay() {
        let file = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n\nUser-agent: lister\nDisallow: /cgit/secret\nCrawl-delay: 0.5\n";
        let rules = Rules::read(200, file);
        assert!(rules.allows(&url("https://git.example.org/cgit/")));
        assert!(!rules.allows(&url("https://git.example.org/cgit/secret.git/")));
        assert!(
            rules.allows(&url("https://git.example.org/private/x")),
            "our group wins"
        );
        assert_eq!(
            rules.crawl_delay(),
            Some(std::time::Duration::from_millis(500))
        );
    }

    #[test]
    fn a_missing_file_allows_everything_and_a_failing_server_nothing() {
        assert!(Rules::read(404, b"").allows(&url("https://git.example.org/a")));
        assert!(Rules::read(403, b"").allows(&url("https://git.example.org/a")));
        assert!(!Rules::read(503, b"").allows(&url("https://git.example.org/a")));
        assert_eq!(Rules::read(404, b"").crawl_delay(), None);
    }
}
