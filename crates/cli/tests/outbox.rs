//! `docde outbox`: what a developer without a mail server reads to find the verification
//! e-mail the service "sent".

use std::path::Path;
use std::process::{Command, Output};

/// The binary with a clean environment, so variables of the developer's shell cannot leak in.
fn docde_outbox(dir: &Path, data_dir: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docde"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(["outbox", "--data-dir", data_dir])
        .output()
        .expect("docde runs")
}

/// Writes a message the way the directory transport does: `DATA_DIR/outbox/<time>_<id>.json`.
fn write_message(outbox: &Path, id: &str, created_at: &str, subject: &str, body: &str) {
    std::fs::create_dir_all(outbox).unwrap();
    let stamp = created_at.replace([':', '-'], "").replace('Z', ".000000Z");
    let file = format!("{stamp}_{id}.json");
    let message = serde_json::json!({
        "id": id,
        "to": "minji@example.com",
        "from": "DocDe <no-reply@docde.invalid>",
        "subject": subject,
        "body": body,
        "created_at": created_at,
    });
    std::fs::write(outbox.join(file), message.to_string()).unwrap();
}

#[test]
fn the_outbox_lists_each_message_oldest_first_with_its_body_indented() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("store/outbox");
    write_message(
        &outbox,
        "01950000-0000-7000-8000-000000000002",
        "2025-03-01T09:05:00Z",
        "비밀번호 재설정",
        "재설정 코드: 777111",
    );
    write_message(
        &outbox,
        "01950000-0000-7000-8000-000000000001",
        "2025-03-01T09:00:00Z",
        "DocDe 인증 코드",
        "인증 코드는 482913 입니다.\n10분 안에 입력해 주세요.",
    );

    let out = docde_outbox(dir.path(), "store");

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2025-03-01 09:00:00 UTC  minji@example.com  DocDe 인증 코드\n\
         \x20   인증 코드는 482913 입니다.\n\
         \x20   10분 안에 입력해 주세요.\n\
         \n\
         2025-03-01 09:05:00 UTC  minji@example.com  비밀번호 재설정\n\
         \x20   재설정 코드: 777111\n\
         \n"
    );
}

#[test]
fn an_empty_outbox_prints_nothing_and_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();

    let out = docde_outbox(dir.path(), "store");

    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no e-mails in store/outbox"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_message_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("store/outbox")).unwrap();
    std::fs::write(dir.path().join("store/outbox/broken.json"), "{").unwrap();

    let out = docde_outbox(dir.path(), "store");

    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("broken.json"), "{stderr}");
}
