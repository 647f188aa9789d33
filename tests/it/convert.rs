//! `convert` on every AL2 fixture, per target: the output bytes and the migration report are
//! pinned with insta, outputs are byte-stable and lint clean, and the CLI's exit codes and file
//! handling hold.

use crate::util::{bin, fixtures, root};
use eks_userdata::report::{self, Format};
use eks_userdata::translate::{self, ClusterInfo, Options, emit};
use eks_userdata::userdata::{Envelope, Limits};
use eks_userdata::{Source, Target};
use predicates::prelude::*;

fn cluster() -> ClusterInfo {
    let text = std::fs::read_to_string(root().join("fixtures/cluster-info.yaml")).unwrap();
    eks_userdata::nodeconfig::yaml::from_str(&text).unwrap()
}

/// The output, the migration report with its equivalence section (not the output's own lint),
/// and whether it needs review.
fn convert(path: &str, opts: &Options) -> (String, String, bool) {
    let bytes = std::fs::read(root().join(path)).unwrap();
    let source = Source::new(path, bytes);
    let env = Envelope::parse(&source.bytes, &Limits::default());
    let plan = translate::plan(&env, opts);
    let out = emit::render(&plan, emit::Format::Mime, opts.target).unwrap();
    let conv = translate::convert(&source, opts, emit::Format::Mime, "out").unwrap();
    let report = report::render(&conv.reports[..1], Format::Text);
    (String::from_utf8(out).unwrap(), report, plan.needs_review())
}

fn name(path: &str) -> String {
    path.trim_start_matches("fixtures/al2/").replace(['/', '.'], "_")
}

#[test]
fn self_managed_outputs_and_reports_are_pinned() {
    let opts = Options { target: Target::SelfManaged, cluster: cluster(), ..Default::default() };
    for path in fixtures("al2") {
        let (out, report, _) = convert(&path, &opts);
        insta::assert_snapshot!(format!("{}__self_managed_output", name(&path)), out);
        insta::assert_snapshot!(format!("{}__self_managed_report", name(&path)), report);
    }
}

#[test]
fn mng_outputs_and_reports_are_pinned() {
    let opts = Options { target: Target::Mng, ..Default::default() };
    for path in fixtures("al2") {
        let (out, report, _) = convert(&path, &opts);
        insta::assert_snapshot!(format!("{}__mng_output", name(&path)), out);
        insta::assert_snapshot!(format!("{}__mng_report", name(&path)), report);
    }
}

#[test]
fn every_fixture_difference_is_explained() {
    // The fixtures are the project's own: each difference between the AL2 node and the AL2023
    // node their conversion gives is one the report made on purpose, for every target.
    for target in Target::ALL {
        let opts = Options { target, cluster: cluster(), ..Default::default() };
        for path in fixtures("al2") {
            let bytes = std::fs::read(root().join(&path)).unwrap();
            let conv =
                translate::convert(&Source::new(path.as_str(), bytes), &opts, emit::Format::Mime, "out").unwrap();
            let Some(e) = &conv.equivalence else { continue };
            let open: Vec<String> = e.unexplained().map(|r| format!("{}: {} → {}", r.field, r.al2, r.al2023)).collect();
            assert!(open.is_empty(), "{path} --target {target}: {open:?}");
            assert!(!conv.unexplained, "{path} --target {target}");
        }
    }
}

#[test]
fn outputs_are_byte_identical_across_runs_and_lint_clean() {
    for target in Target::ALL {
        let opts = Options { target, cluster: cluster(), ..Default::default() };
        for path in fixtures("al2") {
            let (a, ra, _) = convert(&path, &opts);
            let (b, rb, _) = convert(&path, &opts);
            assert_eq!((&a, &ra), (&b, &rb), "{path} {target}");
            // What `convert` writes is lint clean; an output with errors is refused, not written.
            let bytes = std::fs::read(root().join(&path)).unwrap();
            let conv =
                translate::convert(&Source::new(path.as_str(), bytes), &opts, emit::Format::Mime, "out").unwrap();
            let Some(written) = conv.output else {
                assert!(
                    a.is_empty() || conv.refused,
                    "{path} --target {target}: an output neither written nor refused"
                );
                continue;
            };
            assert_eq!(written, a.as_bytes(), "{path} --target {target}");
            let lint = emit::check(&written, "out", target, false);
            let errors: Vec<_> = lint
                .findings
                .iter()
                .filter(|f| f.diagnostic.severity == eks_userdata::Severity::Error)
                .map(|f| f.diagnostic.message.clone())
                .collect();
            assert!(errors.is_empty(), "{path} --target {target}: {errors:?}");
        }
    }
}

#[test]
fn encoded_input_converts_like_the_plain_file() {
    let opts = Options { target: Target::SelfManaged, cluster: cluster(), ..Default::default() };
    let (plain, _, _) = convert("fixtures/al2/plain-script.sh", &opts);
    let (encoded, _, _) = convert("fixtures/al2/plain-script-gzip-base64.txt", &opts);
    assert_eq!(plain, encoded);
}

#[test]
fn cli_exit_codes() {
    bin()
        .args(["convert", "--cluster-info", "fixtures/cluster-info.yaml", "fixtures/al2/plain-script.sh"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Content-Type: application/node.eks.aws"))
        .stderr(predicate::str::contains("CV401"));
    bin()
        .args(["convert", "--target", "mng", "fixtures/al2/spot-branches.sh"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("CV409"));
    // A required value nothing gives: the output would be invalid, so it is not written.
    bin()
        .args(["convert", "fixtures/al2/spot-branches.sh"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("CV408").and(predicate::str::contains("was not written")));
    bin().args(["convert", "does/not/exist.sh"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
    bin()
        .args(["convert", "--cluster-info", "fixtures/al2/plain-script.sh", "fixtures/al2/plain-script.sh"])
        .assert()
        .code(2);
    bin()
        .args(["convert", "--target", "mng", "--format", "nodeconfig", "fixtures/al2/plain-script.sh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use --format mime"));
}

#[test]
fn cli_json_report_and_nodeconfig_format() {
    let out = bin()
        .args([
            "convert",
            "--target",
            "mng",
            "--format",
            "nodeconfig",
            "--report-format",
            "json",
            "fixtures/al2/eksctl-nodegroup.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "eksctl's preBootstrapCommands stay a script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args(["convert", "--target", "mng", "--report-format", "json", "-"])
        .write_stdin("#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=20'\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(report["files"][0]["findings"].as_array().unwrap().iter().any(|f| f["code"] == "CV401"));
    let out = bin()
        .args(["convert", "--target", "mng", "--format", "nodeconfig", "-"])
        .write_stdin("#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=20'\n")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 20\n"
    );
}

#[test]
fn cli_writes_atomically_and_never_clobbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("al2023.txt");
    let o = out.to_str().unwrap();
    let args = ["convert", "--target", "mng", "fixtures/al2/mime-shell-parts.txt", "-o", o];
    bin().args(args).assert().code(0).stdout("");
    let first = std::fs::read(&out).unwrap();
    bin().args(args).assert().code(0);
    assert_eq!(std::fs::read(&out).unwrap(), first, "a re-run changes nothing");
    std::fs::write(&out, "the user's own edits\n").unwrap();
    bin().args(args).assert().code(2).stderr(predicate::str::contains("pass --force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"the user's own edits\n");
    bin().args(args).arg("--force").assert().code(0);
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // The input is never the output.
    let input = dir.path().join("in.sh");
    std::fs::write(&input, "#!/bin/bash\n/etc/eks/bootstrap.sh c\n").unwrap();
    bin().args(["convert", "--target", "mng", input.to_str().unwrap(), "-o", input.to_str().unwrap()]).assert().code(2);
    let report = dir.path().join("report.json");
    bin()
        .args([
            "convert",
            "--target",
            "mng",
            "--report-format",
            "json",
            "--report",
            report.to_str().unwrap(),
            "fixtures/al2/plain-script.sh",
        ])
        .assert()
        .code(0)
        .stderr("");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(v["summary"]["warnings"].as_u64().unwrap() > 0);
}

#[test]
fn explain_covers_convert_codes() {
    bin().args(["explain", "CV407"]).assert().code(0).stdout(predicate::str::contains("map-merge-semantics"));
    let codes: Vec<&str> = translate::codes::ALL
        .iter()
        .map(|m| m.code)
        .chain(eks_userdata::lint::RULES.iter().map(|r| r.meta.code))
        .collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len(), "codes are unique across lint and convert");
}

#[test]
fn cli_converts_directories_keeping_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("team-a")).unwrap();
    std::fs::create_dir_all(input.join(".git")).unwrap();
    std::fs::copy(root().join("fixtures/al2/mime-shell-parts.txt"), input.join("team-a/userdata.txt")).unwrap();
    std::fs::copy(root().join("fixtures/al2/plain-script.sh"), input.join("plain.sh")).unwrap();
    std::fs::write(input.join(".git/config"), "not user data").unwrap();
    let out = dir.path().join("out");
    let args = ["convert", "--target", "mng", "--out-dir", out.to_str().unwrap(), "-j", "2", input.to_str().unwrap()];
    bin().args(args).assert().code(0).stderr(predicate::str::contains("2 files: 2 written, 0 need review, 0 failed"));
    let single = bin().args(["convert", "--target", "mng", "fixtures/al2/mime-shell-parts.txt"]).output().unwrap();
    assert_eq!(
        std::fs::read(out.join("team-a/userdata.txt")).unwrap(),
        single.stdout,
        "same bytes as a single conversion"
    );
    assert!(out.join("plain.sh").is_file());
    assert!(!out.join(".git").exists(), "hidden directories are skipped");
    // Re-running changes nothing; an edited output is not clobbered.
    bin().args(args).assert().code(0);
    std::fs::write(out.join("plain.sh"), "edited").unwrap();
    bin().args(args).assert().code(2).stderr(predicate::str::contains("pass --force"));
    assert_eq!(std::fs::read(out.join("plain.sh")).unwrap(), b"edited");
    // Several inputs without --out-dir, or an output dir inside an input, are refused.
    bin()
        .args(["convert", "fixtures/al2/plain-script.sh", "fixtures/al2/spot-branches.sh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--out-dir"));
    bin()
        .args(["convert", "--out-dir", input.join("x").to_str().unwrap(), input.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inside an input"));
    bin().args(["convert", "fixtures/al2"]).assert().code(2).stderr(predicate::str::contains("is a directory"));
}

#[test]
fn data_volume_can_be_written_as_cloud_config() {
    let out = bin()
        .args(["convert", "--target", "mng", "--data-volume", "cloud-config", "fixtures/al2/ebs-data-volume.sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Content-Type: text/cloud-config") && text.contains("overwrite: false"), "{text}");
    assert!(!text.contains("find_device"), "the script variant is not written as well");
    let lint = emit::check(text.as_bytes(), "out", Target::Mng, false);
    assert!(lint.findings.iter().all(|f| f.diagnostic.severity != eks_userdata::Severity::Error));
}

/// Converts a fixture and runs the equivalence check on `mutate(output)`: the field names of the
/// unexplained rows.
fn seeded(path: &str, target: Target, mutate: &dyn Fn(&str) -> String) -> Vec<String> {
    let opts = Options { target, cluster: cluster(), ..Default::default() };
    let bytes = std::fs::read(root().join(path)).unwrap();
    let env = Envelope::parse(&bytes, &Limits::default());
    let plan = translate::plan(&env, &opts);
    let out = String::from_utf8(emit::render(&plan, emit::Format::Mime, target).unwrap()).unwrap();
    let al2 = plan.al2.as_ref().expect("an AL2 node");
    let clean = translate::verify::check(al2, out.as_bytes(), &plan.entries, &opts);
    assert_eq!(clean.unexplained().count(), 0, "{path}: the unmutated output is equivalent");
    let bad = mutate(&out);
    assert_ne!(bad, out, "{path}: the mutation applies");
    let e = translate::verify::check(al2, bad.as_bytes(), &plan.entries, &opts);
    e.unexplained().map(|r| r.field.clone()).collect()
}

#[test]
fn verify_fails_naming_the_field_on_a_seeded_mistranslation() {
    let sm = Target::SelfManaged;
    type Mutation = Box<dyn Fn(&str) -> String>;
    let cases: Vec<(&str, &str, Mutation, &str)> = vec![
        (
            "kubelet config",
            "fixtures/al2/plain-script.sh",
            Box::new(|o| o.replace("imageGCHighThresholdPercent: 80", "imageGCHighThresholdPercent: 85")),
            "kubelet.imageGCHighThresholdPercent",
        ),
        (
            "kubelet argument",
            "fixtures/al2/plain-script.sh",
            Box::new(|o| o.replace("    flags:\n", "    flags:\n    - --root-dir=/data/kubelet\n")),
            "args.--root-dir",
        ),
        (
            "max pods",
            "fixtures/al2/plain-script.sh",
            Box::new(|o| o.replace("maxPods: 58", "maxPods: 59")),
            "kubelet.maxPods",
        ),
        (
            "label",
            "fixtures/al2/plain-script.sh",
            Box::new(|o| o.replace("tier=backend", "tier=frontend")),
            "labels.tier",
        ),
        (
            "taint",
            "fixtures/al2/plain-script.sh",
            Box::new(|o| o.replace("value: orders", "value: payments")),
            "kubelet.registerWithTaints",
        ),
        (
            "containerd",
            "fixtures/al2/containerd-config-edit.sh",
            Box::new(|o| o.replace("discard_unpacked_layers = false", "discard_unpacked_layers = true")),
            "containerd.plugins[\"io.containerd.grpc.v1.cri\"].containerd.discard_unpacked_layers",
        ),
        (
            "environment",
            "fixtures/al2/kubelet-dropin.sh",
            Box::new(|o| o.replace("http://proxy.internal:3128", "http://proxy.internal:8080")),
            "environment.kubelet.HTTPS_PROXY",
        ),
        (
            "local storage",
            "fixtures/al2/instance-store-setup.sh",
            Box::new(|o| o.replace("strategy: RAID10", "strategy: RAID0")),
            "localStorage",
        ),
        (
            "data volume",
            "fixtures/al2/ebs-volume-id.sh",
            Box::new(|o| o.replace("DEVICE='vol-0a1b2c3d4e5f60718'", "DEVICE='vol-0ffffffffffffffff'")),
            "dataVolume./var/lib/kubelet",
        ),
        (
            "command timing",
            "fixtures/al2/shebang-options.sh",
            // The moved command put back inline: it would run before the kubelet starts.
            Box::new(|o| {
                o.replacen("systemctl enable --now amazon-ssm-agent\n", "", 1).replacen(
                    "yum install -y amazon-ssm-agent\n",
                    "yum install -y amazon-ssm-agent\nsystemctl enable --now amazon-ssm-agent\n",
                    1,
                )
            }),
            "command `systemctl enable --now amazon-ssm-agent`",
        ),
    ];
    for (kind, path, mutate, field) in cases {
        let open = seeded(path, sm, &*mutate);
        assert!(open.iter().any(|f| f == field), "{kind}: {path}: expected an unexplained `{field}`, got {open:?}");
    }
}

#[test]
fn convert_verify_passes_on_clean_fixtures_and_gates_the_exit_code() {
    for path in
        ["fixtures/al2/plain-script.sh", "fixtures/al2/bootstrap-sed-patch.sh", "fixtures/al2/shebang-options.sh"]
    {
        bin()
            .args([
                "convert",
                path,
                "--target",
                "self-managed",
                "--cluster-info",
                "fixtures/cluster-info.yaml",
                "--verify",
            ])
            .current_dir(root())
            .assert()
            .success();
    }
}

/// A conversion of user data written in the test, with the bundled cluster values.
fn convert_text(name: &str, text: &str, target: Target) -> translate::Conversion {
    let opts = Options { target, cluster: cluster(), ..Default::default() };
    translate::convert(&Source::new(name, text.as_bytes().to_vec()), &opts, emit::Format::Mime, "out").unwrap()
}

#[test]
fn hosted_script_rows_cite_the_entry_about_each_command_and_targets_decide_who_started_the_kubelet() {
    // A CloudFormation UserData puts every command at one anchor: each removed command's row
    // must still cite its own entry. With no call, a managed node group's kubelet was started
    // by EKS's appended bootstrap.sh (which copied its unit over the edit); a self-managed
    // node's by the script itself (CV452).
    let cfn = "UserData:\n  Fn::Base64: |\n    #!/bin/bash\n    sed -i s,MAX_PODS,20,g /etc/systemd/system/kubelet.service\n    systemctl daemon-reload\n    systemctl restart kubelet\n";
    let cite = |target: Target| {
        let conv = convert_text("cfn.yaml", cfn, target);
        let rows: Vec<(String, String)> = conv
            .equivalence
            .unwrap()
            .rows
            .into_iter()
            .filter_map(|r| match r.verdict {
                eks_userdata::effective::Verdict::Explained { code, .. } => Some((r.field, code.to_string())),
                _ => None,
            })
            .collect();
        let codes: Vec<String> =
            conv.reports.iter().flat_map(|r| r.findings.iter().map(|f| f.diagnostic.code.to_string())).collect();
        (rows, codes)
    };
    let (rows, codes) = cite(Target::Mng);
    let of = |needle: &str| rows.iter().find(|(f, _)| f.contains(needle)).map(|(_, c)| c.clone());
    assert_eq!(of("sed -i s,MAX_PODS"), Some("CV434".into()), "{rows:?}");
    assert_eq!(of("systemctl restart kubelet"), Some("CV433".into()), "{rows:?}");
    assert!(!codes.contains(&"CV452".to_string()), "{codes:?}");
    let (_, codes) = cite(Target::SelfManaged);
    assert!(codes.contains(&"CV452".to_string()), "{codes:?}");
}

#[test]
fn same_rows_say_a_template_input_could_have_changed_them() {
    // `${bootstrap_extra_args}` could hold `--use-max-pods false`: the AL2 node's maxPods is the
    // model's only if it did not.
    let tpl = "#!/bin/bash\n/etc/eks/bootstrap.sh ${cluster_name} ${bootstrap_extra_args}\n";
    let conv = convert_text("t.tpl", tpl, Target::SelfManaged);
    let e = conv.equivalence.unwrap();
    let row = e.rows.iter().find(|r| r.field == "kubelet.maxPods").unwrap();
    assert!(row.al2.ends_with("(if the template input does not change it)"), "{row:?}");
    assert!(e.rows.iter().any(|r| r.field == "bootstrap.sh arguments from a template input"), "{:?}", e.rows);
}

#[test]
fn a_cloudformation_condition_is_a_branch_warning() {
    // `Fn::If` in a Sub variable map: the output is the true branch's user data, which stacks
    // where the condition is false did not run.
    let cfn = "UserData:\n  Fn::Base64:\n    Fn::Sub:\n      - |\n        #!/bin/bash\n        ${Proxy}\n        /etc/eks/bootstrap.sh orders-prod\n      - Proxy:\n          Fn::If: [UseProxy, 'export HTTPS_PROXY=http://p:3128', '']\n";
    let conv = convert_text("cfn.yaml", cfn, Target::SelfManaged);
    let f: Vec<_> = conv.reports.iter().flat_map(|r| &r.findings).map(|f| &f.diagnostic).collect();
    assert!(
        f.iter().any(|d| d.code == "CV449" && d.message.contains("Fn::If [UseProxy")),
        "{:?}",
        f.iter().map(|d| (d.code, &d.message)).collect::<Vec<_>>()
    );
}
