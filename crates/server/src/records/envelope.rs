//! The AEAD: XChaCha20-Poly1305 (RustCrypto). Its 192-bit nonce makes random nonces safe for
//! any number of values under one key (a 96-bit nonce would collide by the birthday bound
//! after ~2^32 values), so every value gets a fresh random nonce and no counter has to be kept
//! consistent across instances. The associated data binds a ciphertext to where it belongs
//! (record, version, field; or a data key's id), so a value copied elsewhere fails to open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;

/// A 256-bit symmetric key. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A fresh key from the operating system's random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Opening failed: wrong key, tampered or misplaced ciphertext, or a truncated value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value cannot be decrypted with this key (wrong key or altered data)")]
pub struct OpenError;

/// Encrypts `plaintext` under `key`, authenticating `aad` too: `nonce || ciphertext || tag`.
pub fn seal(key: &Key, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Decrypts what [`seal`] produced with the same key and associated data.
pub fn open(key: &Key, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError)?;
    XChaCha20Poly1305::new(key.0.as_ref().into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_context_only() {
        let key = Key::random();
        let sealed = seal(&key, b"record:1:description", "급성 기관지염".as_bytes());
        assert_eq!(
            open(&key, b"record:1:description", &sealed).unwrap(),
            "급성 기관지염".as_bytes()
        );
        assert_eq!(
            open(&Key::random(), b"record:1:description", &sealed),
            Err(OpenError),
            "another key"
        );
        assert_eq!(
            open(&key, b"record:2:description", &sealed),
            Err(OpenError),
            "moved to another record"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            open(&key, b"record:1:description", &tampered),
            Err(OpenError)
        );
        assert_eq!(
            open(&key, b"record:1:description", &sealed[..30]),
            Err(OpenError)
        );
    }

    #[test]
    fn equal_texts_encrypt_differently_and_never_contain_the_plaintext() {
        let key = Key::random();
        let text = b"the same plaintext, twice";
        let a = seal(&key, b"ctx", text);
        let b = seal(&key, b"ctx", text);
        assert_ne!(a, b, "a fresh nonce per value");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        for sealed in [a, b] {
            assert!(!sealed.windows(8).any(|w| text.windows(8).any(|t| t == w)));
        }
    }

    #[test]
    fn keys_do_not_print_their_bytes() {
        assert_eq!(format!("{:?}", Key::from_bytes([7; KEY_LEN])), "Key(***)");
    }
}
