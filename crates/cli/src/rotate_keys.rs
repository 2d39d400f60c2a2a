//! `docde rotate-keys`: re-wraps the record data keys under the first configured master key.
//!
//! Safe while instances run: records are not rewritten, only the wrapped data keys, and each
//! with a conditional UPDATE (a second rotation at the same time changes nothing twice).
//! The procedure (docs/OPERATIONS.md): put the new key first in `records.master_keys` with the
//! old one kept after it, on every instance; run this; then remove the old key.

use docde_server::records::master::generate_entry;
use docde_server::records::{MasterKeys, Vault, rotate};
use docde_server::{Config, startup};

/// Prints a fresh master key entry for the configuration.
pub fn generate() {
    println!("{}", generate_entry());
    eprintln!(
        "add it first to records.master_keys (keep the current key after it), then run `docde rotate-keys`"
    );
}

pub async fn run(config: Config, new_data_key: bool) -> anyhow::Result<()> {
    let store = startup::open_store(&config).await?;
    let master = MasterKeys::from_config(&config, false)?;
    let done = rotate(&store, &master, new_data_key, chrono::Utc::now()).await?;
    println!(
        "record keys: {} re-wrapped, {} already under master key {:?}{}",
        done.rewrapped,
        done.already_current,
        master.current_id(),
        if done.new_data_key {
            "; a new data key was added (instances use it for new records from their next start)"
        } else {
            ""
        }
    );
    // Prove the old keys can go: every data key opens with the current master key alone.
    Vault::start_with(&store, master.only_current())
        .await
        .map_err(|e| e.context("checking the keys after rotation"))?;
    let others: Vec<&str> = master
        .ids()
        .into_iter()
        .filter(|id| *id != master.current_id())
        .collect();
    if others.is_empty() {
        println!("every record key opens with {:?}", master.current_id());
    } else {
        println!(
            "every record key opens with {:?} alone: {:?} may now be removed from records.master_keys",
            master.current_id(),
            others
        );
    }
    store.close().await;
    Ok(())
}
