//! The fake's GitLab, Heptapod, Gitea, Forgejo, Gogs, Phabricator and Phorge endpoints,
//! walked to the end with a bare HTTP client as a correct lister would.

use lister_tests::fake_forge::{Config, ExpectedOrigin, FakeForge, Fault, QuotaKey};
use serde_json::Value;

/// A Conduit token: any 32 characters.
const CONDUIT_TOKEN: &str = "api-aaaabbbbccccddddeeeeffffgggg";

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn json(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The target of the `rel` link of a `Link` header (targets hold no commas here).
fn link(response: &reqwest::Response, rel: &str) -> Option<String> {
    let header = response.headers().get("link")?.to_str().unwrap();
    header.split(',').find_map(|entry| {
        let (target, params) = entry.trim().strip_prefix('<')?.split_once('>')?;
        params
            .contains(&format!("rel=\"{rel}\""))
            .then(|| target.to_owned())
    })
}

/// A query parameter of a URL.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// GitLab's project as swh-lister reads it (Heptapod: `vcs_type` `hg`/`hg_git` is hg).
fn gitlab_origin(project: &Value) -> ExpectedOrigin {
    let full_view = project.get("visibility").is_some();
    let hg = matches!(project["vcs_type"].as_str(), Some("hg" | "hg_git"));
    ExpectedOrigin {
        url: text(&project["http_url_to_repo"]).unwrap(),
        visit_type: if hg { "hg" } else { "git" }.to_owned(),
        enabled: project["visibility"].as_str().is_none_or(|v| v == "public"),
        is_fork: full_view.then(|| project.get("forked_from_project").is_some()),
        last_update: text(&project["last_activity_at"]),
    }
}

/// Walks GitLab's keyset pagination; returns the origins and the number of requests.
/// Also returns the length of the last page.
async fn walk_gitlab(
    start: url::Url,
    token: Option<(&str, &str)>,
) -> (Vec<ExpectedOrigin>, usize, usize) {
    let (mut origins, mut requests, mut last_len) = (Vec::new(), 0, 0);
    let mut next = Some(start.to_string());
    while let Some(url) = next {
        let mut request = client().get(&url);
        if let Some((name, value)) = token {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        next = link(&response, "next");
        let page = json(response).await;
        let page = page.as_array().unwrap();
        last_len = page.len();
        origins.extend(page.iter().map(gitlab_origin));
        requests += 1;
        assert!(requests < 100, "runaway pagination");
    }
    (origins, requests, last_len)
}

#[tokio::test]
async fn gitlab_keyset_pages_to_the_end() {
    let forge = FakeForge::start().await;
    let start = forge
        .gitlab_url()
        .join("api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=50")
        .unwrap();
    let (origins, requests, last) =
        walk_gitlab(start.clone(), Some(("PRIVATE-TOKEN", "glpat-x"))).await;
    assert_eq!(origins, forge.gitlab_origins(true));
    assert_eq!(
        (origins.len(), requests, last),
        (250, 6, 0),
        "five full pages, then []"
    );
    assert!(origins.iter().any(|o| !o.enabled) && origins.iter().any(|o| o.is_fork == Some(true)));

    let (anonymous, requests, last) = walk_gitlab(start, None).await;
    assert_eq!(anonymous, forge.gitlab_origins(false));
    assert_eq!(
        (anonymous.len(), requests, last),
        (210, 5, 10),
        "a short last page ends too"
    );
    assert!(anonymous.len() < 250 && anonymous.iter().all(|o| o.enabled && o.is_fork.is_none()));
}

#[tokio::test]
async fn gitlab_links_views_and_rate_limit_headers() {
    let forge = FakeForge::start().await;
    let url = forge
        .gitlab_url()
        .join("api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=20")
        .unwrap();
    let response = client().get(url.clone()).send().await.unwrap();
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("ratelimit-limit"), "60");
    assert_eq!(header("ratelimit-remaining"), "59");
    assert_eq!(header("ratelimit-observed"), "1");
    assert!(header("ratelimit-reset").parse::<u64>().unwrap() > 1_700_000_000);
    let next = link(&response, "next").unwrap();
    let page = json(response).await;
    let last_id = page[19]["id"].as_u64().unwrap();
    let base = forge.base_url();
    assert_eq!(
        next,
        format!(
            "{base}api/v4/projects?id_after={last_id}&order_by=id&pagination=keyset&per_page=20&sort=asc"
        )
    );
    let simple = [
        "id",
        "description",
        "name",
        "name_with_namespace",
        "path",
        "path_with_namespace",
        "created_at",
        "default_branch",
        "tag_list",
        "topics",
        "ssh_url_to_repo",
        "http_url_to_repo",
        "web_url",
        "readme_url",
        "avatar_url",
        "forks_count",
        "star_count",
        "last_activity_at",
        "namespace",
    ];
    for project in page.as_array().unwrap() {
        let mut keys: Vec<&str> = project
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut expected = simple;
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    let full = client()
        .get(url.clone())
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    let full = json(full).await;
    assert!(full[0]["_links"]["self"].is_string());
    assert_eq!(
        full[10]["visibility"], "private",
        "the 11th project is private"
    );

    let offset = forge
        .gitlab_url()
        .join("api/v4/projects?per_page=20")
        .unwrap();
    let response = client().get(offset).bearer_auth("u").send().await.unwrap();
    assert_eq!(response.headers()["x-total"], "250");
    assert_eq!(response.headers()["x-next-page"], "2");
    assert!(link(&response, "next").unwrap().contains("page=2"));
    let newest = json(response).await;
    assert!(
        newest[0]["id"].as_u64() > newest[1]["id"].as_u64(),
        "without keyset: offset pages, newest first"
    );

    forge.set_quota(QuotaKey::token("t"), 1);
    let ok = client()
        .get(url.clone())
        .header("private-token", "t")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let spent = client()
        .get(url.clone())
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status(), 429);
    assert_eq!(spent.headers()["ratelimit-remaining"], "0");
    assert!(
        spent.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(spent.text().await.unwrap(), "Retry later\n");

    let not_keyset = url.as_str().replace("order_by=id", "order_by=name");
    assert_eq!(client().get(not_keyset).send().await.unwrap().status(), 405);
}

#[tokio::test]
async fn heptapod_mixes_mercurial_and_git() {
    let forge = FakeForge::start_with(Config {
        heptapod_projects: 120,
        ..Config::default()
    })
    .await;
    let start = forge
        .heptapod_url()
        .join("api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=50")
        .unwrap();
    assert!(start.path().starts_with("/heptapod/api/v4/"));
    let (origins, requests, _) = walk_gitlab(start, Some(("authorization", "Bearer t"))).await;
    assert_eq!(origins, forge.heptapod_origins(true));
    assert_eq!((origins.len(), requests), (120, 3));
    assert!(
        origins
            .iter()
            .any(|o| o.visit_type == "hg" && !o.url.ends_with(".git"))
    );
    assert!(
        origins
            .iter()
            .any(|o| o.visit_type == "git" && o.url.ends_with(".git"))
    );
    assert!(
        origins
            .iter()
            .all(|o| o.url.starts_with("https://foss.heptapod.example.org/group"))
    );
}

/// Gitea's, Forgejo's or Gogs' repository as swh-lister reads it.
fn gitea_origin(repository: &Value) -> ExpectedOrigin {
    ExpectedOrigin {
        url: text(&repository["clone_url"]).unwrap(),
        visit_type: "git".to_owned(),
        enabled: repository["private"] == false,
        is_fork: repository["fork"].as_bool(),
        last_update: text(&repository["updated_at"]),
    }
}

/// Walks `{"ok":true,"data":[…]}` pages by their `Link` next, adding `extra` parameters back
/// to each next URL (as Gogs drops them).
async fn walk_search(start: url::Url, token: Option<&str>, extra: &[(&str, &str)]) -> Vec<Value> {
    let (mut repositories, mut next) = (Vec::new(), Some(start));
    while let Some(url) = next {
        let mut request = client().get(url.clone());
        if let Some(token) = token {
            request = request.header("authorization", format!("token {token}"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        next = link(&response, "next").map(|next| {
            let mut next = url::Url::parse(&next).unwrap();
            let missing: Vec<_> = extra
                .iter()
                .filter(|(name, _)| !next.query_pairs().any(|(key, _)| key == *name))
                .collect();
            for (name, value) in missing {
                next.query_pairs_mut().append_pair(name, value);
            }
            next
        });
        let body = json(response).await;
        assert_eq!(body["ok"], true);
        repositories.extend(body["data"].as_array().unwrap().iter().cloned());
        assert!(repositories.len() < 10_000, "runaway pagination");
    }
    repositories
}

#[tokio::test]
async fn gitea_and_forgejo_page_by_id() {
    let forge = FakeForge::start().await;
    let start = forge
        .gitea_url()
        .join("api/v1/repos/search?sort=id&order=asc&limit=100&page=1")
        .unwrap();
    let first = client().get(start.clone()).send().await.unwrap();
    assert_eq!(
        first.headers()["x-total-count"],
        forge.gitea_origins(false).len().to_string().as_str()
    );
    let last = link(&first, "last").unwrap();
    assert_eq!(param(&last, "page").as_deref(), Some("5"), "{last}");
    assert_eq!(
        param(&last, "limit").as_deref(),
        Some("100"),
        "Gitea keeps the parameters"
    );
    assert_eq!(
        json(first).await["data"].as_array().unwrap().len(),
        50,
        "limit clamped to 50"
    );

    let anonymous = walk_search(start.clone(), None, &[]).await;
    let origins: Vec<_> = anonymous.iter().map(gitea_origin).collect();
    assert_eq!(origins, forge.gitea_origins(false));
    let authenticated = walk_search(start, Some("t"), &[]).await;
    assert_eq!(
        authenticated.iter().map(gitea_origin).collect::<Vec<_>>(),
        forge.gitea_origins(true)
    );
    assert_eq!(authenticated.len(), 250);
    let fork = authenticated.iter().find(|r| r["fork"] == true).unwrap();
    assert!(fork["parent"]["clone_url"].is_string());

    let start = forge
        .forgejo_url()
        .join("api/v1/repos/search?sort=id&order=asc&limit=50")
        .unwrap();
    let repositories = walk_search(start, Some("t"), &[]).await;
    assert_eq!(
        repositories.iter().map(gitea_origin).collect::<Vec<_>>(),
        forge.forgejo_origins(true)
    );
    assert_eq!(repositories[0]["object_format_name"], "sha1");
    assert!(
        repositories[0]["clone_url"]
            .as_str()
            .unwrap()
            .starts_with("https://codeberg.example.org/")
    );
}

#[tokio::test]
async fn gitea_without_sort_is_alphabetical() {
    let forge = FakeForge::start().await;
    let url = forge
        .gitea_url()
        .join("api/v1/repos/search?limit=10")
        .unwrap();
    let names: Vec<String> = json(client().get(url).send().await.unwrap()).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text(&r["name"]).unwrap())
        .collect();
    assert_eq!(names[..4], ["repo-1", "repo-10", "repo-100", "repo-101"]);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let bad = forge
        .gitea_url()
        .join("api/v1/repos/search?sort=nope")
        .unwrap();
    assert_eq!(client().get(bad).send().await.unwrap().status(), 422);
}

#[tokio::test]
async fn gogs_needs_a_keyword_and_drops_it_from_links() {
    let forge = FakeForge::start().await;
    let empty = forge
        .gogs_url()
        .join("api/v1/repos/search?limit=50")
        .unwrap();
    let response = client().get(empty).send().await.unwrap();
    assert!(response.headers().get("link").is_none());
    assert_eq!(json(response).await["data"], Value::Array(vec![]));

    let start = forge
        .gogs_url()
        .join("api/v1/repos/search?q=_&limit=50&page=1")
        .unwrap();
    let first = client().get(start.clone()).send().await.unwrap();
    let next = link(&first, "next").unwrap();
    assert_eq!(
        next,
        format!("{}gogs/api/v1/repos/search?page=2", forge.base_url())
    );
    let repositories = walk_search(start, Some("t"), &[("q", "_"), ("limit", "50")]).await;
    assert_eq!(
        repositories.iter().map(gitea_origin).collect::<Vec<_>>(),
        forge.gogs_origins()
    );
    assert!(
        repositories
            .iter()
            .any(|r| r["parent"]["clone_url"].is_string())
    );

    let keyword = forge
        .gogs_url()
        .join("api/v1/repos/search?q=repo-12_")
        .unwrap();
    let data = json(client().get(keyword).send().await.unwrap()).await;
    let names: Vec<_> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text(&r["name"]).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "repo-121", "repo-122", "repo-123", "repo-124", "repo-125", "repo-126", "repo-127",
            "repo-129"
        ]
    );
}

fn conduit_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

async fn conduit(url: &url::Url, fields: &[(&str, &str)]) -> Value {
    let response = client()
        .post(url.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(conduit_body(fields))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await
}

/// swh-lister's choice among a repository's URIs: builtin https, by short name, else
/// callsign, else id.
fn phabricator_origin(repository: &Value) -> ExpectedOrigin {
    let uris = repository["attachments"]["uris"]["uris"]
        .as_array()
        .unwrap();
    let builtin = |identifier: &str| {
        uris.iter().find(|uri| {
            let builtin = &uri["fields"]["builtin"];
            builtin["protocol"] == "https" && builtin["identifier"] == identifier
        })
    };
    let uri = ["shortname", "callsign", "id"]
        .into_iter()
        .find_map(builtin)
        .unwrap();
    ExpectedOrigin {
        url: text(&uri["fields"]["uri"]["effective"]).unwrap(),
        visit_type: text(&repository["fields"]["vcs"]).unwrap(),
        enabled: true,
        is_fork: None,
        last_update: None,
    }
}

async fn walk_conduit(url: &url::Url) -> (Vec<ExpectedOrigin>, usize) {
    let (mut origins, mut after, mut calls) = (Vec::new(), String::new(), 0);
    loop {
        let fields = [
            ("api.token", CONDUIT_TOKEN),
            ("order", "oldest"),
            ("attachments[uris]", "1"),
            ("after", after.as_str()),
        ];
        let body = conduit(url, &fields).await;
        assert!(body["error_code"].is_null(), "{body}");
        let result = &body["result"];
        origins.extend(
            result["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(phabricator_origin),
        );
        calls += 1;
        match result["cursor"]["after"].as_str() {
            Some(next) => after = next.to_owned(),
            None => return (origins, calls),
        }
    }
}

#[tokio::test]
async fn phabricator_and_phorge_page_by_cursor() {
    let forge = FakeForge::start().await;
    let url = forge
        .phabricator_url()
        .join("api/diffusion.repository.search")
        .unwrap();
    let (origins, calls) = walk_conduit(&url).await;
    assert_eq!(origins, forge.phabricator_origins());
    assert_eq!(calls, 3, "100, 100, then 50 with after null");
    for vcs in ["git", "hg", "svn"] {
        assert!(origins.iter().any(|o| o.visit_type == vcs));
    }
    let request = forge.requests().pop().unwrap();
    assert_eq!(request.form("api.token").as_deref(), Some(CONDUIT_TOKEN));

    let url = forge
        .phorge_url()
        .join("api/diffusion.repository.search")
        .unwrap();
    let (origins, _) = walk_conduit(&url).await;
    assert_eq!(origins, forge.phorge_origins());
    assert!(
        origins[0]
            .url
            .starts_with("https://phorge.example.org/source/")
    );
}

#[tokio::test]
async fn phabricator_errors_come_in_a_200() {
    let forge = FakeForge::start().await;
    let url = forge
        .phabricator_url()
        .join("api/diffusion.repository.search")
        .unwrap();
    let wrong = conduit(&url, &[("api.token", "api-short"), ("order", "oldest")]).await;
    assert!(wrong["result"].is_null());
    assert_eq!(wrong["error_code"], "ERR-INVALID-AUTH");
    assert!(
        wrong["error_info"]
            .as_str()
            .unwrap()
            .contains("should be 32 characters long")
    );
    let missing = conduit(&url, &[("order", "oldest")]).await;
    assert!(missing["result"].is_null() && missing["error_code"].is_string());

    let too_many = conduit(&url, &[("api.token", CONDUIT_TOKEN), ("limit", "101")]).await;
    assert_eq!(too_many["error_code"], "ERR-CONDUIT-CORE");
    assert!(
        too_many["error_info"]
            .as_str()
            .unwrap()
            .starts_with("Maximum page size for Conduit API method calls is 100")
    );

    let newest = conduit(&url, &[("api.token", CONDUIT_TOKEN), ("limit", "2")]).await;
    let ids: Vec<u64> = newest["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert!(ids[0] > ids[1], "the default order is newest first");
    assert_eq!(
        newest["result"]["data"][0]["attachments"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn faults_apply_to_the_new_routes() {
    let forge = FakeForge::start().await;
    let gitlab = forge
        .gitlab_url()
        .join("api/v4/projects?pagination=keyset&order_by=id&sort=asc")
        .unwrap();
    let gitea = forge
        .gitea_url()
        .join("api/v1/repos/search?sort=id&order=asc")
        .unwrap();
    let phabricator = forge
        .phabricator_url()
        .join("api/diffusion.repository.search")
        .unwrap();
    forge.inject(Fault::Status(502), 1, 0);
    forge.inject(Fault::PrimaryLimit, 1, 0);
    forge.inject(Fault::TruncatedJson, 1, 0);
    forge.inject(Fault::BareTooManyRequests, 1, 0);
    forge.inject(Fault::LoopingNext, 1, 0);

    assert_eq!(
        client().get(gitlab.clone()).send().await.unwrap().status(),
        502
    );
    let limited = client().get(gitlab.clone()).send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    let truncated = client().get(gitea.clone()).send().await.unwrap();
    assert_eq!(truncated.status(), 200);
    assert!(serde_json::from_slice::<Value>(&truncated.bytes().await.unwrap()).is_err());
    let limiter = client()
        .post(phabricator)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(conduit_body(&[("api.token", CONDUIT_TOKEN)]))
        .send()
        .await
        .unwrap();
    assert_eq!(limiter.status(), 429);
    assert!(
        limiter
            .text()
            .await
            .unwrap()
            .starts_with("TOO MANY REQUESTS")
    );
    let looping = client().get(gitea.clone()).send().await.unwrap();
    let next = link(&looping, "next").unwrap();
    assert_eq!(param(&next, "page").as_deref(), Some("1"));
    assert_eq!(client().get(gitea).send().await.unwrap().status(), 200);
    assert_eq!(forge.listing_requests(), 6);
}
