//! Random secrets and their digests: refresh tokens, device secrets, one-time codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// `n` random bytes as unpadded base64url.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // getrandom only fails when the OS has no entropy source at all; nothing can run then.
    getrandom::fill(&mut bytes).expect("operating system randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A uniformly random 6-digit code, e.g. `042917`.
pub fn six_digit_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("operating system randomness");
    // 2^64 is so much larger than 10^6 that the modulo bias is below 1e-13.
    format!("{:06}", u64::from_le_bytes(bytes) % 1_000_000)
}

/// Hex SHA-256: for secrets with 256 bits of entropy, where a slow hash would add nothing.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<_> = (0..200).map(|_| six_digit_code()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 190, "random, not constant");
    }

    #[test]
    fn tokens_have_the_requested_entropy() {
        assert_eq!(random_token(32).len(), 43);
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
