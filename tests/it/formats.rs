//! The machine formats: concise and GitHub annotations pinned with insta; SARIF validated against
//! the official SARIF 2.1.0 JSON schema (`.ci/run` fetches it from the npm registry and sets
//! `SARIF_SCHEMA`; elsewhere the test says it is skipped).

use crate::util::{bin, root};
use eks_userdata::Source;
use eks_userdata::lint::{LintOptions, lint};
use eks_userdata::report::{self, Format};

fn reports() -> Vec<report::FileReport> {
    ["fixtures/invalid/typos.yaml", "fixtures/invalid/missing-blank-line.txt", "fixtures/al2023/gzip-base64.txt"]
        .iter()
        .map(|p| lint(&Source::new(*p, std::fs::read(root().join(p)).unwrap()), &LintOptions::default()))
        .collect()
}

#[test]
fn concise_and_github_are_pinned() {
    insta::assert_snapshot!("concise", report::render(&reports(), Format::Concise));
    insta::assert_snapshot!("github", report::render(&reports(), Format::Github));
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let sarif: serde_json::Value = serde_json::from_str(&report::render(&reports(), Format::Sarif)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][idx]["id"], r["ruleId"]);
    }
    let Some(validator) = sarif_validator() else { return };
    let errors: Vec<String> =
        validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The official SARIF 2.1.0 schema (`SARIF_SCHEMA`), or `None` after saying the check is skipped.
pub(crate) fn sarif_validator() -> Option<jsonschema::Validator> {
    let Ok(path) = std::env::var("SARIF_SCHEMA") else {
        eprintln!("skipped the SARIF schema check: set SARIF_SCHEMA to sarif-2.1.0-rtm.5.json (.ci/run does)");
        return None;
    };
    let mut schema: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    // The published rtm.5 schema's `language` patterns have a stray `]` that Rust regex engines
    // reject at compile time; we never emit `language`, so use the pattern they mean.
    fn fix(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("pattern").and_then(|p| p.as_str()) == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$") {
                    m.insert("pattern".into(), serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"));
                }
                m.values_mut().for_each(fix);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(fix),
            _ => {}
        }
    }
    fix(&mut schema);
    Some(jsonschema::validator_for(&schema).unwrap())
}

#[test]
fn formats_and_exit_zero_on_the_command_line() {
    bin().args(["lint", "--format", "concise", "fixtures/invalid/typos.yaml"]).assert().code(1);
    bin().args(["lint", "--exit-zero", "fixtures/invalid/typos.yaml"]).assert().code(0);
    bin().args(["lint", "--exit-zero", "does/not/exist"]).assert().code(2);
    let out = bin().args(["lint", "--format", "sarif", "fixtures/al2023/bare-nodeconfig.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
}
