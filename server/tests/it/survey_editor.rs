//! The admin's survey pages through the HTTP boundary: a survey made from a template, its
//! texts translated and its settings changed into a new version (the old one unchanged),
//! untranslated texts marked, `scoring`'s own errors shown next to the field with nothing
//! saved and nothing typed lost, the preview serving the real widget under its own policy
//! while storing nothing, and the refusals.

use axum::http::{StatusCode, header};
use rapport_scoring::ids::Locale;
use rapport_server::auth::Role;

use crate::dashboard::{get, post_form, session};
use crate::support::TestServer;

fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The editor's form as a browser would send it, with `changes` replacing fields by name.
fn form_of(page: &str, changes: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> = Vec::new();
    // Textareas: name="…" …>wording</textarea>; inputs: name="…" … value="…".
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    for piece in page.split("<textarea").skip(1) {
        let name = piece
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let body = piece
            .split_once('>')
            .unwrap()
            .1
            .split("</textarea>")
            .next()
            .unwrap();
        fields.push((unescape(name), unescape(body)));
    }
    for piece in page.split("<input").skip(1) {
        let tag = piece.split('>').next().unwrap();
        let attr = |attribute: &str| {
            tag.split(&format!(" {attribute}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(unescape)
        };
        if let (Some(name), Some(value)) = (attr("name"), attr("value"))
            && (name.starts_with("keywords|") || name == "min_group_size")
        {
            fields.push((name, value));
        }
    }
    let selected = page
        .split("<select id=\"confidentiality\"")
        .nth(1)
        .and_then(|rest| rest.split("selected>").next())
        .and_then(|before| before.rsplit("value=\"").next())
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    fields.push(("confidentiality".to_owned(), selected));
    for (name, value) in changes {
        match fields.iter_mut().find(|(field, _)| field == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn a_survey_made_from_a_template_is_translated_into_a_new_version() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;

    let made = post_form(
        &server,
        "/dashboard/surveys",
        "template=post-negotiation&id=deal-2027",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
    assert_eq!(
        made.headers[header::LOCATION],
        "/dashboard/surveys/deal-2027/edit"
    );
    let list = get(&server, "/dashboard/surveys", Some(&admin)).await;
    assert!(
        list.text.contains("<code>deal-2027</code>"),
        "{}",
        list.text
    );
    assert!(
        list.text.contains("survey made")
            && list
                .text
                .contains("deal-2027 version 1, from the post-negotiation template")
    );

    // A language no text has yet: every text is marked untranslated in it.
    let editor = get(
        &server,
        "/dashboard/surveys/deal-2027/edit?add=it",
        Some(&admin),
    )
    .await;
    assert_eq!(editor.status, StatusCode::OK);
    let policy = editor.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.contains("frame-src 'self'")
            && policy.contains("default-src 'none'")
            && !policy.contains("script-src"),
        "{policy}"
    );
    let texts = editor.text.matches("name=\"text|").count();
    assert!(texts > 10, "{texts}");
    assert_eq!(
        editor.text.matches("class=\"untranslated\"").count(),
        texts / 6,
        "one Italian cell per text, and only those"
    );
    assert!(
        editor
            .text
            .contains(&format!("{} texts are not translated yet", texts / 6)),
        "{}",
        editor.text
    );
    assert!(editor.text.contains("Survey title"));

    let form = form_of(
        &editor.text,
        &[
            ("text|/title|it", "Com'è andata la negoziazione?"),
            ("text|/title|en", "How did the deal go?"),
            ("confidentiality", "confidential"),
            ("min_group_size", "7"),
            (
                "allowed_origins",
                "https://portal.example.com\nhttps://clients.example.org",
            ),
        ],
    );
    let saved = post_form(
        &server,
        "/dashboard/surveys/deal-2027/edit",
        &form,
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    assert_eq!(
        saved.headers[header::LOCATION],
        "/dashboard/surveys/deal-2027/edit?saved=2&changed=true"
    );

    let store = &server.state.store;
    let v2 = store.survey("deal-2027", Some(2)).await.unwrap().unwrap();
    let v2 = v2.definition();
    assert_eq!(
        v2.title.get(&Locale::new("it".to_owned()).unwrap()),
        "Com'è andata la negoziazione?"
    );
    assert_eq!(v2.title.english(), "How did the deal go?");
    assert_eq!(
        v2.confidentiality,
        rapport_scoring::ConfidentialityMode::Confidential
    );
    assert_eq!(v2.min_group_size, 7);
    assert_eq!(
        v2.allowed_origins,
        ["https://portal.example.com", "https://clients.example.org"]
    );
    let v1 = store.survey("deal-2027", Some(1)).await.unwrap().unwrap();
    assert_eq!(
        v1.definition().title.english(),
        "How did the negotiation feel?",
        "version 1 never changes"
    );
    assert_eq!(v1.definition().min_group_size, 5);

    // Saving the same form again stores nothing.
    let editor = get(&server, "/dashboard/surveys/deal-2027/edit", Some(&admin)).await;
    let again = post_form(
        &server,
        "/dashboard/surveys/deal-2027/edit",
        &form_of(&editor.text, &[]),
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(
        again.headers[header::LOCATION],
        "/dashboard/surveys/deal-2027/edit?saved=2&changed=false"
    );
    let list = get(&server, "/dashboard/surveys", Some(&admin)).await;
    assert_eq!(
        list.text.matches("survey version saved").count(),
        1,
        "{}",
        list.text
    );
}

#[tokio::test]
async fn scoring_errors_show_next_to_the_field_and_nothing_typed_is_lost() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let editor = get(
        &server,
        "/dashboard/surveys/client-portal/edit",
        Some(&admin),
    )
    .await;
    let before = server
        .state
        .store
        .survey("client-portal", None)
        .await
        .unwrap()
        .unwrap()
        .definition()
        .version;

    for (changes, words) in [
        (
            vec![("min_group_size", "0")],
            "The smallest group shown must be between 1 and 1000 respondents.",
        ),
        (
            vec![("allowed_origins", "portal.example.com/path")],
            "An origin is a scheme and host",
        ),
        (
            vec![("min_group_size", "five")],
            "Must be a whole number, such as 5.",
        ),
    ] {
        let mut changes = changes;
        changes.push(("text|/title|fr", "Un titre tapé à garder"));
        let form = form_of(&editor.text, &changes);
        let refused = post_form(
            &server,
            "/dashboard/surveys/client-portal/edit",
            &form,
            Some(&admin),
            "same-origin",
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{changes:?}: {}",
            refused.text
        );
        assert!(refused.text.contains("Nothing was saved"), "{changes:?}");
        assert!(
            refused.text.contains(&format!("role=\"alert\">{words}")),
            "{changes:?}: {}",
            refused.text
        );
        if !words.starts_with("Must be a whole number") {
            assert!(
                refused.text.contains("Un titre tapé à garder"),
                "the typed title is kept: {changes:?}"
            );
        }
    }
    // Every language of a text emptied: named next to that text.
    let names: Vec<String> = ["en", "fr", "de", "nl", "es"]
        .iter()
        .map(|locale| format!("text|/title|{locale}"))
        .collect();
    let emptied: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), "")).collect();
    let refused = post_form(
        &server,
        "/dashboard/surveys/client-portal/edit",
        &form_of(&editor.text, &emptied),
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let row = &refused.text[refused.text.find("Survey title").unwrap()..];
    assert!(
        row[..row.find("</th>").unwrap()].contains("needs a wording in at least one language"),
        "{row}"
    );

    let after = server
        .state
        .store
        .survey("client-portal", None)
        .await
        .unwrap()
        .unwrap()
        .definition()
        .version;
    assert_eq!(before, after, "no refused form stored a version");
}

#[tokio::test]
async fn the_preview_serves_the_real_widget_and_stores_nothing() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let preview = get(
        &server,
        "/dashboard/surveys/client-portal/preview?locale=fr",
        Some(&admin),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK);
    let policy = preview.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'")
            && policy.contains("frame-ancestors 'self'"),
        "{policy}"
    );
    assert!(
        preview
            .text
            .contains("<script type=\"module\" src=\"/widget/rapport.js\">")
    );
    assert!(
        preview.text.contains("lang=\"fr\"")
            && preview
                .text
                .contains("endpoint=\"/dashboard/preview/responses\"")
    );
    assert!(
        preview
            .text
            .contains("definition=\"{&quot;id&quot;:&quot;client-portal&quot;"),
        "the definition is inline and escaped"
    );

    let before = server.count("client-portal").await;
    let sent = post_form(
        &server,
        "/dashboard/preview/responses",
        "",
        None,
        "same-origin",
    )
    .await;
    assert_eq!(sent.status, StatusCode::NO_CONTENT);
    assert_eq!(server.count("client-portal").await, before);
}

#[tokio::test]
async fn only_the_admin_edits_surveys_and_only_from_the_dashboard() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let account = session(&server, Role::Account, &["northwind"]).await;
    for path in [
        "/dashboard/surveys",
        "/dashboard/surveys/client-portal/edit",
        "/dashboard/surveys/client-portal/preview",
    ] {
        assert_eq!(
            get(&server, path, Some(&account)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_ne!(
            get(&server, path, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let forged = post_form(
        &server,
        "/dashboard/surveys",
        "template=client-portal&id=forged",
        Some(&admin),
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let by_account = post_form(
        &server,
        "/dashboard/surveys",
        "template=client-portal&id=forged",
        Some(&account),
        "same-origin",
    )
    .await;
    assert_eq!(by_account.status, StatusCode::FORBIDDEN);
    assert!(
        server
            .state
            .store
            .survey("forged", None)
            .await
            .unwrap()
            .is_none()
    );

    // A taken id and a bad id are refused next to the id field.
    let taken = post_form(
        &server,
        "/dashboard/surveys",
        "template=client-portal&id=client-portal",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken.text.contains("exists already: edit it instead"),
        "{}",
        taken.text
    );
    let bad = post_form(
        &server,
        "/dashboard/surveys",
        "template=client-portal&id=Bad+Id",
        Some(&admin),
        "same-origin",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text.contains("value=\"Bad Id\""),
        "the form comes back as sent"
    );
}

/// The topics of the latest version of `id`: each id with its keywords.
async fn topics_of(server: &TestServer, id: &str) -> (u32, Vec<(String, Vec<String>)>) {
    let survey = server.state.store.survey(id, None).await.unwrap().unwrap();
    let definition = survey.definition();
    (
        definition.version,
        definition
            .topics
            .iter()
            .map(|topic| (topic.id.to_string(), topic.keywords.clone()))
            .collect(),
    )
}

#[tokio::test]
async fn topics_are_added_and_removed_in_a_new_version_and_a_bad_one_is_refused_as_typed() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let path = "/dashboard/surveys/client-portal/edit";
    let (first_version, before) = topics_of(&server, "client-portal").await;
    assert!(before.len() >= 2, "the template has topics: {before:?}");
    let (dropped, kept) = (&before[0].0, &before[1].0);

    let editor = get(&server, path, Some(&admin)).await;
    assert!(editor.text.contains("id=\"new_topic_name\""));
    let removal = "remove_topic|/topics/0".to_owned();
    assert!(
        editor.text.contains(&format!("name=\"{removal}\"")),
        "each topic has its remove box"
    );
    let form = form_of(
        &editor.text,
        &[
            (removal.as_str(), "on"),
            ("new_topic_name", "Billing & fees"),
            ("new_topic_keywords", "invoice, bill ,, fee"),
        ],
    );
    let saved = post_form(&server, path, &form, Some(&admin), "same-origin").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let (version, after) = topics_of(&server, "client-portal").await;
    assert_eq!(version, first_version + 1);
    assert!(!after.iter().any(|(id, _)| id == dropped), "{after:?}");
    assert!(after.iter().any(|(id, _)| id == kept));
    assert_eq!(
        after.last().unwrap(),
        &(
            "billing-fees".to_owned(),
            vec!["invoice".to_owned(), "bill".to_owned(), "fee".to_owned()]
        )
    );
    // The old version keeps its topics.
    let old = server
        .state
        .store
        .survey("client-portal", Some(first_version))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.definition().topics.len(), before.len());
    // The new topic's name is a text like any other, to translate.
    let editor = get(&server, path, Some(&admin)).await;
    assert!(
        editor.text.contains("Billing &amp; fees"),
        "{}",
        editor.text
    );

    // A name without words, and a name taken already: refused next to the field, nothing
    // saved, and what was typed is still there.
    for (name, keywords, expected) in [
        ("Handover", "", "Give the words that put a written answer"),
        (
            "Billing fees",
            "charge",
            "There is a topic called Billing fees already",
        ),
        ("", "orphan", "Give the new topic a name"),
    ] {
        let form = form_of(
            &editor.text,
            &[("new_topic_name", name), ("new_topic_keywords", keywords)],
        );
        let refused = post_form(&server, path, &form, Some(&admin), "same-origin").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            refused.text.contains(expected),
            "{expected}: {}",
            refused.text
        );
        assert!(refused.text.contains(&format!("value=\"{keywords}\"")));
        assert_eq!(topics_of(&server, "client-portal").await.0, version);
    }
}

#[tokio::test]
async fn a_survey_that_only_takes_signed_answers_shows_the_portal_how_to_sign() {
    let server = TestServer::new().await;
    let admin = session(&server, Role::Admin, &[]).await;
    let path = "/dashboard/surveys/client-portal/edit";
    let editor = get(&server, path, Some(&admin)).await;
    assert!(editor.text.contains("id=\"require_signed_context\""));
    assert!(!editor.text.contains("id=\"signing\""));

    let form = form_of(&editor.text, &[("require_signed_context", "yes")]);
    let saved = post_form(&server, path, &form, Some(&admin), "same-origin").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let survey = server
        .state
        .store
        .survey("client-portal", None)
        .await
        .unwrap()
        .unwrap();
    assert!(survey.definition().require_signed_context);

    let editor = get(&server, path, Some(&admin)).await;
    // The snippet names the signed attributes, and the code that signs them follows, for
    // this survey, with where the secret comes from.
    for expected in [
        "contact-email=&quot;EMAIL&quot;",
        "signature=&quot;HMAC-SHA256 SIGNATURE&quot;",
        "export function signContext(secret",
        "survey: &#39;client-portal&#39;",
        "def sign_context(secret",
        "rapport key portal-secret --survey client-portal",
    ] {
        let found =
            editor.text.contains(expected) || editor.text.contains(&expected.replace("&#39;", "'"));
        assert!(found, "{expected} in the editor");
    }
    // Never a secret on the page.
    let secret = rapport_server::portal::portal_secret(&server.state.identity_key, "client-portal");
    assert!(!editor.text.contains(&secret));
}
