//! Signed portal context: how a client portal vouches for who answers a survey it embeds.
//!
//! A portal knows who is signed in. Its backend signs the survey, the account, the
//! contact's name and email, the matter (if any) and an expiry with the survey's *portal
//! secret*, using HMAC-SHA256, and gives the widget the signature as an attribute, as
//! Intercom's and AskNicely's identity verification do. The widget sends it with the
//! response (`signed_context` in wire format v1), and the server checks it here. A response
//! whose context checks out is *verified* (`Arrival::SignedContext`): it counts toward the
//! published batches of confidential answers, and its identity is the signed one.
//!
//! The signed message is the lines below, joined by `\n`, with an absent matter or name as
//! an empty line:
//!
//! ```text
//! rapport-portal-v1
//! <survey id>
//! <account>
//! <matter>
//! <contact name>
//! <contact email>
//! <expires, seconds since the Unix epoch>
//! ```
//!
//! The signature is the HMAC-SHA256 of that message under the secret, as 64 lowercase hex
//! digits. The secret of a survey is derived from the server's identity key (`rapport
//! portal-secret --survey ID` prints it), so it needs no storage and nobody can compute it
//! without the key. Verification compares in constant time and accepts a signature made
//! under any identity key still held, so a key rotation does not break portals at once.
//!
//! This module must never echo a signed value in an error: a refusal names the field only.

use hmac::{Hmac, Mac};
use rapport_scoring::wire::{Identity, ResponseV1, SignedContext};
use sha2::{Digest, Sha256};

use crate::identity::IdentityKey;

type HmacSha256 = Hmac<Sha256>;

/// The first line of every signed message: the scheme and its version.
const MESSAGE_VERSION: &str = "rapport-portal-v1";

/// Why a signed context was refused. The messages go to the host page's developer (through
/// the widget) and never contain a signed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalError {
    /// The signature does not match the signed fields under this survey's secret.
    #[error(
        "the portal's signature does not match the survey, account, matter, name and email sent with it; sign exactly what the widget sends, with this survey's portal secret"
    )]
    Mismatch,
    /// The expiry has passed.
    #[error("the portal's signature has expired; the portal must sign the context again")]
    Expired,
    /// A signed context needs the account and the contact's email.
    #[error("a signed context needs context.account and identity.email")]
    Incomplete,
    /// A signed value holds a line break, which the message format cannot carry.
    #[error("a signed value may not contain a line break")]
    LineBreak,
}

/// What a portal signs, borrowed from the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortalContext<'a> {
    /// Survey id.
    pub survey: &'a str,
    /// The client account.
    pub account: &'a str,
    /// The matter, if any.
    pub matter: Option<&'a str>,
    /// The contact's name, if given.
    pub name: Option<&'a str>,
    /// The contact's email.
    pub email: &'a str,
    /// Expiry, seconds since the Unix epoch.
    pub expires: i64,
}

impl<'a> PortalContext<'a> {
    /// The context a response claims, with the expiry of its signature.
    pub fn of(response: &'a ResponseV1, signed: &SignedContext) -> Result<Self, PortalError> {
        let identity = response.identity.as_ref();
        Ok(PortalContext {
            survey: response.survey_id.as_str(),
            account: response
                .context
                .account
                .as_deref()
                .ok_or(PortalError::Incomplete)?,
            matter: response.context.matter.as_deref(),
            name: identity.and_then(|identity| identity.name.as_deref()),
            email: identity
                .and_then(|identity| identity.email.as_deref())
                .ok_or(PortalError::Incomplete)?,
            expires: signed.expires,
        })
    }

    /// The message that is signed.
    pub fn message(&self) -> Result<String, PortalError> {
        let fields = [
            self.survey,
            self.account,
            self.matter.unwrap_or_default(),
            self.name.unwrap_or_default(),
            self.email,
        ];
        if fields.iter().any(|field| field.contains(['\n', '\r'])) {
            return Err(PortalError::LineBreak);
        }
        Ok(format!(
            "{MESSAGE_VERSION}\n{}\n{}\n{}\n{}\n{}\n{}",
            fields[0], fields[1], fields[2], fields[3], fields[4], self.expires
        ))
    }

    /// The identity the portal vouches for.
    pub fn identity(&self) -> Identity {
        Identity {
            name: self.name.map(str::to_owned),
            email: Some(self.email.to_owned()),
            organisation: None,
        }
    }
}

/// The portal secret of `survey` under one raw identity key.
fn secret_under(key: &[u8; 32], survey: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"rapport portal secret v1\n");
    hasher.update(key);
    hasher.update(survey.as_bytes());
    hasher.finalize().into()
}

/// The portal secret of `survey`, as the portal's backend holds it: 64 hex digits.
pub fn portal_secret(identity_key: &IdentityKey, survey: &str) -> String {
    hex::encode(secret_under(identity_key.key_bytes(), survey))
}

/// Signs `context` with a portal secret given as printed by [`portal_secret`]: what the
/// portal's backend does, here for tests and for `rapport portal-secret --sign`.
pub fn sign(secret_hex: &str, context: &PortalContext<'_>) -> Result<String, PortalError> {
    let secret = hex::decode(secret_hex).map_err(|_| PortalError::Mismatch)?;
    let mut mac = HmacSha256::new_from_slice(&secret).expect("HMAC takes any key length");
    mac.update(context.message()?.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Checks `signed` against the context `response` claims, at `now` (seconds), and returns
/// the identity the portal vouches for.
pub fn verify(
    identity_key: &IdentityKey,
    response: &ResponseV1,
    signed: &SignedContext,
    now: i64,
) -> Result<Identity, PortalError> {
    let context = PortalContext::of(response, signed)?;
    let message = context.message()?;
    let signature = hex::decode(&signed.signature).map_err(|_| PortalError::Mismatch)?;
    let genuine = identity_key.all_key_bytes().any(|key| {
        let mut mac = HmacSha256::new_from_slice(&secret_under(key, context.survey))
            .expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac.verify_slice(&signature).is_ok()
    });
    if !genuine {
        return Err(PortalError::Mismatch);
    }
    if signed.expires <= now {
        return Err(PortalError::Expired);
    }
    Ok(context.identity())
}
