//! The live statistical reference: `scoring/tests/reference/drivers.py` computes the key
//! drivers of the fixtures with SciPy, statsmodels and NumPy, and its output is committed
//! as `drivers.expected.json`, which scoring's tests compare with our own figures. Here the
//! script runs again, in a virtual environment with the pinned versions of
//! `requirements.txt`, and its output must match the committed file to 1e-12, so the
//! expected figures stay those of the libraries and are never edited by hand.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::process::{command, execute, repo_root, tools_root};

/// How far a regenerated figure may be from the committed one: the same libraries on
/// another machine may round the last bits differently, never more.
const TOLERANCE: f64 = 1e-12;

const SCRIPT: &str = "scoring/tests/reference/drivers.py";
const EXPECTED: &str = "scoring/tests/reference/drivers.expected.json";
const REQUIREMENTS: &str = "scoring/tests/reference/requirements.txt";

fn venv() -> PathBuf {
    tools_root().join("drivers-reference")
}

fn install() -> Result<PathBuf> {
    let python = venv().join("bin").join("python");
    if !python.exists() {
        crate::api_fuzz::make_venv(&venv(), "the drivers reference")?;
    }
    execute(
        command(venv().join("bin").join("pip"))?
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(repo_root().join(REQUIREMENTS)),
    )
    .with_context(|| {
        format!(
            "could not install the drivers reference's Python packages (numpy, scipy, \
             statsmodels at the versions of {REQUIREMENTS}) into {}: they come from PyPI, \
             so this stage needs network access to it or a local mirror (PIP_INDEX_URL)",
            venv().display()
        )
    })?;
    Ok(python)
}

/// Runs the reference script and fails if its output differs from the committed file.
pub(crate) fn check() -> Result<()> {
    println!("== the key-drivers reference again (SciPy, statsmodels, NumPy): {SCRIPT}");
    let python = install()?;
    let output = command(python)?
        .arg(SCRIPT)
        .output()
        .with_context(|| format!("running {SCRIPT}"))?;
    if !output.status.success() {
        bail!(
            "{SCRIPT} failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let fresh: Value =
        serde_json::from_slice(&output.stdout).with_context(|| format!("{SCRIPT}'s output"))?;
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join(EXPECTED))
            .with_context(|| format!("reading {EXPECTED}"))?,
    )
    .with_context(|| format!("{EXPECTED} is not JSON"))?;
    let differences = differences(&committed, &fresh, TOLERANCE);
    if !differences.is_empty() {
        bail!(
            "{EXPECTED} is not what {SCRIPT} computes now ({} differences; regenerate it \
             with the pinned packages and check why):\n{}",
            differences.len(),
            differences.join("\n")
        );
    }
    println!("reference: ok: {EXPECTED} matches the libraries to {TOLERANCE:e}");
    Ok(())
}

/// Where `fresh` differs from `committed`: numbers by more than `tolerance`, anything else
/// at all. Each difference names its JSON path.
fn differences(committed: &Value, fresh: &Value, tolerance: f64) -> Vec<String> {
    let mut found = Vec::new();
    walk("", committed, fresh, tolerance, &mut found);
    found
}

fn walk(path: &str, committed: &Value, fresh: &Value, tolerance: f64, found: &mut Vec<String>) {
    match (committed, fresh) {
        (Value::Number(committed), Value::Number(fresh)) => {
            let (Some(committed), Some(fresh)) = (committed.as_f64(), fresh.as_f64()) else {
                found.push(format!("{path}: not a number"));
                return;
            };
            if (committed - fresh).abs() > tolerance {
                found.push(format!("{path}: committed {committed}, now {fresh}"));
            }
        }
        (Value::Array(committed), Value::Array(fresh)) => {
            if committed.len() != fresh.len() {
                found.push(format!(
                    "{path}: {} entries committed, {} now",
                    committed.len(),
                    fresh.len()
                ));
                return;
            }
            for (idx, (committed, fresh)) in committed.iter().zip(fresh).enumerate() {
                walk(
                    &format!("{path}[{idx}]"),
                    committed,
                    fresh,
                    tolerance,
                    found,
                );
            }
        }
        (Value::Object(committed), Value::Object(fresh)) => {
            for (key, committed_value) in committed {
                match fresh.get(key) {
                    Some(fresh_value) => walk(
                        &format!("{path}/{key}"),
                        committed_value,
                        fresh_value,
                        tolerance,
                        found,
                    ),
                    None => found.push(format!("{path}/{key}: missing now")),
                }
            }
            for key in fresh.keys().filter(|key| !committed.contains_key(*key)) {
                found.push(format!("{path}/{key}: not committed"));
            }
        }
        (committed, fresh) if committed == fresh => {}
        (committed, fresh) => found.push(format!("{path}: committed {committed}, now {fresh}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::differences;

    #[test]
    fn figures_within_the_tolerance_agree_and_others_are_named() {
        let committed = json!({"a.jsonl": {"r_squared": 0.5, "items": [{"id": "trust", "r": 0.25}]}, "b.jsonl": null});
        let close = json!({"a.jsonl": {"r_squared": 0.5 + 1e-13, "items": [{"id": "trust", "r": 0.25}]}, "b.jsonl": null});
        assert_eq!(differences(&committed, &close, 1e-12), Vec::<String>::new());

        let far = json!({"a.jsonl": {"r_squared": 0.5, "items": [{"id": "trust", "r": 0.2500001}]}, "b.jsonl": null});
        assert_eq!(
            differences(&committed, &far, 1e-12),
            vec!["/a.jsonl/items[0]/r: committed 0.25, now 0.2500001".to_owned()]
        );
    }

    #[test]
    fn a_missing_fixture_an_extra_item_or_a_changed_null_is_a_difference() {
        let committed = json!({"a.jsonl": {"items": [{"id": "trust"}]}, "b.jsonl": null});
        let fresh = json!({"a.jsonl": {"items": [{"id": "trust"}, {"id": "care"}]}, "b.jsonl": {"r_squared": 0.1}, "c.jsonl": null});
        let found = differences(&committed, &fresh, 1e-12);
        assert_eq!(
            found,
            vec![
                "/a.jsonl/items: 1 entries committed, 2 now".to_owned(),
                "/b.jsonl: committed null, now {\"r_squared\":0.1}".to_owned(),
                "/c.jsonl: not committed".to_owned(),
            ]
        );
    }
}
