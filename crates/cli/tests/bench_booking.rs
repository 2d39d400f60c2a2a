//! `docde bench booking` is wired in and says what it can do (the benchmark itself is run by
//! hand; its figures live in docs/BENCHMARKS.md).

use std::process::Command;

#[test]
fn bench_booking_help_lists_the_scenarios_and_the_kill_switch() {
    let output = Command::new(env!("CARGO_BIN_EXE_docde"))
        .args(["bench", "booking", "--help"])
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    for word in [
        "hot",
        "spread",
        "rush",
        "all",
        "--rate",
        "--database-url",
        "--kill-mid-run",
        "--patients",
        "--slots",
        "--requests",
    ] {
        assert!(help.contains(word), "help lacks {word}:\n{help}");
    }
}
