//! What the transport refuses: off-host links, oversized bodies, plain http off loopback;
//! and what it never shows: secrets.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use lister_core::{Forge, Lister, PageRequest, RunContext, RunOptions, StopReason};
use lister_http::{Credential, Error, TransportConfig, http_listing};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::{FakeForge, Fault, OtherHost};
use url::Url;

use crate::support::{GithubLike, config, fetch, next, origins, page, request, source};

/// A next link only names a cursor: the next request is built from it on the forge's own API
/// base, so a link to another host, address or name leads no request there, with or without
/// the credential. A request off the forge's host is refused before it is sent.
#[tokio::test]
async fn off_host_next_links_lead_no_request_off_the_host() {
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
            credentials: vec![Credential::token("s3cret")],
            ..config.clone()
        },
    );
    let others = [
        localhost.localhost_url(),
        other_ip.base_url(),
        same_port_other_name,
    ];
    for other in &others {
        forge.inject(Fault::OffHostNext(other.clone()), 1, 0);
        let page = page(fetch(&source, &request(&forge, 0)).await);
        let since = next(&page).expect("the link's cursor");
        assert_eq!(since, forge.github_ids()[99]);
        let following = GithubLike.request(&forge.github_url(), &since).unwrap();
        assert_eq!(following.url.origin(), forge.base_url().origin());
        // And fetching an off-host URL directly is refused before any request.
        let direct = PageRequest::get(other.join("repositories?since=5").unwrap());
        let error = fetch(&source, &direct).await.unwrap_err();
        assert!(
            matches!(error, Error::OffHost { attempts: 0, .. }),
            "{error}"
        );
        let text = error.to_string();
        let expected = forge.base_url().origin().ascii_serialization();
        assert!(
            text.contains(&expected) && text.contains(&other.origin().ascii_serialization()),
            "{text}"
        );
        assert!(!error.is_retryable());
    }
    assert_eq!(forge.listing_requests(), 3, "one request per page");

    // A whole run through such links lists everything from the forge alone.
    for (at, other) in others.iter().enumerate() {
        forge.inject(Fault::OffHostNext(other.clone()), 1, 2 * at as u64 + 1);
    }
    let db = TestDatabase::sqlite();
    let store = db.open().await;
    let config = TransportConfig {
        credentials: vec![Credential::token("s3cret")],
        ..config
    };
    let lister = http_listing(GithubLike, Some("test"), Some(forge.github_url()), config).unwrap();
    let stats = lister
        .run(&store, &RunOptions::default(), &RunContext::default())
        .await
        .unwrap();
    assert_eq!(stats.stopped, Some(StopReason::EndOfListing));
    assert_eq!((stats.origins_new, stats.requests), (1_000, 11));
    assert!(!localhost.was_contacted() && !other_ip.was_contacted());
    let host = forge.addr().to_string();
    assert!(
        forge
            .requests()
            .iter()
            .all(|request| request.header("host") == Some(host.as_str())),
        "every request went to the forge's own address and name"
    );
    assert!(clock.sleeps().is_empty());
    db.drop_database().await;
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
        let error = fetch(&source, &request(&forge, 0)).await.unwrap_err();
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
    let page = page(fetch(&source(&forge, config().0), &request(&forge, 0)).await);
    assert_eq!(origins(&page).len(), 100);
}

#[test]
fn plain_http_is_refused_off_loopback() {
    for refused in [
        "http://forge.example.org/",
        "http://10.0.0.1/",
        "http://localhost.example.org/",
    ] {
        let base = Url::parse(refused).unwrap();
        let error = http_listing(
            GithubLike,
            Some("main"),
            Some(base),
            TransportConfig::default(),
        )
        .unwrap_err();
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
            Some("main"),
            Some(Url::parse("http://forge.internal/").unwrap()),
            opted_in
        )
        .is_ok()
    );
    assert!(
        http_listing(
            GithubLike,
            Some("main"),
            Some(Url::parse("http://127.0.0.1:9/").unwrap()),
            TransportConfig::default()
        )
        .is_ok()
    );
}

#[tokio::test]
async fn secrets_never_show() {
    let forge = FakeForge::start().await;
    // The first refusal drops the token and goes on with the basic credential; the second,
    // of the last credential, ends the page.
    forge.inject(Fault::Status(401), 2, 0);
    forge.inject(Fault::PrimaryLimit, 1, 0);
    let secrets = ["ghp_TOPSECRET1", "TOPSECRET2"];
    let credentials = vec![
        Credential::token(secrets[0]),
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
    let unauthorized = fetch(&source, &request(&forge, 0)).await.unwrap_err();
    let limited = fetch(&source, &request(&forge, 0)).await.unwrap_err();
    assert_eq!(unauthorized.status().map(|s| s.as_u16()), Some(401));
    assert!(
        matches!(limited, Error::QuotaWaitTooLong { .. }),
        "{limited}"
    );
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
    let sent: Vec<_> = forge
        .requests()
        .iter()
        .map(|request| request.header("authorization").unwrap_or("-").to_owned())
        .collect();
    let basic = "Basic dXNlcjpUT1BTRUNSRVQy";
    assert_eq!(sent, ["token ghp_TOPSECRET1", basic, basic]);
}

#[tokio::test]
async fn requests_carry_the_user_agent_and_forge_headers() {
    let forge = FakeForge::start().await;
    let config = TransportConfig {
        user_agent_suffix: Some("ops@example.org".into()),
        ..config().0
    };
    page(fetch(&source(&forge, config), &request(&forge, 0)).await);
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
