//! Lint output pinned with insta for every fixture, in both formats, and coverage of the rule
//! catalogue by the project's own fixtures.

use crate::util::{fixtures, root};
use eks_userdata::config::Discovery;
use eks_userdata::lint::{LintOptions, RULES, lint};
use eks_userdata::report::{self, FileReport, Format};
use eks_userdata::{Source, Target};
use std::collections::BTreeSet;

/// Lints a fixture with the settings the CLI would find for it (`fixtures/old-ami/` has an
/// `.eks-userdata.toml` with an AMI release and a Kubernetes version, and so has
/// `fixtures/near-miss/`; the other directories have none).
fn run(path: &str, target: Target) -> FileReport {
    let file = root().join(path);
    let bytes = std::fs::read(&file).unwrap();
    let settings = Discovery::default().for_file(&file).unwrap().map(|c| c.settings_for(&file)).unwrap_or_default();
    let opts = LintOptions {
        target,
        ami_release: settings.ami_release,
        kubernetes_version: settings.kubernetes_version,
        rules: settings.rules,
        ..Default::default()
    };
    lint(&Source::new(path, bytes), &opts)
}

fn snapshot_name(path: &str) -> String {
    path.trim_start_matches("fixtures/").replace(['/', '.'], "_")
}

#[test]
fn valid_fixtures_have_no_findings() {
    for path in fixtures("al2023") {
        let target = if path.contains("mng-partial") { Target::Mng } else { Target::SelfManaged };
        let r = run(&path, target);
        assert!(r.findings.is_empty(), "{path}: {}", report::render(std::slice::from_ref(&r), Format::Text));
    }
}

#[test]
fn every_rule_has_a_near_miss_that_stays_clean() {
    // fixtures/near-miss/CODE[-CODE…]-what.ext holds the construct each named rule is about,
    // written correctly: the rule must not fire there (nor any other rule).
    let mut covered = BTreeSet::new();
    let mut reports = Vec::new();
    for path in fixtures("near-miss") {
        let name = path.rsplit('/').next().unwrap();
        let codes: Vec<&'static str> = name
            .split('-')
            .map_while(|t| eks_userdata::catalogue::find(t).map(|m| m.code).filter(|c| *c == t))
            .collect();
        assert!(!codes.is_empty(), "{path}: the file name must start with the codes it covers");
        let r = run(&path, Target::SelfManaged);
        assert!(r.findings.is_empty(), "{path}: {}", report::render(std::slice::from_ref(&r), Format::Text));
        covered.extend(codes);
        reports.push(r);
    }
    let missing: Vec<_> = RULES.iter().map(|r| r.meta.code).filter(|c| !covered.contains(c)).collect();
    assert!(missing.is_empty(), "rules without a near-miss fixture: {missing:?}");
    insta::assert_snapshot!("near_miss__text", report::render(&reports, Format::Text));
}

#[test]
fn invalid_fixtures_text_and_json_are_pinned() {
    for path in fixtures("invalid").into_iter().chain(fixtures("old-ami")) {
        let r = run(&path, Target::SelfManaged);
        assert!(r.max_severity().is_some(), "{path} should have findings");
        let reports = [r];
        insta::assert_snapshot!(format!("{}__text", snapshot_name(&path)), report::render(&reports, Format::Text));
        insta::assert_snapshot!(format!("{}__json", snapshot_name(&path)), report::render(&reports, Format::Json));
    }
}

#[test]
fn valid_fixture_reports_are_pinned() {
    let reports: Vec<FileReport> = fixtures("al2023").iter().map(|p| run(p, Target::SelfManaged)).collect();
    insta::assert_snapshot!("al2023_self_managed__text", report::render(&reports, Format::Text));
    insta::assert_snapshot!("al2023_self_managed__json", report::render(&reports, Format::Json));
}

#[test]
fn fixtures_trigger_every_rule() {
    let mut seen = BTreeSet::new();
    for path in fixtures("invalid").into_iter().chain(fixtures("al2023")).chain(fixtures("old-ami")) {
        for f in run(&path, Target::SelfManaged).findings {
            seen.insert(f.diagnostic.code);
        }
    }
    // Too large to keep as a fixture: 17 KiB of valid shell in a valid archive.
    let big = format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: text/x-shellscript\n\n#!/bin/bash\n{}\n--//--\n",
        "echo padding-padding-padding\n".repeat(620)
    );
    for f in lint(&Source::new("big", big), &LintOptions { target: Target::Mng, ..Default::default() }).findings {
        seen.insert(f.diagnostic.code);
    }
    let missing: Vec<_> = RULES.iter().map(|r| r.meta.code).filter(|c| !seen.contains(c)).collect();
    assert!(missing.is_empty(), "no test input triggers {missing:?}");
}

#[test]
fn targets_decide_required_cluster_fields() {
    let path = "fixtures/al2023/mng-partial.txt";
    let codes = |t| run(path, t).findings.iter().map(|f| f.diagnostic.code).collect::<Vec<_>>();
    assert_eq!(codes(Target::SelfManaged), ["NC207"]);
    assert_eq!(codes(Target::MngCustomAmi), ["NC207"]);
    assert!(codes(Target::Mng).is_empty());
    assert!(codes(Target::Karpenter).is_empty());
}

#[test]
fn encoded_user_data_reads_like_the_plain_file() {
    let plain = run("fixtures/al2023/multipart-shell-and-nodeconfig.txt", Target::SelfManaged);
    let encoded = run("fixtures/al2023/gzip-base64.txt", Target::SelfManaged);
    assert!(plain.findings.is_empty() && encoded.findings.is_empty());
    // A finding inside encoded user data names the decoded text it points into.
    let bytes = std::fs::read(root().join("fixtures/invalid/typos.yaml")).unwrap();
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&bytes).unwrap();
        e.finish().unwrap()
    };
    let r = lint(&Source::new("typos.gz", gz), &LintOptions::default());
    let first = &r.findings[0];
    assert_eq!(first.diagnostic.code, "NC203");
    let loc = first.location.as_ref().unwrap();
    assert_eq!((loc.line, loc.column), (1, 13));
    assert_eq!(loc.within.as_deref(), Some("gzip-decoded user data"));
}

#[test]
fn output_is_deterministic() {
    for path in fixtures("invalid") {
        let a = report::render(&[run(&path, Target::SelfManaged)], Format::Json);
        let b = report::render(&[run(&path, Target::SelfManaged)], Format::Json);
        assert_eq!(a, b, "{path}");
    }
}

#[test]
fn suppression_comments_silence_exactly_their_findings() {
    // The suppressed fixture is clean (valid_fixtures_have_no_findings); without its directives
    // the same user data has one finding per directive, so each one is doing work.
    let text = std::fs::read_to_string(root().join("fixtures/al2023/suppressed.txt")).unwrap();
    let stripped: String = text
        .lines()
        .filter(|l| !l.contains("eks-userdata: ignore-file") && !l.trim_start().starts_with("# eks-userdata: ignore="))
        .map(|l| l.split(" # eks-userdata:").next().unwrap().to_owned() + "\n")
        .collect();
    let r = lint(&Source::new("stripped", stripped), &LintOptions::default());
    let codes: Vec<&str> = r.findings.iter().map(|f| f.diagnostic.code).collect();
    assert_eq!(codes, ["NC215", "NC210", "AL306"]);
}

#[test]
fn terraform_and_cloudformation_hosts_are_linted_in_place() {
    // Findings sit on the host file's lines (the heredoc or UserData block), not the piece's.
    for path in fixtures("hosts") {
        let bytes = std::fs::read(root().join(&path)).unwrap();
        let r = eks_userdata::lint::lint_file(
            &Source::new(path.as_str(), bytes),
            &LintOptions { target: Target::Mng, ..Default::default() },
        );
        assert!(!r.findings.is_empty(), "{path}");
        let reports = [r];
        insta::assert_snapshot!(format!("{}__text", snapshot_name(&path)), report::render(&reports, Format::Text));
    }
}

#[test]
fn the_target_a_terraform_host_implies_is_used_unless_one_is_given() {
    // The launch template is an aws_eks_node_group's: EKS appends the cluster section, so its
    // partial NodeConfig has no NC207 unless --target self-managed is said outright.
    let path = "fixtures/hosts/eks-managed-node-group.tf";
    let bytes = std::fs::read(root().join(path)).unwrap();
    let lint_as = |given: bool| {
        let opts = LintOptions { target: Target::SelfManaged, target_given: given, ..Default::default() };
        eks_userdata::lint::lint_file(&Source::new(path, bytes.clone()), &opts)
    };
    let inferred = lint_as(false);
    assert!(!inferred.findings.is_empty());
    assert!(inferred.findings.iter().all(|f| f.diagnostic.code != "NC207"));
    for f in &inferred.findings {
        assert!(
            f.diagnostic.message.ends_with(
                "linted as --target mng because aws_eks_node_group.workers uses aws_launch_template.workers)"
            ),
            "{}",
            f.diagnostic.message
        );
    }
    let told = lint_as(true);
    assert!(told.findings.iter().any(|f| f.diagnostic.code == "NC207"));
    assert!(told.findings.iter().all(|f| !f.diagnostic.message.contains("linted as")));
}

#[test]
fn fixable_codes_match_the_fixes() {
    // Every code that produced a fix on a fixture is listed as fixable, and every listed code
    // produced one: docs/rules.md's `--fix` column cannot drift from the rules.
    let mut fixed = BTreeSet::new();
    for path in fixtures("invalid").into_iter().chain(fixtures("al2023")) {
        for f in run(&path, Target::SelfManaged).findings {
            if f.diagnostic.fix.is_some() {
                fixed.insert(f.diagnostic.code);
            }
        }
    }
    let listed: BTreeSet<&str> = eks_userdata::catalogue::FIXABLE.iter().copied().collect();
    assert_eq!(fixed, listed);
}
