//! What the transport refuses: off-host links, oversized bodies, plain http off loopback;
//! and what it never shows: secrets.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use lister_http::{Credential, Error, TransportConfig, http_listing};
use lister_tests::fake_forge::{FakeForge, Fault, OtherHost};
use url::Url;

use crate::support::{GithubLike, config, fetch, page, page_url, source};

#[tokio::test]
async fn off_host_next_links_fail_without_contacting_the_other_host() {
    let forge = FakeForge::start().await;
    let localhost = OtherHost::start().await.unwrap();
    let other_ip = OtherHost::start_on(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .await
        .unwrap();
    let same_port_other_name =
        Url::parse(&format!("http://localhost:{}/", forge.addr().port())).unwrap();
    let (config, clock) = config();
    let source = source(
        &forge,
        TransportConfig {
            credentials: vec![Credential::bearer("s3cret")],
            ..config
        },
    );
    for other in [
        localhost.localhost_url(),
        other_ip.base_url(),
        same_port_other_name,
    ] {
        forge.inject(Fault::OffHostNext(other.clone()), 1, 0);
        let error = fetch(&source, &page_url(&forge, 0)).await.unwrap_err();
        assert!(matches!(error, Error::OffHost { .. }), "{error}");
        let text = error.to_string();
        let expected = forge.base_url().origin().ascii_serialization();
        assert!(
            text.contains(&expected) && text.contains(&other.origin().ascii_serialization()),
            "{text}"
        );
        assert!(!error.is_retryable());
        // And fetching such a URL directly is refused before any request.
        let direct = other.join("repositories?since=5").unwrap();
        assert!(matches!(
            fetch(&source, &direct).await,
            Err(Error::OffHost { attempts: 0, .. })
        ));
    }
    assert!(!localhost.was_contacted() && !other_ip.was_contacted());
    assert_eq!(
        forge.listing_requests(),
        3,
        "one request per page, no retry"
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn oversized_bodies_fail_clearly_without_being_buffered() {
    for declare_length in [true, false] {
        let forge = FakeForge::start().await;
        forge.inject(
            Fault::Oversized {
                bytes: 40 * 1024 * 1024,
                declare_length,
            },
            1,
            0,
        );
        let (config, _clock) = config();
        let source = source(
            &forge,
            TransportConfig {
                max_body_bytes: 1024 * 1024,
                ..config
            },
        );
        let started = std::time::Instant::now();
        let error = fetch(&source, &page_url(&forge, 0)).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::BodyTooLarge {
                    limit: 1_048_576,
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().contains("exceeds the 1048576-byte cap"),
            "{error}"
        );
        assert_eq!(forge.listing_requests(), 1, "not retried");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn the_default_cap_admits_normal_pages() {
    let forge = FakeForge::start().await;
    let page = page(fetch(&source(&forge, config().0), &page_url(&forge, 0)).await);
    assert_eq!(page.origins.len(), 100);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    for refused in [
        "http://forge.example.org/",
        "http://10.0.0.1/",
        "http://localhost.example.org/",
    ] {
        let base = Url::parse(refused).unwrap();
        let error =
            http_listing(GithubLike, "main", Some(base), TransportConfig::default()).unwrap_err();
        assert!(matches!(error, Error::InsecureHttp { .. }), "{error}");
        assert!(
            error.to_string().contains(refused.trim_end_matches('/')),
            "{error}"
        );
    }
    let opted_in = TransportConfig {
        allow_insecure_http: true,
        ..TransportConfig::default()
    };
    assert!(
        http_listing(
            GithubLike,
            "main",
            Some(Url::parse("http://forge.internal/").unwrap()),
            opted_in
        )
        .is_ok()
    );
    assert!(
        http_listing(
            GithubLike,
            "main",
            Some(Url::parse("http://127.0.0.1:9/").unwrap()),
            TransportConfig::default()
        )
        .is_ok()
    );
}

#[tokio::test]
async fn secrets_never_show() {
    let forge = FakeForge::start().await;
    forge.inject(Fault::Status(401), 1, 0);
    forge.inject(Fault::PrimaryLimit, 2, 0);
    let secrets = ["ghp_TOPSECRET1", "TOPSECRET2"];
    let credentials = vec![
        Credential::bearer(secrets[0]),
        Credential::basic("user", secrets[1]),
    ];
    let (config, _clock) = config();
    let config = TransportConfig {
        credentials,
        max_quota_wait: Duration::from_secs(1),
        ..config
    };
    let shown = format!("{config:?}");
    let source = source(&forge, config);
    let unauthorized = fetch(&source, &page_url(&forge, 0)).await.unwrap_err();
    let limited = fetch(&source, &page_url(&forge, 0)).await.unwrap_err();
    for text in [
        shown,
        format!("{source:?}"),
        unauthorized.to_string(),
        format!("{unauthorized:?}"),
        format!("{limited} {limited:?}"),
    ] {
        for secret in secrets {
            assert!(!text.contains(secret), "secret in {text}");
        }
        assert!(!text.contains("VE9QU0VDUkVUMg"), "encoded secret in {text}");
    }
    assert_eq!(
        forge.requests()[0].header("authorization"),
        Some("Bearer ghp_TOPSECRET1")
    );
}

#[tokio::test]
async fn requests_carry_the_user_agent_and_forge_headers() {
    let forge = FakeForge::start().await;
    let config = TransportConfig {
        user_agent_suffix: Some("ops@example.org".into()),
        ..config().0
    };
    page(fetch(&source(&forge, config), &page_url(&forge, 0)).await);
    let sent = &forge.requests()[0];
    let agent = sent.header("user-agent").unwrap();
    assert!(
        agent.starts_with(&format!(
            "lister/{} (github; +http",
            env!("CARGO_PKG_VERSION")
        )),
        "{agent}"
    );
    assert!(agent.ends_with(") ops@example.org"), "{agent}");
    assert_eq!(sent.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(sent.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.local_addr,
        forge.addr(),
        "the request reached the loopback fake"
    );
    assert_eq!(sent.path_and_query, "/repositories?since=0");
}
