//! The values of disclosure control that report columns keep for each response: how it
//! reached the server ([`Arrival`]), and what a role other than admin may see of it
//! ([`RowRelease`], naming the [`BatchId`] a protected answer was published in).
//!
//! The rules that decide them are in `disclosure`, which reads report input; this module
//! holds only the values, so that `report` can store them without depending on
//! `disclosure`. It depends on nothing else in the crate.

use serde::{Deserialize, Serialize};

/// How a response reached the server, which decides whether it can vouch for who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Arrival {
    /// Through an invitation link: the server made the invitation, so it vouches for the
    /// contact, account and matter.
    Invitation,
    /// With a context the embedding portal signed with the survey's secret.
    SignedContext,
    /// Neither: anyone could have sent it.
    #[default]
    Unverified,
}

impl Arrival {
    /// Whether the server can vouch for who answered.
    pub fn is_verified(self) -> bool {
        self != Arrival::Unverified
    }

    /// The name stored and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Arrival::Invitation => "invitation",
            Arrival::SignedContext => "signed_context",
            Arrival::Unverified => "unverified",
        }
    }

    /// Parses [`Arrival::as_str`]'s names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "invitation" => Some(Arrival::Invitation),
            "signed_context" => Some(Arrival::SignedContext),
            "unverified" => Some(Arrival::Unverified),
            _ => None,
        }
    }
}

/// A batch of published protected answers, numbered in the order batches were completed.
pub type BatchId = u32;

/// What a role other than admin may see of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowRelease {
    /// An identified answer: shown as it is.
    Live,
    /// A protected answer in a published batch: shown only inside figures that hold its
    /// whole batch.
    Published(BatchId),
    /// A verified protected answer waiting for its batch to fill.
    Waiting,
    /// An unverified protected answer: never shown to these roles.
    Unverified,
}
