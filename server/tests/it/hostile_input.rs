//! The bad-input corpus: every document here is refused with a clear 4xx that names what
//! is wrong, and stores nothing. Text that is merely unusual (SQL, HTML, right-to-left
//! scripts, emoji with joiners) is a respondent's words: it is stored exactly as typed and
//! only ever shown escaped (see the CSV test in `roles` and the dashboard's tests).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response};

/// An identity that must never come back in a refusal.
const IDENTITY: &str = "Northwind CEO";

/// A valid response body as text, with `edit` applied to its JSON.
fn body(edit: impl FnOnce(&mut Value)) -> String {
    let mut response = portal_response(7);
    edit(&mut response);
    response.to_string()
}

/// Splices raw text into a valid body where `"strength":"Quick answers"` stands, for
/// what `serde_json::Value` cannot hold (invalid JSON, duplicate keys).
fn raw(replacement: &str) -> String {
    let valid = portal_response(7).to_string();
    assert!(valid.contains("\"strength\":\"Quick answers\""));
    valid.replace("\"strength\":\"Quick answers\"", replacement)
}

#[tokio::test]
async fn every_hostile_document_is_refused_clearly_and_stores_nothing() {
    let server = TestServer::new().await;
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        // Size and shape.
        (
            "1 MB string",
            body(|r| r["answers"]["strength"] = json!("x".repeat(1 << 20))).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "65536 bytes",
        ),
        (
            "deep nesting",
            raw(&format!("\"strength\":{deep}")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recursion limit",
        ),
        (
            "empty body",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "not an object",
            b"[1, 2, 3]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be a JSON object",
        ),
        (
            "trailing garbage",
            format!("{} {{}}", portal_response(7)).into_bytes(),
            StatusCode::BAD_REQUEST,
            "trailing characters",
        ),
        // Numbers.
        (
            "NaN",
            raw("\"nps\":NaN")
                .replacen("\"nps\":9,", "", 1)
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "Infinity",
            raw("\"care\":Infinity")
                .replacen("\"care\":6,", "", 1)
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "a number beyond f64",
            body(|r| r["answers"]["nps"] = json!(0))
                .replace("\"nps\":0", "\"nps\":1e400")
                .into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.nps",
        ),
        (
            "a huge integer answer",
            body(|r| r["answers"]["nps"] = json!(u64::MAX)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.nps",
        ),
        (
            "a fractional answer",
            body(|r| r["answers"]["nps"] = json!(9.5)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.nps",
        ),
        (
            "a negative answer",
            body(|r| r["answers"]["trust"] = json!(-3)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.trust",
        ),
        (
            "a version beyond u32",
            body(|r| r["survey_version"] = json!(1u64 << 32)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "survey_version",
        ),
        // Types.
        (
            "a number as text",
            body(|r| r["answers"]["nps"] = json!("9")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.nps",
        ),
        (
            "answers as a list",
            body(|r| r["answers"] = json!([9, 6])).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers",
        ),
        (
            "text as an object",
            body(|r| r["answers"]["strength"] = json!({"$gt": ""})).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.strength",
        ),
        (
            "confidentiality as a number",
            body(|r| r["confidentiality"] = json!(1)).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "confidentiality",
        ),
        (
            "null response id",
            body(|r| r["response_id"] = Value::Null).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "response_id",
        ),
        // Duplicate keys: JSON allows them and a reader would silently keep one.
        (
            "a question answered twice",
            raw("\"strength\":\"Quick answers\",\"nps\":0").into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`nps` is answered twice",
        ),
        (
            "a field given twice",
            format!("{{\"format\":1,{}", &portal_response(7).to_string()[1..]).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate field `format`",
        ),
        // Unicode that disguises or hides.
        (
            "right-to-left override",
            body(|r| r["answers"]["strength"] = json!("fine \u{202E}txt.exe")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bidirectional override",
        ),
        (
            "only zero-width characters",
            body(|r| r["answers"]["strength"] = json!("\u{200B}\u{200D}\u{2060}")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must not be blank",
        ),
        (
            "a zero-width account",
            body(|r| r["context"]["account"] = json!("north\u{200B}wind")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "context.account must not contain invisible",
        ),
        (
            "a control character",
            body(|r| r["identity"]["name"] = json!("Ana\u{0007}Ruiz")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity.name",
        ),
        (
            "a NUL in text",
            body(|r| r["answers"]["strength"] = json!("quick\u{0000}")).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "control characters",
        ),
        (
            "a lone surrogate",
            raw("\"strength\":\"\\ud800\"").into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "answers.strength",
        ),
        (
            "text over the question's limit",
            body(|r| r["answers"]["strength"] = json!("é".repeat(2001))).into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at most",
        ),
    ];
    let mut invalid_utf8 = raw("\"strength\":\"caf?\"").into_bytes();
    let at = invalid_utf8
        .windows(4)
        .position(|window| window == b"caf?")
        .unwrap()
        + 3;
    invalid_utf8[at] = 0xE9; // Latin-1 é: not UTF-8.
    let cases = cases.into_iter().chain([(
        "invalid UTF-8",
        invalid_utf8,
        StatusCode::BAD_REQUEST,
        "not valid UTF-8",
    )]);
    for (name, document, status, needle) in cases {
        let request = axum::http::Request::post("/api/v1/surveys/client-portal/responses")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(document))
            .unwrap();
        let (got, answer) = server.send(request).await;
        assert_eq!(got, status, "{name}: {answer}");
        let message = answer.to_string();
        assert!(
            message.contains(needle),
            "{name}: the answer should mention {needle:?}: {message}"
        );
        assert!(
            message.len() < 2000,
            "{name}: the error must not echo the document back: {} bytes",
            message.len()
        );
        assert_eq!(
            server.count("client-portal").await,
            0,
            "{name}: nothing may be stored"
        );
    }
}

#[tokio::test]
async fn unusual_but_honest_text_is_stored_exactly_as_typed() {
    let server = TestServer::new().await;
    let words = [
        "'; DROP TABLE responses; --",
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
        "=HYPERLINK(\"http://evil.example\")",
        "שירות מצוין, תודה",
        "👩‍⚖️ great team 👨‍👩‍👧",
        "line one\nline two\ttabbed",
    ];
    for (idx, text) in words.iter().enumerate() {
        let mut response = portal_response(100 + idx as u32);
        response["answers"]["strength"] = json!(text);
        let (status, answer) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{text}: {answer}");
    }
    let stored = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap();
    let texts: Vec<&str> = stored
        .iter()
        .map(|record| record.answers.texts.values().next().unwrap().as_str())
        .collect();
    assert_eq!(texts, words, "stored verbatim, in order");
    assert_eq!(
        server.count("client-portal").await,
        words.len() as u64,
        "and the table is still there"
    );
}

/// An identity in the wrong shape is refused naming the field, and the refusal holds no
/// part of what was sent: it is logged and passes through proxies.
#[tokio::test]
async fn no_identity_value_is_echoed_in_an_error() {
    let server = TestServer::new().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("identity as a string", json!(IDENTITY), "identity"),
        ("identity as an array", json!([IDENTITY]), "identity"),
        (
            "a name as a number",
            json!({"name": 12345678}),
            "identity.name",
        ),
        (
            "a name as an object",
            json!({"name": {"first": IDENTITY}}),
            "identity.name",
        ),
        ("an unknown key", json!({IDENTITY: "x"}), "identity"),
        (
            "an email that is not one",
            json!({"email": IDENTITY}),
            "identity.email",
        ),
        (
            "a name with a control character",
            json!({"name": format!("{IDENTITY}\u{7}")}),
            "identity.name",
        ),
    ];
    for (name, identity, field) in cases {
        let mut response = portal_response(30);
        response["identity"] = identity;
        let (status, answer) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {answer}");
        assert!(
            answer["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|detail| detail["field"].as_str().unwrap().starts_with(field)),
            "{name}: the refusal names {field}: {answer}"
        );
        let text = answer.to_string();
        for part in ["Northwind", "CEO", "12345678"] {
            assert!(
                !text.contains(part),
                "{name}: the refusal echoes {part:?}: {text}"
            );
        }
    }
    assert_eq!(server.count("client-portal").await, 0);
}

/// Account, matter and wave labels that could pass for another label are refused naming
/// the field; labels in any script are kept, NFC-normalised.
#[tokio::test]
async fn look_alike_labels_are_refused_and_labels_are_stored_as_nfc() {
    let server = TestServer::new().await;
    let refused = [
        (
            "account",
            "northwind ",
            "must not start or end with a space",
        ),
        (
            "account",
            " northwind",
            "must not start or end with a space",
        ),
        ("account", "north\twind", "control characters"),
        ("wave", "2026\nh2", "control characters"),
        ("account", "northwind\u{200E}", "bidirectional"),
        ("matter", "msa\u{2066}2026", "bidirectional"),
        ("account", "north\u{2028}wind", "separators"),
        ("wave", "2026-h2\u{2029}", "separators"),
        ("account", "north\u{00AD}wind", "invisible"),
        ("matter", "msa\u{FEFF}", "invisible"),
        (
            "account",
            "north\u{00A0}wind",
            "spaces other than the ordinary space",
        ),
    ];
    for (counter, (field, label, needle)) in refused.into_iter().enumerate() {
        let mut response = portal_response(200 + counter as u32);
        response["context"][field] = json!(label);
        let (status, answer) = server.post_json("client-portal", &response).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{label:?}: {answer}"
        );
        let detail = &answer["details"][0];
        assert_eq!(
            detail["field"],
            format!("context.{field}"),
            "{label:?}: {answer}"
        );
        assert!(
            detail["message"].as_str().unwrap().contains(needle),
            "{label:?}: {answer}"
        );
    }
    assert_eq!(server.count("client-portal").await, 0);

    // Real names in other scripts, and one name typed decomposed (e + U+0301).
    let accepted = [
        ("Café Lumière", "Cafe\u{301} Lumie\u{300}re"),
        ("Москва Экспорт", "Москва Экспорт"),
        ("שירות מצוין", "שירות מצוין"),
        ("Nоrthwind", "Nоrthwind"),
    ];
    for (counter, (_, label)) in accepted.iter().enumerate() {
        let mut response = portal_response(300 + counter as u32);
        response["context"]["account"] = json!(label);
        let (status, answer) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::CREATED, "{label:?}: {answer}");
    }
    let mut stored: Vec<String> = server
        .state
        .store
        .response_records("client-portal", 1)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|record| record.context.account)
        .collect();
    stored.sort();
    let mut expected: Vec<String> = accepted.iter().map(|(nfc, _)| (*nfc).to_owned()).collect();
    expected.sort();
    assert_eq!(stored, expected, "stored in NFC, every script kept");
}

/// `by` names each field once and a handful at most: the same field repeated thousands of
/// times is one breakdown, and more different fields than the limit are refused.
#[tokio::test]
async fn by_is_deduplicated_and_limited() {
    use axum::body::Body;
    use axum::http::Request;
    use rapport_server::auth::{Role, new_token, token_hash};
    let server = TestServer::new().await;
    let (status, answer) = server
        .post_json("client-portal", &portal_response(400))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let token = new_token().unwrap();
    server
        .state
        .store
        .add_token(&token_hash(&token), Role::Admin, &[], None)
        .await
        .unwrap();
    let report = |by: String| {
        Request::get(format!("/api/v1/surveys/client-portal/report?by={by}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let (status, once) = server.send(report("wave".to_owned())).await;
    assert_eq!(status, StatusCode::OK, "{once}");
    let (status, repeated) = server.send(report(vec!["wave"; 3000].join(","))).await;
    assert_eq!(status, StatusCode::OK, "{repeated}");
    assert_eq!(repeated, once, "a repeated field is one breakdown");
    let (status, _) = server
        .send(report(
            "wave,account,matter,returning,confidentiality,nps-category,role,wave".to_owned(),
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "seven different fields are within the limit"
    );
    let fields =
        "wave,account,matter,returning,confidentiality,nps-category,role,strength,weakness";
    let (status, refused) = server.send(report(fields.to_owned())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["details"][0]["field"], "by", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("at most 8"),
        "{refused}"
    );
}

/// `rapport invite` holds invitation labels to the same rules, and stores them as NFC, so
/// that invited and uninvited answers of one account carry one label.
#[tokio::test]
async fn rapport_invite_refuses_look_alike_labels_and_stores_nfc() {
    let server = TestServer::new().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("identity.key");
    let invite = |account: &str, wave: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["invite", "--survey", "client-portal"])
            .args(["--contact", "ana.ruiz@client.example"])
            .args(["--account", account, "--wave", wave])
            .args(["--database-url", crate::support::database_url(&server)])
            .args(["--identity-key-file", key.to_str().unwrap()])
            .output()
            .unwrap()
    };
    for (account, wave, needle) in [
        (
            "northwind ",
            "2026-h2",
            "account must not start or end with a space",
        ),
        (
            "north\u{200E}wind",
            "2026-h2",
            "account must not contain bidirectional",
        ),
        (
            "northwind",
            "2026\th2",
            "wave must not contain control characters",
        ),
    ] {
        let output = invite(account, wave);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{account:?} {wave:?} was accepted"
        );
        assert!(stderr.contains(needle), "{account:?} {wave:?}: {stderr}");
    }
    let output = invite("Cafe\u{301} Lumière", "2026-h2");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stored = server
        .state
        .store
        .invitation_records("client-portal")
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|invitation| invitation.record.account.as_str())
            .collect::<Vec<_>>(),
        ["Café Lumière"],
        "one invitation, its account in NFC"
    );
}
