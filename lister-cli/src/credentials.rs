//! Where a run's credentials come from: --token-file, then the environment, then the
//! configuration file. Never from a command-line value: argv is visible to every user.

use std::path::Path;

use anyhow::{Context, bail};
use lister_http::Credential;

use crate::config::InstanceConfig;

/// The credentials for `forge`, first found of: `token_file`; the environment
/// (`{FORGE}_TOKENS` comma-separated, `{FORGE}_TOKEN`, `{FORGE}_USERNAME` with
/// `{FORGE}_APP_PASSWORD`, or for GitHub an app: `GITHUB_APP_ID`,
/// `GITHUB_APP_INSTALLATION_ID` and `GITHUB_APP_PRIVATE_KEY_FILE`); the instance's
/// configuration. Empty means anonymous.
pub(crate) fn resolve(
    forge: &str,
    token_file: Option<&Path>,
    config: &InstanceConfig,
) -> anyhow::Result<Vec<Credential>> {
    if let Some(path) = token_file {
        return read_token_file(path);
    }
    let from_env = from_environment(forge, |name| std::env::var(name).ok())?;
    if !from_env.is_empty() {
        return Ok(from_env);
    }
    if let Some(path) = &config.token_file {
        return read_token_file(path);
    }
    let mut credentials: Vec<Credential> = config.tokens.iter().map(Credential::token).collect();
    let app = (
        &config.app_id,
        config.app_installation_id,
        &config.app_private_key_file,
    );
    match app {
        (Some(id), Some(installation), Some(key)) => {
            credentials.push(github_app(forge, id, &installation.to_string(), key)?);
        }
        (None, None, None) => {}
        _ => bail!(
            "the configuration of {forge} needs `app_id`, `app_installation_id` and \
             `app_private_key_file` together"
        ),
    }
    match (&config.username, &config.app_password) {
        (Some(user), Some(password)) => credentials.push(Credential::basic(user, password)),
        (None, None) => {}
        _ => bail!("the configuration of {forge} needs both `username` and `app_password`"),
    }
    Ok(credentials)
}

fn from_environment(
    forge: &str,
    var: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<Credential>> {
    let prefix = lister_http::credential_prefix(forge);
    if let Some(tokens) = var(&format!("{prefix}_TOKENS")) {
        let tokens: Vec<Credential> = tokens
            .split(',')
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(Credential::token)
            .collect();
        if tokens.is_empty() {
            bail!("{prefix}_TOKENS is set but holds no token");
        }
        return Ok(tokens);
    }
    if let Some(token) = var(&format!("{prefix}_TOKEN")) {
        if token.trim().is_empty() {
            bail!("{prefix}_TOKEN is set but empty: unset it to list anonymously");
        }
        return Ok(vec![Credential::token(token.trim())]);
    }
    let app = ["APP_ID", "APP_INSTALLATION_ID", "APP_PRIVATE_KEY_FILE"];
    let app = app.map(|name| var(&format!("{prefix}_{name}")));
    match app {
        [Some(id), Some(installation), Some(key)] => {
            return Ok(vec![github_app(
                forge,
                &id,
                &installation,
                Path::new(&key),
            )?]);
        }
        [None, None, None] => {}
        _ => bail!(
            "set {prefix}_APP_ID, {prefix}_APP_INSTALLATION_ID and {prefix}_APP_PRIVATE_KEY_FILE \
             together, or none of them"
        ),
    }
    match (
        var(&format!("{prefix}_USERNAME")),
        var(&format!("{prefix}_APP_PASSWORD")),
    ) {
        (Some(user), Some(password)) => Ok(vec![Credential::basic(user, password)]),
        (None, None) => Ok(Vec::new()),
        _ => bail!("set both {prefix}_USERNAME and {prefix}_APP_PASSWORD, or neither"),
    }
}

/// A GitHub App installation's credential: the app's id, the installation's id and the file
/// of the app's private key (PEM, as GitHub gives it).
fn github_app(
    forge: &str,
    app_id: &str,
    installation: &str,
    key_file: &Path,
) -> anyhow::Result<Credential> {
    if forge != "github" {
        bail!("GitHub App credentials are for `lister run github` only, not {forge}");
    }
    let installation: u64 = installation.trim().parse().with_context(|| {
        format!("the GitHub App installation id `{installation}` is not a number")
    })?;
    let pem = std::fs::read(key_file).with_context(|| {
        format!(
            "cannot read the GitHub App's private key {}",
            key_file.display()
        )
    })?;
    let app = lister_http::GithubApp::new(app_id.trim(), installation, &pem)?;
    Ok(Credential::github_app(app))
}

/// One token per line; blank lines and lines starting with `#` are skipped.
fn read_token_file(path: &Path) -> anyhow::Result<Vec<Credential>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read token file {}", path.display()))?;
    let mut tokens = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let token = line.trim();
        if token.is_empty() || token.starts_with('#') {
            continue;
        }
        if token.contains(char::is_whitespace) || !token.is_ascii() {
            bail!(
                "token file {}: line {} is not a token (it holds spaces or non-ASCII)",
                path.display(),
                number + 1
            );
        }
        tokens.push(Credential::token(token));
    }
    if tokens.is_empty() {
        bail!("token file {} holds no token", path.display());
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn reads_the_environment_in_order() {
        assert_eq!(
            from_environment("github", env(&[("GITHUB_TOKENS", "a, b,,c")]))
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            from_environment("github", env(&[("GITHUB_TOKEN", "a")]))
                .unwrap()
                .len(),
            1
        );
        let basic = env(&[("BITBUCKET_USERNAME", "u"), ("BITBUCKET_APP_PASSWORD", "p")]);
        assert_eq!(from_environment("bitbucket", basic).unwrap().len(), 1);
        assert!(from_environment("bitbucket", env(&[("BITBUCKET_USERNAME", "u")])).is_err());
        assert!(from_environment("github", env(&[("GITHUB_TOKENS", " , ")])).is_err());
        assert!(from_environment("github", env(&[])).unwrap().is_empty());
        let empty = from_environment("github", env(&[("GITHUB_TOKEN", " ")])).unwrap_err();
        assert!(
            empty.to_string().contains("GITHUB_TOKEN is set but empty"),
            "{empty}"
        );
        let hyphen = env(&[("BITBUCKET_SERVER_TOKEN", "t")]);
        assert_eq!(
            from_environment("bitbucket-server", hyphen).unwrap().len(),
            1
        );
    }

    #[test]
    fn a_github_app_takes_its_three_variables_and_its_key() {
        let key = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/github_app_test_key.pem"
        );
        let app = [
            ("GITHUB_APP_ID", "4242"),
            ("GITHUB_APP_INSTALLATION_ID", "77"),
            ("GITHUB_APP_PRIVATE_KEY_FILE", key),
        ];
        assert_eq!(from_environment("github", env(&app)).unwrap().len(), 1);
        let error = from_environment("github", env(&app[..2])).unwrap_err();
        assert!(error.to_string().contains("together"), "{error}");
        let error = from_environment(
            "gitea",
            env(&[
                ("GITEA_APP_ID", "1"),
                ("GITEA_APP_INSTALLATION_ID", "2"),
                ("GITEA_APP_PRIVATE_KEY_FILE", key),
            ]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("github` only"), "{error}");
        let not_a_key = [
            app[0],
            app[1],
            ("GITHUB_APP_PRIVATE_KEY_FILE", "Cargo.toml"),
        ];
        let error = from_environment("github", env(&not_a_key)).unwrap_err();
        assert!(error.to_string().contains("no RSA key"), "{error:#}");
    }

    #[test]
    fn token_files_are_checked_line_by_line() {
        let dir = std::env::temp_dir().join(format!("lister-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good");
        std::fs::write(&good, "# tokens\nabc\n\n def \n").unwrap();
        assert_eq!(read_token_file(&good).unwrap().len(), 2);
        let bad = dir.join("bad");
        std::fs::write(&bad, "abc\nnot a token\n").unwrap();
        let err = read_token_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("line 2 is not a token") && !err.contains("not a token\n"),
            "{err}"
        );
        let empty = dir.join("empty");
        std::fs::write(&empty, "# nothing\n").unwrap();
        assert!(
            read_token_file(&empty)
                .unwrap_err()
                .to_string()
                .contains("holds no token")
        );
        assert!(read_token_file(&dir.join("missing")).is_err());
    }
}
