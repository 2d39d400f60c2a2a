//! HTTP-level tests: the real application on port 0, on the backends named by
//! `TEST_DATABASE_URL` / `TEST_REDIS_URL` (SQLite and in-process when unset).

mod helpers;

mod accounts;
mod authorization;
mod booking;
mod booking_retries;
mod booking_rush;
mod directory;
mod errors;
mod instances;
mod mail;
mod operations;
mod passwords;
mod people;
mod reception;
mod reception_live;
mod reception_retries;
mod reception_visits;
mod records;
mod reviews;
mod schedules;
mod search;
mod sessions;
mod shutdown;
mod smtp;
mod visits;
mod ward;
mod ward_alarms;
mod ward_ingest;
mod ward_medication;
mod ward_mqtt;

// Error reports and metrics beyond HTTP (branch `reports`).
mod domain_metrics;
mod reports;
// Ward alarm limits, technical alarms, NEWS2 and the patient stream (branch `ward`).
mod ward_news2;
mod ward_retention;
mod ward_technical;
mod ward_thresholds;
// The outgoing escalation webhook (branch `escalation`).
mod ward_escalation;
mod ward_escalation_policy;
// The nurse station's per-admission reads (web branch).
mod ward_patient;
mod ward_patient_vitals;
mod ward_push;
mod ward_rollups;
mod ward_streams;
