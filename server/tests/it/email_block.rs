//! The survey block of a thank-you email: eleven links to the landing page, one per answer,
//! with nothing a mail client would strip or fetch and every name escaped, as `rapport
//! invite` prints it; and the answer a click records, counted once whether the client then
//! completes the survey or leaves.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use rapport_server::auth::Role;
use rapport_server::email_block::EmailBlock;
use rapport_server::invitation::{Language, Presentation};
use serde_json::{Value, json};

use crate::support::{TestServer, plain_invitation, portal_response, record_invitation, token};

const LINK: &str = "https://feedback.example/s/AbC-123_x";

/// Every link of an HTML block: its address and its text.
fn links(html: &str) -> Vec<(String, String)> {
    html.split("<a ")
        .skip(1)
        .map(|anchor| {
            let href = anchor
                .split_once("href=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(href, _)| href.to_owned())
                .unwrap_or_default();
            let text = anchor
                .split_once('>')
                .and_then(|(_, rest)| rest.split_once("</a>"))
                .map(|(text, _)| text.to_owned())
                .unwrap_or_default();
            (href, text)
        })
        .collect()
}

/// Checks that `html` is a block for `link`: eleven links, 0 to 10 in order, each opening
/// the landing page with its own answer, and nothing a mail client strips or fetches.
fn assert_mail_safe_scale(html: &str, link: &str) {
    let found = links(html);
    assert_eq!(found.len(), 11, "{html}");
    for (value, (href, text)) in found.iter().enumerate() {
        assert_eq!(href, &format!("{link}?answer={value}"));
        assert_eq!(text, &value.to_string());
    }
    let lowercase = html.to_lowercase();
    for forbidden in [
        "<script",
        "javascript:",
        "<img",
        "<style",
        "<link",
        "url(",
        "background-image",
        "class=",
        "<form",
        "<input",
        "<button",
        "@import",
    ] {
        assert!(!lowercase.contains(forbidden), "{forbidden} in {html}");
    }
    assert_eq!(
        lowercase.matches("http").count(),
        11,
        "every address in the block is one of the eleven links: {html}"
    );
    assert!(html.starts_with("<table") && html.ends_with("</table>"));
    assert!(!html.contains('\n'), "one line, so a CSV cell stays simple");
}

#[test]
fn the_block_is_eleven_links_in_the_invitations_language_with_names_escaped() {
    let definition = rapport_scoring::template("client-portal").unwrap();
    let presentation = Presentation {
        locale: Some(Language::Fr),
        account_name: Some("Northwind Traders".to_owned()),
        matter_name: Some("Smith & <Sons> \"Q&A\"".to_owned()),
    };
    let block = EmailBlock::new(&definition, LINK, &presentation).unwrap();
    assert_mail_safe_scale(&block.html, LINK);
    assert!(block.html.contains("lang=\"fr\""), "{}", block.html);
    assert!(
        block
            .html
            .contains("Smith &amp; &lt;Sons&gt; &quot;Q&amp;A&quot;"),
        "{}",
        block.html
    );
    assert!(!block.html.contains("<Sons>"));
    assert!(block.html.contains("Quelle est la probabilité"));
    assert!(block.html.contains("10 = Extrêmement probable"));
    assert!(block.html.contains("Cliquez sur un chiffre"));
    assert!(
        !block.html.contains("Northwind") && !block.text.contains("Northwind"),
        "the block never names the account"
    );

    // The plain-text alternative: the same question and one line per answer.
    let lines: Vec<&str> = block.text.lines().collect();
    assert_eq!(lines[0], "Objet\u{a0}: Smith & <Sons> \"Q&A\"");
    assert!(lines[1].starts_with("Quelle est la probabilité"));
    let answers: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.contains("?answer="))
        .collect();
    assert_eq!(answers.len(), 11);
    for (value, line) in answers.iter().enumerate() {
        assert!(
            line.starts_with(&format!("{value}"))
                && line.ends_with(&format!(": {LINK}?answer={value}")),
            "{line}"
        );
    }
    assert!(answers[0].starts_with("0 (Pas du tout probable)"));
    assert!(block.text.contains("Ouvrez le lien"));

    // Without a locale, English; without a matter name, no line about it.
    let english = EmailBlock::new(&definition, LINK, &Presentation::default()).unwrap();
    assert!(english.text.starts_with(
        "How likely are you to recommend us to a friend or colleague?\n\n0 (Not at all likely): "
    ));
    assert!(!english.html.contains("About:"));

    // A survey that asks no 0–10 question has no scale to put in an email.
    let mut without_scale = definition.clone();
    without_scale
        .questions
        .retain(|question| !matches!(question, rapport_scoring::definition::Question::Nps { .. }));
    assert_eq!(
        EmailBlock::new(&without_scale, LINK, &Presentation::default()),
        None
    );
}

/// The cells of CSV text, quoted cells holding commas, quotes and line breaks.
pub(crate) fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut cell) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(character) = chars.next() {
        match (quoted, character) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, other) => cell.push(other),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            (false, other) => cell.push(other),
        }
    }
    records
}

/// `rapport invite` prints the block for one invitation with `--email-block html|text`, and
/// for each row of `--csv` after the contact and the link.
#[tokio::test]
async fn rapport_invite_prints_the_block_alone_or_as_csv_columns_after_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("identity.key");
    let invite = |extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args([
                "invite",
                "--survey",
                "client-portal",
                "--base-url",
                "https://feedback.example",
            ])
            .args(extra)
            .args(["--database-url", &database])
            .args(["--identity-key-file", key_file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let one = [
        "--contact",
        "ana.ruiz@client.example",
        "--account",
        "northwind",
    ];

    let html = invite(&[&one[..], &["--email-block", "html", "--locale", "de"]].concat());
    let html = html.trim_end();
    let link = links(html)[0].0.trim_end_matches("?answer=0").to_owned();
    assert!(link.starts_with("https://feedback.example/s/"), "{link}");
    assert_mail_safe_scale(html, &link);
    assert!(html.contains("Wie wahrscheinlich"), "{html}");

    let text = invite(&[&one[..], &["--email-block", "text"]].concat());
    assert_eq!(text.matches("?answer=").count(), 11, "{text}");
    assert!(text.contains("10 (Extremely likely): https://feedback.example/s/"));
    assert!(!text.contains('<'), "{text}");

    let bare = invite(&one);
    assert!(bare.trim().starts_with("https://feedback.example/s/") && !bare.contains("answer="));

    let file = dir.path().join("contacts.csv");
    std::fs::write(
        &file,
        "contact,account,name,locale,matter_name\n\
         ana.ruiz@client.example,northwind,Ana,es,Smith & <Sons>\n\
         bo.berg@client.example,contoso,,nl,\n",
    )
    .unwrap();
    let output = invite(&["--csv", file.to_str().unwrap()]);
    let records = csv_records(&output);
    assert_eq!(records.len(), 2, "{output}");
    for (record, (contact, question)) in records.iter().zip([
        ("ana.ruiz@client.example", "¿Qué probabilidad hay"),
        ("bo.berg@client.example", "Hoe waarschijnlijk"),
    ]) {
        assert_eq!(
            record.len(),
            4,
            "contact, link, email_html, email_text: {record:?}"
        );
        assert_eq!(record[0], contact);
        assert!(record[1].starts_with("https://feedback.example/s/"));
        assert_mail_safe_scale(&record[2], &record[1]);
        assert!(record[2].contains(question), "{}", record[2]);
        assert!(record[3].contains(&format!("{}?answer=10\n", record[1])));
    }
    assert!(records[0][2].contains("Asunto: Smith &amp; &lt;Sons&gt;"));
    assert!(
        !records[1][2].contains("Betreft"),
        "no matter name, no line"
    );
}

/// What the landing page posts when a number in the email was clicked: that answer alone,
/// confidential, through the invitation.
fn clicked(counter: u32, token: &str, nps: u8) -> Value {
    json!({
        "format": 1,
        "response_id": format!("00000000-0000-4000-8000-{counter:012x}"),
        "survey_id": "client-portal",
        "survey_version": 1,
        "locale": "en",
        "answers": {"nps": nps},
        "confidentiality": "confidential",
        "invitation": token,
        "context": {},
        "submitted_at": "2026-11-23T09:30:00Z",
    })
}

async fn report(server: &TestServer, bearer: &str) -> Value {
    let request = Request::get("/api/v1/surveys/client-portal/report")
        .header("authorization", format!("Bearer {bearer}"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = server.send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_clicked_answer_counts_once_under_the_confidentiality_rules_and_completing_replaces_it() {
    let server = TestServer::new().await;
    let invitation = plain_invitation(
        "inv-click",
        "ana.ruiz@client.example",
        "northwind",
        Some("2026-h2"),
    );
    let link_token =
        record_invitation(&server.state.store, &server.state.identity_key, &invitation).await;
    let admin = token(&server, Role::Admin, &[]).await;
    let northwind = token(&server, Role::Account, &["northwind"]).await;

    // The client clicks 7 and closes the page: the answer counts.
    let (status, body) = server
        .post_json("client-portal", &clicked(1, &link_token, 7))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(server.count("client-portal").await, 1);
    let (_, info) = server
        .get(&format!("/api/v1/invitations/{link_token}"))
        .await;
    assert_eq!(
        (info["answered"].as_bool(), info["replaceable"].as_bool()),
        (Some(true), Some(true)),
        "the page opened again records nothing more, and completing still replaces it"
    );
    let admin_report = report(&server, &admin).await;
    assert_eq!(admin_report["n"], 1);
    // Confidential like any answer: the account manager sees nothing of one answer alone,
    // and the contact is stored sealed, never in clear.
    assert_eq!(report(&server, &northwind).await["n"], 0);
    let stored = server.stored_bytes().await;
    assert!(
        !stored
            .windows(b"ana.ruiz@client.example".len())
            .any(|window| window == b"ana.ruiz@client.example"),
        "the contact is stored in clear"
    );

    // A second click (or a second page sending it) is the same answer again: replaced.
    let (status, body) = server
        .post_json("client-portal", &clicked(2, &link_token, 7))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("replaced"))
    );
    assert_eq!(server.count("client-portal").await, 1);

    // Completing the survey sends the whole response, which replaces the clicked one.
    let mut complete = portal_response(3);
    complete["invitation"] = json!(link_token);
    complete.as_object_mut().unwrap().remove("identity");
    let (status, body) = server.post_json("client-portal", &complete).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("replaced")),
        "{body}"
    );
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
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].answers.nps.map(|answer| answer.get()), Some(9));
    assert_eq!(records[0].context.account.as_deref(), Some("northwind"));
    let admin_report = report(&server, &admin).await;
    assert_eq!(admin_report["n"], 1);
}
