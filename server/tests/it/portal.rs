//! Signed portal context: a portal's backend signs who is signed in, the server checks it.
//! The signing snippets of docs/SIGNED-CONTEXT.md (Node, Python and Rust) are run here and
//! their signatures posted, so the guide cannot drift from the server.

use axum::http::StatusCode;
use rapport_server::invitation::now_seconds;
use rapport_server::portal::{PortalContext, portal_secret, sign};
use serde_json::{Value, json};

use crate::support::{TestServer, portal_response};

#[allow(unreachable_pub)]
#[path = "../../../docs/signed-context/sign.rs"]
mod sign_snippet;

const EMAIL: &str = "grace.hopper@northwind.example";
const NAME: &str = "Grace Hopper";

/// A portal response for Northwind's "msa" matter from Grace, confidential, signed with
/// `signature` until `expires`.
fn signed_response(counter: u32, signature: &str, expires: i64) -> Value {
    let mut response = portal_response(counter);
    response["identity"] = json!({"name": NAME, "email": EMAIL});
    response["context"] = json!({"account": "northwind", "matter": "msa", "wave": "2026-h2"});
    response["signed_context"] = json!({"expires": expires, "signature": signature});
    response
}

fn context(expires: i64) -> PortalContext<'static> {
    PortalContext {
        survey: "client-portal",
        account: "northwind",
        matter: Some("msa"),
        name: Some(NAME),
        email: EMAIL,
        expires,
    }
}

/// The output of a command, which must succeed.
fn output(command: &mut std::process::Command) -> String {
    let output = command.output().expect("the interpreter runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_guides_signing_snippets_sign_what_the_server_accepts() {
    let server = TestServer::new().await;
    let secret = portal_secret(&server.state.identity_key, "client-portal");
    let expires = now_seconds() + 600;
    let expected = sign(&secret, &context(expires)).unwrap();
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/signed-context");

    let from_rust = sign_snippet::sign_context(
        &secret,
        "client-portal",
        "northwind",
        "msa",
        NAME,
        EMAIL,
        expires,
    );
    let from_node = output(
        std::process::Command::new("node")
            .args(["--input-type=module", "-e"])
            .arg(format!(
                "import {{ signContext }} from {:?}; console.log(signContext(process.argv[1], JSON.parse(process.argv[2])));",
                format!("file://{}", docs.join("sign.mjs").display())
            ))
            .arg(&secret)
            .arg(json!({"survey": "client-portal", "account": "northwind", "matter": "msa", "name": NAME, "email": EMAIL, "expires": expires}).to_string()),
    );
    let from_python = output(
        std::process::Command::new("python3")
            .arg("-c")
            .arg("import sys; sys.path.insert(0, sys.argv[1]); from sign import sign_context; print(sign_context(sys.argv[2], 'client-portal', 'northwind', sys.argv[3], int(sys.argv[4]), matter='msa', name=sys.argv[5]))")
            .arg(&docs)
            .arg(&secret)
            .arg(EMAIL)
            .arg(expires.to_string())
            .arg(NAME),
    );
    assert_eq!(
        [&from_rust, &from_node, &from_python],
        [&expected, &expected, &expected]
    );

    for (counter, signature) in [from_rust, from_node, from_python].iter().enumerate() {
        let (status, body) = server
            .post_json(
                "client-portal",
                &signed_response(700 + counter as u32, signature, expires),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

#[tokio::test]
async fn a_signed_context_is_verified_and_a_forged_or_stale_one_refused_without_echo() {
    let server = TestServer::new().await;
    let secret = portal_secret(&server.state.identity_key, "client-portal");
    let expires = now_seconds() + 600;
    let signature = sign(&secret, &context(expires)).unwrap();

    // Altered after signing: another account, another person, a later expiry.
    let mut cases = Vec::new();
    let mut other_account = signed_response(1, &signature, expires);
    other_account["context"]["account"] = json!("contoso-secret-account");
    cases.push(other_account);
    let mut other_person = signed_response(2, &signature, expires);
    other_person["identity"]["email"] = json!("someone.else@northwind.example");
    cases.push(other_person);
    cases.push(signed_response(3, &signature, expires + 60));
    // Signed with another survey's secret.
    let foreign = portal_secret(&server.state.identity_key, "post-negotiation");
    cases.push(signed_response(
        4,
        &sign(&foreign, &context(expires)).unwrap(),
        expires,
    ));
    for response in cases {
        let (status, body) = server.post_json("client-portal", &response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["details"][0]["field"], "signed_context", "{body}");
        let text = body.to_string();
        assert!(
            !text.contains("contoso-secret-account") && !text.contains("someone.else"),
            "a refusal echoes a signed value: {text}"
        );
    }
    // Expired.
    let past = now_seconds() - 1;
    let stale = sign(&secret, &context(past)).unwrap();
    let (status, body) = server
        .post_json("client-portal", &signed_response(5, &stale, past))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(server.count("client-portal").await, 0, "nothing was stored");

    // The genuine one is stored, with the signed identity.
    let (status, body) = server
        .post_json("client-portal", &signed_response(6, &signature, expires))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(server.count("client-portal").await, 1);
}

#[tokio::test]
async fn a_survey_that_requires_a_signed_context_refuses_unsigned_answers_and_says_why() {
    let server = TestServer::new().await;
    let mut definition = rapport_scoring::template("client-portal").unwrap();
    definition.version = 2;
    definition.require_signed_context = true;
    server
        .state
        .store
        .add_survey(&definition, crate::support::SETUP)
        .await
        .unwrap();

    let mut unsigned = portal_response(10);
    unsigned["survey_version"] = json!(2);
    let (status, body) = server.post_json("client-portal", &unsigned).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains(
            "accepts answers only through an invitation link or with its portal's signed context"
        ),
        "{body}"
    );

    let secret = portal_secret(&server.state.identity_key, "client-portal");
    let expires = now_seconds() + 600;
    let mut signed = signed_response(11, &sign(&secret, &context(expires)).unwrap(), expires);
    signed["survey_version"] = json!(2);
    let (status, body) = server.post_json("client-portal", &signed).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
