//! Times the benchmark-sized data set: `cargo run --release -p docde-directory-gen --example
//! throughput [hospitals]`.

use std::time::Instant;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let mut doctors = 0;
    for hospital in docde_directory_gen::Generator::new(1).hospitals(n) {
        doctors += hospital.doctors.len();
    }
    println!(
        "{n} hospitals, {doctors} doctors in {:.2?}",
        started.elapsed()
    );
}
