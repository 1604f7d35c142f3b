//! Display names of accounts and matters: what people call them ("Northwind Traders" for
//! the account `northwind`), set when an invitation names them or by `rapport labels
//! import`, the latest write winning.
//!
//! A name is only a presentation of an id: nothing here selects, groups or restricts by
//! name, and whoever shows one shows it only beside an id the caller already sees.

use std::collections::HashMap;

use super::{Store, now};

/// What a display name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    /// A client account.
    Account,
    /// A matter or contract.
    Matter,
}

impl NameKind {
    /// As stored and as written in a labels file: `account` or `matter`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Account => "account",
            NameKind::Matter => "matter",
        }
    }

    /// `account` or `matter` back as the kind; `None` for anything else.
    pub fn parse(text: &str) -> Option<NameKind> {
        match text {
            "account" => Some(NameKind::Account),
            "matter" => Some(NameKind::Matter),
            _ => None,
        }
    }
}

/// One display name: the id of an account or a matter and what people call it. Its id and
/// name are checked by the caller ([`rapport_scoring::validate::Label`]) before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName {
    /// Account or matter.
    pub kind: NameKind,
    /// The id, as responses and invitations carry it.
    pub id: String,
    /// The name people read.
    pub name: String,
}

/// Every stored display name, looked up by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayNames {
    accounts: HashMap<String, String>,
    matters: HashMap<String, String>,
}

impl DisplayNames {
    /// The display name of account `id`, if it has one.
    pub fn account(&self, id: &str) -> Option<&str> {
        self.accounts.get(id).map(String::as_str)
    }

    /// The display name of matter `id`, if it has one.
    pub fn matter(&self, id: &str) -> Option<&str> {
        self.matters.get(id).map(String::as_str)
    }

    /// The display name of `id` as a `kind`, if it has one.
    pub fn of(&self, kind: NameKind, id: &str) -> Option<&str> {
        match kind {
            NameKind::Account => self.account(id),
            NameKind::Matter => self.matter(id),
        }
    }
}

/// A display name as selected.
#[derive(Debug, Clone, sqlx::FromRow)]
struct NameRow {
    kind: String,
    id: String,
    name: String,
}

impl TryFrom<NameRow> for DisplayName {
    type Error = anyhow::Error;

    fn try_from(row: NameRow) -> anyhow::Result<Self> {
        Ok(DisplayName {
            kind: NameKind::parse(&row.kind)
                .ok_or_else(|| anyhow::anyhow!("stored display name has kind {:?}", row.kind))?,
            id: row.id,
            name: row.name,
        })
    }
}

/// Sets one display name, replacing the one it had.
pub(super) const UPSERT_DISPLAY_NAME: &str = "INSERT INTO display_names (kind, id, name, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at";

impl Store {
    /// Stores `names` in one transaction, each replacing the name its id had: all of them,
    /// or none if one fails.
    pub async fn set_display_names(&self, names: &[DisplayName]) -> anyhow::Result<()> {
        let updated_at = now();
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            for name in names {
                sqlx::query(UPSERT_DISPLAY_NAME)
                    .bind(name.kind.as_str())
                    .bind(&name.id)
                    .bind(&name.name)
                    .bind(updated_at.as_str())
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// Every display name, accounts first, each kind by id.
    pub async fn list_display_names(&self) -> anyhow::Result<Vec<DisplayName>> {
        let rows: Vec<NameRow> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT kind, id, name FROM display_names ORDER BY kind, id")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(DisplayName::try_from).collect()
    }

    /// Every display name, for looking up the names of the ids a page or report shows.
    pub async fn display_names(&self) -> anyhow::Result<DisplayNames> {
        let mut names = DisplayNames::default();
        for name in self.list_display_names().await? {
            match name.kind {
                NameKind::Account => names.accounts.insert(name.id, name.name),
                NameKind::Matter => names.matters.insert(name.id, name.name),
            };
        }
        Ok(names)
    }
}
