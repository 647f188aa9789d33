//! `karpenter nodeclass`: the emitted manifests pinned with insta, and every emitted EC2NodeClass
//! validated against the CRD schema and its rules (the check `kubectl apply --dry-run=client`
//! cannot make without a server).

use crate::util::{bin, root};
use eks_userdata::Source;
use eks_userdata::karpenter::{KarpenterVersion, nodeclass, validate};
use eks_userdata::report::{self, Format};
use eks_userdata::userdata::{Envelope, Limits};

fn opts(name: &str) -> nodeclass::NodeClassOptions {
    nodeclass::NodeClassOptions {
        name: name.into(),
        ami_version: Some("v20251023".into()),
        role: Some("KarpenterNodeRole-prod".into()),
        cluster: Some("prod".into()),
        data_volume_size: Some("200Gi".into()),
        ..Default::default()
    }
}

fn run(path: &str, o: &nodeclass::NodeClassOptions) -> (nodeclass::NodeClassOutput, String) {
    let source = Source::new(path, std::fs::read(root().join(path)).unwrap());
    let out = nodeclass::nodeclass(&source, o);
    let env = Envelope::parse(&source.bytes, &Limits::default());
    let report = eks_userdata::lint::resolve(&source, &env, out.entries.clone());
    (out, report::render(&[report], Format::Concise))
}

#[test]
fn nodeclasses_from_user_data_are_pinned_and_valid() {
    for (path, what) in [
        ("fixtures/al2/plain-script.sh", "kubelet flags, labels and taints"),
        ("fixtures/al2/raid-for-kubelet.sh", "RAID0 local disks"),
        ("fixtures/al2/ebs-data-volume.sh", "an EBS volume for container images"),
        ("fixtures/karpenter/mime-cloud-config.txt", "MIME with a #cloud-config part"),
        ("fixtures/al2023/multipart-shell-and-nodeconfig.txt", "AL2023 user data"),
    ] {
        for version in [KarpenterVersion::V1_14, KarpenterVersion::Main] {
            let o = nodeclass::NodeClassOptions { version, ..opts("web") };
            let (out, report) = run(path, &o);
            let problems = validate::validate(&out.nodeclass, version);
            assert!(problems.is_empty(), "{path} ({what}) for {}: {problems:?}", version.as_str());
            assert!(!report.contains("KP508"), "{report}");
            if version == KarpenterVersion::V1_14 {
                let name = path.trim_start_matches("fixtures/").replace(['/', '.'], "_");
                insta::assert_snapshot!(format!("nodeclass_{name}"), format!("{}\n# report\n{report}", out.to_yaml()));
            }
        }
    }
}

#[test]
fn what_moves_where() {
    let (out, _) = run("fixtures/al2/plain-script.sh", &opts("web"));
    let spec = &out.nodeclass["spec"];
    assert_eq!(spec["kubelet"]["maxPods"], 58);
    assert_eq!(spec["amiSelectorTerms"][0]["alias"], "al2023@v20251023");
    let user_data = spec["userData"].as_str().unwrap();
    assert!(!user_data.contains("maxPods") && !user_data.contains("--node-labels"), "{user_data}");
    assert!(user_data.contains("podPidsLimit: 4096"), "kubelet fields spec.kubelet cannot hold stay: {user_data}");
    let np = out.nodepool.as_ref().unwrap();
    assert_eq!(np["spec"]["template"]["metadata"]["labels"]["team"], "orders");
    assert_eq!(np["spec"]["template"]["spec"]["taints"][0]["key"], "dedicated");

    let (raid, _) = run("fixtures/al2/raid-for-kubelet.sh", &opts("raid"));
    assert_eq!(raid.nodeclass["spec"]["instanceStorePolicy"], "RAID0");
    let (ebs, _) = run("fixtures/al2/ebs-data-volume.sh", &opts("ebs"));
    assert_eq!(ebs.nodeclass["spec"]["blockDeviceMappings"][1]["deviceName"], "/dev/xvdb");
    assert!(ebs.nodeclass["spec"]["userData"].as_str().unwrap().contains("/var/lib/containerd"));
    let (mime, _) = run("fixtures/karpenter/mime-cloud-config.txt", &opts("gpu"));
    let ud = mime.nodeclass["spec"]["userData"].as_str().unwrap();
    assert!(
        ud.contains("Content-Type: text/cloud-config") && ud.contains("#cloud-config"),
        "the cloud-config part keeps its type: {ud}"
    );
    assert_eq!(mime.nodeclass["spec"]["kubelet"]["evictionSoftGracePeriod"]["memory.available"], "2m");
}

#[test]
fn missing_required_fields_are_marked_placeholders_and_exit_1() {
    let o = nodeclass::NodeClassOptions { name: "bare".into(), ..Default::default() };
    let (out, report) = run("fixtures/al2/plain-script.sh", &o);
    assert!(report.contains("KP504") && report.contains("KP505"), "{report}");
    assert_eq!(out.nodeclass["spec"]["role"], "REPLACE-ME-KarpenterNodeRole");
    assert_eq!(out.nodeclass["spec"]["amiSelectorTerms"][0]["alias"], "al2023@latest");
    let out =
        bin().args(["karpenter", "nodeclass", "fixtures/al2/plain-script.sh", "--name", "bare"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\n"));
    let ok = bin()
        .args([
            "karpenter",
            "nodeclass",
            "fixtures/al2/plain-script.sh",
            "--name",
            "web",
            "--role",
            "r",
            "--cluster",
            "prod",
            "--ami-version",
            "v20251023",
        ])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn migrate_rewrites_al2_classes_and_keeps_the_rest() {
    use eks_userdata::karpenter::migrate;
    let path = "fixtures/karpenter/nodeclasses-al2.yaml";
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    for version in [KarpenterVersion::V1_14, KarpenterVersion::Main] {
        let m = migrate::migrate(path, &text, version);
        let out = m.text.clone().unwrap();
        // Every EC2NodeClass in the result validates; the other documents are byte-identical.
        for doc in out.split("---\n") {
            let v: serde_json::Value = eks_userdata::nodeconfig::yaml::from_str(doc).unwrap();
            if v["kind"] == "EC2NodeClass" {
                assert_eq!(validate::validate(&v, version), vec![], "{doc}");
            }
        }
        for kept in text.split("---\n").skip(1) {
            assert!(out.contains(kept), "document copied as it is:\n{kept}");
        }
        if version == KarpenterVersion::V1_14 {
            let source = Source::new(path, text.as_bytes());
            let report = eks_userdata::lint::resolve(&source, &Envelope::parse(&[], &Limits::default()), m.entries);
            insta::assert_snapshot!(
                "migrate_nodeclasses_al2",
                format!("{out}\n# report\n{}", report::render(&[report], Format::Concise))
            );
        }
    }
}

#[test]
fn migrate_in_place_is_atomic_and_a_second_run_changes_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("classes.yaml");
    std::fs::copy(root().join("fixtures/karpenter/nodeclasses-al2.yaml"), &file).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let f = file.to_str().unwrap();
    let out = bin().args(["karpenter", "migrate", "--in-place", f]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let once = std::fs::read_to_string(&file).unwrap();
    assert!(once.contains("alias: al2023@v20251023") && !once.contains("al2@"), "{once}");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o640);
    let out = bin().args(["karpenter", "migrate", "--in-place", f]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), once, "nothing left to migrate");
    // A file that does not exist: exit 2, named.
    bin().args(["karpenter", "migrate", "nope.yaml"]).assert().code(2).stderr(predicates::str::contains("nope.yaml"));
    // Cluster flags without --cluster are not silently ignored.
    bin()
        .args(["karpenter", "migrate", "--kubeconfig", "kc", f])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("add --cluster NAME"));
    bin().args(["karpenter", "migrate", "--apply", f]).assert().code(2);
}

#[test]
fn unusable_user_data_is_reported_not_copied_silently() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, want) in [
        ("binary", vec![0xff, 0xfe, 0x00, 0x81, 0x9c], "the user data is not text"),
        ("broken.yaml", b"apiVersion: node.eks.aws/v1alpha1\nspec: [\n".to_vec(), "does not parse"),
    ] {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let out = bin()
            .args([
                "karpenter",
                "nodeclass",
                f.to_str().unwrap(),
                "--name",
                "x",
                "--role",
                "r",
                "--cluster",
                "c",
                "--ami-version",
                "v20251023",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("KP511") && err.contains(want), "{name}: {err}");
    }
    // Karpenter always sets maxPods: an expression in userData is reported as overridden.
    let f = dir.path().join("expr.yaml");
    std::fs::write(
        &f,
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    maxPodsExpression: max_pods - 2\n",
    )
    .unwrap();
    let (_, report) = run_path(&f);
    assert!(report.contains("KP506") && report.contains("maxPodsExpression has no effect"), "{report}");
    // An empty input is a class with no userData at all.
    let f = dir.path().join("empty");
    std::fs::write(&f, "").unwrap();
    let (out, report) = run_path(&f);
    assert!(out.nodeclass["spec"].get("userData").is_none() && !report.contains("KP511"), "{report}");
}

fn run_path(path: &std::path::Path) -> (nodeclass::NodeClassOutput, String) {
    let source = Source::new(path.to_string_lossy(), std::fs::read(path).unwrap());
    let out = nodeclass::nodeclass(&source, &opts("x"));
    let report =
        eks_userdata::lint::resolve(&source, &Envelope::parse(&source.bytes, &Limits::default()), out.entries.clone());
    (out, report::render(&[report], Format::Concise))
}
