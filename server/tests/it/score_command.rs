//! `rapport score` on JSONL files: the DOMAIN.md tables from raw responses, the table
//! format, and a bad line that fails the whole command without a partial report.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

fn rapport(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_domain_wave_table_comes_out_of_rapport_score() {
    let output = rapport(&["score", fixture("domain-waves.jsonl").to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let groups = &report["wave_comparisons"][0]["groups"];
    let row = |idx: usize| {
        let group = &groups[idx];
        (
            group["choice"].as_str().unwrap().to_owned(),
            (group["completion_rate"].as_f64().unwrap() * 100.0).round(),
            (group["nps_mean_first"].as_f64().unwrap() * 10.0).round() / 10.0,
            (group["nps_mean_second"].as_f64().unwrap() * 10.0).round() / 10.0,
        )
    };
    assert_eq!(row(0), ("confidential".to_owned(), 55.0, 6.3, 7.5));
    assert_eq!(row(1), ("identified".to_owned(), 70.0, 7.1, 7.2));
}

#[test]
fn the_opt_in_rates_come_out_of_rapport_score_by_segment() {
    let output = rapport(&[
        "score",
        fixture("domain-opt-in.jsonl").to_str().unwrap(),
        "--by",
        "returning",
        "--format",
        "table",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8(output.stdout).unwrap();
    let line = |label: &str| {
        table
            .lines()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} row in\n{table}"))
            .to_owned()
    };
    assert!(line("all responses").ends_with("26%"), "{table}");
    assert!(line("new").ends_with("38%"), "{table}");
    assert!(line("returning").ends_with("14%"), "{table}");
    assert!(table.contains("0-10 mean difference -"), "{table}");
}

#[test]
fn new_confidential_respondents_scoring_lower_comes_out_of_rapport_score_by_two_fields() {
    let path = fixture("domain-opt-in.jsonl");
    let output = rapport(&[
        "score",
        path.to_str().unwrap(),
        "--by",
        "returning×confidentiality",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let crossing = &report["crossings"][0];
    assert_eq!(crossing["first"], "returning");
    assert_eq!(crossing["second"], "confidentiality");
    let within_new = crossing["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|comparison| comparison["within"] == "new")
        .unwrap();
    assert_eq!(within_new["first"], "confidential");
    assert!(within_new["nps_test"]["difference"].as_f64().unwrap() < 0.0);
    assert!(within_new["nps_test"]["p_value"].as_f64().unwrap() < 0.001);

    let output = rapport(&[
        "score",
        path.to_str().unwrap(),
        "--by",
        "returning:confidentiality",
        "--format",
        "table",
    ]);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.contains("by returning and confidentiality"),
        "{table}"
    );
    assert!(table.contains("  new / confidential"), "{table}");
    assert!(
        table.contains("within new: confidential vs identified"),
        "{table}"
    );

    let output = rapport(&["score", path.to_str().unwrap(), "--by", "wave:wave"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot cross \"wave\" with itself"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_bad_line_fails_with_its_number_and_field_and_prints_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("domain-waves.jsonl")).unwrap();
    let mut lines: Vec<String> = good.lines().take(5).map(str::to_owned).collect();
    let mut value: Value = serde_json::from_str(good.lines().nth(3).unwrap()).unwrap();
    value["answers"]["nps"] = 11.into();
    lines[3] = value.to_string();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let output = rapport(&["score", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no partial report may be printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 4: answers.nps must be 0..=10, got 11"),
        "{stderr}"
    );

    std::fs::write(
        &path,
        format!(
            "{}\n{{\"format\": 1, \"oops\": true}}\n",
            good.lines().next().unwrap()
        ),
    )
    .unwrap();
    let output = rapport(&["score", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("line 2: oops: unknown field `oops`"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_segment_or_survey_is_refused_clearly() {
    let waves = fixture("domain-waves.jsonl");
    let output = rapport(&["score", waves.to_str().unwrap(), "--by", "colour"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot segment by \"colour\""));
    let output = rapport(&[
        "score",
        waves.to_str().unwrap(),
        "--survey",
        "no-such-template",
    ]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("neither a built-in template"));
}

/// Six `client-portal` responses, one per line, with a blank line in the middle that must be
/// skipped.
fn six_responses(dir: &std::path::Path) -> PathBuf {
    let answers = [
        (10, 7, "identified"),
        (9, 6, "identified"),
        (8, 5, "confidential"),
        (6, 3, "confidential"),
        (3, 2, "confidential"),
        (10, 6, "identified"),
    ];
    let mut lines: Vec<String> = answers
        .iter()
        .enumerate()
        .map(|(idx, (nps, rating, choice))| {
            serde_json::json!({
                "format": 1,
                "response_id": format!("00000000-0000-4000-8000-{:012x}", idx + 1),
                "survey_id": "client-portal",
                "survey_version": 1,
                "answers": {"nps": nps, "trust": rating, "commitment": rating, "satisfaction": rating, "uniqueness": rating, "reliability": rating, "care": rating},
                "confidentiality": choice,
                "identity": {"email": format!("person-{idx}@client.example")},
                "context": {"account": if idx % 2 == 0 { "northwind" } else { "contoso" }, "wave": "2026-h2"},
                "submitted_at": "2026-11-23T09:30:00Z"
            })
            .to_string()
        })
        .collect();
    lines.insert(3, String::new());
    let path = dir.join("six.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn the_whole_json_report_of_a_small_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = six_responses(dir.path());
    let output = rapport(&["score", path.to_str().unwrap(), "--by", "confidentiality"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["overall"]["n"], 6,
        "the blank line is skipped, every other line counts"
    );
    insta::assert_json_snapshot!(report);
}

#[test]
fn the_table_of_a_small_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = six_responses(dir.path());
    let output = rapport(&[
        "score",
        path.to_str().unwrap(),
        "--survey",
        "client-portal",
        "--by",
        "account",
        "--format",
        "table",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[tokio::test]
async fn rapport_report_reads_the_database_in_each_format() {
    let server = crate::support::TestServer::new().await;
    for counter in 0..6u32 {
        let mut response = crate::support::portal_response(counter + 1);
        response["answers"]["nps"] = (if counter < 4 { 10 } else { 0 }).into();
        response["context"]["account"] = (if counter < 5 { "northwind" } else { "contoso" }).into();
        assert_eq!(
            server.post_json("client-portal", &response).await.0,
            axum::http::StatusCode::CREATED
        );
    }
    let database = crate::support::database_url(&server).to_owned();
    let report = |format: &str| {
        rapport(&[
            "report",
            "--survey",
            "client-portal",
            "--by",
            "account",
            "--format",
            format,
            "--database-url",
            &database,
        ])
    };

    let json = report("json");
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["overall"]["n"], 6);
    // Four promoters and two detractors of six: NPS = (4 - 2) / 6.
    assert!((parsed["overall"]["nps"]["nps"].as_f64().unwrap() - 100.0 * 2.0 / 6.0).abs() < 1e-9);

    let csv = String::from_utf8(report("csv").stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "field,value,n,suppressed,nps,nps_low_95,nps_high_95,mean_0_10,crq,confidential_share"
    );
    assert!(lines[1].starts_with("all,all,6,false,33.3333,"), "{csv}");
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("account,contoso,1,true,,")),
        "a group of one shows its count only:\n{csv}"
    );

    let table = String::from_utf8(report("table").stdout).unwrap();
    assert!(
        table.contains("by account") && table.contains("northwind"),
        "{table}"
    );
    let missing = rapport(&["report", "--survey", "nope", "--database-url", &database]);
    assert!(
        !missing.status.success()
            && String::from_utf8_lossy(&missing.stderr).contains("no survey \"nope\"")
    );
}
