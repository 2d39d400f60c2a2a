//! Seeding the shared database as an operator would: `docde demo` for the hospital, the
//! ward with its devices and one account per role, `docde admin create-user` for the patients.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{self, docde_command};
use crate::load::Device;

pub const PATIENT_PASSWORD: &str = "E2e-patient-pass-2026!";
const PATIENTS: usize = 16;

/// What `docde demo` seeded into the shared database.
pub struct Demo {
    pub ward: String,
    pub doctor: String,
    pub devices: Vec<Device>,
    pub password: String,
}

/// Seeds through `docde demo` on the shared database: hospital, ward with eight monitored
/// beds, a bookable doctor, one account per role. The demo process is stopped afterwards, so
/// its bedside simulator does not run during the scenarios.
pub fn seed_demo(dir: &Path, env: &[(String, String)]) -> Demo {
    let data = dir.join("demo");
    std::fs::create_dir_all(&data).unwrap();
    let mut command = docde_command(&data, env);
    command
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.join("stderr.log")).unwrap());
    let mut demo = cluster::Guarded::spawn(&mut command);
    let stdout = demo.child.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let uuid_after = |line: &str, word: &str| -> Option<String> {
        let rest = line.split(word).nth(1)?;
        let id = rest.split_whitespace().next()?;
        uuid::Uuid::parse_str(id).ok().map(|u| u.to_string())
    };
    let (mut ward, mut doctor, mut password) = (None, None, None);
    let started = Instant::now();
    while ward.is_none() || doctor.is_none() || password.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "docde demo did not print its accounts within 180 s; see {}",
            data.display()
        );
        let Ok(line) = rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        if let Some(p) = line.split("password for all: ").nth(1) {
            password = Some(p.trim_end_matches("):").trim_end_matches(')').to_owned());
        }
        ward = ward.or_else(|| uuid_after(&line, " ward "));
        doctor = doctor.or_else(|| uuid_after(&line, "Booking: doctor "));
    }
    let file = data.join("demo-devices.json");
    let devices: Vec<Device> = loop {
        if let Ok(text) = std::fs::read_to_string(&file)
            && let Ok(list) = serde_json::from_str::<Vec<Value>>(&text)
            && list.len() >= 8
        {
            break list
                .iter()
                .map(|d| Device {
                    id: d["id"].as_str().unwrap().to_owned(),
                    secret: d["secret"].as_str().unwrap().to_owned(),
                })
                .collect();
        }
        assert!(started.elapsed() < Duration::from_secs(180), "no {file:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let pid = demo.pid();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = demo.child.as_mut().unwrap().wait();
    demo.child = None;
    Demo {
        ward: ward.unwrap(),
        doctor: doctor.unwrap(),
        devices,
        password: password.unwrap(),
    }
}

/// Creates the patients with `docde admin create-user`, as an operator would.
pub fn create_patients(dir: &Path, env: &[(String, String)]) -> Vec<String> {
    (0..PATIENTS)
        .map(|i| {
            let email = format!("e2e-patient-{i}@e2e.docde.kr");
            let mut child = docde_command(dir, env)
                .args([
                    "admin",
                    "create-user",
                    "--email",
                    &email,
                    "--role",
                    "patient",
                ])
                .args(["--name", &format!("환자 {i}"), "--password-stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(PATIENT_PASSWORD.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "create-user {email}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            email
        })
        .collect()
}
