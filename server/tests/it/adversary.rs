//! The account manager's attack over HTTP, on this run's backend (SQLite or PostgreSQL),
//! with the solver of the scoring suite.
//!
//! A generated programme (three accounts, one to four real protected answers each or
//! enough for a batch, identified answers, and confidential answers anyone could have
//! posted) arrives one answer at a time. After each answer, every reader collects all they
//! can get: a viewer and each account manager read the report under every breakdown, for
//! the survey version and verified answers only, the account managers also their
//! close-the-loop list and CSV, and each of them the dashboard page. Every leaf of all of
//! it is a figure.
//!
//! Which real protected answers lie behind each figure is found from the numbers alone:
//! the whole programme is played again with one of them changed (same category, every
//! rating moved), and the figures that moved are the ones it is behind. The solver then
//! tries to isolate one answer. It must find nothing for these readers, and it must find
//! the over-time attack on the programme lead's live reports, so the harness can fail.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::Role;
use rapport_server::invitation::{Invitation, now_seconds};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, portal_response, record_invitation, token};

#[path = "../../../scoring/tests/it/solver.rs"]
mod solver;

use solver::{
    ACCOUNTS, ELEMENTS, Finding, ROLES, Rng, answer_sets, other_rating, same_category_other, solve,
};

/// Every way a reader can ask for the report. (Every survey version too, but the
/// programme has one, and `?version=1` is the report itself.)
const REPORTS: [&str; 11] = [
    "",
    "?by=account",
    "?by=matter",
    "?by=wave",
    "?by=returning",
    "?by=confidentiality",
    "?by=nps-category",
    "?by=role",
    "?by=account:confidentiality",
    "?by=returning:confidentiality",
    "?verified=true",
];
/// One programme over HTTP (each is played once per real protected answer, on every
/// backend); the scoring suite plays six without HTTP.
const SEEDS: [u64; 1] = [3];

/// How an answer arrives.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// Named, from the page.
    Identified,
    /// Confidential, through an invitation: a real protected answer, the attacker's target.
    Protected,
    /// Confidential, from the page, without an invitation: anyone could have posted it.
    Injected,
}

struct Arrival {
    kind: Kind,
    account: &'static str,
    matter: String,
    wave: String,
    contact: String,
    answers: Value,
}

struct Programme {
    arrivals: Vec<Arrival>,
    /// Positions in `arrivals` of the real protected answers.
    victims: Vec<usize>,
}

fn answers(rng: &mut Rng) -> Value {
    let mut answers = json!({"nps": rng.below(11), "role": ROLES[rng.below(3) as usize]});
    for element in ELEMENTS {
        answers[element] = json!(1 + rng.below(7));
    }
    answers
}

/// The same answers with a different 0–10 answer of the same category and every rating
/// moved: every figure the answer is counted in moves, and no group changes members.
fn perturbed(answers: &Value) -> Value {
    let mut changed = answers.clone();
    changed["nps"] = json!(same_category_other(answers["nps"].as_u64().unwrap() as u8));
    for element in ELEMENTS {
        changed[element] = json!(other_rating(answers[element].as_u64().unwrap() as u8));
    }
    changed
}

fn programme(seed: u64) -> Programme {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut arrivals = Vec::new();
    for account in ACCOUNTS {
        let n_protected = if rng.below(2) == 0 {
            1 + rng.below(4)
        } else {
            5 + rng.below(3)
        };
        for (kind, n) in [
            (Kind::Identified, 2 + rng.below(3)),
            (Kind::Protected, n_protected),
            (Kind::Injected, rng.below(4)),
        ] {
            for person in 0..n {
                arrivals.push(Arrival {
                    kind,
                    account,
                    matter: format!("{account}-matter-{}", rng.below(2)),
                    wave: format!("2026-w{}", 1 + rng.below(2)),
                    // A few people answer more than once, so some are returning.
                    contact: format!("{account}-{kind:?}-{}@client.example", person % 3)
                        .to_lowercase(),
                    answers: answers(&mut rng),
                });
            }
        }
    }
    for idx in (1..arrivals.len()).rev() {
        arrivals.swap(idx, rng.below(idx as u64 + 1) as usize);
    }
    let victims = (0..arrivals.len())
        .filter(|idx| arrivals[*idx].kind == Kind::Protected)
        .collect();
    Programme { arrivals, victims }
}

async fn fetch(router: &Router, request: Request<Body>) -> String {
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn api(router: &Router, path: &str, token: &str) -> String {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    fetch(router, request).await
}

async fn dashboard_session(router: &Router, token: &str) -> String {
    let request = Request::post("/dashboard/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(format!("token={token}")))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// The figures of a JSON document, keyed by their path. A figure is an object that counts
/// answers (it has an `n`: a report's overall figures, one group of a breakdown, one side of
/// a comparison) taken whole, as the scoring suite takes them, or a value outside such an
/// object. Elements of arrays are keyed by what names them (a group's value, an account, a
/// response id) when they say, so that a reordering is not taken for a change. Times are
/// left out: when something was published is not a figure. So is the close-the-loop flag
/// of confidential feedback, a yes or no over a whole published batch that the
/// `disclosure` module checks step by step: read one answer at a time it would seem to
/// stand on the one answer that tips it.
fn figures(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(object) if object.contains_key("n") => {
            out.insert(path.to_owned(), without_times(value).to_string());
        }
        Value::Object(object) => {
            for (key, child) in object {
                if !key.ends_with("_at") && key != "confidential_feedback" {
                    figures(child, &format!("{path}.{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (idx, item) in items.iter().enumerate() {
                // A cell of a two-field breakdown is named by both its values, and a
                // comparison of two cells by its row and both columns.
                let name = ["value", "response_id", "account", "field", "id", "choice"]
                    .iter()
                    .find_map(|key| item.get(*key).map(Value::to_string))
                    .or_else(|| {
                        let [within, first, second] =
                            ["within", "first", "second"].map(|key| item.get(key));
                        Some(format!("{}:{}-{}", within?, first?, second?))
                    })
                    .or_else(|| Some(format!("{}:{}", item.get("first")?, item.get("second")?)))
                    .unwrap_or_else(|| idx.to_string());
                figures(item, &format!("{path}[{name}]"), out);
            }
        }
        leaf => {
            out.insert(path.to_owned(), leaf.to_string());
        }
    }
}

fn without_times(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, _)| !key.ends_with("_at"))
                .map(|(key, child)| (key.clone(), without_times(child)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_times).collect()),
        leaf => leaf.clone(),
    }
}

/// A dashboard page as one figure, without the sentence that says when the last group was
/// published (a time, not a figure).
fn page_figure(page: &str) -> String {
    page.split('<')
        .filter(|piece| !piece.contains("added on"))
        .collect::<Vec<_>>()
        .join("<")
}

/// A reader other than the programme lead, and how it reads.
struct Reader {
    name: String,
    token: String,
    session: String,
    /// Account managers also have the close-the-loop list and the CSV.
    account: bool,
}

/// Plays the programme on a fresh server, with arrival `changed` perturbed, and returns
/// every figure each reader got: `(readers', programme lead's)`.
async fn play(
    programme: &Programme,
    changed: Option<usize>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let server = TestServer::new().await;
    let router = app(server.state.clone());
    let mut readers = Vec::new();
    let viewer = token(&server, Role::Viewer, &[]).await;
    readers.push(Reader {
        name: "viewer".to_owned(),
        session: dashboard_session(&router, &viewer).await,
        token: viewer,
        account: false,
    });
    for account in ACCOUNTS {
        let token = token(&server, Role::Account, &[account]).await;
        readers.push(Reader {
            name: account.to_owned(),
            session: dashboard_session(&router, &token).await,
            token,
            account: true,
        });
    }
    let admin = token(&server, Role::Admin, &[]).await;

    // Every invitation exists before anything is read, so completion figures do not move
    // with the invitations themselves.
    let mut links = BTreeMap::new();
    for (idx, arrival) in programme.arrivals.iter().enumerate() {
        if arrival.kind == Kind::Protected {
            let invitation = Invitation {
                id: format!("inv-{idx}"),
                survey: "client-portal".to_owned(),
                contact: arrival.contact.clone(),
                name: None,
                account: arrival.account.to_owned(),
                matter: Some(arrival.matter.clone()),
                wave: Some(arrival.wave.clone()),
                firm: None,
                expires: now_seconds() + 3600,
                presentation: Default::default(),
            };
            let link =
                record_invitation(&server.state.store, &server.state.identity_key, &invitation)
                    .await;
            links.insert(idx, link);
        }
    }

    let (mut seen, mut lead) = (BTreeMap::new(), BTreeMap::new());
    for (idx, arrival) in programme.arrivals.iter().enumerate() {
        let mut response = portal_response(idx as u32 + 1);
        response["answers"] = if Some(idx) == changed {
            perturbed(&arrival.answers)
        } else {
            arrival.answers.clone()
        };
        response["context"] = json!({
            "account": arrival.account, "matter": arrival.matter, "wave": arrival.wave,
        });
        let body = response.as_object_mut().unwrap();
        match arrival.kind {
            Kind::Identified => {
                body.insert("confidentiality".into(), json!("identified"));
                body.insert(
                    "identity".into(),
                    json!({"name": format!("Known {idx}"), "email": arrival.contact}),
                );
            }
            Kind::Protected => {
                body.remove("identity");
                body.insert("invitation".into(), json!(links[&idx]));
            }
            Kind::Injected => {
                body.remove("identity");
            }
        }
        let (status, answer) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");

        for reader in &readers {
            let at = format!("t{idx}/{}", reader.name);
            for query in REPORTS {
                let path = format!("/api/v1/surveys/client-portal/report{query}");
                let report: Value =
                    serde_json::from_str(&api(&router, &path, &reader.token).await).unwrap();
                figures(&report, &format!("{at}/report{query}"), &mut seen);
            }
            if reader.account {
                let path = "/api/v1/surveys/client-portal/follow-ups";
                let list: Value =
                    serde_json::from_str(&api(&router, path, &reader.token).await).unwrap();
                figures(&list, &format!("{at}/follow-ups"), &mut seen);
                let path = "/api/v1/surveys/client-portal/responses.csv";
                for (line, row) in api(&router, path, &reader.token).await.lines().enumerate() {
                    seen.insert(format!("{at}/csv/{line}"), row.to_owned());
                }
            }
            let page = Request::get("/dashboard?survey=client-portal")
                .header(header::COOKIE, &reader.session)
                .body(Body::empty())
                .unwrap();
            seen.insert(
                format!("{at}/dashboard"),
                page_figure(&fetch(&router, page).await),
            );
        }
        let report = api(&router, "/api/v1/surveys/client-portal/report", &admin).await;
        figures(
            &serde_json::from_str(&report).unwrap(),
            &format!("t{idx}/lead"),
            &mut lead,
        );
    }
    (seen, lead)
}

/// The figures of both plays that are the same in two plays of the same programme: what
/// differs between them (an id, a time) is not a figure.
fn stable(
    first: BTreeMap<String, String>,
    second: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    first
        .into_iter()
        .filter(|(key, value)| second.get(key) == Some(value))
        .collect()
}

#[tokio::test]
async fn over_http_the_solver_recovers_no_protected_answer_and_finds_the_live_ones() {
    let k = rapport_scoring::template("client-portal")
        .unwrap()
        .min_group_size as usize;
    let mut published = 0;
    for seed in SEEDS {
        let programme = programme(seed);
        let (first_seen, first_lead) = play(&programme, None).await;
        let (second_seen, second_lead) = play(&programme, None).await;
        let seen = stable(first_seen, &second_seen);
        let lead = stable(first_lead, &second_lead);
        let (mut seen_changed, mut lead_changed) = (Vec::new(), Vec::new());
        for victim in &programme.victims {
            let (seen, lead) = play(&programme, Some(*victim)).await;
            seen_changed.push(seen);
            lead_changed.push(lead);
        }
        let n_victims = programme.victims.len();

        let sets = answer_sets(&seen, &seen_changed);
        let findings = solve(&sets, n_victims, k);
        assert!(
            findings.is_empty(),
            "seed {seed}: the solver isolated protected answers from what readers get: {:?}",
            findings.iter().map(Finding::isolated).collect::<Vec<_>>()
        );
        published += sets.iter().filter(|set| !set.is_empty()).count();

        // The programme lead sees every answer as it arrives: two reports one answer apart
        // give that answer away, and the same harness must see it.
        let lead_findings = solve(&answer_sets(&lead, &lead_changed), n_victims, k);
        assert!(
            lead_findings
                .iter()
                .any(|finding| matches!(finding, Finding::Difference(1))),
            "seed {seed}: the harness found nothing in live reports: {lead_findings:?}"
        );
    }
    assert!(
        published > 0,
        "no protected answer reached any reader: the programmes must publish batches"
    );
}

#[test]
fn the_generated_programmes_hold_small_groups_and_batches() {
    let mut small = BTreeSet::new();
    let mut batches = BTreeSet::new();
    for seed in SEEDS {
        let programme = programme(seed);
        for account in ACCOUNTS {
            let n = programme
                .victims
                .iter()
                .filter(|idx| programme.arrivals[**idx].account == account)
                .count();
            if (1..5).contains(&n) {
                small.insert((seed, account));
            } else if n >= 5 {
                batches.insert((seed, account));
            }
        }
    }
    assert!(
        !small.is_empty() && !batches.is_empty(),
        "small {small:?}, batches {batches:?}"
    );
}
