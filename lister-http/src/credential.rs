//! Credentials of a forge instance, and which one to use while quotas run out.
//!
//! A secret never leaves this module except as a sensitive header value or a hidden form field
//! that the transport adds to a body as it sends: `Debug` and `Display` print `***`, logs and
//! errors name a credential by its position, and [`Pool::redact`] removes every secret from
//! text a forge sends back.

use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use lister_core::Auth;

use crate::Error;
use crate::app::{GithubApp, REFRESH_BEFORE};

/// One credential: a token, presented as the forge's [`Auth`] says, or a user name and
/// password, always presented as HTTP basic authentication.
#[derive(Clone)]
pub struct Credential {
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Token(String),
    Basic {
        user: String,
        password: String,
    },
    /// A GitHub App installation, whose token is minted as the run goes.
    App(GithubApp),
}

/// How a credential goes on a request: a header, or a field of the form body.
#[derive(Debug, Clone)]
pub(crate) enum Presented {
    /// A header, its value marked sensitive (never printed by `http`'s `Debug`).
    Header(HeaderName, HeaderValue),
    /// A form field (name, value): the transport adds it to the body as it sends.
    FormField(&'static str, Hidden),
}

/// A secret that does not print.
#[derive(Clone)]
pub(crate) struct Hidden(pub(crate) String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Credential {
    /// A token (GitHub, GitLab, Gitea, Phabricator…), presented as the forge's [`Auth`] says.
    pub fn token(secret: impl AsRef<str>) -> Credential {
        Credential {
            secret: Secret::Token(secret.as_ref().to_owned()),
        }
    }

    /// A user name and password (a Bitbucket app password…): `Authorization: Basic …`.
    pub fn basic(user: impl AsRef<str>, password: impl AsRef<str>) -> Credential {
        Credential {
            secret: Secret::Basic {
                user: user.as_ref().to_owned(),
                password: password.as_ref().to_owned(),
            },
        }
    }

    /// A GitHub App installation (see [`GithubApp`]): its token is minted from the app's key
    /// when the run first needs it, and again before it expires.
    pub fn github_app(app: GithubApp) -> Credential {
        Credential {
            secret: Secret::App(app),
        }
    }

    /// The secret texts a forge might echo back: the token, or the password and the basic
    /// header's encoding (an app's tokens join them as they are minted).
    fn secrets(&self) -> Vec<String> {
        match &self.secret {
            Secret::Token(token) => vec![token.clone()],
            Secret::Basic { user, password } => {
                vec![password.clone(), basic_value(user, password)]
            }
            Secret::App(_) => Vec::new(),
        }
    }

    /// How this credential goes on a request to a forge that wants `auth`; `None` for an app
    /// until its token is minted.
    fn present(&self, auth: Auth, index: usize) -> Result<Option<Presented>, Error> {
        match &self.secret {
            Secret::App(_) => Ok(None),
            _ => present_token(&self.secret, auth, index).map(Some),
        }
    }
}

/// How a token or a user name and password goes on a request to a forge that wants `auth`.
fn present_token(secret: &Secret, auth: Auth, index: usize) -> Result<Presented, Error> {
    let header = |name: HeaderName, value: String| {
        let mut value = HeaderValue::from_str(&value).map_err(|_| Error::InvalidCredential {
            index,
            reason: "it holds characters a header cannot carry",
        })?;
        value.set_sensitive(true);
        Ok(Presented::Header(name, value))
    };
    let token = match secret {
        Secret::Basic { user, password } => {
            let value = format!("Basic {}", basic_value(user, password));
            return header(AUTHORIZATION, value);
        }
        Secret::Token(token) => token,
        Secret::App(_) => unreachable!("an app's token is presented once minted"),
    };
    match auth {
        Auth::Bearer => header(AUTHORIZATION, format!("Bearer {token}")),
        Auth::Token => header(AUTHORIZATION, format!("token {token}")),
        Auth::Header(name) => {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Client {
                reason: format!("invalid credential header name `{name}`"),
            })?;
            header(name, token.clone())
        }
        Auth::FormField(name) => Ok(Presented::FormField(name, Hidden(token.clone()))),
    }
}

fn basic_value(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which credential to send next.
#[derive(Debug)]
pub(crate) enum Pick {
    /// Send this one (`None`: anonymously).
    Use {
        /// Its position, for logs.
        index: usize,
        /// How it goes on the request (`None`: anonymously).
        presented: Option<Presented>,
    },
    /// Every credential is spent: the earliest reset.
    WaitUntil(SystemTime),
    /// Every usable credential has as many requests in flight as it has quota left: wait for
    /// one to settle ([`Pool::settled`]).
    Busy,
    /// Mint a token for the app at this position first (none yet, or it expires soon).
    Mint(usize, GithubApp),
}

/// The credentials and when each one's quota comes back. One is used until it is spent,
/// then the next; when all are spent, the earliest reset is awaited. Without credentials
/// the pool holds one anonymous slot.
///
/// Requests at once (a parallel listing's walks) never take more of a credential than its
/// last answer said it had left: a credential with 3 left serves 3 requests in flight, and
/// the next goes to another one, or waits for one to settle. Until its first answer, a
/// credential serves one request at a time; one whose forge sends no quota headers, any.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Mutex<Slots>,
    /// Woken when a request settles ([`Pool::settle`]).
    pub(crate) settled: tokio::sync::Notify,
    /// Every secret of the pool, one per line, for [`Pool::redact`].
    secrets: Mutex<Hidden>,
    /// How the forge wants a token (an app's minted ones too).
    auth: Auth,
}

#[derive(Debug)]
struct Slots {
    presented: Vec<Option<Presented>>,
    /// The apps among the credentials, and when each one's token expires (`None`: not minted).
    apps: Vec<Option<(GithubApp, Option<SystemTime>)>>,
    /// Credentials the forge refused (401): never picked again.
    refused: Vec<bool>,
    spent_until: Vec<Option<SystemTime>>,
    /// What each credential's last answer said of its quota.
    known: Vec<Known>,
    /// Each credential's requests in flight.
    in_flight: Vec<u64>,
    current: usize,
}

/// What the pool knows of a credential's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Nothing yet (or its window reset): one request at a time, to learn it.
    Unknown,
    /// The forge sends no quota headers: no bound.
    Unmetered,
    /// This many requests left in the window ending at `reset` (if said).
    Left {
        left: u64,
        reset: Option<SystemTime>,
    },
}

impl Known {
    /// Whether a credential with `in_flight` requests may send one more.
    fn admits(self, in_flight: u64) -> bool {
        match self {
            Known::Unknown => in_flight == 0,
            Known::Unmetered => true,
            Known::Left { left, .. } => in_flight < left,
        }
    }

    /// After an answer saying `quota` (left, and when the window ends): the lower count
    /// within one window (answers settle out of order), the new one in a later window.
    fn after(self, quota: Option<(u64, Option<SystemTime>)>) -> Known {
        match (self, quota) {
            (Known::Unknown, None) => Known::Unmetered,
            (known, None) => known,
            (Known::Left { left, reset }, Some((now_left, now_reset)))
                if same_window(reset, now_reset) =>
            {
                Known::Left {
                    left: left.min(now_left),
                    reset,
                }
            }
            (
                Known::Left {
                    reset: Some(old), ..
                },
                Some((_, Some(new))),
            ) if new < old => self,
            (_, Some((left, reset))) => Known::Left { left, reset },
        }
    }
}

/// Whether two answers' reset times name one window: within two seconds (a reset given in
/// seconds from the answer moves a little from one answer to the next).
fn same_window(a: Option<SystemTime>, b: Option<SystemTime>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let gap = a.duration_since(b).or_else(|_| b.duration_since(a));
            gap.is_ok_and(|gap| gap <= std::time::Duration::from_secs(2))
        }
        (a, b) => a.is_none() && b.is_none(),
    }
}

impl Pool {
    /// The pool of `credentials`, presented as `auth` says.
    pub(crate) fn new(credentials: &[Credential], auth: Auth) -> Result<Pool, Error> {
        let mut presented = credentials
            .iter()
            .enumerate()
            .map(|(index, credential)| credential.present(auth, index))
            .collect::<Result<Vec<_>, _>>()?;
        let mut apps: Vec<_> = credentials
            .iter()
            .map(|credential| match &credential.secret {
                Secret::App(app) => Some((app.clone(), None)),
                _ => None,
            })
            .collect();
        if presented.is_empty() {
            presented.push(None);
            apps.push(None);
        }
        let mut secrets: Vec<String> = credentials.iter().flat_map(Credential::secrets).collect();
        secrets.retain(|secret| secret.len() >= 4);
        let spent_until = vec![None; presented.len()];
        Ok(Pool {
            slots: Mutex::new(Slots {
                refused: vec![false; presented.len()],
                known: vec![Known::Unknown; presented.len()],
                in_flight: vec![0; presented.len()],
                presented,
                apps,
                spent_until,
                current: 0,
            }),
            settled: tokio::sync::Notify::new(),
            secrets: Mutex::new(Hidden(secrets.join("\n"))),
            auth,
        })
    }

    /// `text` (a forge's message) without any of the pool's secrets, nor anything shaped like
    /// an `Authorization` value (`Bearer …`, `token …`, `Basic …`).
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let secrets = lock(&self.secrets).0.clone();
        for secret in secrets.split('\n').filter(|secret| !secret.is_empty()) {
            text = text.replace(secret, "***");
        }
        let mut out = String::with_capacity(text.len());
        let mut hide_next = false;
        for word in text.split_inclusive(char::is_whitespace) {
            let bare = word.trim_end();
            if hide_next && !bare.is_empty() {
                out.push_str("***");
                out.push_str(&word[bare.len()..]);
            } else {
                out.push_str(word);
            }
            let scheme = bare
                .trim_start_matches(['"', '\'', ':'])
                .to_ascii_lowercase();
            hide_next = matches!(scheme.as_str(), "bearer" | "token" | "basic");
        }
        out
    }

    /// The credential to use at `now`: the current one, or the next usable one. A `Use` is
    /// a request in flight until [`settle`](Self::settle) says how it went.
    pub(crate) fn pick(&self, now: SystemTime) -> Pick {
        let mut slots = lock(&self.slots);
        let count = slots.presented.len();
        let mut busy = false;
        for offset in 0..count {
            let index = (slots.current + offset) % count;
            if slots.refused[index] {
                continue;
            }
            match slots.spent_until[index] {
                Some(until) if until > now => continue,
                Some(_) => {
                    slots.spent_until[index] = None;
                    slots.known[index] = Known::Unknown;
                }
                None => {}
            }
            if !slots.known[index].admits(slots.in_flight[index]) {
                busy = true;
                continue;
            }
            slots.current = index;
            if let Some((app, expires)) = &slots.apps[index]
                && expires.is_none_or(|at| at <= now + REFRESH_BEFORE)
            {
                return Pick::Mint(index, app.clone());
            }
            slots.in_flight[index] += 1;
            return Pick::Use {
                index,
                presented: slots.presented[index].clone(),
            };
        }
        if busy {
            return Pick::Busy;
        }
        let earliest = slots.spent_until.iter().flatten().min().copied();
        Pick::WaitUntil(earliest.unwrap_or(now))
    }

    /// A request `pick` gave credential `index` is answered (or failed): `quota` is what the
    /// answer said was left, and when the window ends.
    pub(crate) fn settle(&self, index: usize, quota: Option<(u64, Option<SystemTime>)>) {
        let mut slots = lock(&self.slots);
        if let Some(in_flight) = slots.in_flight.get_mut(index) {
            *in_flight = in_flight.saturating_sub(1);
            slots.known[index] = slots.known[index].after(quota);
        }
        drop(slots);
        self.settled.notify_waiters();
    }

    /// Drops a credential the forge refused, if another one remains: `false` when it is the
    /// last (the refusal then ends the page, as it would without rotation).
    pub(crate) fn refuse(&self, index: usize) -> bool {
        let mut slots = lock(&self.slots);
        let remaining = slots.refused.iter().filter(|refused| !**refused).count();
        if remaining <= 1 || slots.refused.get(index) != Some(&false) {
            return false;
        }
        slots.refused[index] = true;
        true
    }

    /// Installs the token minted for the app at `index`, valid until `expires`.
    pub(crate) fn install(
        &self,
        index: usize,
        token: &str,
        expires: SystemTime,
    ) -> Result<(), Error> {
        let presented = present_token(&Secret::Token(token.to_owned()), self.auth, index)?;
        let mut secrets = lock(&self.secrets);
        secrets.0.push('\n');
        secrets.0.push_str(token);
        let mut slots = lock(&self.slots);
        slots.presented[index] = Some(presented);
        if let Some((_, at)) = &mut slots.apps[index] {
            *at = Some(expires);
        }
        Ok(())
    }

    /// Marks a credential spent until `until`.
    pub(crate) fn spend(&self, index: usize, until: SystemTime) {
        if let Some(slot) = lock(&self.slots).spent_until.get_mut(index) {
            *slot = Some(until);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn header(pool: &Pool) -> (String, String) {
        match pool.pick(SystemTime::now()) {
            Pick::Use {
                presented: Some(Presented::Header(name, value)),
                ..
            } => (name.to_string(), value.to_str().unwrap().to_owned()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let credentials = [
            Credential::token("s3cr3t"),
            Credential::basic("user", "s3cr3t"),
        ];
        for credential in &credentials {
            assert_eq!(format!("{credential:?} {credential}"), "*** ***");
        }
        let pool = Pool::new(&credentials, Auth::FormField("api.token")).unwrap();
        assert!(!format!("{pool:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", pool.pick(SystemTime::now())).contains("s3cr3t"));
    }

    #[test]
    fn each_forge_gets_the_credential_as_it_wants() {
        let token = [Credential::token("abc123")];
        let cases = [
            (Auth::Bearer, ("authorization", "Bearer abc123")),
            (Auth::Token, ("authorization", "token abc123")),
            (Auth::Header("PRIVATE-TOKEN"), ("private-token", "abc123")),
        ];
        for (auth, (name, value)) in cases {
            let pool = Pool::new(&token, auth).unwrap();
            assert_eq!(header(&pool), (name.to_owned(), value.to_owned()));
        }
        let basic = Pool::new(&[Credential::basic("user", "s3cr3t")], Auth::Token).unwrap();
        assert_eq!(header(&basic).1, "Basic dXNlcjpzM2NyM3Q=");
        let form = Pool::new(&token, Auth::FormField("api.token")).unwrap();
        match form.pick(SystemTime::now()) {
            Pick::Use {
                presented: Some(Presented::FormField(name, Hidden(value))),
                ..
            } => assert_eq!((name, value.as_str()), ("api.token", "abc123")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        let pool = Pool::new(
            &[
                Credential::token("ghp_0123456789"),
                Credential::basic("me", "hunter22"),
            ],
            Auth::Token,
        )
        .unwrap();
        let echoed = "Bad credentials: Authorization: token ghp_0123456789 from me:hunter22; \
                      also Bearer other-secret and token\tanother, basic dXNlcg==";
        let redacted = pool.redact(echoed);
        for secret in [
            "ghp_0123456789",
            "hunter22",
            "other-secret",
            "another",
            "dXNlcg==",
        ] {
            assert!(!redacted.contains(secret), "{redacted}");
        }
        assert!(
            redacted.starts_with("Bad credentials: Authorization: token ***"),
            "{redacted}"
        );
    }

    #[test]
    fn invalid_credentials_are_refused_without_echo() {
        let credentials = [Credential::token("ok"), Credential::token("bad\nsecret")];
        let error = Pool::new(&credentials, Auth::Token).unwrap_err();
        assert!(error.to_string().contains("#1"));
        assert!(!format!("{error} {error:?}").contains("secret"));
    }

    #[test]
    fn rotation_then_earliest_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let credentials = ["a", "b", "c"].map(Credential::token);
        let pool = Pool::new(&credentials, Auth::Token).unwrap();
        let index = |pick: Pick| match pick {
            Pick::Use { index, .. } => {
                pool.settle(index, Some((100, None)));
                Ok(index)
            }
            Pick::WaitUntil(until) => Err(until),
            Pick::Busy | Pick::Mint(..) => panic!("neither busy nor an app here"),
        };
        assert_eq!(index(pool.pick(now)), Ok(0));
        assert_eq!(index(pool.pick(now)), Ok(0), "sticks to one credential");
        pool.spend(0, now + Duration::from_secs(300));
        assert_eq!(index(pool.pick(now)), Ok(1));
        pool.spend(1, now + Duration::from_secs(100));
        pool.spend(2, now + Duration::from_secs(200));
        assert_eq!(index(pool.pick(now)), Err(now + Duration::from_secs(100)));
        assert_eq!(index(pool.pick(now + Duration::from_secs(100))), Ok(1));
        assert!(pool.refuse(1), "b is refused, a and c remain");
        assert!(pool.refuse(0));
        assert!(!pool.refuse(2), "the last one stays");
        assert_eq!(index(pool.pick(now + Duration::from_secs(300))), Ok(2));
        let anonymous = Pool::new(&[], Auth::Token).unwrap();
        assert!(matches!(
            anonymous.pick(now),
            Pick::Use {
                index: 0,
                presented: None
            }
        ));
    }

    #[test]
    fn requests_in_flight_never_take_more_than_a_credential_has_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let reset = Some(now + Duration::from_secs(60));
        let pool = Pool::new(&["a", "b"].map(Credential::token), Auth::Token).unwrap();
        let index = |pick: Pick| match pick {
            Pick::Use { index, .. } => Some(index),
            Pick::Busy => None,
            other => panic!("{other:?}"),
        };
        // Before any answer, one request at a time each.
        assert_eq!(index(pool.pick(now)), Some(0));
        assert_eq!(index(pool.pick(now)), Some(1));
        assert_eq!(index(pool.pick(now)), None, "both are learning their quota");
        pool.settle(0, Some((2, reset)));
        pool.settle(1, Some((0, reset)));
        assert_eq!(index(pool.pick(now)), Some(0));
        assert_eq!(index(pool.pick(now)), Some(0));
        assert_eq!(
            index(pool.pick(now)),
            None,
            "a has 2 in flight and 2 left; b has none"
        );
        // Out of order: the older answer's count does not raise the known one.
        pool.settle(0, Some((0, reset)));
        pool.settle(0, Some((1, reset)));
        assert_eq!(
            index(pool.pick(now)),
            None,
            "a has none left in this window"
        );
        let next = Some(now + Duration::from_secs(120));
        let later = Pool::new(&[Credential::token("c")], Auth::Token).unwrap();
        assert_eq!(index(later.pick(now)), Some(0));
        later.settle(0, Some((1, reset)));
        later.settle(0, Some((5, next)));
        assert!(matches!(later.pick(now), Pick::Use { .. }), "a new window");
        let unmetered = Pool::new(&[], Auth::Token).unwrap();
        assert_eq!(index(unmetered.pick(now)), Some(0));
        unmetered.settle(0, None);
        for _ in 0..10 {
            assert_eq!(
                index(unmetered.pick(now)),
                Some(0),
                "no quota headers: no bound"
            );
        }
    }
}
