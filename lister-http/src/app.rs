//! GitHub App authentication: an app's installation lists with a token of its own, minted
//! from the app's private key and refreshed before it expires. An installation has its own
//! quota (5,000 requests an hour and more, by the size of the organization), where pooling
//! several users' personal tokens breaks GitHub's terms.
//!
//! The app signs a JSON Web Token (RS256, `iss` = its id, valid 10 minutes) and trades it for
//! an installation token: `POST {api}/app/installations/{id}/access_tokens`, answered
//! `201 {"token": "ghs_…", "expires_at": "…"}` (an hour). Neither the key, the JWT nor the
//! token is ever printed: `Debug` shows `***`, and the token joins the secrets redacted from
//! what a forge sends back.

use std::fmt;
use std::time::{Duration, SystemTime};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::Error;

/// A token is minted again when less than this is left of it (GitHub's own clients refresh
/// five minutes ahead).
pub(crate) const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// How long the app's JWT is valid (GitHub accepts at most ten minutes), and how far back its
/// issue time goes, for a clock a little ahead of GitHub's.
const JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);
const JWT_BACKDATE: Duration = Duration::from_secs(60);

/// A GitHub App installation, as a credential.
#[derive(Clone)]
pub struct GithubApp {
    app_id: String,
    installation_id: u64,
    key: EncodingKey,
}

impl GithubApp {
    /// The app `app_id`'s installation `installation_id`, signing with the app's private key
    /// (`pem`: the PEM file GitHub gives, PKCS#1 `BEGIN RSA PRIVATE KEY`, or PKCS#8). Fails,
    /// without echoing the key, when the key does not read.
    pub fn new(app_id: &str, installation_id: u64, pem: &[u8]) -> Result<GithubApp, Error> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| Error::Client {
            reason: "the GitHub App's private key is no RSA key in PEM".to_owned(),
        })?;
        Ok(GithubApp {
            app_id: app_id.to_owned(),
            installation_id,
            key,
        })
    }

    /// The path of the token request under the API base.
    pub(crate) fn token_path(&self) -> String {
        format!("/app/installations/{}/access_tokens", self.installation_id)
    }

    /// The app's JSON Web Token at `now`.
    pub(crate) fn jwt(&self, now: SystemTime) -> Result<String, Error> {
        let seconds = |at: SystemTime| {
            let since = at.duration_since(SystemTime::UNIX_EPOCH);
            since.unwrap_or_default().as_secs()
        };
        let claims = serde_json::json!({
            "iat": seconds(now - JWT_BACKDATE),
            "exp": seconds(now + JWT_LIFETIME),
            "iss": self.app_id,
        });
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key).map_err(|e| {
            Error::Client {
                reason: format!("signing the GitHub App's token: {e}"),
            }
        })
    }
}

impl fmt::Debug for GithubApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GithubApp({}, installation {}, ***)",
            self.app_id, self.installation_id
        )
    }
}

/// An installation token as GitHub answers it: the token and when it expires.
pub(crate) fn read_token(body: &[u8]) -> Option<(String, SystemTime)> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    let token = answer.get("token")?.as_str()?.to_owned();
    let expires = answer.get("expires_at")?.as_str()?;
    let expires = chrono::DateTime::parse_from_rfc3339(expires).ok()?;
    Some((token, SystemTime::from(expires)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{Credential, Pick, Pool, Presented};
    use lister_core::Auth;

    const KEY: &[u8] = include_bytes!("../../tests/fixtures/github_app_test_key.pem");
    const PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/github_app_test_key.pub.pem");

    #[test]
    fn the_jwt_is_the_apps_signed_with_its_key_for_nine_minutes() {
        let app = GithubApp::new("12345", 678, KEY).unwrap();
        assert_eq!(
            format!("{app:?}"),
            "GithubApp(12345, installation 678, ***)"
        );
        let now = SystemTime::now();
        let jwt = app.jwt(now).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC).unwrap();
        let checks = jsonwebtoken::Validation::new(Algorithm::RS256);
        let claims = jsonwebtoken::decode::<serde_json::Value>(&jwt, &key, &checks).unwrap();
        assert_eq!(claims.claims["iss"], "12345");
        let lifetime =
            claims.claims["exp"].as_u64().unwrap() - claims.claims["iat"].as_u64().unwrap();
        assert_eq!(lifetime, 600);
        assert!(GithubApp::new("1", 2, b"-----BEGIN RSA PRIVATE KEY-----\nnope\n").is_err());
        assert_eq!(app.token_path(), "/app/installations/678/access_tokens");
    }

    #[test]
    fn a_token_is_minted_first_and_again_five_minutes_before_it_expires() {
        let app = GithubApp::new("12345", 678, KEY).unwrap();
        let pool = Pool::new(&[Credential::github_app(app)], Auth::Token).unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(matches!(pool.pick(now), Pick::Mint(0, _)));
        let body = br#"{"token": "ghs_minted0123", "expires_at": "1970-01-12T14:46:40Z"}"#;
        let (token, expires) = read_token(body).unwrap();
        assert_eq!(expires, now + Duration::from_secs(3_600));
        pool.install(0, &token, expires).unwrap();
        match pool.pick(now) {
            Pick::Use {
                index: 0,
                presented: Some(Presented::Header(name, value)),
            } => {
                assert_eq!(name, "authorization");
                assert_eq!(value.to_str().unwrap(), "token ghs_minted0123");
                assert!(value.is_sensitive());
            }
            other => panic!("{other:?}"),
        }
        pool.settle(0, Some((4_999, None)));
        let later = now + Duration::from_secs(3_600 - 5 * 60 - 1);
        assert!(matches!(pool.pick(later), Pick::Use { .. }));
        let soon = now + Duration::from_secs(3_600 - 5 * 60);
        assert!(matches!(pool.pick(soon), Pick::Mint(0, _)));
        let echoed = pool.redact("Bad credentials ghs_minted0123");
        assert_eq!(echoed, "Bad credentials ***");
        assert_eq!(
            read_token(b"{\"message\": \"A JSON web token could not be decoded\"}"),
            None
        );
    }
}
