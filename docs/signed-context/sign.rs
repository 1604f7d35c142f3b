//! Signs the context a portal embeds a Rapport survey in, with the `hmac`, `sha2` and `hex`
//! crates.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn sign_context(
    secret: &str,
    survey: &str,
    account: &str,
    matter: &str,
    name: &str,
    email: &str,
    expires: i64,
) -> String {
    let message =
        format!("rapport-portal-v1\n{survey}\n{account}\n{matter}\n{name}\n{email}\n{expires}");
    let key = hex::decode(secret).expect("the portal secret is hexadecimal");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}
