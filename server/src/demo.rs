//! `rapport demo-seed`: a demo programme with enough generated responses for the dashboard
//! to show something true, and one API token per role to sign in with.
//!
//! The responses answer the built-in `client-portal` survey (confidential ones through
//! invitations recorded for them, as a real programme's would be): several accounts, two waves,
//! optional confidentiality with both choices, every respondent role, strengths and
//! weaknesses in words. They are generated as wire-format documents and stored through
//! the ingest service ([`crate::ingest::Ingest`]), the path every real response takes:
//! validated, scored by `scoring`, identity sealed. The generator is seeded, so the same arguments give the same
//! programme. It must never run against a database that already holds responses of the
//! survey: demo answers must not mix with real ones.

use std::sync::Arc;

use anyhow::Context as _;
use rapport_scoring::ids::ResponseId;
use rapport_scoring::wire::ResponseV1;
use serde_json::json;
use tokio::task::JoinSet;

use crate::auth::{Role, new_token, token_hash};
use crate::config::DemoSeedArgs;
use crate::identity::IdentityKey;
use crate::ingest::Ingest;
use crate::invitation::{Invitation, now_seconds};
use crate::metrics::Counters;
use crate::store::Store;

/// The survey the demo answers.
pub const DEMO_SURVEY: &str = "client-portal";

/// The two waves, earlier first.
pub const DEMO_WAVES: [&str; 2] = ["2026-h1", "2026-h2"];

/// Named client accounts; a large demo adds numbered ones.
const ACCOUNTS: [&str; 6] = [
    "northwind",
    "contoso",
    "fabrikam",
    "globex",
    "initech",
    "tailspin",
];

const FIRST_NAMES: [&str; 12] = [
    "Ana", "Ben", "Chloé", "Dev", "Elif", "Femi", "Greta", "Hiro", "Inès", "Jonas", "Kofi", "Lena",
];
const LAST_NAMES: [&str; 10] = [
    "Ruiz", "Okafor", "Martin", "Patel", "Yilmaz", "Adeyemi", "Lind", "Sato", "Moreau", "Berg",
];
const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];

const STRENGTHS: [&str; 8] = [
    "Quick replies, even when the answer is that you don't know yet",
    "Deep expertise in our sector",
    "Clear communication and regular updates",
    "They deliver what was agreed, on the deadline",
    "The partner knows our business",
    "Responsive team that picks up the phone",
    "Practical advice rather than long memos",
    "Experience with regulators",
];
const WEAKNESSES: [&str; 8] = [
    "Fees are expensive and invoices are hard to follow",
    "Slow to respond once the deal team changed",
    "Updates stop once the contract is signed",
    "Scope grew without warning and so did the cost",
    "Too many people on calls",
    "Hard to reach anyone senior in August",
    "We were not informed when the timetable slipped",
    "Billing surprises at the end of the matter",
];

/// The weakness that appears in the second wave only, in place of `WEAKNESSES[4]` and
/// `WEAKNESSES[5]`: named by about one in six of that wave's weaknesses, as the new
/// weakness of DOMAIN.md's programme was by 15% of its respondents.
const NEW_WEAKNESS: &str = "The handover to the new team was rough";

/// A small, seeded pseudo-random generator (SplitMix64): the demo needs variety, not secrecy.
#[derive(Debug, Clone)]
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal, mean 0 and spread 1 (sum of four uniforms).
    fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 1.732
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// One generated person at a client.
#[derive(Debug, Clone)]
struct Person {
    name: String,
    email: String,
    account: String,
    role: &'static str,
    /// How they feel about the relationship, around 0 (neutral-good).
    mood: f64,
    /// Whether they keep confidentiality when asked.
    keeps_confidentiality: bool,
}

/// The account names for a demo of `n_responses`: the named six, then numbered ones so that
/// a large demo has about 500 responses per account.
fn accounts(n_responses: usize) -> Vec<String> {
    let n_accounts = (n_responses / 500).max(ACCOUNTS.len());
    (0..n_accounts)
        .map(|idx| {
            ACCOUNTS
                .get(idx)
                .map_or_else(|| format!("client-{idx:03}"), |name| (*name).to_owned())
        })
        .collect()
}

/// The wire-format documents of a demo programme of about `n_responses` responses.
fn generate(n_responses: usize, seed: u64) -> Vec<serde_json::Value> {
    let mut random = Random(seed);
    let accounts = accounts(n_responses);
    // Each account has its own climate: most are fine, a few are in trouble.
    let climates: Vec<f64> = accounts
        .iter()
        .enumerate()
        .map(|(idx, _)| {
            if idx % 5 == 1 {
                -1.4
            } else {
                0.6 * random.normal() + 0.55
            }
        })
        .collect();
    let mut documents = Vec::with_capacity(n_responses);
    let mut person_idx = 0usize;
    while documents.len() < n_responses {
        let account_idx = person_idx % accounts.len();
        let first = random.pick(&FIRST_NAMES);
        let last = random.pick(&LAST_NAMES);
        let role = ROLES[(random.next() % 3) as usize];
        let mood = climates[account_idx] + 0.9 * random.normal();
        let person = Person {
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}.{person_idx}@{}.example",
                ascii_lowercase(first),
                ascii_lowercase(last),
                accounts[account_idx]
            ),
            account: accounts[account_idx].clone(),
            role,
            mood,
            // The unhappy keep confidentiality more often, as programmes find.
            keeps_confidentiality: random.unit() < if mood < -0.5 { 0.45 } else { 0.22 },
        };
        person_idx += 1;
        let answers_first = random.unit() < 0.85;
        if answers_first {
            documents.push(response(&mut random, &person, 0));
        }
        // Completion in the second wave depends on the first choice (DOMAIN.md: 55% of the
        // confidential, 70% of the identified); newcomers join the second wave too.
        let answers_second = if answers_first {
            random.unit()
                < if person.keeps_confidentiality {
                    0.55
                } else {
                    0.70
                }
        } else {
            true
        };
        if answers_second && documents.len() < n_responses {
            documents.push(response(&mut random, &person, 1));
        }
    }
    documents
}

/// One response of `person` in wave `wave_idx`.
fn response(random: &mut Random, person: &Person, wave_idx: usize) -> serde_json::Value {
    let confidential = person.keeps_confidentiality;
    // Confidential respondents rate lower in the first wave; the second wave improves a little.
    let feeling = person.mood
        + if confidential { -0.5 } else { 0.0 }
        + 0.25 * wave_idx as f64
        + 0.5 * random.normal();
    let nps = (7.4 + 1.6 * feeling).round().clamp(0.0, 10.0) as u8;
    let mut answers = serde_json::Map::new();
    answers.insert("nps".into(), json!(nps));
    for (element, bias) in [
        ("trust", 0.4),
        ("commitment", 0.3),
        ("satisfaction", 0.1),
        ("uniqueness", -0.6),
        ("reliability", 0.2),
        ("responsiveness", -0.3),
        ("care", 0.0),
    ] {
        // About one element in twenty is left unanswered, as real respondents do.
        if random.unit() < 0.05 {
            continue;
        }
        let rating = (5.0 + 0.9 * feeling + bias + 0.6 * random.normal())
            .round()
            .clamp(1.0, 7.0) as u8;
        answers.insert(element.into(), json!(rating));
    }
    if random.unit() < 0.7 {
        answers.insert("strength".into(), json!(random.pick(&STRENGTHS)));
    }
    if random.unit() < 0.6 {
        // Day-to-day contacts, who know the supplier best, name costs and silence more often.
        let pool: &[&str] = if person.role == "day-to-day" && random.unit() < 0.5 {
            &WEAKNESSES[..3]
        } else {
            &WEAKNESSES
        };
        let weakness = random.pick(pool);
        // In the second wave a weakness nobody named before replaces one of the others, so
        // the demo has an emerging topic to find: the handover to a new team.
        let weakness = if wave_idx == 1 && WEAKNESSES[4..6].contains(&weakness) {
            NEW_WEAKNESS
        } else {
            weakness
        };
        answers.insert("weakness".into(), json!(weakness));
    }
    answers.insert("role".into(), json!(person.role));
    let mut id_bytes = [0u8; 16];
    id_bytes[..8].copy_from_slice(&random.next().to_le_bytes());
    id_bytes[8..].copy_from_slice(&random.next().to_le_bytes());
    let month = if wave_idx == 0 { 5 } else { 11 };
    let day = 1 + random.next() % 28;
    json!({
        "format": 1,
        "response_id": ResponseId::from_random_bytes(id_bytes).as_str(),
        "survey_id": DEMO_SURVEY,
        "survey_version": 1,
        "locale": "en",
        "answers": answers,
        "confidentiality": if confidential { "confidential" } else { "identified" },
        "identity": {"name": person.name, "email": person.email, "organisation": organisation(&person.account)},
        "context": {"account": person.account, "wave": DEMO_WAVES[wave_idx]},
        "submitted_at": format!("2026-{month:02}-{day:02}T10:00:00Z"),
    })
}

/// A name as the local part of a demo email address: lowercase, accents dropped.
fn ascii_lowercase(name: &str) -> String {
    name.to_lowercase().replace(['é', 'è'], "e")
}

/// The organisation name of an account: `northwind` becomes `Northwind`.
fn organisation(account: &str) -> String {
    let mut characters = account.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

/// Stores a demo programme of about `n_responses` responses in `store`, through the ingest
/// service, with identity sealed under `identity_key`. Returns how many were stored.
pub async fn seed_responses(
    store: &Store,
    identity_key: &IdentityKey,
    n_responses: usize,
    seed: u64,
) -> anyhow::Result<u64> {
    let survey = store
        .survey(DEMO_SURVEY, Some(1))
        .await?
        .context("the built-in client-portal survey is missing")?;
    // The demo's own count of score mismatches; nobody serves it.
    let counters = Arc::new(Counters::default());
    let mut stored = 0u64;
    let mut tasks = JoinSet::new();
    // Many responses in flight at once let the store's group commit write them in batches.
    const IN_FLIGHT: usize = 256;
    for document in generate(n_responses, seed) {
        if tasks.len() >= IN_FLIGHT {
            tasks
                .join_next()
                .await
                .context("a demo insert task vanished")?
                .context("a demo insert task failed")??;
            stored += 1;
        }
        let mut response: ResponseV1 =
            serde_json::from_value(document).context("a generated demo response does not parse")?;
        if response.confidentiality != rapport_scoring::ConfidentialityChoice::Identified {
            response.invitation = Some(invite(store, identity_key, &response).await?);
        }
        let (store, identity_key, counters, survey) = (
            store.clone(),
            identity_key.clone(),
            Arc::clone(&counters),
            Arc::clone(&survey),
        );
        tasks.spawn(async move {
            let ingest = Ingest {
                store: &store,
                identity_key: &identity_key,
                counters: &counters,
            };
            ingest
                .ingest(&survey, response)
                .await
                .context("storing a demo response")?;
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("a demo insert task failed")??;
        stored += 1;
    }
    Ok(stored)
}

/// Records an invitation for the respondent of a demo response and returns its signed
/// token, as `rapport invite` would have emailed it: confidential answers reach account
/// managers only when they are verified, and a real programme's come through invitations.
async fn invite(
    store: &Store,
    identity_key: &IdentityKey,
    response: &ResponseV1,
) -> anyhow::Result<String> {
    let identity = response.identity.clone().unwrap_or_default();
    let contact = identity
        .email
        .clone()
        .context("a generated demo response has no email")?;
    let invitation = Invitation {
        id: format!("demo-{}", response.response_id),
        survey: DEMO_SURVEY.to_owned(),
        contact: contact.clone(),
        name: identity.name.clone(),
        account: response
            .context
            .account
            .clone()
            .context("a generated demo response has no account")?,
        matter: response.context.matter.clone(),
        wave: response.context.wave.clone(),
        firm: None,
        expires: now_seconds() + 90 * 24 * 3600,
        presentation: Default::default(),
    };
    let sealed = identity_key.seal(&invitation.id, &identity)?;
    store
        .add_invitation(&invitation, &identity_key.respondent_key(&contact), &sealed)
        .await?;
    Ok(invitation.sign(identity_key))
}

/// A token created for the demo: role, accounts and the token itself.
#[derive(Debug, Clone)]
pub struct DemoToken {
    /// Its role.
    pub role: Role,
    /// The accounts an `account` token sees.
    pub accounts: Vec<String>,
    /// The token, shown once.
    pub token: String,
}

/// The label of the tokens the demo makes. Tokens with it are the demo's alone: each start
/// removes them before it makes new ones.
pub const DEMO_TOKEN_LABEL: &str = "demo-seed (replaced by the next demo-seed)";

/// The tokens one demo start made, and how many an earlier start made that stopped working.
#[derive(Debug, Clone)]
pub struct DemoTokens {
    /// One new token per role.
    pub tokens: Vec<DemoToken>,
    /// How many tokens of an earlier start were removed.
    pub removed: u64,
}

/// Creates one token per role (an `account` token for the first demo account), after removing
/// the ones an earlier start made, so that only the tokens printed last sign in.
pub async fn create_tokens(store: &Store) -> anyhow::Result<DemoTokens> {
    let removed = store.remove_tokens_labelled(DEMO_TOKEN_LABEL).await?;
    let mut tokens = Vec::new();
    for (role, accounts) in [
        (Role::Admin, vec![]),
        (Role::Account, vec![ACCOUNTS[0].to_owned()]),
        (Role::Viewer, vec![]),
    ] {
        let token = new_token()?;
        store
            .add_token(&token_hash(&token), role, &accounts, Some(DEMO_TOKEN_LABEL))
            .await?;
        tokens.push(DemoToken {
            role,
            accounts,
            token,
        });
    }
    Ok(DemoTokens { tokens, removed })
}

/// `rapport demo-seed`: seeds the demo programme unless the survey already has responses,
/// then prints a fresh token per role (one line each: role, accounts, token).
pub async fn run(args: &DemoSeedArgs) -> anyhow::Result<()> {
    let identity_key = IdentityKey::load_or_create(&args.identity_key_file)?;
    let store = Store::open(&args.database.database_url).await?;
    let existing = store.count_responses(DEMO_SURVEY).await?;
    if existing == 0 {
        let stored = seed_responses(&store, &identity_key, args.responses, args.seed).await?;
        eprintln!(
            "demo: stored {stored} generated responses to {DEMO_SURVEY} ({} accounts, waves {} and {})",
            accounts(args.responses).len(),
            DEMO_WAVES[0],
            DEMO_WAVES[1]
        );
    } else {
        eprintln!("demo: {DEMO_SURVEY} already has {existing} responses; nothing generated");
    }
    let DemoTokens { tokens, removed } = create_tokens(&store).await?;
    if removed > 0 {
        eprintln!("demo: the {removed} token(s) printed by the previous start no longer work");
    }
    eprintln!(
        "demo: sign in to the dashboard with one of these tokens (shown once; new ones are made on every start):"
    );
    for token in tokens {
        println!(
            "{:<8} {:<10} {}",
            token.role.as_str(),
            if token.accounts.is_empty() {
                "-".to_owned()
            } else {
                token.accounts.join(",")
            },
            token.token
        );
    }
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_covers_what_the_dashboard_shows() {
        let documents = generate(600, 7);
        assert_eq!(documents.len(), 600);
        let values = |pointer: &str| {
            documents
                .iter()
                .filter_map(|document| {
                    document
                        .pointer(pointer)
                        .and_then(|value| value.as_str())
                        .map(str::to_owned)
                })
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(
            values("/context/wave").into_iter().collect::<Vec<_>>(),
            DEMO_WAVES
        );
        assert_eq!(
            values("/confidentiality").into_iter().collect::<Vec<_>>(),
            ["confidential", "identified"]
        );
        assert_eq!(values("/answers/role").len(), 3);
        assert!(values("/context/account").len() >= 6);
        assert!(!values("/answers/weakness").is_empty() && !values("/answers/strength").is_empty());
        assert_eq!(
            generate(600, 7),
            documents,
            "the same seed gives the same programme"
        );
    }
}
