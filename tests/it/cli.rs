//! The command-line surface: exit codes, formats, stdin, help. 0 = nothing at or above
//! `--fail-on`, 1 = findings, 2 = could not run.

use crate::util::{bin, root};
use predicates::prelude::*;
use std::collections::BTreeSet;

#[test]
fn valid_input_exits_0() {
    bin()
        .args(["lint", "fixtures/al2023/multipart-shell-and-nodeconfig.txt", "fixtures/al2023/bare-nodeconfig.yaml"])
        .assert()
        .code(0)
        .stdout("no findings in 2 files\n");
}

#[test]
fn findings_exit_1_in_both_formats() {
    bin()
        .args(["lint", "fixtures/invalid/typos.yaml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[NC205 unknown-field]"));
    let out = bin()
        .args(["lint", "--format", "json", "fixtures/invalid/typos.yaml"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["errors"], 8);
}

#[test]
fn fail_on_sets_the_threshold() {
    let file = "fixtures/al2023/mng-partial.txt";
    bin().args(["lint", "--target", "mng", file]).assert().code(0);
    bin().args(["lint", "--target", "self-managed", file]).assert().code(1);
    // Warnings only: exit 0 by default, 1 with --fail-on warning.
    let warn_only = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n--//--\ntrailing\n";
    bin()
        .args(["lint", "--target", "mng"])
        .write_stdin(warn_only)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("UD105"));
    bin().args(["lint", "--target", "mng", "--fail-on", "warning", "-"]).write_stdin(warn_only).assert().code(1);
}

#[test]
fn stdin_is_read_without_paths_and_with_dash() {
    let doc = std::fs::read("fixtures/al2023/bare-nodeconfig.yaml").unwrap();
    bin().arg("lint").write_stdin(doc.clone()).assert().code(0);
    bin().args(["lint", "-"]).write_stdin(doc).assert().code(0);
    bin()
        .args(["lint", "--format", "json"])
        .write_stdin("kind: NodeConfig\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\": \"-\""));
}

#[test]
fn unreadable_input_exits_2_and_others_are_still_reported() {
    bin()
        .args(["lint", "fixtures/invalid/typos.yaml", "does/not/exist.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("NC205"))
        .stderr(predicate::str::contains("does/not/exist.yaml: cannot read"));
    // A directory is walked; one without user data is said so, not an error.
    let empty = tempfile::tempdir().unwrap();
    bin()
        .args(["lint", empty.path().to_str().unwrap()])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("no user-data files found"));
}

#[test]
fn bad_usage_exits_2() {
    bin()
        .args(["lint", "--format", "xml", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'xml'"));
    bin().args(["lint", "--target", "eks"]).assert().code(2);
    bin()
        .args(["lint", "--kubernetes-version", "129", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`129` is not a Kubernetes version; write it as 1.29"));
    bin()
        .args(["lint", "--ami-release", "latest", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not an AMI release"));
    bin().arg("frobnicate").assert().code(2);
    bin().assert().code(2);
}

#[test]
fn explain_prints_rules() {
    bin()
        .args(["explain", "NC205"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("NC205 unknown-field (error)").and(predicate::str::contains("Fix:")));
    bin().args(["explain", "missing-close-delimiter"]).assert().code(0).stdout(predicate::str::starts_with("UD104"));
    let list = bin().arg("explain").assert().code(0).get_output().stdout.clone();
    assert_eq!(
        String::from_utf8(list).unwrap().lines().count(),
        eks_userdata::lint::RULES.len()
            + eks_userdata::translate::codes::ALL.len()
            + eks_userdata::karpenter::codes::ALL.len()
            + eks_userdata::preflight::codes::ALL.len()
    );
    bin().args(["explain", "NC250"]).assert().code(2).stderr(predicate::str::contains("no rule `NC250`"));
    bin()
        .args(["explain", "unknown-feld"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `unknown-field`"));
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_commands_name_the_feature_they_need() {
    for cmd in ["push", "rollback", "cluster-info"] {
        let args: &[&str] = if cmd == "cluster-info" { &[cmd, "prod"] } else { &[cmd, "--all"] };
        bin().args(args).assert().code(2).stderr(predicate::str::contains("--features aws"));
    }
}

#[cfg(feature = "aws")]
#[test]
fn aws_commands_refuse_bad_usage_before_calling_aws() {
    // No selector, a bad tag, a bad --ami, node groups without a cluster, a bad role, flags a saved
    // plan fixes: exit 2, nothing called.
    bin().args(["push"]).assert().code(2).stderr(predicate::str::contains("--all"));
    bin().args(["push", "--tag", "team"]).assert().code(2).stderr(predicate::str::contains("is not KEY=VALUE"));
    bin()
        .args(["push", "--all", "--ami", "latest"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use `auto` or an AMI id"));
    bin()
        .args(["push", "--all", "--update-nodegroups"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--update-nodegroups needs --cluster NAME"));
    bin()
        .args(["push", "--all", "--assume-role", "arn:aws:iam::1:role/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an IAM role ARN"));
    let role = "arn:aws:iam::111111111111:role/migrate";
    bin()
        .args(["push", "--all", "--profile", "a", "--profile", "b", "--assume-role", role])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at most one --profile"));
    bin().args(["push", "--plan", "p.json", "--apply", "--set-default"]).assert().code(2);
    bin().args(["cluster-info", "prod", "--profile", "a", "--profile", "b"]).assert().code(2);
    bin().args(["push", "--all", "--hop-limit", "0"]).assert().code(2);
    bin().args(["rollback"]).assert().code(2).stderr(predicate::str::contains("--plan FILE"));
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, r#"{"format": "something-else/v9", "items": []}"#).unwrap();
    bin()
        .args(["push", "--plan", plan.to_str().unwrap(), "--apply"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("plan again"));
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "lint",
        "explain",
        "convert",
        "render",
        "cluster-info",
        "push",
        "rollback",
        "karpenter",
        "karpenter nodeclass",
        "karpenter migrate",
    ] {
        bin()
            .args(cmd.split(' ').chain(["--help"]))
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage: eks-userdata"));
    }
    bin().arg("--version").assert().code(0);
}

#[test]
fn closed_stdout_is_not_an_error() {
    // `| head -1`: writing to a closed pipe must not panic.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"))
        .current_dir(crate::util::root())
        .args(["explain"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.code().is_some_and(|c| c == 0), "{status:?}");
}

#[test]
fn docs_rules_md_is_generated_from_the_catalogue() {
    let out = bin().args(["explain", "--markdown"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert!(
        committed == String::from_utf8(out.stdout).unwrap(),
        "docs/rules.md is stale: run `cargo run -- explain --markdown > docs/rules.md`"
    );
}

#[test]
fn settings_file_is_found_upward_and_applies_per_path() {
    let d = tempfile::tempdir().unwrap();
    let flags = std::fs::read(root().join("fixtures/invalid/kubelet-flags.yaml")).unwrap();
    std::fs::create_dir_all(d.path().join("karpenter/pools")).unwrap();
    std::fs::write(d.path().join("nodes.yaml"), &flags).unwrap();
    std::fs::write(d.path().join("karpenter/pools/gpu.yaml"), &flags).unwrap();
    std::fs::write(
        d.path().join(".eks-userdata.toml"),
        "ignore = [\"NC213\"]\n[severity]\nkubelet-flag-not-config = \"error\"\n\
         [[paths]]\nglob = \"karpenter/**\"\ntarget = \"karpenter\"\nignore = [\"NC211\", \"NC212\"]\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(d.path())
        .args(["lint", "--format", "concise", "nodes.yaml", "karpenter/pools/gpu.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let codes = |file: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(file))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned() + l.split_whitespace().nth(2).unwrap())
            .collect()
    };
    assert_eq!(
        codes("nodes.yaml"),
        ["NC210[error]", "NC210[error]", "NC211[error]", "NC210[error]", "NC212[warning]", "NC212[warning]"]
    );
    assert_eq!(codes("karpenter/pools/gpu.yaml"), ["NC210[error]", "NC210[error]", "NC210[error]"]);
    // The command line wins over the file; --no-config ignores it.
    let all = bin()
        .current_dir(d.path())
        .args(["lint", "--no-config", "--format", "concise", "nodes.yaml"])
        .output()
        .unwrap();
    assert!(String::from_utf8(all.stdout).unwrap().contains("NC213 [error]"));
}

#[test]
fn a_bad_settings_file_is_an_error_with_its_position() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.yaml"), "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n").unwrap();
    std::fs::write(d.path().join(".eks-userdata.toml"), "[severity]\nNC21O = \"off\"\n").unwrap();
    bin()
        .current_dir(d.path())
        .args(["lint", "a.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".eks-userdata.toml:2:1: no rule `NC21O` (did you mean `NC210`?)"));
}

#[test]
fn fix_rewrites_in_place_reports_the_rest_and_is_idempotent() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("typos.yaml");
    let original = std::fs::read_to_string(root().join("fixtures/invalid/typos.yaml")).unwrap();
    std::fs::write(&p, &original).unwrap();
    let path = p.to_str().unwrap();
    // The apiVersion typo is fixed; the unknown fields are not safe to guess, so exit 1 remains.
    bin()
        .args(["lint", "--fix", "--format", "concise", path])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("fixed 1 finding(s)").and(predicate::str::contains("(NC203)")))
        .stdout(predicate::str::contains("NC205").and(predicate::str::contains("NC203").not()));
    let fixed = std::fs::read_to_string(&p).unwrap();
    assert_eq!(fixed, original.replacen("node.eks.aws/v1alpha\n", "node.eks.aws/v1alpha1\n", 1));
    bin().args(["lint", "--fix", path]).assert().code(1).stderr(predicate::str::contains("fixed").not());
    assert_eq!(std::fs::read_to_string(&p).unwrap(), fixed);
    bin()
        .args(["lint", "--fix", "-"])
        .write_stdin(original)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot fix standard input"));
}

#[test]
fn fix_repairs_mime_structure() {
    // A missing blank line after part headers (UD102) and a missing close delimiter (UD104) are
    // repaired in place; the files then parse as the multipart archives they meant to be.
    let d = tempfile::tempdir().unwrap();
    for name in ["missing-blank-line.txt", "no-close-delimiter.txt"] {
        let p = d.path().join(name);
        std::fs::copy(root().join("fixtures/invalid").join(name), &p).unwrap();
        let out = bin().args(["lint", "--fix", "--format", "concise", p.to_str().unwrap()]).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(String::from_utf8(out.stderr).unwrap().contains("fixed"), "{name}");
        assert!(!stdout.contains("UD102") && !stdout.contains("UD104"), "{name}: {stdout}");
        let once = std::fs::read(&p).unwrap();
        bin().args(["lint", "--fix", p.to_str().unwrap()]).assert().stderr(predicate::str::contains("fixed").not());
        assert_eq!(std::fs::read(&p).unwrap(), once, "{name}: a second --fix changes nothing");
    }
}

#[test]
fn a_directory_is_walked_for_user_data() {
    let d = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("envs/prod/user-data.sh", "#!/bin/bash\n/etc/eks/bootstrap.sh prod\n");
    w("k8s/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\n");
    w(".git/user-data.sh", "#!/bin/bash\n/etc/eks/bootstrap.sh hidden\n");
    w(
        "modules/nodes/main.tf",
        "resource \"x\" \"y\" {\n  user_data = <<-EOT\n    #!/bin/bash\n    /etc/eks/bootstrap.sh tf\n  EOT\n}\n",
    );
    let out = bin().current_dir(d.path()).args(["lint", "--format", "concise", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let files: BTreeSet<String> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(':').next().unwrap().to_owned()).collect();
    let want: BTreeSet<String> = ["./envs/prod/user-data.sh", "./modules/nodes/main.tf"].map(String::from).into();
    assert_eq!(files, want);
}

#[test]
fn only_user_data_skips_other_named_files() {
    // What the pre-commit hook does with every staged text file.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("deployment.yaml"), "apiVersion: apps/v1\nkind: Deployment\n").unwrap();
    std::fs::copy(root().join("fixtures/invalid/typos.yaml"), d.path().join("nodes.yaml")).unwrap();
    let out = bin()
        .current_dir(d.path())
        .args(["lint", "--format", "concise", "--only-user-data", "deployment.yaml", "nodes.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let files: BTreeSet<String> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| l.split(':').next().unwrap().to_owned()).collect();
    assert_eq!(files, BTreeSet::from(["nodes.yaml".to_owned()]));
    bin().current_dir(d.path()).args(["lint", "--only-user-data", "deployment.yaml"]).assert().code(0);
}
