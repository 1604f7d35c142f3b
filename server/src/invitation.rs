//! Signed invitations for thank-you emails and portals.
//!
//! A token binds the survey, the contact, the account, the matter, the wave and an expiry.
//! It is sealed with XChaCha20-Poly1305 under a key derived from the identity key, so the
//! link is opaque (nobody who sees it, in a mail log or a browser history, reads the
//! contact's name or email from it) and nobody can forge or alter one. Its form is
//! `base64url(nonce ‖ ciphertext)`, with no dot. The sealed payload carries the contact
//! because the landing page needs no login and the server keeps no table of invitations.
//!
//! Links made before sealing were signed, not sealed: `base64url(payload).base64url(tag)`
//! with an HMAC-SHA256 tag. They still verify until they expire, so emails already sent
//! keep working; no new link takes that form.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::identity::IdentityKey;

type HmacSha256 = Hmac<Sha256>;

/// What an invitation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    /// Invitation id (random).
    pub id: String,
    /// The survey it invites to.
    pub survey: String,
    /// The contact's email.
    pub contact: String,
    /// The contact's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The client account.
    pub account: String,
    /// The matter or contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matter: Option<String>,
    /// The survey wave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave: Option<String>,
    /// The firm's name shown on the landing page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firm: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub expires: i64,
    /// How the landing page speaks to the contact: language and display names. Links made
    /// before it existed carry none, and open with none.
    #[serde(default, skip_serializing_if = "Presentation::is_empty")]
    pub presentation: Presentation,
}

/// What the landing page needs to speak to the contact, beside the ids that reports use:
/// the language of the page and the survey, and the names people read for the account and
/// the matter. Ids stay ids; a display name is only ever shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    /// The language the landing page and the survey speak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Language>,
    /// The account's name as the contact knows it, such as "Northwind Traders".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The matter's name as the contact knows it, such as "Master services agreement 2026".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matter_name: Option<String>,
}

impl Presentation {
    /// Whether it says nothing (then the sealed payload leaves it out).
    pub fn is_empty(&self) -> bool {
        self == &Presentation::default()
    }
}

/// A language the landing page and the survey speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Dutch.
    Nl,
    /// Spanish.
    Es,
}

impl Language {
    /// Every locale, in the order they are listed to people.
    pub const ALL: [Language; 5] = [
        Language::En,
        Language::Fr,
        Language::De,
        Language::Nl,
        Language::Es,
    ];

    /// The language tag: `en`, `fr`, `de`, `nl` or `es`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::De => "de",
            Language::Nl => "nl",
            Language::Es => "es",
        }
    }
}

/// A locale that the landing page and the survey do not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("locale must be one of en, fr, de, nl, es, got {0:?}")]
pub struct UnknownLanguage(pub String);

impl std::str::FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(text: &str) -> Result<Language, UnknownLanguage> {
        Language::ALL
            .into_iter()
            .find(|locale| locale.as_str() == text)
            .ok_or_else(|| UnknownLanguage(text.to_owned()))
    }
}

/// An account, matter or wave of an invitation, or a display name, that breaks the label
/// rules of [`rapport_scoring::validate::Label`]; the message names the field, never the
/// label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct LabelRefused {
    /// `account`, `matter`, `wave`, `account name` or `matter name`.
    pub field: &'static str,
    /// What is wrong.
    pub problem: rapport_scoring::validate::LabelError,
}

impl Invitation {
    /// This invitation with its account, matter and wave checked and NFC-normalised by the
    /// rules a response's context follows, so that invited and uninvited answers of one
    /// account carry one label. Display names follow the same rules: spaces and punctuation
    /// inside, but nothing invisible, no control characters, at most 200 characters.
    pub fn with_checked_labels(mut self) -> Result<Invitation, LabelRefused> {
        use rapport_scoring::validate::Label;
        let check = |field: &'static str, text: &str| {
            Label::new(text)
                .map(String::from)
                .map_err(|problem| LabelRefused { field, problem })
        };
        self.account = check("account", &self.account)?;
        self.matter = self
            .matter
            .map(|matter| check("matter", &matter))
            .transpose()?;
        self.wave = self.wave.map(|wave| check("wave", &wave)).transpose()?;
        let presentation = &mut self.presentation;
        presentation.account_name = presentation
            .account_name
            .take()
            .map(|name| check("account name", &name))
            .transpose()?;
        presentation.matter_name = presentation
            .matter_name
            .take()
            .map(|name| check("matter name", &name))
            .transpose()?;
        Ok(self)
    }
}

/// Why a token was refused. The messages are shown to the respondent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvitationError {
    /// Not a token at all, or its signature does not match: it was changed or forged.
    #[error("this invitation link is not valid: it may have been altered or copied incompletely")]
    Altered,
    /// Past its expiry.
    #[error("this invitation link expired on {0}; ask the sender for a new one")]
    Expired(String),
    /// For another survey than the one answered.
    #[error("this invitation is for another survey")]
    OtherSurvey,
}

/// The current time in seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn signing_key(key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"rapport invitation signing key v1");
    hasher.update(key);
    hasher.finalize().into()
}

fn sealing_key(key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"rapport invitation sealing key v2");
    hasher.update(key);
    hasher.finalize().into()
}

/// Associated data of every sealed invitation, so a ciphertext made for another purpose
/// under the same key never opens as an invitation.
const SEALED_CONTEXT: &[u8] = b"rapport-invitation-v2";
const NONCE_LEN: usize = 24;

impl Invitation {
    /// The sealed, opaque token for this invitation's link.
    pub fn sign(&self, identity_key: &IdentityKey) -> String {
        let plaintext = serde_json::to_vec(self).expect("an invitation serialises");
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system provides randomness");
        let cipher = XChaCha20Poly1305::new(&sealing_key(identity_key.key_bytes()).into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: SEALED_CONTEXT,
                },
            )
            .expect("sealing a short message cannot fail");
        let mut token = nonce.to_vec();
        token.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// Opens a token (under any of the keys, so links sent before a rotation still work),
    /// checks its expiry (at `now`, seconds) and returns what it says.
    pub fn verify(
        token: &str,
        identity_key: &IdentityKey,
        now: i64,
    ) -> Result<Self, InvitationError> {
        let invitation = Self::open(token, identity_key)?;
        invitation.check_expiry(now)?;
        Ok(invitation)
    }

    /// Opens a token without looking at its expiry: genuine or [`InvitationError::Altered`].
    /// Only for saying who a refused link came from; an answer needs [`Invitation::verify`].
    pub fn open(token: &str, identity_key: &IdentityKey) -> Result<Self, InvitationError> {
        if token.contains('.') {
            Self::open_signed(token, identity_key)
        } else {
            Self::open_sealed(token, identity_key)
        }
    }

    /// [`InvitationError::Expired`] if the link no longer works at `now` (seconds).
    pub fn check_expiry(&self, now: i64) -> Result<(), InvitationError> {
        if now >= self.expires {
            let date = rapport_scoring::wire::Timestamp::from_unix_millis(self.expires * 1000);
            return Err(InvitationError::Expired(date.as_str()[..10].to_owned()));
        }
        Ok(())
    }

    fn open_sealed(token: &str, identity_key: &IdentityKey) -> Result<Self, InvitationError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| InvitationError::Altered)?;
        if bytes.len() <= NONCE_LEN {
            return Err(InvitationError::Altered);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plaintext = identity_key
            .all_key_bytes()
            .find_map(|key| {
                XChaCha20Poly1305::new(&sealing_key(key).into())
                    .decrypt(
                        XNonce::from_slice(nonce),
                        Payload {
                            msg: sealed,
                            aad: SEALED_CONTEXT,
                        },
                    )
                    .ok()
            })
            .ok_or(InvitationError::Altered)?;
        serde_json::from_slice(&plaintext).map_err(|_| InvitationError::Altered)
    }

    /// A link of the earlier, signed form: checked in constant time, never issued any more.
    fn open_signed(token: &str, identity_key: &IdentityKey) -> Result<Self, InvitationError> {
        let (payload, tag) = token.split_once('.').ok_or(InvitationError::Altered)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| InvitationError::Altered)?;
        let signed_by_us = identity_key.all_key_bytes().any(|key| {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(&signing_key(key))
                .expect("HMAC takes any key length");
            mac.update(payload.as_bytes());
            mac.verify_slice(&tag).is_ok()
        });
        if !signed_by_us {
            return Err(InvitationError::Altered);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| InvitationError::Altered)?;
        serde_json::from_slice(&bytes).map_err(|_| InvitationError::Altered)
    }
}

/// Parses a lifetime such as `30d`, `12h` or `90m` into seconds.
pub fn parse_lifetime(text: &str) -> anyhow::Result<i64> {
    // Split before the last character, not the last byte: a non-ASCII unit must be refused,
    // not panic on a char boundary.
    let split = text.char_indices().last().map_or(0, |(idx, _)| idx);
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("lifetime must look like 30d, 12h or 90m, got {text:?}"))?;
    let unit_seconds: i64 = match unit {
        "d" => 86_400,
        "h" => 3600,
        "m" => 60,
        _ => anyhow::bail!("lifetime must end in d, h or m, got {text:?}"),
    };
    // A century bounds the expiry so that `now + lifetime`, and its milliseconds, never overflow.
    const MAX_LIFETIME_SECONDS: i64 = 100 * 365 * 86_400;
    let seconds = number
        .checked_mul(unit_seconds)
        .filter(|seconds| *seconds <= MAX_LIFETIME_SECONDS);
    let seconds =
        seconds.ok_or_else(|| anyhow::anyhow!("lifetime {text:?} is too long: at most 36500d"))?;
    if seconds <= 0 {
        anyhow::bail!("lifetime must be positive, got {text:?}");
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> Invitation {
        Invitation {
            id: "inv-1".into(),
            survey: "post-negotiation".into(),
            contact: "ana@client.example".into(),
            name: Some("Ana Ruiz".into()),
            account: "northwind".into(),
            matter: Some("msa-2026".into()),
            wave: None,
            firm: Some("Hartley & Voss LLP".into()),
            expires: 2_000_000_000,
            presentation: Presentation {
                locale: Some(Language::Fr),
                account_name: Some("Northwind Traders".into()),
                matter_name: Some("Master services agreement 2026".into()),
            },
        }
    }

    #[test]
    fn a_sealed_invitation_opens_and_any_change_is_refused() {
        let key = IdentityKey::generate().unwrap();
        let token = invitation().sign(&key);
        assert_eq!(
            Invitation::verify(&token, &key, 1_900_000_000).unwrap(),
            invitation()
        );
        assert!(!token.contains('.'), "a sealed link has one part: {token}");
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for index in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[index] ^= 1;
            assert_eq!(
                Invitation::verify(&URL_SAFE_NO_PAD.encode(&bytes), &key, 0),
                Err(InvitationError::Altered),
                "a change at byte {index} must be refused"
            );
            bytes[index] ^= 1;
        }
        assert_eq!(
            Invitation::verify(&token[..token.len() - 4], &key, 0),
            Err(InvitationError::Altered)
        );
        assert_eq!(
            Invitation::verify(&token, &IdentityKey::generate().unwrap(), 0),
            Err(InvitationError::Altered)
        );
        for garbage in ["garbage", "", "AAAA", "a.b"] {
            assert_eq!(
                Invitation::verify(garbage, &key, 0),
                Err(InvitationError::Altered)
            );
        }
        assert_eq!(
            Invitation::verify(&token, &key, 2_000_000_000),
            Err(InvitationError::Expired("2033-05-18".into()))
        );
    }

    #[test]
    fn a_link_reveals_nothing_of_the_contact_and_no_two_links_are_alike() {
        let key = IdentityKey::generate().unwrap();
        let first = invitation().sign(&key);
        let second = invitation().sign(&key);
        assert_ne!(first, second, "each link has its own nonce");
        let decoded = URL_SAFE_NO_PAD.decode(&first).unwrap();
        let readable = String::from_utf8_lossy(&decoded);
        for secret in [
            "ana@client.example",
            "Ana Ruiz",
            "northwind",
            "msa-2026",
            "Northwind Traders",
            "Master services",
        ] {
            assert!(!first.contains(secret) && !readable.contains(secret));
            for shift in 0..3 {
                // The contact's email as it would appear, at any alignment, in base64.
                let padded = format!("{}{secret}", &"xx"[..shift]);
                let encoded = URL_SAFE_NO_PAD.encode(padded.as_bytes());
                let fragment = &encoded[4..encoded.len() - 3];
                assert!(!first.contains(fragment), "{secret} readable in {first}");
            }
        }
    }

    /// A link of the signed form that earlier versions issued.
    fn signed_link(invitation: &Invitation, key: &IdentityKey) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(invitation).unwrap());
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&signing_key(key.key_bytes())).unwrap();
        mac.update(payload.as_bytes());
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn links_sent_before_sealing_still_open_and_still_refuse_changes() {
        let key = IdentityKey::generate().unwrap();
        let token = signed_link(&invitation(), &key);
        assert_eq!(
            Invitation::verify(&token, &key, 1_900_000_000).unwrap(),
            invitation()
        );
        let (payload, tag) = token.split_once('.').unwrap();
        let mut forged = invitation();
        forged.account = "contoso".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            Invitation::verify(&format!("{forged_payload}.{tag}"), &key, 0),
            Err(InvitationError::Altered)
        );
        assert_eq!(
            Invitation::verify(&format!("{payload}.{}", &tag[1..]), &key, 0),
            Err(InvitationError::Altered)
        );
        assert_eq!(
            Invitation::verify(&token, &IdentityKey::generate().unwrap(), 0),
            Err(InvitationError::Altered)
        );
        assert_eq!(
            Invitation::verify(&token, &key, 2_000_000_000),
            Err(InvitationError::Expired("2033-05-18".into()))
        );
    }

    /// Regression guard: links mailed before invitations carried a language and display
    /// names must still open, with none of them.
    #[test]
    fn an_invitation_without_presentation_still_opens_and_seals_as_before() {
        let before = r#"{"id":"inv-1","survey":"post-negotiation","contact":"ana@client.example","account":"northwind","matter":"msa-2026","expires":2000000000}"#;
        let opened: Invitation = serde_json::from_str(before).expect("an earlier payload opens");
        assert_eq!(opened.presentation, Presentation::default());
        assert_eq!(serde_json::to_string(&opened).unwrap(), before);
        let key = IdentityKey::generate().unwrap();
        let token = invitation().sign(&key);
        let reopened = Invitation::verify(&token, &key, 0).unwrap();
        assert_eq!(reopened.presentation.locale, Some(Language::Fr));
        assert_eq!(
            reopened.presentation.matter_name.as_deref(),
            Some("Master services agreement 2026")
        );
    }

    #[test]
    fn only_the_five_locales_are_accepted() {
        for locale in Language::ALL {
            assert_eq!(locale.as_str().parse::<Language>(), Ok(locale));
            assert_eq!(
                serde_json::to_value(locale).unwrap(),
                serde_json::json!(locale.as_str())
            );
        }
        for refused in ["it", "FR", "en-GB", "", "english"] {
            let error = refused.parse::<Language>().unwrap_err();
            assert!(
                error.to_string().contains("en, fr, de, nl, es"),
                "{refused}: {error}"
            );
        }
    }

    #[test]
    fn display_names_may_hold_spaces_and_punctuation_but_nothing_hidden() {
        let mut named = invitation();
        named.presentation.account_name = Some("Smith, Jones & Co. (Europe) Ltd.".into());
        named.presentation.matter_name = Some("Cafe\u{0301}: lease renewal, 2026".into());
        let checked = named.with_checked_labels().expect("good display names");
        assert_eq!(
            checked.presentation.matter_name.as_deref(),
            Some("Café: lease renewal, 2026")
        );
        for (field, bad) in [
            ("matter name", "Master\nservices"),
            ("matter name", "Master\u{0007}"),
            ("matter name", " padded"),
            ("account name", "\u{200B}"),
        ] {
            let mut refused = invitation();
            if field == "account name" {
                refused.presentation.account_name = Some(bad.into());
            } else {
                refused.presentation.matter_name = Some(bad.into());
            }
            let error = refused.with_checked_labels().expect_err(bad);
            assert_eq!(error.field, field);
        }
        let mut long = invitation();
        long.presentation.matter_name = Some("m".repeat(201));
        assert_eq!(
            long.with_checked_labels().unwrap_err().problem,
            rapport_scoring::validate::LabelError::TooLong
        );
    }

    #[test]
    fn invitation_labels_follow_the_context_rules() {
        let mut decomposed = invitation();
        decomposed.account = "Cafe\u{0301} Lumie\u{0300}re".into();
        decomposed.wave = Some("2026-h2".into());
        let checked = decomposed.with_checked_labels().expect("a good label");
        assert_eq!(checked.account, "Café Lumière");
        for (field, edit) in [
            (
                "account",
                (|invitation: &mut Invitation| invitation.account = "northwind ".into())
                    as fn(&mut Invitation),
            ),
            ("matter", |invitation| {
                invitation.matter = Some("msa\u{200B}2026".into())
            }),
            ("wave", |invitation| {
                invitation.wave = Some("2026\u{2028}h2".into())
            }),
        ] {
            let mut bad = invitation();
            edit(&mut bad);
            let refused = bad.with_checked_labels().expect_err(field);
            assert_eq!(refused.field, field);
            assert!(refused.to_string().starts_with(field), "{refused}");
        }
    }

    #[test]
    fn lifetimes_parse() {
        assert_eq!(parse_lifetime("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_lifetime("12h").unwrap(), 12 * 3600);
        assert!(
            parse_lifetime("0d").is_err()
                && parse_lifetime("5y").is_err()
                && parse_lifetime("d").is_err()
        );
        // These once panicked: a multi-byte unit split inside a character, and an overflow.
        assert!(
            parse_lifetime("30é").is_err()
                && parse_lifetime("é").is_err()
                && parse_lifetime("").is_err()
        );
        assert!(
            parse_lifetime(&format!("{}d", i64::MAX))
                .unwrap_err()
                .to_string()
                .contains("too long")
        );
        assert!(
            parse_lifetime("36501d")
                .unwrap_err()
                .to_string()
                .contains("too long")
        );
        assert_eq!(parse_lifetime("36500d").unwrap(), 36_500 * 86_400);
    }
}
