//! Credentials of a forge instance, and which one to use while quotas run out.
//!
//! A secret never leaves this module except as a sensitive `Authorization` header value:
//! `Debug` and `Display` print `***`, and logs and errors name a credential by its position.

use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use base64::Engine as _;
use http::HeaderValue;

use crate::Error;

/// One credential: a bearer token or a user name and password.
#[derive(Clone)]
pub struct Credential {
    authorization: String,
}

impl Credential {
    /// `Authorization: Bearer <secret>` (a GitHub or GitLab token…).
    pub fn bearer(secret: impl AsRef<str>) -> Credential {
        Credential {
            authorization: format!("Bearer {}", secret.as_ref()),
        }
    }

    /// `Authorization: Basic …` (a Bitbucket app password…).
    pub fn basic(user: impl AsRef<str>, password: impl AsRef<str>) -> Credential {
        let pair = format!("{}:{}", user.as_ref(), password.as_ref());
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        Credential {
            authorization: format!("Basic {encoded}"),
        }
    }

    /// The header value, marked sensitive (never printed by `http`'s `Debug`).
    fn header(&self, index: usize) -> Result<HeaderValue, Error> {
        let mut value =
            HeaderValue::from_str(&self.authorization).map_err(|_| Error::InvalidCredential {
                index,
                reason: "it holds characters a header cannot carry",
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
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
        /// Its `Authorization` value.
        header: Option<HeaderValue>,
    },
    /// Every credential is spent: the earliest reset.
    WaitUntil(SystemTime),
}

/// The credentials and when each one's quota comes back. One is used until it is spent,
/// then the next; when all are spent, the earliest reset is awaited. Without credentials
/// the pool holds one anonymous slot.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Mutex<Slots>,
}

#[derive(Debug)]
struct Slots {
    headers: Vec<Option<HeaderValue>>,
    spent_until: Vec<Option<SystemTime>>,
    current: usize,
}

impl Pool {
    pub(crate) fn new(credentials: &[Credential]) -> Result<Pool, Error> {
        let mut headers = credentials
            .iter()
            .enumerate()
            .map(|(index, credential)| credential.header(index).map(Some))
            .collect::<Result<Vec<_>, _>>()?;
        if headers.is_empty() {
            headers.push(None);
        }
        let spent_until = vec![None; headers.len()];
        Ok(Pool {
            slots: Mutex::new(Slots {
                headers,
                spent_until,
                current: 0,
            }),
        })
    }

    /// The credential to use at `now`: the current one, or the next usable one.
    pub(crate) fn pick(&self, now: SystemTime) -> Pick {
        let mut slots = lock(&self.slots);
        let count = slots.headers.len();
        for offset in 0..count {
            let index = (slots.current + offset) % count;
            if slots.spent_until[index].is_none_or(|until| until <= now) {
                slots.spent_until[index] = None;
                slots.current = index;
                return Pick::Use {
                    index,
                    header: slots.headers[index].clone(),
                };
            }
        }
        let earliest = slots.spent_until.iter().flatten().min().copied();
        Pick::WaitUntil(earliest.unwrap_or(now))
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

    #[test]
    fn secrets_do_not_print() {
        let credentials = [
            Credential::bearer("s3cr3t"),
            Credential::basic("user", "s3cr3t"),
        ];
        for credential in &credentials {
            assert_eq!(format!("{credential:?} {credential}"), "*** ***");
        }
        let pool = Pool::new(&credentials).unwrap();
        assert!(!format!("{pool:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", pool.pick(SystemTime::now())).contains("s3cr3t"));
        let basic = Pool::new(&credentials[1..]).unwrap();
        let Pick::Use {
            header: Some(header),
            ..
        } = basic.pick(SystemTime::now())
        else {
            panic!()
        };
        assert_eq!(header.to_str().unwrap(), "Basic dXNlcjpzM2NyM3Q=");
    }

    #[test]
    fn invalid_credentials_are_refused_without_echo() {
        let error =
            Pool::new(&[Credential::bearer("ok"), Credential::bearer("bad\nsecret")]).unwrap_err();
        assert!(error.to_string().contains("#1"));
        assert!(!format!("{error} {error:?}").contains("secret"));
    }

    #[test]
    fn rotation_then_earliest_reset() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let pool = Pool::new(&[
            Credential::bearer("a"),
            Credential::bearer("b"),
            Credential::bearer("c"),
        ])
        .unwrap();
        let index = |pick: Pick| match pick {
            Pick::Use { index, .. } => Ok(index),
            Pick::WaitUntil(until) => Err(until),
        };
        assert_eq!(index(pool.pick(now)), Ok(0));
        assert_eq!(index(pool.pick(now)), Ok(0), "sticks to one credential");
        pool.spend(0, now + Duration::from_secs(300));
        assert_eq!(index(pool.pick(now)), Ok(1));
        pool.spend(1, now + Duration::from_secs(100));
        pool.spend(2, now + Duration::from_secs(200));
        assert_eq!(index(pool.pick(now)), Err(now + Duration::from_secs(100)));
        assert_eq!(index(pool.pick(now + Duration::from_secs(100))), Ok(1));
        let anonymous = Pool::new(&[]).unwrap();
        assert!(matches!(
            anonymous.pick(now),
            Pick::Use {
                index: 0,
                header: None
            }
        ));
    }
}
