//! GitHub Apps: `POST /app/installations/{id}/access_tokens` (under `/api/v3` on Enterprise),
//! authenticated by the app's JSON Web Token (RS256, `iss` = the app's id, at most ten
//! minutes), answered `201 {"token": "ghs_…", "expires_at": "…", "permissions": …}` with an
//! installation token valid an hour, which then lists with a quota of its own. A JWT that does
//! not verify, from another app, or for another installation is refused as GitHub refuses it.

use http::{Response, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::faults::json_error;
use super::routes::Call;
use super::server::{Body, full, lock};

/// The app the fake knows, and its installation.
pub const APP_ID: &str = "4242";
/// The installation of [`APP_ID`] that lists.
pub const INSTALLATION_ID: u64 = 77;
/// The app's private key (a key made for these tests), for `GITHUB_APP_PRIVATE_KEY_FILE`.
pub const PRIVATE_KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/github_app_test_key.pem"
);
const PUBLIC_KEY: &[u8] = include_bytes!("../../fixtures/github_app_test_key.pub.pem");

/// The installation whose token `path` asks for (`/app/installations/77/access_tokens`).
pub(crate) fn installation(path: &str) -> Option<u64> {
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let id = path.strip_prefix("/app/installations/")?;
    id.strip_suffix("/access_tokens")?.parse().ok()
}

/// Mints an installation token, if the JWT is the app's.
pub(crate) fn access_token(call: &Call<'_>, installation: u64) -> Response<Body> {
    let bearer = call.headers.get(http::header::AUTHORIZATION);
    let bearer = bearer.and_then(|value| value.to_str().ok());
    let Some(jwt) = bearer.and_then(|value| value.strip_prefix("Bearer ")) else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    };
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY).expect("the test key reads");
    let mut checks = Validation::new(Algorithm::RS256);
    checks.set_issuer(&[APP_ID]);
    checks.set_required_spec_claims(&["exp", "iat", "iss"]);
    let Ok(claims) = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &checks) else {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    };
    let lifetime =
        claims.claims["exp"].as_i64().unwrap_or(0) - claims.claims["iat"].as_i64().unwrap_or(0);
    if lifetime > 600 {
        let message = "'Expiration time' claim ('exp') is too far in the future";
        return json_error(StatusCode::UNAUTHORIZED, message);
    }
    if installation != INSTALLATION_ID {
        return json_error(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut minted = lock(&call.state.app_tokens);
    let token = format!("ghs_{:036}", minted.len() + 1);
    minted.push(token.clone());
    let expires = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let body = serde_json::json!({
        "token": token,
        "expires_at": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "permissions": {"metadata": "read", "contents": "read"},
        "repository_selection": "all",
    });
    full(
        StatusCode::CREATED,
        "application/json; charset=utf-8",
        body.to_string(),
    )
}
