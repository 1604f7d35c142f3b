//! Sealing respondent identity at rest.
//!
//! Identity (name, email, organisation) is encrypted with XChaCha20-Poly1305 under the
//! identity key, with the response id as associated data, so a sealed identity cannot be
//! moved to another row. The key lives in a file outside the database. The pseudonymous
//! respondent key that links one person's answers across waves is a keyed SHA-256 hash of the
//! email under a key derived from the identity key, so it reveals no email on its own.
//! This module never logs a key or an identity.
//!
//! Rotation: the key file holds one key per line, oldest first; the last is the current
//! key. New identities are sealed, new links signed and new bodies digested under the
//! current key; opening, verifying and recognising a resend try every key, so what older
//! keys sealed stays readable. Pseudonymous respondent keys always come from the first
//! (oldest) key, so a respondent keeps one pseudonym across waves whatever was rotated in
//! between. `rapport key rotate` appends a new key.

use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rapport_scoring::wire::Identity;
use sha2::{Digest, Sha256};

/// The identity keys of a deployment: one or more 32-byte keys, oldest first, the last
/// being current. Its `Debug` output never shows a key.
#[derive(Clone)]
pub struct IdentityKey {
    /// Never empty.
    keys: Vec<[u8; 32]>,
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(<redacted>)")
    }
}

impl IdentityKey {
    /// Keys from their 64-character hex forms, one per line, oldest first. Blank lines and
    /// lines starting with `#` are ignored. A bad line is named by its number, never shown.
    pub fn from_hex(text: &str) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        for (idx, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = hex::decode(line).map_err(|_| {
                anyhow::anyhow!(
                    "line {}: an identity key must be 64 hex characters",
                    idx + 1
                )
            })?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                anyhow::anyhow!(
                    "line {}: an identity key must be 32 bytes (64 hex characters)",
                    idx + 1
                )
            })?;
            keys.push(key);
        }
        anyhow::ensure!(
            !keys.is_empty(),
            "no identity key: the file must hold at least one line of 64 hex characters"
        );
        Ok(IdentityKey { keys })
    }

    fn random_key() -> anyhow::Result<[u8; 32]> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|error| anyhow::anyhow!("no randomness for the identity key: {error}"))?;
        Ok(key)
    }

    /// A fresh random key.
    pub fn generate() -> anyhow::Result<Self> {
        Ok(IdentityKey {
            keys: vec![Self::random_key()?],
        })
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text)
                .with_context(|| format!("reading identity key file {}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                write_private(path, &key.to_file_text())
                    .with_context(|| format!("creating identity key file {}", path.display()))?;
                tracing::warn!(path = %path.display(), "created a new identity key file; back it up apart from the database");
                Ok(key)
            }
            Err(error) => {
                Err(error).with_context(|| format!("reading identity key file {}", path.display()))
            }
        }
    }

    /// Appends a fresh current key to the key file at `path` (which must exist), writing
    /// the new file beside it and renaming it into place, so a crash leaves the old file or
    /// the new one, never half of one. Returns how many keys the file now holds.
    pub fn rotate_file(path: &Path) -> anyhow::Result<usize> {
        let mut keys = Self::load(path)?;
        keys.keys.push(Self::random_key()?);
        let staging = path.with_extension("rotating");
        let _ = std::fs::remove_file(&staging);
        write_private(&staging, &keys.to_file_text())
            .with_context(|| format!("writing {}", staging.display()))?;
        std::fs::rename(&staging, path).with_context(|| format!("replacing {}", path.display()))?;
        Ok(keys.keys.len())
    }

    /// Reads an existing key file; a missing file is an error, never a fresh key (which
    /// would silently match nothing stored).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading identity key file {}", path.display()))?;
        Self::from_hex(&text)
            .with_context(|| format!("reading identity key file {}", path.display()))
    }

    fn to_file_text(&self) -> String {
        let mut text = String::from(
            "# Rapport identity keys, oldest first; the last is current. Keep every line.\n",
        );
        for key in &self.keys {
            text.push_str(&hex::encode(key));
            text.push('\n');
        }
        text
    }

    /// How many keys this holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: there is at least one key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn current(&self) -> &[u8; 32] {
        self.keys
            .last()
            .expect("an identity key set is never empty")
    }

    /// The raw current key, for deriving the other keys of this deployment (the invitation
    /// signing key). Never log or store it.
    pub(crate) fn key_bytes(&self) -> &[u8; 32] {
        self.current()
    }

    /// Every raw key, newest first, for checking what an older key signed.
    pub(crate) fn all_key_bytes(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.keys.iter().rev()
    }

    /// Encrypts an identity for the row of `response_id`: a random 24-byte nonce, then the
    /// ciphertext with its tag.
    pub fn seal(&self, response_id: &str, identity: &Identity) -> anyhow::Result<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(self.current().into());
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|error| anyhow::anyhow!("no randomness for a nonce: {error}"))?;
        let plaintext = serde_json::to_vec(identity)?;
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: response_id.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing an identity failed"))?;
        Ok([nonce.as_slice(), &ciphertext].concat())
    }

    /// Decrypts an identity sealed for `response_id` under any of the keys. Fails for
    /// another row's ciphertext.
    pub fn open(&self, response_id: &str, sealed: &[u8]) -> anyhow::Result<Identity> {
        if sealed.len() < 24 + 16 {
            bail!("sealed identity is truncated");
        }
        let (nonce, ciphertext) = sealed.split_at(24);
        for key in self.all_key_bytes() {
            let cipher = XChaCha20Poly1305::new(key.into());
            if let Ok(plaintext) = cipher.decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: response_id.as_bytes(),
                },
            ) {
                return Ok(serde_json::from_slice(&plaintext)?);
            }
        }
        bail!("identity does not open with these keys for this response")
    }

    /// The digest that tells a resend of a response from a conflicting reuse of its id: an
    /// HMAC-SHA-256 of the canonical body under a key derived from the identity key. A plain
    /// hash would not do: the body holds the respondent's identity, and the answers it
    /// would be hashed with sit in clear in the same row, so anyone holding the database
    /// could confirm a guessed name or email for a confidential response by hashing guesses.
    /// Computed under the current key.
    pub fn body_digest(&self, canonical_body: &[u8]) -> String {
        Self::digest_under(self.current(), canonical_body)
    }

    /// The body digest under each older key, newest first: a resend of a response stored
    /// before a rotation matches one of these.
    pub fn earlier_body_digests(&self, canonical_body: &[u8]) -> Vec<String> {
        self.all_key_bytes()
            .skip(1)
            .map(|key| Self::digest_under(key, canonical_body))
            .collect()
    }

    fn digest_under(key: &[u8; 32], canonical_body: &[u8]) -> String {
        use hmac::Mac as _;
        let mut derived = Sha256::new();
        derived.update(b"rapport body digest key v1");
        derived.update(key);
        let mut mac = <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(&derived.finalize())
            .expect("HMAC takes any key length");
        mac.update(canonical_body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The pseudonymous key that follows one respondent across waves: a keyed hash of the
    /// normalised email, so equal emails give equal keys and the key reveals no email. It
    /// comes from the first key, so rotation never splits one respondent in two.
    pub fn respondent_key(&self, email: &str) -> String {
        let mut inner = Sha256::new();
        inner.update(b"rapport respondent key v1");
        inner.update(self.keys[0]);
        inner.update(email.trim().to_lowercase().as_bytes());
        hex::encode(&inner.finalize()[..16])
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            name: Some("Ana Ruiz".into()),
            email: Some("ana@client.example".into()),
            organisation: None,
        }
    }

    #[test]
    fn sealed_identity_opens_only_for_its_own_row_and_key() {
        let key = IdentityKey::generate().unwrap();
        let sealed = key.seal("row-a", &identity()).unwrap();
        assert_eq!(key.open("row-a", &sealed).unwrap(), identity());
        assert!(
            key.open("row-b", &sealed).is_err(),
            "ciphertext moved to another row must not open"
        );
        assert!(
            IdentityKey::generate()
                .unwrap()
                .open("row-a", &sealed)
                .is_err()
        );
        let plaintext = String::from_utf8_lossy(&sealed);
        assert!(!plaintext.contains("Ana") && !plaintext.contains("client.example"));
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = IdentityKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{key:?}"), "IdentityKey(<redacted>)");
        assert!(IdentityKey::from_hex("abcd").is_err());
    }

    #[test]
    fn body_digests_are_stable_keyed_and_not_a_plain_hash() {
        let key = IdentityKey::from_hex(&"02".repeat(32)).unwrap();
        let body = br#"{"identity":{"email":"ana@client.example"}}"#;
        assert_eq!(key.body_digest(body), key.body_digest(body));
        assert_ne!(
            key.body_digest(body),
            key.body_digest(br#"{"identity":{"email":"bo@client.example"}}"#)
        );
        assert_ne!(
            key.body_digest(body),
            hex::encode(Sha256::digest(body)),
            "a plain hash lets anyone confirm a guessed identity"
        );
        assert_ne!(
            key.body_digest(body),
            IdentityKey::from_hex(&"03".repeat(32))
                .unwrap()
                .body_digest(body)
        );
    }

    #[test]
    fn respondent_keys_are_stable_case_insensitive_and_opaque() {
        let key = IdentityKey::from_hex(&"01".repeat(32)).unwrap();
        assert_eq!(
            key.respondent_key(" Ana@Client.example"),
            key.respondent_key("ana@client.example")
        );
        assert_ne!(
            key.respondent_key("ana@client.example"),
            key.respondent_key("bo@client.example")
        );
        assert!(!key.respondent_key("ana@client.example").contains("ana"));
    }
}
