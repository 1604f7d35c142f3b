//! The responses every benchmark uses: distinct, valid wire-format v1 bodies for the
//! built-in `client-portal` survey, generated from an index so that any run can rebuild
//! exactly the same data, and the rows the server stores for them.
//!
//! The rows are computed with the very steps the server's ingest takes (parse, validate,
//! score, seal the identity, digest the body), so the raw-insert ceiling and the bulk load
//! write rows of the same content and size as `POST …/responses` does. Nothing here talks
//! to a database or a server.

use rapport_scoring::entry::EntryLayout;
use rapport_scoring::wire::{ConfidentialityChoice, ResponseV1, Timestamp};
use rapport_scoring::{Scorer, SurveyDefinition, template, validate};
use rapport_server::identity::IdentityKey;

/// The survey every generated response answers.
pub(crate) const SURVEY_ID: &str = "client-portal";

/// The `client-portal` elements, in survey order (relationship ×3, uniqueness, service ×3).
pub(crate) const ELEMENTS: [&str; 7] = [
    "trust",
    "commitment",
    "satisfaction",
    "uniqueness",
    "reliability",
    "responsiveness",
    "care",
];

const STRENGTHS: [&str; 6] = [
    "Quick answers and responsive people",
    "Deep expertise in our sector",
    "Clear advice, always on time",
    "They care about our business",
    "Reliable delivery",
    "Good value for the cost",
];
const WEAKNESSES: [&str; 6] = [
    "Invoices are hard to read",
    "Slow to reply in the summer",
    "Too expensive for small matters",
    "Changing team members",
    "Reports arrive late",
    "Communication could be clearer",
];
const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];
const WAVES: [&str; 2] = ["2026-h1", "2026-h2"];

/// A small deterministic mixer (SplitMix64), so index `i` always gives the same response.
fn mix(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    state = (state ^ (state >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    state = (state ^ (state >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    state ^ (state >> 31)
}

/// A stream of pseudo-random numbers seeded by a response index.
struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = mix(self.0);
        self.0 % bound
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The response id of index `index`: a UUID v4 whose last group is the index.
pub(crate) fn response_id(index: u64) -> String {
    format!("00000000-0000-4000-8000-{index:012x}")
}

/// The JSON body of response `index`. Answers, accounts, waves, confidentiality, identity
/// and open texts vary; about 80% of ratings are given, as in the aggregation benchmark.
pub(crate) fn response_body(index: u64) -> String {
    // Written straight into one string rather than built as a `serde_json::Value`: the load
    // generator makes one per request on the machine the server runs on, so it must cost the
    // server as little CPU as it can. Every piece is plain ASCII that needs no escaping.
    use std::fmt::Write as _;
    let mut dice = Dice(index.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let mut answers = String::with_capacity(256);
    // Skewed towards the top of the scale, as real NPS answers are.
    let nps = [0, 2, 4, 5, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10][dice.below(15) as usize];
    let _ = write!(answers, r#""nps":{nps}"#);
    for element in ELEMENTS {
        if dice.chance(80) {
            let _ = write!(answers, r#","{element}":{}"#, 1 + dice.below(7));
        }
    }
    if dice.chance(60) {
        let _ = write!(
            answers,
            r#","strength":"{}""#,
            STRENGTHS[dice.below(6) as usize]
        );
    }
    if dice.chance(40) {
        let _ = write!(
            answers,
            r#","weakness":"{}""#,
            WEAKNESSES[dice.below(6) as usize]
        );
    }
    if dice.chance(70) {
        let _ = write!(answers, r#","role":"{}""#, ROLES[dice.below(3) as usize]);
    }
    let respondent = dice.below(200_000);
    let account = respondent % 500;
    let confidential = dice.chance(45);
    let wave = WAVES[dice.below(2) as usize];
    let mut body = String::with_capacity(640);
    let _ = write!(
        body,
        r#"{{"format":1,"response_id":"{}","survey_id":"{SURVEY_ID}","survey_version":1,"locale":"en","answers":{{{answers}}},"confidentiality":"{}","submitted_at":"2026-11-23T09:30:00Z""#,
        response_id(index),
        if confidential {
            "confidential"
        } else {
            "identified"
        },
    );
    if !confidential || dice.chance(50) {
        let _ = write!(
            body,
            r#","identity":{{"name":"Respondent {respondent}","email":"respondent-{respondent}@account-{account:03}.example","organisation":"Account {account:03}"}}"#
        );
    }
    let _ = write!(
        body,
        r#","context":{{"account":"account-{account:03}","wave":"{wave}""#
    );
    if dice.chance(30) {
        let _ = write!(body, r#","matter":"matter-{}""#, dice.below(50));
    }
    body.push_str("}}");
    body
}

/// One row of `responses` (and its identity) exactly as the server's ingest writes it.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub(crate) response_id: String,
    pub(crate) survey_version: i64,
    pub(crate) body_sha256: String,
    pub(crate) answers: String,
    pub(crate) confidentiality: &'static str,
    pub(crate) account: Option<String>,
    pub(crate) matter: Option<String>,
    pub(crate) wave: Option<String>,
    pub(crate) returning: Option<bool>,
    pub(crate) respondent_key: Option<String>,
    pub(crate) score: String,
    pub(crate) nps: Option<i64>,
    pub(crate) crq: Option<f64>,
    pub(crate) submitted_at: String,
    pub(crate) received_at: String,
    pub(crate) sealed_identity: Option<Vec<u8>>,
    pub(crate) report_entry: Vec<u8>,
}

/// Builds stored rows the way the server's ingest does.
#[derive(Debug)]
pub(crate) struct RowMaker {
    definition: SurveyDefinition,
    scorer: Scorer,
    layout: EntryLayout,
    key: IdentityKey,
}

impl RowMaker {
    /// A maker with a fresh identity key.
    pub(crate) fn new() -> anyhow::Result<Self> {
        let definition = template(SURVEY_ID)
            .ok_or_else(|| anyhow::anyhow!("no built-in {SURVEY_ID} template"))?;
        let scorer = Scorer::new(&definition);
        Ok(RowMaker {
            layout: EntryLayout::new(&definition),
            definition,
            scorer,
            key: IdentityKey::generate()?,
        })
    }

    /// The stored row of response `index`, received at `received_at`.
    pub(crate) fn row(&self, index: u64, received_at: &Timestamp) -> anyhow::Result<StoredRow> {
        let response: ResponseV1 = serde_json::from_str(&response_body(index))?;
        let valid = validate(&self.definition, &response).map_err(|errors| {
            anyhow::anyhow!("generated response {index} is invalid: {errors:?}")
        })?;
        let score = self.scorer.score(&valid.answers);
        let canonical = serde_json::to_vec(&response)?;
        let identity = match response.confidentiality {
            ConfidentialityChoice::Anonymous => None,
            _ => response.identity.as_ref(),
        };
        let sealed_identity = identity
            .map(|identity| self.key.seal(response.response_id.as_str(), identity))
            .transpose()?;
        let respondent_key = identity
            .and_then(|identity| identity.email.as_deref())
            .map(|email| self.key.respondent_key(email));
        Ok(StoredRow {
            response_id: response.response_id.to_string(),
            survey_version: i64::from(self.definition.version),
            body_sha256: self.key.body_digest(&canonical),
            answers: serde_json::to_string(&valid.answers)?,
            confidentiality: response.confidentiality.as_str(),
            account: response.context.account.clone(),
            matter: response.context.matter.clone(),
            wave: response.context.wave.clone(),
            returning: response.context.returning,
            respondent_key,
            score: serde_json::to_string(&score)?,
            nps: valid.answers.nps.map(|answer| i64::from(answer.get())),
            crq: score.crq,
            submitted_at: response.submitted_at.as_str().to_owned(),
            received_at: received_at.as_str().to_owned(),
            sealed_identity,
            report_entry: self.layout.encode(&valid.answers, response.confidentiality),
        })
    }
}

/// The current time as the server stamps `received_at`.
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    Timestamp::from_unix_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_responses_are_valid_and_distinct() {
        let maker = RowMaker::new().unwrap();
        let received_at = now();
        let rows: Vec<StoredRow> = (0..2_000)
            .map(|index| maker.row(index, &received_at).unwrap())
            .collect();
        let mut ids: Vec<&str> = rows.iter().map(|row| row.response_id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), rows.len());
        assert!(
            rows.iter().any(|row| row.confidentiality == "confidential")
                && rows.iter().any(|row| row.confidentiality == "identified")
        );
        assert!(
            rows.iter().any(|row| row.sealed_identity.is_none())
                && rows.iter().any(|row| row.sealed_identity.is_some())
        );
        assert_eq!(response_body(7), response_body(7));
        assert_ne!(response_body(7), response_body(8));
        // Well-formed JSON whose fields are the ones the row was made from.
        let body: serde_json::Value = serde_json::from_str(&response_body(7)).unwrap();
        assert_eq!(body["response_id"], rows[7].response_id.as_str());
        assert_eq!(
            body["context"]["account"].as_str(),
            rows[7].account.as_deref()
        );
    }
}
