//! Invitations: a signed link answers as its contact for its account, matter and wave; a
//! second answer replaces the first; altered, expired, foreign and unknown links are refused
//! with a clear message and store nothing.

use axum::http::StatusCode;
use rapport_server::identity::IdentityKey;
use rapport_server::invitation::{Invitation, Language, Presentation, now_seconds};
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response, record_invitation};

fn invitation(id: &str, expires: i64) -> Invitation {
    Invitation {
        id: id.to_owned(),
        survey: "client-portal".to_owned(),
        contact: "ana.ruiz@client.example".to_owned(),
        name: Some("Ana Ruiz".to_owned()),
        account: "northwind".to_owned(),
        matter: Some("msa-2026".to_owned()),
        wave: Some("2026-h2".to_owned()),
        firm: Some("Hartley & Voss LLP".to_owned()),
        expires,
        presentation: Presentation::default(),
    }
}

/// The invitation of [`invitation`], in French, with display names.
fn french_invitation(id: &str, expires: i64) -> Invitation {
    let mut invited = invitation(id, expires);
    invited.presentation = Presentation {
        locale: Some(Language::Fr),
        account_name: Some("Northwind Traders".to_owned()),
        matter_name: Some("Contrat-cadre de services 2026".to_owned()),
    };
    invited
}

async fn recorded(server: &TestServer, invitation: &Invitation) -> String {
    record_invitation(&server.state.store, &server.state.identity_key, invitation).await
}

fn invited_response(counter: u32, token: &str) -> Value {
    let mut response = portal_response(counter);
    response["invitation"] = json!(token);
    response.as_object_mut().unwrap().remove("identity");
    response["context"] = json!({"account": "somebody-else", "wave": "forged"});
    response
}

#[tokio::test]
async fn an_invited_answer_takes_its_context_from_the_link_and_a_second_answer_replaces_the_first()
{
    let server = TestServer::new().await;
    let token = recorded(&server, &invitation("inv-a", now_seconds() + 3600)).await;
    let (status, info) = server.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["firm"].as_str(), info["answered"].as_bool()),
        (Some("Hartley & Voss LLP"), Some(false))
    );

    let (status, body) = server
        .post_json("client-portal", &invited_response(1, &token))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let records = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    assert_eq!(
        records[0].context.account.as_deref(),
        Some("northwind"),
        "the link, not the page, says which account"
    );
    assert_eq!(records[0].context.wave.as_deref(), Some("2026-h2"));
    assert_eq!(
        records[0].respondent_key.as_deref(),
        Some(
            server
                .state
                .identity_key
                .respondent_key("ana.ruiz@client.example")
                .as_str()
        )
    );
    let sealed = server
        .state
        .store
        .sealed_identity("00000000-0000-4000-8000-000000000001")
        .await
        .unwrap()
        .unwrap();
    let identity = server
        .state
        .identity_key
        .open("00000000-0000-4000-8000-000000000001", &sealed)
        .unwrap();
    assert_eq!(
        identity.email.as_deref(),
        Some("ana.ruiz@client.example"),
        "the invitation's contact is kept, sealed"
    );

    let mut second = invited_response(2, &token);
    second["answers"]["nps"] = json!(3);
    let (status, body) = server.post_json("client-portal", &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "replaced");
    assert_eq!(
        server.count("client-portal").await,
        1,
        "one response per invitation"
    );
    let records = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    assert_eq!(records[0].answers.nps.map(|answer| answer.get()), Some(3));
    assert_eq!(
        server.get(&format!("/api/v1/invitations/{token}")).await.1["answered"],
        true
    );
}

#[tokio::test]
async fn altered_expired_foreign_and_unknown_links_are_refused_clearly() {
    let server = TestServer::new().await;
    let token = recorded(&server, &invitation("inv-b", now_seconds() + 3600)).await;
    let expired = recorded(&server, &invitation("inv-c", now_seconds() - 10)).await;
    let unknown =
        invitation("inv-never-recorded", now_seconds() + 3600).sign(&server.state.identity_key);
    let mut foreign = invitation("inv-d", now_seconds() + 3600);
    foreign.survey = "post-negotiation".to_owned();
    let foreign = recorded(&server, &foreign).await;
    let middle = token.len() / 2;
    let swapped = if &token[middle..=middle] == "x" {
        "y"
    } else {
        "x"
    };
    let altered = format!("{}{swapped}{}", &token[..middle], &token[middle + 1..]);
    for (link, message) in [
        (altered.as_str(), "may have been altered"),
        (expired.as_str(), "expired on"),
        (foreign.as_str(), "is for another survey"),
        (unknown.as_str(), "not known to this server"),
    ] {
        let (status, body) = server
            .post_json("client-portal", &invited_response(9, link))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["details"][0]["field"], "invitation");
        assert!(
            body.to_string().contains(message),
            "{body} should say {message}"
        );
        assert!(
            !body.to_string().contains("ana.ruiz"),
            "a refusal must not reveal the contact"
        );
    }
    assert_eq!(server.count("client-portal").await, 0);
    let (status, body) = server.get(&format!("/api/v1/invitations/{altered}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.to_string().contains("may have been altered"));
}

#[tokio::test]
async fn reports_count_completion_from_recorded_invitations_by_wave_account_and_earlier_choice() {
    let server = TestServer::new().await;
    let admin = rapport_server::auth::new_token().unwrap();
    server
        .state
        .store
        .add_token(
            &rapport_server::auth::token_hash(&admin),
            rapport_server::auth::Role::Admin,
            &[],
            None,
        )
        .await
        .unwrap();
    let northwind = rapport_server::auth::new_token().unwrap();
    server
        .state
        .store
        .add_token(
            &rapport_server::auth::token_hash(&northwind),
            rapport_server::auth::Role::Account,
            &["northwind".to_owned()],
            None,
        )
        .await
        .unwrap();
    // Ten contacts invited in two waves. In 2026-h1, six answer (three confidential, three
    // identified); in 2026-h2, one of the three confidential answers again and all three
    // identified do.
    let mut counter = 0;
    for (wave, answered) in [
        ("2026-h1", [0, 1, 2, 3, 4, 5].as_slice()),
        ("2026-h2", [0, 3, 4, 5].as_slice()),
    ] {
        for contact in 0..10usize {
            let mut invited = invitation(&format!("{wave}-{contact}"), now_seconds() + 3600);
            invited.wave = Some(wave.to_owned());
            invited.contact = format!("contact{contact}@northwind.example");
            let token = recorded(&server, &invited).await;
            if answered.contains(&contact) {
                counter += 1;
                let mut response = invited_response(counter, &token);
                response["confidentiality"] = json!(if wave == "2026-h1" && contact < 3 {
                    "confidential"
                } else {
                    "identified"
                });
                let (status, body) = server.post_json("client-portal", &response).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    }
    let report = |token: String| {
        let server = &server;
        async move {
            let request = axum::http::Request::get("/api/v1/surveys/client-portal/report")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            server.send(request).await
        }
    };
    let (status, body) = report(admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let completion = &body["completion"];
    assert_eq!(
        (
            completion["overall"]["invited"].as_u64(),
            completion["overall"]["answered"].as_u64()
        ),
        (Some(20), Some(10))
    );
    assert_eq!(
        completion["by_wave"][0],
        json!({"value": "2026-h1", "invited": 10, "answered": 6, "rate": 0.6, "suppressed": false})
    );
    assert_eq!(completion["by_wave"][1]["rate"], 0.4);
    let groups = &completion["by_previous_choice"][0]["groups"];
    let group = |choice: &str| {
        groups
            .as_array()
            .unwrap()
            .iter()
            .find(|group| group["value"] == choice)
            .cloned()
            .unwrap()
    };
    // Three confidential and three identified are below the minimum group size of 5: counts only.
    assert_eq!(
        group("confidential"),
        json!({"value": "confidential", "invited": 3, "answered": null, "rate": null, "suppressed": true})
    );
    assert_eq!(group("no answer")["invited"], 4);

    let (status, body) = report(northwind).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["completion"]["overall"]["invited"], 20);
    assert_eq!(
        body["completion"]["by_previous_choice"],
        json!([]),
        "an account caller gets no breakdown by earlier choice"
    );
}

/// Regression: a typed identity replaced the contact an invitation was made for, so anyone
/// holding a link could file answers under another name.
#[tokio::test]
async fn a_typed_identity_never_replaces_the_invited_contact() {
    let server = TestServer::new().await;
    let token = recorded(&server, &invitation("inv-typed", now_seconds() + 3600)).await;
    let mut response = invited_response(30, &token);
    response["identity"] = json!({"name": "Northwind CEO", "email": "ceo@northwind.example"});
    let (status, body) = server.post_json("client-portal", &response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = "00000000-0000-4000-8000-00000000001e";
    let sealed = server
        .state
        .store
        .sealed_identity(id)
        .await
        .unwrap()
        .unwrap();
    let identity = server.state.identity_key.open(id, &sealed).unwrap();
    assert_eq!(
        (identity.name.as_deref(), identity.email.as_deref()),
        (Some("Ana Ruiz"), Some("ana.ruiz@client.example")),
        "the invitation says who answered"
    );
}

#[tokio::test]
async fn the_landing_page_reads_the_invitations_language_and_display_names() {
    let server = TestServer::new().await;
    let token = recorded(&server, &french_invitation("inv-fr", now_seconds() + 3600)).await;
    let (status, info) = server.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["locale"], "fr");
    assert_eq!(info["matter_name"], "Contrat-cadre de services 2026");
    assert_eq!(info["account_name"], "Northwind Traders");
    assert_eq!(
        (info["matter"].as_str(), info["account"].as_str()),
        (Some("msa-2026"), Some("northwind")),
        "ids stay ids"
    );

    // An invitation made without them says so, and the page falls back to the browser.
    let plain = recorded(&server, &invitation("inv-plain", now_seconds() + 3600)).await;
    let (status, info) = server.get(&format!("/api/v1/invitations/{plain}")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(
        (&info["locale"], &info["matter_name"], &info["account_name"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );

    // An answer through the link is still filed under the ids, not the display names.
    let (status, body) = server
        .post_json("client-portal", &invited_response(40, &token))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let records = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    assert_eq!(records[0].context.account.as_deref(), Some("northwind"));
    assert_eq!(records[0].context.matter.as_deref(), Some("msa-2026"));
}

#[tokio::test]
async fn a_refused_link_says_why_in_one_word_and_who_sent_it_but_never_whom_it_was_for() {
    let server = TestServer::new().await;
    let token = recorded(&server, &french_invitation("inv-r1", now_seconds() + 3600)).await;
    let expired = recorded(&server, &french_invitation("inv-r2", now_seconds() - 10)).await;
    let unknown = french_invitation("inv-never-recorded", now_seconds() + 3600)
        .sign(&server.state.identity_key);
    let middle = token.len() / 2;
    let swapped = if &token[middle..=middle] == "x" {
        "y"
    } else {
        "x"
    };
    let altered = format!("{}{swapped}{}", &token[..middle], &token[middle + 1..]);
    for (link, status, reason, firm, locale) in [
        (
            altered.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "altered",
            Value::Null,
            Value::Null,
        ),
        (
            expired.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "expired",
            json!("Hartley & Voss LLP"),
            json!("fr"),
        ),
        (
            unknown.as_str(),
            StatusCode::NOT_FOUND,
            "unknown",
            json!("Hartley & Voss LLP"),
            json!("fr"),
        ),
    ] {
        let (got_status, body) = server.get(&format!("/api/v1/invitations/{link}")).await;
        assert_eq!(got_status, status, "{reason}: {body}");
        assert_eq!(body["reason"], reason, "{body}");
        assert_eq!(body["firm"], firm, "{body}");
        assert_eq!(body["locale"], locale, "{body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|error| !error.is_empty())
        );
        for secret in [
            "ana.ruiz",
            "Ana Ruiz",
            "northwind",
            "Northwind",
            "msa-2026",
            "Contrat",
        ] {
            assert!(
                !body.to_string().contains(secret),
                "a refused link must not reveal {secret}: {body}"
            );
        }
    }
}

/// `rapport invite` as a client of it runs it: the locale is one of five, display names are
/// checked like labels, and what it prints opens with both.
#[tokio::test]
async fn rapport_invite_takes_a_locale_and_display_names_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("identity.key");
    let rapport = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(args)
            .args(["--database-url", &database])
            .args(["--identity-key-file", key_file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let definition = rapport_scoring::template("post-negotiation").unwrap();
    let file = dir.path().join("survey.toml");
    std::fs::write(&file, definition.to_toml()).unwrap();
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args([
            "survey",
            "add",
            file.to_str().unwrap(),
            "--database-url",
            &database,
        ])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let invite = |extra: &[&str]| {
        let mut args = vec![
            "invite",
            "--survey",
            "post-negotiation",
            "--contact",
            "ana.ruiz@client.example",
            "--account",
            "northwind",
            "--matter",
            "msa-2026",
            "--base-url",
            "https://feedback.example",
        ];
        args.extend_from_slice(extra);
        rapport(&args)
    };

    for refused in ["it", "FR", "en-GB"] {
        let output = invite(&["--locale", refused]);
        assert!(!output.status.success(), "--locale {refused} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("en, fr, de, nl, es") && stderr.contains(refused),
            "{stderr}"
        );
    }
    let output = invite(&["--matter-name", "Master\tservices"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("matter name must not contain control"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = invite(&[
        "--locale",
        "de",
        "--account-name",
        "Northwind Traders, Inc.",
        "--matter-name",
        "Rahmenvertrag 2026 (Dienstleistungen)",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let link = String::from_utf8(output.stdout).unwrap();
    let token = link.trim().rsplit('/').next().unwrap();
    let key = IdentityKey::load_or_create(&key_file).unwrap();
    let opened = Invitation::verify(token, &key, now_seconds()).unwrap();
    assert_eq!(
        opened.presentation,
        Presentation {
            locale: Some(Language::De),
            account_name: Some("Northwind Traders, Inc.".to_owned()),
            matter_name: Some("Rahmenvertrag 2026 (Dienstleistungen)".to_owned()),
        }
    );
    assert_eq!(opened.matter.as_deref(), Some("msa-2026"), "ids stay ids");
}
