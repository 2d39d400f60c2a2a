//! The web pages in a real browser: Debian's headless chromium driven through chromedriver
//! (fantoccini), against the real application on the backends named by `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL`. Without chromium or chromedriver these tests print a skip line, except
//! with `CI=true`, where that is a failure (scripts/install-test-deps installs both).
//!
//! Screenshots of each page are written to `target/browser-screenshots/`.

// The API tests' harness and people, shared rather than copied; not every helper is used here.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../api/people.rs"]
mod people;

mod assets;
mod board;
mod driver;
mod nurse;
mod patient;
mod waiting;
