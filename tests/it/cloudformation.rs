//! CloudFormation templates read the way CloudFormation builds `UserData` (issue #14): the
//! renderings are checked against hand-written expectations, `cfn-lint` confirms the fixtures are
//! real templates, and lint's findings on a template are exactly those of its renderings.

use crate::util::{bin, root};
use eks_userdata::lint::{LintOptions, lint, lint_file};
use eks_userdata::template::cloudformation::read;
use eks_userdata::template::vars::{Vars, parse_file};
use std::collections::BTreeSet;

const DIR: &str = "fixtures/templates/cloudformation";

fn text(name: &str) -> String {
    std::fs::read_to_string(root().join(DIR).join(name)).unwrap()
}

/// `Fn::Sub`'s list form, `Fn::If` fragments, nested `Fn::Sub`, `Fn::Join`, pseudo-parameters
/// and `${!Literal}` render to the texts written out by hand in `nodeconfig-if.expected/`.
#[test]
fn renderings_equal_the_hand_written_ones() {
    let stack = read(&text("nodeconfig-if.yaml"), &Vars::new()).unwrap();
    let values = stack.user_data();
    assert_eq!(values.len(), 1);
    let r = stack.renderings(values[0], 16).unwrap();
    assert!(!r.sampled);
    let described: Vec<String> = r.list.iter().map(|r| r.describe()).collect();
    assert_eq!(
        described,
        [
            "`HasServiceCidr` false, `IsSpot` false",
            "`HasServiceCidr` true, `IsSpot` false",
            "`HasServiceCidr` false, `IsSpot` true",
            "`HasServiceCidr` true, `IsSpot` true"
        ]
    );
    for (k, file) in [(0, "HasServiceCidr-false.IsSpot-false.txt"), (3, "HasServiceCidr-true.IsSpot-true.txt")] {
        assert_eq!(r.list[k].text.text, text(&format!("nodeconfig-if.expected/{file}")), "{file}");
    }
    // The stack's parameter file decides both conditions and fills every reference.
    let params = parse_file(&text("nodeconfig-if.params.json")).unwrap();
    let stack = read(&text("nodeconfig-if.yaml"), &params).unwrap();
    let one = stack.decided(stack.user_data()[0]).unwrap().unwrap();
    assert_eq!(one.text, text("nodeconfig-if.expected/with-params.txt"));
}

/// The fixtures are templates CloudFormation's own linter accepts.
#[test]
fn cfn_lint_accepts_the_fixtures() {
    let ok = std::process::Command::new("cfn-lint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("cfn-lint is not on this machine: the CloudFormation fixture check is skipped");
        return;
    }
    for f in ["nodeconfig-if.yaml", "al2-nodes.json", "../../hosts/self-managed-nodes.yaml"] {
        let out = std::process::Command::new("cfn-lint").arg(root().join(DIR).join(f)).output().unwrap();
        assert!(
            out.status.success(),
            "{f}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `lint` on a template has exactly the findings its renderings have (code and message, the
/// rendering note aside), each placed on the template's own line.
#[test]
fn lint_findings_are_those_of_the_renderings() {
    for (name, params) in [
        ("nodeconfig-if.yaml", Vars::new()),
        ("nodeconfig-if.yaml", parse_file(&text("nodeconfig-if.params.json")).unwrap()),
        ("al2-nodes.json", Vars::new()),
        ("al2-nodes.json", parse_file(&text("al2-nodes.params.json")).unwrap()),
    ] {
        let host = text(name);
        let opts = LintOptions { template_vars: params.clone(), ..LintOptions::default() };
        let report = lint_file(&eks_userdata::Source::new(name, host.as_bytes().to_vec()), &opts);
        let ours: BTreeSet<(String, String)> = report
            .findings
            .iter()
            .map(|f| {
                let m = &f.diagnostic.message;
                let m = m.split(" (in UserData at line").next().unwrap_or(m);
                (f.diagnostic.code.to_string(), m.to_string())
            })
            .collect();
        let stack = read(&host, &params).unwrap();
        let mut theirs = BTreeSet::new();
        for r in stack.renderings(stack.user_data()[0], 16).unwrap().list {
            let alone = lint(&eks_userdata::Source::new(name, r.text.text.into_bytes()), &LintOptions::default());
            theirs.extend(alone.findings.iter().map(|f| (f.diagnostic.code.to_string(), f.diagnostic.message.clone())));
        }
        assert_eq!(ours, theirs, "{name} with {} values", params.len());
        for f in &report.findings {
            let line = f.source_line.as_deref().unwrap_or_default();
            assert!(host.lines().any(|l| l == line), "{name}: {line:?} is not a line of the template");
        }
    }
}

/// The CLI: a field inside one branch of an `Fn::If` is missing in the renderings of the other,
/// which the finding names; the stack's parameter file decides the branch.
#[test]
fn lint_cli_names_the_branch_and_takes_parameter_files() {
    let fixture = format!("{DIR}/nodeconfig-if.yaml");
    let out = bin().args(["lint", &fixture]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("nodeconfig-if.yaml:43:17: error[NC207"), "{stdout}");
    assert!(
        stdout.contains("(CloudFormation: in 2 of 4 renderings, e.g. when `HasServiceCidr` false, `IsSpot` false)"),
        "{stdout}"
    );
    let out =
        bin().args(["lint", &fixture, "--var-file", &format!("{DIR}/nodeconfig-if.params.json")]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let out = bin().args(["lint", &fixture, "--var", "ServiceCidr=10.100.0.0/16"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "a parameter given: the others take their defaults");
}

/// `convert` reads an `Fn::If` with its condition true and says so (CV449); with the stack's
/// parameters it converts the one rendering they decide.
#[test]
fn convert_takes_the_stack_s_parameters() {
    let fixture = format!("{DIR}/al2-nodes.json");
    let out = bin().args(["convert", "--target", "mng", &fixture]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CV449") && stderr.contains("IsSpot"), "{stderr}");
    assert!(stdout.contains("maxPods: ${MaxPods}"), "{stdout}");
    let ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
    let out = bin()
        .args(["convert", &fixture, "--var-file", &format!("{DIR}/al2-nodes.params.json")])
        .args(["--api-server-endpoint", "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com"])
        .args(["--certificate-authority", ca, "--service-cidr", "10.100.0.0/16"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("CV449") && stderr.contains("(rendered with the given values)"), "{stderr}");
    for want in ["name: prod", "maxPods: 110", "- --node-labels=lifecycle=spot", "effect: NoSchedule"] {
        assert!(stdout.contains(want), "{want} in {stdout}");
    }
    // A parameter file with one value: the others take their defaults, as a stack created with
    // it would, so the condition is decided (on-demand) and nothing is spot.
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("partial.json");
    std::fs::write(&partial, "[\"ClusterName=prod\"]").unwrap();
    let out = bin().args(["convert", &fixture, "--target", "mng", "--var-file"]).arg(&partial).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("spot"));
}

/// `convert`'s output from a CloudFormation host is an `Fn::Sub` body: put back into the
/// template it passes `cfn-lint` (every `${…}` resolves: literal ones are written `${!…}`), and
/// rendered with the stack's parameters it equals the conversion of the input rendered with them.
#[test]
fn convert_output_is_a_sub_body_that_renders_like_the_rendered_input() {
    let dir = tempfile::tempdir().unwrap();
    let host = text("al2-nodes.json");
    // A literal `${HOME}` in a join string: CloudFormation copies it as it is.
    let host =
        host.replace("#!/bin/bash\\nset -o xtrace\\n", "#!/bin/bash\\nset -o xtrace\\necho \\\"home ${HOME}\\\"\\n");
    assert!(host.contains("${HOME}"));
    let input = dir.path().join("nodes.json");
    std::fs::write(&input, &host).unwrap();
    let convert = |extra: &[&str]| {
        let out = bin()
            .args(["convert", "--target", "mng", "--keep-post-bootstrap-inline"])
            .args(extra)
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let body = convert(&[]);
    assert!(body.contains("echo \"home ${!HOME}\"") && body.contains("maxPods: ${MaxPods}"), "{body}");
    // Rendered as CloudFormation renders an `Fn::Sub` of it, with the stack's parameters.
    let params = parse_file(&text("al2-nodes.params.json")).unwrap();
    let as_sub = |b: &str| {
        let t = serde_json::json!({"Resources": {"LT": {"Properties": {"LaunchTemplateData": {"UserData": {"Fn::Base64": {"Fn::Sub": b}}}}}}});
        serde_json::to_string_pretty(&t).unwrap()
    };
    let render = |b: &str| {
        let stack = read(&as_sub(b), &params).unwrap();
        stack.decided(stack.user_data()[0]).unwrap().unwrap().text
    };
    let params_file = root().join(DIR).join("al2-nodes.params.json");
    let rendered_first = convert(&["--var-file", params_file.to_str().unwrap()]);
    assert!(rendered_first.contains("maxPods: 110"), "{rendered_first}");
    assert_eq!(render(&body), render(&rendered_first));
    assert!(render(&body).contains("echo \"home ${HOME}\""));
    // The body back in the template: cfn-lint checks every `Fn::Sub` reference resolves.
    let ok = std::process::Command::new("cfn-lint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("cfn-lint is not on this machine: the converted template is not validated");
        return;
    }
    let mut template: serde_json::Value = serde_json::from_str(&host).unwrap();
    template["Resources"]["Nodes"]["Properties"]["LaunchTemplateData"]["UserData"] =
        serde_json::json!({"Fn::Base64": {"Fn::Sub": body}});
    let converted = dir.path().join("converted.json");
    std::fs::write(&converted, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    // cfn-lint's exit code is a bit set: 2 errors, 4 warnings (the converted user data no
    // longer uses ClusterName), 8 informational.
    let errors = |out: &std::process::Output| out.status.code().is_none_or(|c| c & 2 != 0);
    let out = std::process::Command::new("cfn-lint").arg(&converted).output().unwrap();
    assert!(!errors(&out), "{}", String::from_utf8_lossy(&out.stdout));
    // The same output with the literal unescaped is what cfn-lint refuses: the check can fail.
    template["Resources"]["Nodes"]["Properties"]["LaunchTemplateData"]["UserData"] =
        serde_json::json!({"Fn::Base64": {"Fn::Sub": body.replace("${!HOME}", "${HOME}")}});
    std::fs::write(&converted, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    let out = std::process::Command::new("cfn-lint").arg(&converted).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(errors(&out) && said.contains("HOME"), "cfn-lint accepted an unresolved ${{HOME}}: {said}");
}
