//! `docde rotate-keys` as an operator runs it: generate a key, rotate with the old key kept,
//! then the new key alone opens everything and the old one alone no longer starts anything.

use std::process::{Command, Output};

fn docde(dir: &std::path::Path, keys: &[&str], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docde"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .args(args)
        .args(["--data-dir", "d"]);
    if !keys.is_empty() {
        let list: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
        cmd.env("DOCDE_RECORDS_MASTER_KEYS", format!("[{}]", list.join(",")));
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn generated(dir: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_docde"))
        .env_clear()
        .current_dir(dir)
        .args(["rotate-keys", "--generate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let entry = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(entry.starts_with("mk-") && entry.len() > 44, "{entry}");
    entry
}

#[test]
fn a_rotation_moves_every_data_key_to_the_new_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (generated(dir.path()), generated(dir.path()));
    assert_ne!(old, new);
    let old_id = old.split(':').next().unwrap();
    let new_id = new.split(':').next().unwrap();

    // A database whose data key is wrapped by the old key.
    let out = docde(dir.path(), &[&old], &["rotate-keys"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("a new data key was added"), "{stdout}");

    let out = docde(dir.path(), &[&new, &old], &["rotate-keys"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("1 re-wrapped, 0 already"), "{stdout}");
    assert!(
        stdout.contains(&format!("{old_id:?}")) && stdout.contains("may now be removed"),
        "{stdout}"
    );

    let out = docde(dir.path(), &[&new], &["rotate-keys"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!(
            "0 re-wrapped, 1 already under master key {new_id:?}"
        )),
        "{stdout}"
    );

    // The old key alone no longer opens the data key, and says which key is missing.
    let out = docde(dir.path(), &[&old], &["rotate-keys"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("{new_id:?}")) && stderr.contains("not configured"),
        "{stderr}"
    );
}

#[test]
fn config_redacts_master_keys_and_rejects_malformed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let key = generated(dir.path());
    let out = docde(dir.path(), &[&key], &["config"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let secret = key.split_once(':').unwrap().1;
    assert!(!stdout.contains(secret), "the key leaked: {stdout}");
    let config: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let id = key.split(':').next().unwrap();
    assert_eq!(
        config["records"]["master_keys"],
        serde_json::json!([format!("{id}:***")])
    );

    let out = docde(dir.path(), &["k1:dG9vIHNob3J0"], &["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("records.master_keys[0]"),
        "{}",
        text(&out).1
    );
}
