//! End to end, a broken environment: a read-only database, a full disk, a PostgreSQL role
//! allowed one connection. Reading commands read wherever the data can be read; writing ones
//! say what is wrong in plain words, and nothing is lost.
//!
//! The SQLite cases mount file systems (a read-only bind mount, a small tmpfs), so they need
//! root, as CI runs them; without it they fail saying so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Forge, assert_complete, list, lister, run};
use lister_store::testing::TestDatabase;
use lister_tests::fake_forge::FakeForge;

/// Runs `mount` (or `umount`) with `args`, panicking with the reason when it cannot.
fn mount(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "{program} {args:?} failed (these tests need root to mount): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A directory of its own under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lister-env-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Every reading command, on `database`, succeeds; returns `lister listers --json`'s first row.
async fn read_everything(database: &str) -> serde_json::Value {
    for args in [&["origins"][..], &["queue", "stats"]] {
        let out = run(lister(database).args(args)).await;
        assert_eq!(out.code, 0, "lister {args:?}: {out:?}");
    }
    let out = run(lister(database).args(["listers", "--json"])).await;
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_read_only_mount_is_read_and_a_run_says_why_it_cannot_write() {
    let (dir, view) = (scratch("rw"), scratch("ro"));
    let path = dir.join("lister.db");
    let fake = FakeForge::start().await;
    let out = list(&sqlite_url(&path), Forge::GitHub, &fake, &[], &[]).await;
    assert_complete(&sqlite_url(&path), Forge::GitHub, &fake, &out).await;
    let listed = fake.github_html_urls().len();

    let view_str = view.to_str().unwrap();
    mount("mount", &["--bind", dir.to_str().unwrap(), view_str]);
    mount("mount", &["-o", "remount,bind,ro", view_str]);
    let read_only = sqlite_url(&view.join("lister.db"));
    let row = read_everything(&read_only).await;
    assert_eq!(row["origins"], listed, "{row}");
    let out = run(lister(&read_only).args(["origins"])).await;
    assert_eq!(out.stdout.lines().count(), listed);

    let out = list(&read_only, Forge::GitHub, &fake, &[], &[]).await;
    mount("umount", &[view_str]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("read-only"),
        "said in plain words: {out:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_fails_in_plain_words_and_a_rerun_loses_nothing() {
    let dir = scratch("full");
    let dir_str = dir.to_str().unwrap();
    mount("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir_str]);
    let database = sqlite_url(&dir.join("lister.db"));
    let fake = FakeForge::start().await;
    fake.add_github_repositories(40_000);
    let token = [("GITHUB_TOKEN", "tok-full")];

    let out = list(&database, Forge::GitHub, &fake, &[], &token).await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("disk holding the database is full"),
        "{out:?}"
    );
    let before = read_everything(&database).await;

    mount("mount", &["-o", "remount,size=256m", dir_str]);
    let out = list(&database, Forge::GitHub, &fake, &[], &token).await;
    assert_complete(&database, Forge::GitHub, &fake, &out).await;
    let after = read_everything(&database).await;
    assert!(
        after["origins"].as_u64() > before["origins"].as_u64(),
        "{before} {after}"
    );
    mount("umount", &[dir_str]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PostgreSQL database whose new sessions are read-only (as on a standby).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_only_is_read_and_a_run_says_why_it_cannot_write() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("skipped: set LISTER_TEST_POSTGRES_URL to run the PostgreSQL backend");
        return;
    };
    let fake = FakeForge::start().await;
    let out = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_complete(&db.url, Forge::GitHub, &fake, &out).await;
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    db.execute(&format!(
        "ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"
    ))
    .await;

    let row = read_everything(&db.url).await;
    assert_eq!(row["origins"], fake.github_html_urls().len(), "{row}");
    let out = list(&db.url, Forge::GitHub, &fake, &[], &[]).await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("read-only"), "{out:?}");
    // Dropped from the server's own database, which is not read-only.
    db.drop_database().await;
}

/// A one-shot command (a grab that folds first, an ack, the readers) works through a role
/// allowed a single connection: it never holds two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_shot_commands_use_one_connection() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("skipped: set LISTER_TEST_POSTGRES_URL to run the PostgreSQL backend");
        return;
    };
    let store = db.open().await;
    let lister_record = store
        .register_lister(&lister_core::ListerKey::new("github", "default"))
        .await
        .unwrap();
    let origins: Vec<_> = (0..500)
        .map(|n| lister_core::Origin::new(format!("https://h/{n}"), "git"))
        .collect();
    // Committed, not folded: the grab folds them first.
    lister_store::testing::commit_origins(&store, &lister_record, &origins).await;
    drop(store);
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let role = format!("one_{name}");
    db.execute(&format!(
        "CREATE ROLE \"{role}\" LOGIN CONNECTION LIMIT 1; \
         GRANT ALL ON SCHEMA public TO \"{role}\"; \
         GRANT ALL ON ALL TABLES IN SCHEMA public TO \"{role}\"; \
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";"
    ))
    .await;
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1) + "?connect_timeout=3";

    let out =
        run(lister(&url).args(["queue", "grab", "--visit-type", "git", "--count", "10"])).await;
    assert_eq!(out.code, 0, "{out:?}");
    let grants: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(grants.len(), 10, "{out:?}");
    let lease = grants[0]["lease_token"].as_str().unwrap();
    let out =
        run(lister(&url).args(["queue", "ack", "--lease", lease, "--status", "successful"])).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(read_everything(&url).await["origins"], 500);
    db.execute(&format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"))
        .await;
    db.drop_database().await;
}
