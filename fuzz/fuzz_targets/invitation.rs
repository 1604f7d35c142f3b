//! Fuzz target: an invitation token from a link. Verifying a token must never panic, and
//! nothing but a token signed with the key may verify.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rapport_server::identity::IdentityKey;
use rapport_server::invitation::Invitation;

fn key() -> &'static IdentityKey {
    static KEY: OnceLock<IdentityKey> = OnceLock::new();
    KEY.get_or_init(|| IdentityKey::from_hex(&"7".repeat(64)).expect("a fixed test key"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(invitation) = Invitation::verify(token, key(), 0) {
        // Only a token this key signed can verify; signing what it says gives it back.
        assert_eq!(
            invitation.sign(key()),
            token,
            "a token verified that the key did not sign"
        );
    }
});
