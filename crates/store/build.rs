//! `sqlx::migrate!` embeds the migration files when the crate compiles; without this, cargo
//! does not know to recompile when a migration is added or edited, and a binary could ship
//! without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
