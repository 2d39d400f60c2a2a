//! Encryption at rest of medical records: envelope encryption with XChaCha20-Poly1305.
//!
//! - [`envelope`]: the AEAD itself (seal/open with a fresh random nonce per value), pure.
//! - [`master`]: master keys from configuration (`records.master_keys`, first one current),
//!   or on SQLite a key generated once into `DATA_DIR/record-master-key`.
//! - [`vault`]: data keys (random, stored only wrapped by a master key), checked at start-up,
//!   used to seal and open record fields; and the re-wrapping `docde rotate-keys` performs.
//!
//! Plaintext never leaves this module except to the handler that answers an authorised read;
//! nothing here logs values, only key ids.

pub mod envelope;
pub mod master;
pub mod vault;

pub use master::MasterKeys;
pub use vault::{Vault, rotate};
