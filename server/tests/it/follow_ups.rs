//! The close-the-loop list through every role: identified responses that need a
//! conversation appear with their reasons and words; confidential ones only as their
//! account's flag, with nothing that says who or what; statuses can be changed, and every
//! refusal gives nothing away.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rapport_server::auth::Role;
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response, post_invited, token};

const SECRET_NAME: &str = "Sigrid Secret";
const SECRET_EMAIL: &str = "secret.person@client.example";
const SECRET_WORDS: &str = "the partner never listens";

fn id(counter: u32) -> String {
    format!("00000000-0000-4000-8000-{counter:012x}")
}

/// Northwind: an identified detractor (1), an identified promoter (2), a confidential
/// detractor through an invitation (3). Contoso: an identified opponent (4).
async fn programme() -> TestServer {
    let server = TestServer::new().await;
    let cases = [
        (
            1,
            "northwind",
            "identified",
            json!({"nps": 4, "trust": 5, "uniqueness": 5, "care": 5, "strength": "Sharp drafting", "weakness": "Slow replies"}),
        ),
        (
            2,
            "northwind",
            "identified",
            json!({"nps": 10, "trust": 7, "uniqueness": 6, "care": 7}),
        ),
        (
            3,
            "northwind",
            "confidential",
            json!({"nps": 1, "trust": 2, "uniqueness": 2, "care": 2, "weakness": SECRET_WORDS}),
        ),
        (
            4,
            "contoso",
            "identified",
            json!({"nps": 8, "trust": 2, "uniqueness": 3, "care": 3}),
        ),
    ];
    for (counter, account, confidentiality, answers) in cases {
        let mut response = portal_response(counter);
        response["context"] = json!({"account": account, "wave": "2026-h2"});
        response["confidentiality"] = json!(confidentiality);
        response["answers"] = answers;
        response["identity"] = if confidentiality == "confidential" {
            json!({"name": SECRET_NAME, "email": SECRET_EMAIL})
        } else {
            json!({"name": format!("Known Person {counter}"), "email": format!("known{counter}@{account}.example")})
        };
        if confidentiality == "confidential" {
            post_invited(&server, &mut response, account, "2026-h2").await;
        } else {
            let (status, body) = server.post_json("client-portal", &response).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    server
}

/// Four more verified confidential Northwind answers, all promoters: with the detractor
/// they fill a batch of five, which is published.
async fn publish_a_batch(server: &TestServer) {
    for counter in 50..54 {
        let mut response = portal_response(counter);
        response["answers"] = json!({"nps": 10, "trust": 7, "uniqueness": 7, "care": 7});
        response.as_object_mut().unwrap().remove("identity");
        post_invited(server, &mut response, "northwind", "2026-h2").await;
    }
}

async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    server.send(request.body(body).unwrap()).await
}

fn assert_no_secret(body: &Value) {
    let text = body.to_string();
    for secret in [SECRET_NAME, SECRET_EMAIL, SECRET_WORDS, &id(3)] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
}

const LIST: &str = "/api/v1/surveys/client-portal/follow-ups";

#[tokio::test]
async fn the_admin_sees_identified_items_with_reasons_and_confidential_ones_only_as_a_flag() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let (status, body) = call(&server, "GET", LIST, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_no_secret(&body);
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(
        accounts
            .iter()
            .map(|account| account["account"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["contoso", "northwind"]
    );

    let northwind = &accounts[1];
    let items = northwind["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the promoter needs no conversation: {northwind}"
    );
    assert_eq!(items[0]["response_id"], id(1));
    assert_eq!(items[0]["respondent"]["name"], "Known Person 1");
    assert_eq!(items[0]["reasons"], json!([{"kind": "detractor"}]));
    assert_eq!(
        (items[0]["strength"].as_str(), items[0]["weakness"].as_str()),
        (Some("Sharp drafting"), Some("Slow replies"))
    );
    assert_eq!(
        items[0]["follow_up"],
        json!({"status": "open", "note": null, "updated_at": null})
    );
    assert_eq!(
        northwind["confidential_feedback"],
        json!([{"wave": "2026-h2", "follow_up": {"status": "open", "note": null, "updated_at": null}}])
    );

    let contoso = &accounts[0];
    let reasons = &contoso["items"][0]["reasons"];
    assert_eq!(
        reasons[0],
        json!({"kind": "relationship", "category": "opponent"}),
        "{contoso}"
    );
    assert!(
        reasons
            .as_array()
            .unwrap()
            .contains(&json!({"kind": "low_element", "element": "trust", "rating": 2}))
    );
    assert_eq!(contoso["confidential_feedback"], json!([]));
}

#[tokio::test]
async fn an_account_token_sees_its_own_account_and_a_viewer_or_a_stranger_nothing() {
    let server = programme().await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let (status, body) = call(&server, "GET", LIST, Some(&northwind), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_no_secret(&body);
    assert_eq!(body["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(body["accounts"][0]["account"], "northwind");
    assert!(!body.to_string().contains("contoso"));

    let viewer = token(&server, Role::Viewer, &[]).await;
    let (status, body) = call(&server, "GET", LIST, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("aggregate reports only")
    );
    let (status, body) = call(&server, "GET", LIST, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = call(&server, "GET", LIST, Some("rpt_not-a-token"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/surveys/nope/follow-ups",
        Some(&northwind),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(
        &server,
        "GET",
        &format!("{LIST}?wave=2025-h1"),
        Some(&northwind),
        None,
    )
    .await;
    assert_eq!(
        (status, body["accounts"].clone()),
        (StatusCode::OK, json!([])),
        "another wave has nothing to discuss"
    );
    let (status, body) = call(
        &server,
        "GET",
        &format!("{LIST}?account=contoso"),
        Some(&northwind),
        None,
    )
    .await;
    assert_eq!(
        (status, body["accounts"].clone()),
        (StatusCode::OK, json!([])),
        "asking for another account shows nothing of it"
    );
}

#[tokio::test]
async fn the_list_of_one_account_is_that_account_of_the_whole_list() {
    let server = programme().await;
    let admin = token(&server, Role::Admin, &[]).await;
    let (_, whole) = call(&server, "GET", LIST, Some(&admin), None).await;
    for (idx, account) in ["contoso", "northwind"].into_iter().enumerate() {
        let (status, body) = call(
            &server,
            "GET",
            &format!("{LIST}?account={account}"),
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["accounts"],
            json!([whole["accounts"][idx].clone()]),
            "{account}"
        );
        assert_no_secret(&body);
    }
    let (status, body) = call(
        &server,
        "GET",
        &format!("{LIST}?account=fabrikam"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, body["accounts"].clone()),
        (StatusCode::OK, json!([]))
    );
}

#[tokio::test]
async fn a_follow_up_is_recorded_and_shown_and_every_refusal_looks_the_same() {
    let server = programme().await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let item = |counter: u32| format!("{LIST}/responses/{}", id(counter));
    let update = json!({"status": "in_progress", "note": "Call booked for Tuesday"});
    let (status, body) = call(
        &server,
        "PUT",
        &item(1),
        Some(&northwind),
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in_progress");
    let (_, list) = call(&server, "GET", LIST, Some(&northwind), None).await;
    let follow_up = &list["accounts"][0]["items"][0]["follow_up"];
    assert_eq!(
        (follow_up["status"].as_str(), follow_up["note"].as_str()),
        (Some("in_progress"), Some("Call booked for Tuesday"))
    );
    assert!(
        follow_up["updated_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "{follow_up}"
    );
    let (status, _) = call(
        &server,
        "PUT",
        &item(1),
        Some(&northwind),
        Some(json!({"status": "done"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = call(&server, "GET", LIST, Some(&northwind), None).await;
    assert_eq!(
        list["accounts"][0]["items"][0]["follow_up"]["status"],
        "done"
    );
    assert_eq!(
        list["accounts"][0]["items"][0]["follow_up"]["note"],
        Value::Null,
        "a new update replaces the note"
    );

    // Not on this caller's list: the confidential response, a promoter, another account's,
    // one that does not exist. Each gets the same answer, so none can be told apart.
    let mut refusals = Vec::new();
    for counter in [3, 2, 4, 99] {
        let (status, body) = call(
            &server,
            "PUT",
            &item(counter),
            Some(&northwind),
            Some(update.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_no_secret(&json!(
            body["error"].as_str().unwrap().replace(&id(counter), "ID")
        ));
        refusals.push(body["error"].as_str().unwrap().replace(&id(counter), "ID"));
    }
    assert!(
        refusals.windows(2).all(|pair| pair[0] == pair[1]),
        "{refusals:?}"
    );

    let (status, body) = call(
        &server,
        "PUT",
        &item(1),
        Some(&northwind),
        Some(json!({"status": "forgotten"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "status");
    let (status, body) = call(
        &server,
        "PUT",
        &item(1),
        Some(&northwind),
        Some(json!({"status": "done", "note": "x".repeat(2001)})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"][0]["field"], "note");
    let viewer = token(&server, Role::Viewer, &[]).await;
    let (status, _) = call(
        &server,
        "PUT",
        &item(1),
        Some(&viewer),
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, list) = call(&server, "GET", LIST, Some(&northwind), None).await;
    assert_eq!(
        list["accounts"][0]["items"][0]["follow_up"]["status"], "done",
        "refused updates change nothing"
    );
}

#[tokio::test]
async fn the_confidential_feedback_flag_is_followed_up_per_account_and_wave() {
    let server = programme().await;
    publish_a_batch(&server).await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;
    let flag = |account: &str| format!("{LIST}/accounts/{account}?wave=2026-h2");
    let (status, body) = call(
        &server,
        "PUT",
        &flag("northwind"),
        Some(&northwind),
        Some(json!({"status": "done", "note": "Discussed with the GC"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, list) = call(&server, "GET", LIST, Some(&northwind), None).await;
    assert_eq!(
        list["accounts"][0]["confidential_feedback"][0]["follow_up"]["status"],
        "done"
    );
    assert_eq!(
        list["accounts"][0]["confidential_feedback"][0]["follow_up"]["note"],
        "Discussed with the GC"
    );
    assert_no_secret(&list);
    let (status, _) = call(
        &server,
        "PUT",
        &flag("contoso"),
        Some(&northwind),
        Some(json!({"status": "done"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another account's flag is out of reach"
    );
    let admin = token(&server, Role::Admin, &[]).await;
    let (_, list) = call(&server, "GET", LIST, Some(&admin), None).await;
    assert_eq!(
        list["accounts"][1]["confidential_feedback"][0]["follow_up"]["status"], "done",
        "one status, whoever looks"
    );
}

const NEGOTIATION: &str = "/api/v1/surveys/post-negotiation/follow-ups";

/// Posts an answer to version `version` of the post-negotiation survey from `account`: a
/// passive (8) who trusts the firm and is satisfied, so that only its contract-experience
/// ratings, `experience`, can put it on the list.
async fn post_negotiation(
    server: &TestServer,
    counter: u32,
    version: u32,
    account: &str,
    confidentiality: &str,
    experience: Value,
) {
    let mut response = portal_response(counter);
    response["survey_id"] = json!("post-negotiation");
    response["survey_version"] = json!(version);
    response["confidentiality"] = json!(confidentiality);
    response["context"] = json!({"account": account, "wave": "2026-h2"});
    let mut answers = json!({"nps": 8, "trust": 6, "satisfaction": 6});
    answers
        .as_object_mut()
        .unwrap()
        .extend(experience.as_object().unwrap().clone());
    response["answers"] = answers;
    let (status, body) = server.post_json("post-negotiation", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_contract_experience_rating_at_the_threshold_is_on_the_list_with_its_reason() {
    let server = TestServer::new().await;
    // The default threshold is 3 of 7: Northwind's answer is on the list, Contoso's, one
    // above it everywhere, is not.
    post_negotiation(
        &server,
        1,
        1,
        "northwind",
        "identified",
        json!({"kept-informed": 3, "meeting-scope": 6}),
    )
    .await;
    post_negotiation(
        &server,
        2,
        1,
        "contoso",
        "identified",
        json!({"kept-informed": 4, "unexpected-changes": 4, "problem-handling": 4, "meeting-scope": 4, "quick-replies": 4}),
    )
    .await;
    // A confidential answer rated as low only flags its account, like any other reason.
    post_negotiation(
        &server,
        3,
        1,
        "fabrikam",
        "confidential",
        json!({"problem-handling": 1}),
    )
    .await;
    let admin = token(&server, Role::Admin, &[]).await;
    let (status, body) = call(&server, "GET", NEGOTIATION, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(
        accounts
            .iter()
            .map(|account| account["account"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["fabrikam", "northwind"],
        "{body}"
    );
    let items = accounts[1]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["response_id"], id(1));
    assert_eq!(
        items[0]["reasons"],
        json!([{"kind": "low_experience", "item": "kept-informed", "rating": 3}])
    );
    assert_eq!(accounts[0]["items"], json!([]));
    assert_eq!(
        accounts[0]["confidential_feedback"],
        json!([{"wave": "2026-h2", "follow_up": {"status": "open", "note": null, "updated_at": null}}])
    );
    assert!(!body.to_string().contains("problem-handling"), "{body}");
    // The account manager does not see the flag of one unpublished confidential answer.
    let fabrikam = token(&server, Role::Account, &["fabrikam"]).await;
    let (status, body) = call(&server, "GET", NEGOTIATION, Some(&fabrikam), None).await;
    assert_eq!((status, &body["accounts"]), (StatusCode::OK, &json!([])));

    // A second version puts the threshold at 2: a 3 is no longer enough, a 2 is.
    let mut lenient = rapport_scoring::template("post-negotiation").unwrap();
    lenient.version = 2;
    lenient.close_loop.experience_threshold = 2;
    server
        .state
        .store
        .add_survey(&lenient, crate::support::SETUP)
        .await
        .unwrap();
    post_negotiation(
        &server,
        4,
        2,
        "northwind",
        "identified",
        json!({"kept-informed": 3}),
    )
    .await;
    post_negotiation(
        &server,
        5,
        2,
        "contoso",
        "identified",
        json!({"unexpected-changes": 2}),
    )
    .await;
    let (status, body) = call(&server, "GET", NEGOTIATION, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2);
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{body}");
    assert_eq!(accounts[0]["items"][0]["response_id"], id(5));
    assert_eq!(
        accounts[0]["items"][0]["reasons"],
        json!([{"kind": "low_experience", "item": "unexpected-changes", "rating": 2}])
    );
    // Each version's answers are judged by its own threshold, in the list and when
    // followed up: the first version's 3 is still on its list.
    let (_, first) = call(
        &server,
        "GET",
        &format!("{NEGOTIATION}?version=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(first["accounts"][1]["items"][0]["response_id"], id(1));
    let update = json!({"status": "done", "note": "Agreed weekly updates"});
    let (status, body) = call(
        &server,
        "PUT",
        &format!("{NEGOTIATION}/responses/{}", id(1)),
        Some(&admin),
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (counter, why) in [(2, "one above the threshold"), (4, "above its version's")] {
        let (status, body) = call(
            &server,
            "PUT",
            &format!("{NEGOTIATION}/responses/{}", id(counter)),
            Some(&admin),
            Some(update.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{why}: {body}");
    }
}
