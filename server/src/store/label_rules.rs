//! Label rules: values of a context field (account, matter, wave) that the programme admin
//! hides from every report or merges into another value of the same field. Each rule added
//! or removed is written to the audit log in the same transaction.
//!
//! The rules are read for every report; applying them is `scoring`'s job
//! (`ReportInput::with_labels`), after the release, never in SQL.

use rapport_scoring::report::{LabelAction, LabelField, LabelRule};

use super::audit::AUDIT_INSERT;
use super::{Store, now};

/// What adding a rule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAdded {
    /// Stored.
    Added,
    /// The value already has a rule; nothing changed.
    AlreadyRuled,
}

/// A stored rule as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredRule {
    field: String,
    value: String,
    merge_into: Option<String>,
}

/// How a rule reads in the audit log: `account "test-co" hidden`, `wave "2026-H1 " merged
/// into "2026-h1"`.
fn audit_subject(rule: &LabelRule) -> String {
    match &rule.action {
        LabelAction::Hide => format!("{} {:?} hidden", rule.field.as_str(), rule.value),
        LabelAction::MergeInto(target) => format!(
            "{} {:?} merged into {:?}",
            rule.field.as_str(),
            rule.value,
            target
        ),
    }
}

impl Store {
    /// Every label rule, by field then value.
    pub async fn label_rules(&self) -> anyhow::Result<Vec<LabelRule>> {
        let stored: Vec<StoredRule> = on_pool!(&self.pool, |pool| {
            sqlx::query_as("SELECT field, value, merge_into FROM label_rules ORDER BY field, value")
                .fetch_all(pool)
                .await?
        });
        stored
            .into_iter()
            .map(|rule| {
                let field = LabelField::parse(&rule.field)
                    .ok_or_else(|| anyhow::anyhow!("stored label field {:?}", rule.field))?;
                Ok(LabelRule {
                    field,
                    value: rule.value,
                    action: match rule.merge_into {
                        None => LabelAction::Hide,
                        Some(target) => LabelAction::MergeInto(target),
                    },
                })
            })
            .collect()
    }

    /// Stores `rule` and its audit entry by `actor`, in one transaction; a value that
    /// already has a rule keeps it.
    pub async fn add_label_rule(&self, rule: &LabelRule, actor: &str) -> anyhow::Result<RuleAdded> {
        let at = now();
        let merge_into = match &rule.action {
            LabelAction::Hide => None,
            LabelAction::MergeInto(target) => Some(target.as_str()),
        };
        let subject = audit_subject(rule);
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO label_rules (field, value, merge_into, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (field, value) DO NOTHING",
            )
            .bind(rule.field.as_str())
            .bind(&rule.value)
            .bind(merge_into)
            .bind(at.as_str())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Ok(RuleAdded::AlreadyRuled);
            }
            sqlx::query(AUDIT_INSERT)
                .bind(at.as_str())
                .bind("label rule added")
                .bind(&subject)
                .bind(actor)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(RuleAdded::Added)
        })
    }

    /// Removes the rule of `value` of `field` and records it by `actor`, in one transaction;
    /// returns whether there was one.
    pub async fn remove_label_rule(
        &self,
        field: LabelField,
        value: &str,
        actor: &str,
    ) -> anyhow::Result<bool> {
        let at = now();
        let rules = self.label_rules().await?;
        on_pool!(&self.pool, |pool| {
            let mut transaction = pool.begin().await?;
            let removed = sqlx::query("DELETE FROM label_rules WHERE field = $1 AND value = $2")
                .bind(field.as_str())
                .bind(value)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            if removed == 0 {
                return Ok(false);
            }
            let subject = rules
                .iter()
                .find(|rule| rule.field == field && rule.value == value)
                .map_or_else(|| format!("{} {value:?}", field.as_str()), audit_subject);
            sqlx::query(AUDIT_INSERT)
                .bind(at.as_str())
                .bind("label rule removed")
                .bind(&subject)
                .bind(actor)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(true)
        })
    }
}
