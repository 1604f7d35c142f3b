//! The OpenAPI document at `/api/v1/openapi.json`: it is the committed `docs/openapi.json`,
//! it documents exactly the routes the router serves under `/api/v1`, it is a well-formed
//! OpenAPI 3.1 document, and real answers of the server conform to it (status, content type,
//! headers and body schema), so the document cannot drift from what the server does.
//!
//! After changing an annotation, update the committed document with
//! `UPDATE_EXPECT=1 cargo test -p rapport-server --test it openapi`.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use rapport_server::api::app;
use rapport_server::auth::{Role, new_token, token_hash};
use rapport_server::invitation::{Invitation, now_seconds};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, portal_response, record_invitation};

/// Every route the router serves under `/api/v1`, as (method, path). A new endpoint goes
/// here, with a `#[utoipa::path]` on its handler and its handler in `ApiDoc`'s `paths(...)`.
const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/surveys"),
    ("get", "/api/v1/surveys/{id}"),
    ("post", "/api/v1/surveys/{id}/responses"),
    ("get", "/api/v1/surveys/{id}/report"),
    ("get", "/api/v1/invitations/{token}"),
    ("get", "/api/v1/surveys/{id}/responses.csv"),
    ("get", "/api/v1/surveys/{id}/emerging"),
    ("get", "/api/v1/surveys/{id}/follow-ups"),
    (
        "put",
        "/api/v1/surveys/{id}/follow-ups/responses/{response_id}",
    ),
    ("put", "/api/v1/surveys/{id}/follow-ups/accounts/{account}"),
    ("get", "/api/v1/openapi.json"),
];

/// One answer of the server, as received.
struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn send(server: &TestServer, request: Request<Body>) -> Answer {
    let response = app(server.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

async fn served_document(server: &TestServer) -> Value {
    let answer = send(
        server,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type, "application/json");
    serde_json::from_slice(&answer.body).unwrap()
}

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
    expect_test::expect_file!["../../../docs/openapi.json"].assert_eq(&text);
}

/// The (method, path) of every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((method.clone(), path.clone()));
        }
    }
    operations
}

/// A source file of the server, by its path below `src/`.
fn server_source(path: &str) -> Option<String> {
    std::fs::read_to_string(format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"))).ok()
}

/// The routes of the `/api/v1` router, read from its source: each
/// `.route("/path", get(..).post(..))` between `let api = Router::new()` in `api.rs` and the
/// `;` that ends it, and in the `routes()` of each feature module it merges there
/// (`.merge(crate::feature::routes())`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let source = server_source("api.rs").unwrap();
    let start = source
        .find("let api = Router::new()")
        .expect("api.rs builds the /api/v1 router as `let api = Router::new()`");
    let router = &source[start..start + source[start..].find(';').unwrap()];
    let mut routers = vec![router.to_owned()];
    for merged in router.split(".merge(crate::").skip(1) {
        let module = merged
            .split("::routes()")
            .next()
            .expect("a merged feature's `routes()`");
        let file = module.replace("::", "/");
        let text = server_source(&format!("{file}.rs"))
            .or_else(|| server_source(&format!("{file}/mod.rs")))
            .unwrap_or_else(|| panic!("no source file for module {module}"));
        let start = text
            .find("pub fn routes()")
            .unwrap_or_else(|| panic!("{module} has no `pub fn routes()`"));
        let end = text[start..].find("\n}\n").expect("the end of `routes()`");
        routers.push(text[start..start + end].to_owned());
    }
    let mut routes = BTreeSet::new();
    for call in routers
        .iter()
        .flat_map(|router| router.split(".route(").skip(1))
    {
        let path = call
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .expect("a route path literal");
        // A method router is `get(handler)`, possibly chained as `.post(..)` or qualified as
        // `routing::put(..)`; a handler whose name ends in a method name is not one.
        let is_method = |method: &str| {
            [" ", ".", ":", "("]
                .iter()
                .any(|before| call.contains(&format!("{before}{method}(")))
        };
        let methods: Vec<&str> = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|method| is_method(method))
            .collect();
        assert!(!methods.is_empty(), "no method found for route {path}");
        for method in methods {
            routes.insert((method.to_owned(), format!("/api/v1{path}")));
        }
    }
    routes
}

#[tokio::test]
async fn every_route_under_api_v1_is_documented_and_every_operation_is_served() {
    let listed: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(
        routes_in_source(),
        listed,
        "API_ROUTES must list exactly the routes of the /api/v1 router in api.rs and the features it merges"
    );

    let server = TestServer::new().await;
    let document = served_document(&server).await;
    let documented = documented_operations(&document);
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an OpenAPI operation: {undocumented:?}"
    );
    let unserved: Vec<_> = documented.difference(&listed).collect();
    assert!(
        unserved.is_empty(),
        "operations the router does not serve: {unserved:?}"
    );

    // Each listed route reaches a handler, not the static-file fallback (which answers an
    // unknown path with an empty 404 or a 405).
    for (method, path) in &listed {
        let concrete = path
            .replace("{id}", "client-portal")
            .replace("{token}", "no-such-token");
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&concrete)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let answer = send(&server, request).await;
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}"
        );
        assert!(
            !answer.body.is_empty(),
            "{method} {concrete} answered {} with an empty body, as the fallback does",
            answer.status
        );
    }
}

/// Every `$ref` in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.push(reference.clone());
            }
            map.values().for_each(|value| references(value, found));
        }
        Value::Array(items) => items.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_well_formed_openapi_3_1() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["info"]["title"].is_string() && document["info"]["version"].is_string());

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(
        found
            .iter()
            .any(|reference| reference == "#/components/schemas/ResponseV1"),
        "the ingest body refers to the wire format"
    );
    for reference in &found {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} is not local"));
        let target = document
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} resolves to nothing"));
        assert_ne!(
            target,
            &json!({ "$ref": reference }),
            "{reference} refers to itself: a stand-in was never filled"
        );
    }

    // Schema Objects of OpenAPI 3.1 are JSON Schema 2020-12.
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        assert!(
            jsonschema::meta::is_valid(schema),
            "component {name} is not a valid JSON Schema"
        );
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation_ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
                "duplicate operationId in {method} {path}"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                !responses.is_empty(),
                "{method} {path} documents no response"
            );
            for (status, response) in responses {
                assert!(
                    status
                        .parse::<u16>()
                        .is_ok_and(|status| (100..600).contains(&status)),
                    "{method} {path}: status {status}"
                );
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status} has no description"
                );
            }
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in path
                .split('{')
                .skip(1)
                .map(|rest| rest.split('}').next().unwrap())
            {
                assert!(
                    parameters
                        .iter()
                        .any(|documented| documented["name"] == parameter
                            && documented["in"] == "path"
                            && documented["required"] == true),
                    "{method} {path} does not document its path parameter {parameter}"
                );
            }
            if let Some(security) = operation.get("security") {
                for requirement in security.as_array().unwrap() {
                    for scheme in requirement.as_object().unwrap().keys() {
                        assert!(
                            document["components"]["securitySchemes"][scheme].is_object(),
                            "{method} {path} needs an undefined scheme {scheme}"
                        );
                    }
                }
            }
        }
    }
}

/// Rewrites the references of a standalone JSON Schema to where its definitions sit in the
/// document.
fn relocated(schema: &Value) -> Value {
    serde_json::from_str(
        &schema
            .to_string()
            .replace("\"#/$defs/", "\"#/components/schemas/"),
    )
    .unwrap()
}

#[tokio::test]
async fn the_wire_format_has_one_description() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    let mut published: Value =
        serde_json::from_str(include_str!("../../../docs/wire-format-v1.schema.json")).unwrap();
    let published = published.as_object_mut().unwrap();
    let definitions = published.remove("$defs").unwrap();
    published.remove("$schema");
    published.remove("title");
    let components = &document["components"]["schemas"];
    assert_eq!(
        components["ResponseV1"],
        relocated(&Value::Object(published.clone()))
    );
    for (name, schema) in definitions.as_object().unwrap() {
        assert_eq!(components[name], relocated(schema), "component {name}");
    }
}

/// Checks that `answer` is documented for `method` `path`: its status, its content type, the
/// headers the document names, and, for JSON, its body against the documented schema.
fn assert_conforms(document: &Value, method: &str, path: &str, answer: &Answer) {
    let what = format!("{method} {path} answered {}", answer.status.as_u16());
    let response = &document["paths"][path][method]["responses"][answer.status.as_str()];
    assert!(
        response.is_object(),
        "{what}, which the document does not list"
    );
    for (header, _) in response["headers"].as_object().into_iter().flatten() {
        assert!(
            answer.headers.contains_key(header.as_str()),
            "{what} without the documented header {header}"
        );
    }
    let mime = answer.content_type.split(';').next().unwrap().trim();
    let content = response["content"]
        .as_object()
        .unwrap_or_else(|| panic!("{what} documents no content"));
    let media = content.get(mime).unwrap_or_else(|| {
        panic!(
            "{what} with content type {mime}; documented: {:?}",
            content.keys().collect::<Vec<_>>()
        )
    });
    if mime != "application/json" {
        return;
    }
    let body: Value = serde_json::from_slice(&answer.body).unwrap();
    // The schema is checked with the document as its root, so `#/components/...` resolves.
    let mut root = document.clone();
    root.as_object_mut()
        .unwrap()
        .insert("$ref".to_owned(), json!("#/$defs/documented"));
    root.as_object_mut()
        .unwrap()
        .insert("$defs".to_owned(), json!({ "documented": media["schema"] }));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} with a body that breaks its schema:\n{}\n{body:#}",
        errors.join("\n")
    );
}

async fn post(server: &TestServer, survey: &str, content_type: &str, body: String) -> Answer {
    send(
        server,
        Request::post(format!("/api/v1/surveys/{survey}/responses"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn get(server: &TestServer, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(server, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn every_ingest_answer_conforms_to_the_document() {
    let mut server = TestServer::new().await;
    let document = served_document(&server).await;
    let ingest = "/api/v1/surveys/{id}/responses";
    let valid = portal_response(1);
    let mut changed = valid.clone();
    changed["answers"]["nps"] = json!(2);
    let mut out_of_range = portal_response(2);
    out_of_range["answers"]["nps"] = json!(11);
    let cases = [
        (
            "client-portal",
            "application/json",
            valid.to_string(),
            StatusCode::CREATED,
        ),
        (
            "client-portal",
            "application/json",
            valid.to_string(),
            StatusCode::OK,
        ),
        (
            "client-portal",
            "application/json",
            changed.to_string(),
            StatusCode::CONFLICT,
        ),
        (
            "client-portal",
            "application/json",
            "{\"format\": 1,".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "client-portal",
            "text/plain",
            valid.to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "client-portal",
            "application/json",
            json!({"padding": "x".repeat(70 * 1024)}).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "no-such-survey",
            "application/json",
            valid.to_string(),
            StatusCode::NOT_FOUND,
        ),
        (
            "client-portal",
            "application/json",
            out_of_range.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (survey, content_type, body, status) in cases {
        let answer = post(&server, survey, content_type, body).await;
        assert_eq!(
            answer.status,
            status,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_conforms(&document, "post", ingest, &answer);
    }

    server.state.rate_limiter = std::sync::Arc::new(rapport_server::rate_limit::RateLimiter::new(
        rapport_server::rate_limit::RateLimit {
            burst: 1,
            per_minute: 1,
        },
    ));
    post(
        &server,
        "client-portal",
        "application/json",
        portal_response(3).to_string(),
    )
    .await;
    let limited = post(
        &server,
        "client-portal",
        "application/json",
        portal_response(4).to_string(),
    )
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_conforms(&document, "post", ingest, &limited);
}

#[tokio::test]
async fn every_survey_invitation_and_result_answer_conforms_to_the_document() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    // Enough responses in two accounts that an account caller gets a report, and one
    // breakdown group small enough to be suppressed.
    for counter in 1..=7u32 {
        let mut response = portal_response(counter);
        response["context"]["account"] = json!(if counter <= 6 { "northwind" } else { "contoso" });
        response["confidentiality"] = json!(if counter % 2 == 0 {
            "identified"
        } else {
            "confidential"
        });
        assert_eq!(
            post(
                &server,
                "client-portal",
                "application/json",
                response.to_string()
            )
            .await
            .status,
            StatusCode::CREATED
        );
    }
    let mut tokens = Vec::new();
    for (role, accounts) in [
        (Role::Admin, vec![]),
        (Role::Account, vec!["northwind".to_owned()]),
        (Role::Account, vec!["contoso".to_owned()]),
        (Role::Viewer, vec![]),
    ] {
        let token = new_token().unwrap();
        server
            .state
            .store
            .add_token(&token_hash(&token), role, &accounts, None)
            .await
            .unwrap();
        tokens.push(token);
    }

    let invitation = |id: &str| Invitation {
        id: id.to_owned(),
        survey: "client-portal".to_owned(),
        contact: "ana.ruiz@client.example".to_owned(),
        name: Some("Ana Ruiz".to_owned()),
        account: "northwind".to_owned(),
        matter: None,
        wave: Some("2026-h2".to_owned()),
        firm: None,
        expires: now_seconds() + 3600,
        presentation: Default::default(),
    };
    let key = &server.state.identity_key;
    let recorded = record_invitation(&server.state.store, key, &invitation("inv-recorded")).await;
    let unrecorded = invitation("inv-unrecorded").sign(key);

    let cases: Vec<(&str, String, Option<&str>, StatusCode)> = vec![
        (
            "/api/v1/surveys",
            "/api/v1/surveys".to_owned(),
            None,
            StatusCode::OK,
        ),
        (
            "/api/v1/surveys/{id}",
            "/api/v1/surveys/client-portal?version=1".to_owned(),
            None,
            StatusCode::OK,
        ),
        (
            "/api/v1/surveys/{id}",
            "/api/v1/surveys/client-portal?version=one".to_owned(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/surveys/{id}",
            "/api/v1/surveys/no-such-survey".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/invitations/{token}",
            format!("/api/v1/invitations/{recorded}"),
            None,
            StatusCode::OK,
        ),
        (
            "/api/v1/invitations/{token}",
            format!("/api/v1/invitations/{unrecorded}"),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/invitations/{token}",
            "/api/v1/invitations/not-a-token".to_owned(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/openapi.json",
            "/api/v1/openapi.json".to_owned(),
            None,
            StatusCode::OK,
        ),
    ];
    let mut cases = cases;
    let report = "/api/v1/surveys/{id}/report";
    let csv = "/api/v1/surveys/{id}/responses.csv";
    let emerging = "/api/v1/surveys/{id}/emerging";
    for token in &tokens {
        cases.push((
            emerging,
            "/api/v1/surveys/client-portal/emerging".to_owned(),
            Some(token),
            StatusCode::OK,
        ));
        cases.push((
            report,
            "/api/v1/surveys/client-portal/report?by=account,confidentiality,nps-category"
                .to_owned(),
            Some(token),
            StatusCode::OK,
        ));
        cases.push((
            report,
            "/api/v1/surveys/client-portal/report".to_owned(),
            Some(token),
            StatusCode::OK,
        ));
    }
    cases.extend([
        (
            emerging,
            "/api/v1/surveys/client-portal/emerging".to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            emerging,
            "/api/v1/surveys/no-such-survey/emerging".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::NOT_FOUND,
        ),
        (
            emerging,
            "/api/v1/surveys/client-portal/emerging?version=-1".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            report,
            "/api/v1/surveys/client-portal/report".to_owned(),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            report,
            "/api/v1/surveys/no-such-survey/report".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::NOT_FOUND,
        ),
        (
            report,
            "/api/v1/surveys/client-portal/report?by=colour".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            report,
            "/api/v1/surveys/client-portal/report?version=-1".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            csv,
            "/api/v1/surveys/client-portal/responses.csv".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::OK,
        ),
        (
            csv,
            "/api/v1/surveys/client-portal/responses.csv".to_owned(),
            Some(tokens[1].as_str()),
            StatusCode::OK,
        ),
        (
            csv,
            "/api/v1/surveys/client-portal/responses.csv".to_owned(),
            Some("rpt_wrong"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            csv,
            "/api/v1/surveys/client-portal/responses.csv".to_owned(),
            Some(tokens[3].as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            csv,
            "/api/v1/surveys/no-such-survey/responses.csv".to_owned(),
            Some(tokens[0].as_str()),
            StatusCode::NOT_FOUND,
        ),
    ]);
    // Every stored definition, the built-in templates among them, matches the schema.
    let listing: Value =
        serde_json::from_slice(&get(&server, "/api/v1/surveys", None).await.body).unwrap();
    assert!(listing.as_array().unwrap().len() > 1);
    for survey in listing.as_array().unwrap() {
        cases.push((
            "/api/v1/surveys/{id}",
            format!("/api/v1/surveys/{}", survey["id"].as_str().unwrap()),
            None,
            StatusCode::OK,
        ));
    }
    for (template, path, token, status) in cases {
        let answer = get(&server, &path, token).await;
        assert_eq!(
            answer.status,
            status,
            "{path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_conforms(&document, "get", template, &answer);
    }
}

/// The schema check itself can fail: a body that breaks the documented receipt is caught.
#[tokio::test]
async fn a_body_that_breaks_its_schema_is_caught() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    let answer = post(
        &server,
        "client-portal",
        "application/json",
        portal_response(1).to_string(),
    )
    .await;
    let mut receipt: Value = serde_json::from_slice(&answer.body).unwrap();
    receipt["status"] = json!("kept");
    receipt["score"]["nps_category"] = json!("fan");
    let tampered = Answer {
        body: receipt.to_string().into_bytes(),
        ..answer
    };
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert_conforms(
            &document,
            "post",
            "/api/v1/surveys/{id}/responses",
            &tampered,
        )
    }));
    let message = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("breaks its schema")
            && message.contains("/status")
            && message.contains("/score/nps_category"),
        "{message}"
    );
}

#[tokio::test]
async fn every_close_the_loop_answer_conforms_to_the_document() {
    let server = TestServer::new().await;
    let document = served_document(&server).await;
    for (counter, confidentiality) in [(1, "identified"), (2, "confidential")] {
        let mut response = portal_response(counter);
        response["confidentiality"] = json!(confidentiality);
        response["answers"] =
            json!({"nps": 2, "trust": 2, "uniqueness": 3, "care": 2, "weakness": "Slow"});
        response["identity"] = json!({"name": format!("Person {counter}"), "email": format!("p{counter}@client.example")});
        assert_eq!(
            post(
                &server,
                "client-portal",
                "application/json",
                response.to_string()
            )
            .await
            .status,
            StatusCode::CREATED
        );
    }
    let mut tokens = Vec::new();
    for (role, accounts) in [(Role::Admin, vec![]), (Role::Viewer, vec![])] {
        let token = new_token().unwrap();
        server
            .state
            .store
            .add_token(&token_hash(&token), role, &accounts, None)
            .await
            .unwrap();
        tokens.push(token);
    }
    let list = "/api/v1/surveys/{id}/follow-ups";
    for (token, status) in [
        (Some(tokens[0].as_str()), StatusCode::OK),
        (Some(tokens[1].as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let answer = get(&server, "/api/v1/surveys/client-portal/follow-ups", token).await;
        assert_eq!(
            answer.status,
            status,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_conforms(&document, "get", list, &answer);
    }
    let answer = get(&server, "/api/v1/surveys/nope/follow-ups", Some(&tokens[0])).await;
    assert_conforms(&document, "get", list, &answer);

    let put = |path: String, body: &'static str| {
        let server = &server;
        let token = tokens[0].clone();
        async move {
            let request = Request::put(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            send(server, request).await
        }
    };
    let item = "/api/v1/surveys/{id}/follow-ups/responses/{response_id}";
    let flag = "/api/v1/surveys/{id}/follow-ups/accounts/{account}";
    let id = |counter: u32| format!("00000000-0000-4000-8000-{counter:012x}");
    for (path, body, status) in [
        (
            format!(
                "/api/v1/surveys/client-portal/follow-ups/responses/{}",
                id(1)
            ),
            r#"{"status":"in_progress","note":"Call booked"}"#,
            StatusCode::OK,
        ),
        (
            format!(
                "/api/v1/surveys/client-portal/follow-ups/responses/{}",
                id(2)
            ),
            r#"{"status":"done"}"#,
            StatusCode::NOT_FOUND,
        ),
        (
            format!(
                "/api/v1/surveys/client-portal/follow-ups/responses/{}",
                id(1)
            ),
            r#"{"status":"lost"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!(
                "/api/v1/surveys/client-portal/follow-ups/responses/{}",
                id(1)
            ),
            r#"{"status":"#,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = put(path, body).await;
        assert_eq!(
            answer.status,
            status,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_conforms(&document, "put", item, &answer);
    }
    let answer = put(
        "/api/v1/surveys/client-portal/follow-ups/accounts/northwind?wave=2026-h2".to_owned(),
        r#"{"status":"done"}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_conforms(&document, "put", flag, &answer);
    let answer = get(
        &server,
        "/api/v1/surveys/client-portal/follow-ups",
        Some(&tokens[0]),
    )
    .await;
    assert_conforms(&document, "get", list, &answer);
}
