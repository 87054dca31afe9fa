//! The README says what a newcomer types; these run it as written.
use std::process::Command;

use cchc_outreach::startup::{self, Application};

use crate::helpers::{ADMIN_PASSWORD, test_settings};

/// The shell block after `<!-- walkthrough -->` in the README.
fn walkthrough() -> String {
    let readme = include_str!("../../README.md");
    let after = readme.split_once("<!-- walkthrough -->").expect("the README marks its walkthrough").1;
    let block = after.split_once("```sh\n").expect("a shell block").1;
    block.split_once("\n```").expect("the block ends").0.to_owned()
}

fn missing_tools() -> Vec<&'static str> {
    ["bash", "curl", "jq"]
        .into_iter()
        .filter(|tool| Command::new(tool).arg("--version").output().map_or(true, |o| !o.status.success()))
        .collect()
}

/// On a fresh private database with its demo data, the walkthrough creates the people
/// who handle feedback, files a question, answers and publishes it, and reads it back
/// without a token.
#[actix_web::test]
async fn the_walkthrough_runs_as_written() {
    let missing = missing_tools();
    if !missing.is_empty() {
        eprintln!("SKIPPED: the README walkthrough needs {missing:?}, which this machine lacks");
        return;
    }
    let dir = std::env::temp_dir().join(format!("cchc-readme-{}", uuid::Uuid::now_v7().simple()));
    let mut settings = test_settings();
    settings.database_url = None;
    settings.data_dir = dir.clone();
    let (url, pg) = startup::database(&settings).expect("the private server starts");
    let pg = pg.expect("a private server");
    let app = Application::build(settings, &url).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.server();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let script = walkthrough();
    let run = actix_web::rt::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .env("BASE", base)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    handle.stop(true).await;
    pg.stop_immediately();
    let _ = std::fs::remove_dir_all(&dir);

    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the walkthrough failed:\n{stdout}\n{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("PAKN-") && first.contains(", due 20"), "{stdout}");
    let published: serde_json::Value =
        serde_json::from_str(&stdout[stdout.find('{').expect("the published record")..]).expect("JSON");
    assert_eq!(published["summary"], "Bản sao hồ sơ được cấp trong 5 ngày làm việc.", "{published}");
    assert_eq!(published["code"].as_str(), first.split(',').next());
    for personal in ["Nguyễn Văn An", "0912345678"] {
        assert!(!stdout.contains(personal), "{personal} is public: {stdout}");
    }
}
