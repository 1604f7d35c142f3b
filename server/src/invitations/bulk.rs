//! Invitations made in bulk and resent: a file of contacts checked whole, the invitations
//! it makes, the file of links it gives back, and a resend that replaces a link.
//!
//! `rapport invite --csv` and the dashboard's invitations page both go through here, so a
//! file means the same in either place. A file is taken whole or not at all: every line is
//! checked before anything is stored, every problem is reported with its line and field,
//! and the invitations of one file are stored in one transaction. This module must never
//! keep a link: links are sealed secrets that go back to whoever asked, once.

use rapport_scoring::definition::SurveyDefinition;
use rapport_scoring::validate::Label;

use crate::email_block::EmailBlock;
use crate::identity::IdentityKey;
use crate::invitation::{Invitation, Language, Presentation, now_seconds};
use crate::labels::cells;
use crate::store::{
    InvitationAction, InvitationAudit, InvitationListing, InvitationState, NewInvitation, Store,
};

/// The columns a contacts file may have; `contact` and `account` are required.
pub const COLUMNS: [&str; 8] = [
    "contact",
    "name",
    "account",
    "matter",
    "wave",
    "locale",
    "account_name",
    "matter_name",
];

/// The header of the file of links given back.
pub const LINKS_HEADER: &str = "contact,link,email_html,email_text";

/// The most contacts one file may hold: a wave's worth, small enough to be sealed and
/// stored in one transaction while the programme lead waits.
pub const MAX_CONTACTS: usize = 5000;

/// One contact of a file, checked: an email that looks like one, labels that follow the
/// label rules (NFC), a language the landing page speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The contact's email.
    pub email: String,
    /// The contact's name, for the greeting.
    pub name: Option<String>,
    /// The client account.
    pub account: String,
    /// The matter or contract.
    pub matter: Option<String>,
    /// The survey wave.
    pub wave: Option<String>,
    /// The language and the display names.
    pub presentation: Presentation,
}

/// What a cell of a file must not be, with its line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, {field}: {problem}")]
pub struct LineProblem {
    /// The line of the file, from 1 (the header is line 1).
    pub line: usize,
    /// The column, or `file` for the file as a whole.
    pub field: String,
    /// What is wrong, in plain words.
    pub problem: String,
}

/// A refused file: every problem found, in file order. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the contacts file was refused and nothing was stored: {}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ContactsRefused {
    /// Every problem found.
    pub problems: Vec<LineProblem>,
}

/// Values that stand for an empty cell, or a missing column: the command line's `--matter`,
/// `--wave`, `--locale` and `--matter-name`. The dashboard gives none.
#[derive(Debug, Clone, Default)]
pub struct Fallbacks {
    /// The matter of rows that name none.
    pub matter: Option<String>,
    /// The wave of rows that name none.
    pub wave: Option<String>,
    /// The language of rows that name none.
    pub locale: Option<String>,
    /// The matter's name, for rows that keep the fallback matter.
    pub matter_name: Option<String>,
}

/// Whether `email` looks like an address a thank-you email can go to: one `@`, something
/// before it, a dotted domain after it, and no spaces, quotes, commas or angle brackets (an
/// address "Ana <ana@…>" belongs in two columns, name and contact).
pub fn email_problem(email: &str) -> Option<&'static str> {
    if email.chars().count() > 254 {
        return Some("is longer than an email address can be");
    }
    if email
        .chars()
        .any(|ch| ch.is_whitespace() || ch.is_control() || "\"'<>,;()[]\\".contains(ch))
    {
        return Some("is not an email address: it holds a space or a character like < > , ; \"");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Some("is not an email address: it has no @");
    };
    if local.is_empty() || domain.contains('@') {
        return Some("is not an email address: it needs one @ with a name before it");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
        return Some(
            "is not an email address: the part after @ must be a domain like client.example",
        );
    }
    None
}

/// The contacts of a file with a header naming some of [`COLUMNS`], each line checked; or
/// every problem of the file. Cells with a comma or a quote are quoted, their quotes doubled.
pub fn parse_contacts(text: &str, fallbacks: &Fallbacks) -> Result<Vec<Contact>, ContactsRefused> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(idx, line)| (idx + 1, line))
        .filter(|(_, line)| !line.trim().is_empty());
    let refuse = |line: usize, field: &str, problem: String| ContactsRefused {
        problems: vec![LineProblem {
            line,
            field: field.to_owned(),
            problem,
        }],
    };
    let Some((header_line, header)) = lines.next() else {
        return Err(refuse(
            1,
            "file",
            "the file is empty; its first line names the columns, such as contact,name,account"
                .to_owned(),
        ));
    };
    let header: Vec<String> = cells(header)
        .map_err(|problem| refuse(header_line, "header", problem))?
        .iter()
        .map(|cell| cell.trim().to_lowercase())
        .collect();
    let mut problems = Vec::new();
    for name in &header {
        if !COLUMNS.contains(&name.as_str()) {
            problems.push(LineProblem {
                line: header_line,
                field: "header".to_owned(),
                problem: format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                ),
            });
        }
    }
    for required in ["contact", "account"] {
        if !header.iter().any(|name| name == required) {
            problems.push(LineProblem {
                line: header_line,
                field: "header".to_owned(),
                problem: format!("the first line must name the {required} column"),
            });
        }
    }
    if !problems.is_empty() {
        return Err(ContactsRefused { problems });
    }
    let column = |name: &str| header.iter().position(|cell| cell == name);
    let mut contacts = Vec::new();
    for (line, text) in lines {
        let mut problem = |field: &str, words: String| {
            problems.push(LineProblem {
                line,
                field: field.to_owned(),
                problem: words,
            })
        };
        let row = match cells(text) {
            Ok(row) => row,
            Err(words) => {
                problem("line", words);
                continue;
            }
        };
        if row.len() > header.len() {
            problem(
                "line",
                format!(
                    "it has {} cells but the header names {} columns; quote a cell that holds a comma",
                    row.len(),
                    header.len()
                ),
            );
            continue;
        }
        let cell = |name: &str| {
            column(name)
                .and_then(|position| row.get(position))
                .map(|cell| cell.trim())
                .filter(|cell| !cell.is_empty())
                .map(str::to_owned)
        };
        let mut label = |field: &str, value: Option<String>| -> Option<String> {
            let value = value?;
            match Label::new(&value) {
                Ok(label) => Some(String::from(label)),
                Err(words) => {
                    problem(field, words.to_string());
                    None
                }
            }
        };
        let account = label("account", cell("account"));
        let matter = label(
            "matter",
            cell("matter").or_else(|| fallbacks.matter.clone()),
        );
        let wave = label("wave", cell("wave").or_else(|| fallbacks.wave.clone()));
        let account_name = label("account_name", cell("account_name"));
        // The fallback matter's name names the fallback matter only.
        let matter_name = label(
            "matter_name",
            cell("matter_name").or_else(|| {
                cell("matter")
                    .is_none()
                    .then(|| fallbacks.matter_name.clone())
                    .flatten()
            }),
        );
        let name = label("name", cell("name"));
        let email = cell("contact");
        match &email {
            None => problem("contact", "is empty; every line needs an email".to_owned()),
            Some(email) => {
                if let Some(words) = email_problem(email) {
                    problem("contact", words.to_owned());
                }
            }
        }
        if cell("account").is_none() {
            problem(
                "account",
                "is empty; every line needs an account".to_owned(),
            );
        }
        let locale = match cell("locale").or_else(|| fallbacks.locale.clone()) {
            None => None,
            Some(text) => match text.parse::<Language>() {
                Ok(locale) => Some(locale),
                Err(error) => {
                    problem("locale", error.to_string());
                    None
                }
            },
        };
        if let (Some(email), Some(account)) = (email, account) {
            contacts.push(Contact {
                email,
                name,
                account,
                matter,
                wave,
                presentation: Presentation {
                    locale,
                    account_name,
                    matter_name,
                },
            });
        }
    }
    if contacts.is_empty() && problems.is_empty() {
        problems.push(LineProblem {
            line: header_line,
            field: "file".to_owned(),
            problem: "the file names no contact below its first line".to_owned(),
        });
    }
    if contacts.len() > MAX_CONTACTS {
        problems.push(LineProblem {
            line: header_line,
            field: "file".to_owned(),
            problem: format!(
                "the file holds {} contacts; send at most {MAX_CONTACTS} at a time",
                contacts.len()
            ),
        });
    }
    if problems.is_empty() {
        Ok(contacts)
    } else {
        Err(ContactsRefused { problems })
    }
}

/// What every invitation of a batch shares.
#[derive(Debug, Clone)]
pub struct BatchSettings<'a> {
    /// The survey invited to.
    pub survey: &'a SurveyDefinition,
    /// The firm named on the landing page.
    pub firm: Option<String>,
    /// How long the links work, in seconds.
    pub lifetime_seconds: i64,
    /// The address people reach the server at, such as `https://feedback.example`.
    pub base_url: &'a str,
}

/// One invitation made: the contact and its link, with the email block when the survey
/// asks a 0–10 question. Given back once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    /// The contact's email.
    pub email: String,
    /// The landing page's address for this invitation.
    pub link: String,
    /// The block to paste into the thank-you email.
    pub block: Option<EmailBlock>,
}

impl IssuedLink {
    /// The line of the file of links: `contact,link,email_html,email_text`, the blocks quoted.
    pub fn csv_line(&self) -> String {
        let (html, text) = self
            .block
            .as_ref()
            .map(|block| (block.html.as_str(), block.text.as_str()))
            .unwrap_or_default();
        format!(
            "{},{},{},{}",
            self.email,
            self.link,
            csv_quoted(html),
            csv_quoted(text)
        )
    }
}

/// A CSV cell in double quotes, its own quotes doubled, so commas, quotes and line breaks
/// of an email block stay inside it.
pub fn csv_quoted(cell: &str) -> String {
    format!("\"{}\"", cell.replace('"', "\"\""))
}

/// The file of links: [`LINKS_HEADER`], then one line per invitation.
pub fn links_csv(issued: &[IssuedLink]) -> String {
    let mut file = String::from(LINKS_HEADER);
    file.push('\n');
    for link in issued {
        file.push_str(&link.csv_line());
        file.push('\n');
    }
    file
}

/// A fresh random invitation id, 32 hex characters.
fn new_invitation_id() -> anyhow::Result<String> {
    let mut id_bytes = [0u8; 16];
    getrandom::fill(&mut id_bytes)
        .map_err(|error| anyhow::anyhow!("no randomness for an invitation id: {error}"))?;
    Ok(hex::encode(id_bytes))
}

/// An invitation sealed for its link, with its contact sealed and keyed for the store.
struct Prepared {
    invitation: Invitation,
    contact_key: String,
    sealed_contact: Vec<u8>,
}

fn prepare(
    identity_key: &IdentityKey,
    settings: &BatchSettings<'_>,
    contact: Contact,
) -> anyhow::Result<Prepared> {
    let invitation = Invitation {
        id: new_invitation_id()?,
        survey: settings.survey.id.as_str().to_owned(),
        contact: contact.email,
        name: contact.name,
        account: contact.account,
        matter: contact.matter,
        wave: contact.wave,
        firm: settings.firm.clone(),
        expires: now_seconds() + settings.lifetime_seconds,
        presentation: contact.presentation,
    }
    .with_checked_labels()?;
    let identity = rapport_scoring::wire::Identity {
        name: invitation.name.clone(),
        email: Some(invitation.contact.clone()),
        organisation: None,
    };
    let sealed_contact = identity_key.seal(&invitation.id, &identity)?;
    let contact_key = identity_key.respondent_key(&invitation.contact);
    Ok(Prepared {
        invitation,
        contact_key,
        sealed_contact,
    })
}

fn issued(
    identity_key: &IdentityKey,
    settings: &BatchSettings<'_>,
    invitation: &Invitation,
) -> IssuedLink {
    let link = format!(
        "{}/s/{}",
        settings.base_url.trim_end_matches('/'),
        invitation.sign(identity_key)
    );
    IssuedLink {
        email: invitation.contact.clone(),
        block: EmailBlock::new(settings.survey, &link, &invitation.presentation),
        link,
    }
}

/// Makes an invitation for every contact and stores them all in one transaction, with an
/// audit entry naming `actor` (`None` records none, as the command line's single invites
/// do); returns their links, in file order.
pub async fn make_invitations(
    store: &Store,
    identity_key: &IdentityKey,
    settings: &BatchSettings<'_>,
    contacts: Vec<Contact>,
    actor: Option<&str>,
) -> anyhow::Result<Vec<IssuedLink>> {
    let prepared = contacts
        .into_iter()
        .map(|contact| prepare(identity_key, settings, contact))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let batch: Vec<NewInvitation<'_>> = prepared
        .iter()
        .map(|prepared| NewInvitation {
            invitation: &prepared.invitation,
            contact_key: &prepared.contact_key,
            sealed_contact: &prepared.sealed_contact,
        })
        .collect();
    let subject = format!(
        "survey {}: {} invitation{}",
        settings.survey.id.as_str(),
        batch.len(),
        if batch.len() == 1 { "" } else { "s" }
    );
    let audit = actor.map(|actor| InvitationAudit {
        action: InvitationAction::Made,
        subject: &subject,
        actor,
    });
    store.add_invitations(&batch, None, audit.as_ref()).await?;
    Ok(prepared
        .iter()
        .map(|prepared| issued(identity_key, settings, &prepared.invitation))
        .collect())
}

/// Why a link could not be resent.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// No current invitation of this survey has that id (it may have been resent already).
    #[error("this invitation is not on the list any more; it may have been resent already")]
    NotFound,
    /// It was answered or resent between the look and the change; nothing was made.
    #[error("this invitation was answered or resent a moment ago, so no new link was made")]
    Changed,
    /// Its contact answered: a new link would only ask them again.
    #[error("this invitation was answered, so it needs no new link")]
    Answered,
    /// The database or the seal failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Makes a new link for the invitation `invitation_id`, for the same contact, account,
/// matter, wave, firm and language, working for `settings.lifetime_seconds` from now, and
/// marks the old one replaced in the same transaction (its link is refused from then on).
/// An answered invitation is not resent.
pub async fn resend(
    store: &Store,
    identity_key: &IdentityKey,
    settings: &BatchSettings<'_>,
    invitation_id: &str,
    actor: &str,
) -> Result<IssuedLink, ResendError> {
    let survey_id = settings.survey.id.as_str();
    let Some(old) = store
        .invitation_for_resend(survey_id, invitation_id, now_seconds())
        .await?
    else {
        return Err(ResendError::NotFound);
    };
    if old.state == InvitationState::Answered {
        return Err(ResendError::Answered);
    }
    let identity = identity_key.open(&old.invitation_id, &old.sealed_contact)?;
    let email = identity
        .email
        .ok_or_else(|| anyhow::anyhow!("invitation {} has no contact email", old.invitation_id))?;
    // The display names are today's, which the latest invitation or labels file set.
    let names = store.display_names().await?;
    let contact = Contact {
        email,
        name: identity.name,
        presentation: Presentation {
            locale: old.locale,
            account_name: names.account(&old.account).map(str::to_owned),
            matter_name: old
                .matter
                .as_deref()
                .and_then(|matter| names.matter(matter))
                .map(str::to_owned),
        },
        account: old.account,
        matter: old.matter,
        wave: old.wave,
    };
    let settings = BatchSettings {
        firm: old.firm,
        ..settings.clone()
    };
    let prepared = prepare(identity_key, &settings, contact)?;
    let new = NewInvitation {
        invitation: &prepared.invitation,
        contact_key: &prepared.contact_key,
        sealed_contact: &prepared.sealed_contact,
    };
    let subject = format!(
        "survey {survey_id}: invitation {} replaced by {}",
        short_id(&old.invitation_id),
        short_id(&prepared.invitation.id)
    );
    let audit = InvitationAudit {
        action: InvitationAction::Resent,
        subject: &subject,
        actor,
    };
    // The old invitation is marked replaced only if it is still current and unanswered when
    // the transaction runs: two resends at once make one new link, and an answer that
    // arrived meanwhile is kept.
    if !store
        .add_invitations(
            std::slice::from_ref(&new),
            Some(&old.invitation_id),
            Some(&audit),
        )
        .await?
    {
        return Err(ResendError::Changed);
    }
    Ok(issued(identity_key, &settings, &prepared.invitation))
}

/// The first eight hex digits of an invitation id: enough to tell invitations apart in the
/// audit, and nothing that opens a link.
pub fn short_id(invitation_id: &str) -> &str {
    invitation_id.get(..8).unwrap_or(invitation_id)
}

/// One invitation as the programme lead's list shows it: the contact opened, the state.
#[derive(Debug, Clone)]
pub struct ListedInvitation {
    /// The invitation id, for the resend button.
    pub invitation_id: String,
    /// The contact's email.
    pub email: String,
    /// The contact's name.
    pub name: Option<String>,
    /// What the store holds about it.
    pub stored: InvitationListing,
}

/// `limit` of a survey's current invitations from `offset`, newest first, with their
/// contacts opened.
pub async fn list_invitations(
    store: &Store,
    identity_key: &IdentityKey,
    survey_id: &str,
    limit: i64,
    offset: i64,
) -> anyhow::Result<Vec<ListedInvitation>> {
    let rows = store
        .invitation_listing(survey_id, now_seconds(), limit, offset)
        .await?;
    rows.into_iter()
        .map(|stored| {
            let identity = identity_key.open(&stored.invitation_id, &stored.sealed_contact)?;
            Ok(ListedInvitation {
                invitation_id: stored.invitation_id.clone(),
                email: identity.email.unwrap_or_default(),
                name: identity.name,
                stored,
            })
        })
        .collect()
}
