//! The bad-input corpus: every document here is refused with a clear 4xx that names what
//! is wrong, and stores nothing. Text that is merely unusual (SQL, HTML, right-to-left
//! scripts, emoji with joiners) is a respondent's words: it is stored exactly as typed and
//! only ever shown escaped (see the CSV test in `roles` and the dashboard's tests).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response};

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
        StatusCode::UNPROCESSABLE_ENTITY,
        "answers.strength",
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
