//! nodeadm's merge rules, one test per rule (docs §2.2–2.4, §5.2), on project-written inputs.

use super::*;
use crate::userdata::mime_write::{OutPart, WriteOptions, write};
use base64::Engine as _;
use std::io::Write as _;

const CLUSTER: &str = "  cluster:\n    name: c\n    apiServerEndpoint: https://x.eks.amazonaws.com\n    certificateAuthority: Y2E=\n    cidr: 10.100.0.0/16\n";

fn nc(spec: &str) -> String {
    format!("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n{spec}")
}

fn mime(parts: &[String]) -> Vec<u8> {
    write(
        &parts.iter().map(|p| OutPart::new("application/node.eks.aws", p.as_bytes().to_vec())).collect::<Vec<_>>(),
        &WriteOptions::default(),
    )
}

fn run(bytes: &[u8], opts: &Options) -> Rendered {
    render(&Envelope::parse(bytes, &Limits::default()), opts)
}

fn at<'a>(r: &'a Rendered, ptr: &str) -> &'a Value {
    r.doc.pointer(ptr).unwrap_or(&Value::Null)
}

#[test]
fn later_non_empty_scalar_wins_and_empty_cannot_clear() {
    let r = run(
        &mime(&[
            nc(&format!("{CLUSTER}  instance:\n    localStorage:\n      strategy: RAID0\n")),
            nc("  cluster:\n    name: d\n    cidr: \"\"\n  instance:\n    localStorage:\n      strategy: \"\"\n"),
        ]),
        &Options { explain: true, ..Default::default() },
    );
    assert_eq!(at(&r, "/nodeconfig/spec/cluster/name"), "d");
    assert_eq!(at(&r, "/nodeconfig/spec/cluster/cidr"), "10.100.0.0/16");
    assert_eq!(at(&r, "/nodeconfig/spec/instance/localStorage/strategy"), "RAID0");
    let ex = at(&r, "/explain/spec.cluster.name");
    assert_eq!(ex["from"], "user data part 2 (application/node.eks.aws)");
    assert_eq!(ex["overrode"][0]["value"], "c");
}

#[test]
fn flags_append_config_deep_merges_and_lists_replace() {
    let a = nc(&format!(
        "{CLUSTER}  kubelet:\n    flags: [--node-labels=a=1]\n    config:\n      clusterDNS: [10.0.0.10]\n      systemReserved: {{cpu: 100m}}\n      logging: {{verbosity: 5}}\n"
    ));
    let b = nc(
        "  kubelet:\n    flags: [--node-labels=b=2]\n    config:\n      clusterDNS: [10.0.0.53]\n      systemReserved: {memory: 1Gi}\n      logging: {verbosity: 0}\n",
    );
    let r = run(&mime(&[a, b]), &Options::default());
    assert_eq!(at(&r, "/nodeconfig/spec/kubelet/flags"), &json!(["--node-labels=a=1", "--node-labels=b=2"]));
    let cfg = at(&r, "/kubelet/config");
    assert_eq!(cfg["clusterDNS"], json!(["10.0.0.53"]), "lists are replaced");
    assert_eq!(cfg["systemReserved"], json!({"cpu": "100m", "memory": "1Gi"}), "maps merge key by key");
    assert_eq!(cfg["logging"]["verbosity"], 0, "inside kubelet.config a later 0 does win");
    let args: Vec<&str> = at(&r, "/kubelet/args").as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(args[args.len() - 2..], ["--node-labels=a=1", "--node-labels=b=2"], "user flags come last, in order");
    assert!(args.contains(&"--config-dir=/etc/kubernetes/kubelet/config.json.d"));
}

#[test]
fn kube_reserved_comes_from_the_instance_even_when_max_pods_is_overridden() {
    let r = run(
        nc(&format!("{CLUSTER}  kubelet:\n    config:\n      maxPods: 20\n")).as_bytes(),
        &Options { instance_type: Some("m4.xlarge".into()), vcpus: Some(4), ..Default::default() },
    );
    let cfg = at(&r, "/kubelet/config");
    assert_eq!(cfg["maxPods"], 20);
    assert_eq!(
        cfg["kubeReserved"],
        json!({"cpu": "80m", "ephemeral-storage": "1Gi", "memory": "893Mi"}),
        "m4.xlarge: 58 pods → 893Mi"
    );
    assert_eq!(cfg["clusterDNS"], json!(["10.100.0.10"]));
    assert!(r.notes.iter().any(|n| n.message.contains("#1698")));
}

#[test]
fn max_pods_expression_and_its_fallback() {
    let ok = run(
        nc(&format!("{CLUSTER}  kubelet:\n    maxPodsExpression: ((default_enis - 1) * (ips_per_eni - 1)) + 2\n"))
            .as_bytes(),
        &Options { instance_type: Some("m4.xlarge".into()), ..Default::default() },
    );
    assert_eq!(at(&ok, "/kubelet/config/maxPods"), 44);
    assert_eq!(at(&ok, "/kubelet/config/kubeReserved/memory"), "739Mi", "kubeReserved follows the expression");
    let bad = run(
        nc(&format!("{CLUSTER}  kubelet:\n    maxPodsExpression: max_pods - 1000\n")).as_bytes(),
        &Options { instance_type: Some("m4.xlarge".into()), ..Default::default() },
    );
    assert_eq!(at(&bad, "/kubelet/config/maxPods"), 58);
    assert!(bad.notes.iter().any(|n| n.severity == Severity::Warning && n.message.contains("standard value 58")));
    let unknown =
        run(nc(CLUSTER).as_bytes(), &Options { instance_type: Some("zz9.huge".into()), ..Default::default() });
    assert_eq!(at(&unknown, "/kubelet/config/maxPods"), 110);
    assert!(unknown.notes.iter().any(|n| n.message.contains("DescribeInstanceTypes")));
}

#[test]
fn one_undecodable_part_discards_all_user_data() {
    let r = run(
        &mime(&[
            nc(CLUSTER),
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: [not, a, mapping]\n".to_string(),
        ]),
        &Options::default(),
    );
    assert!(r.notes.iter().any(|n| n.severity == Severity::Error && n.message.contains("discards ALL")));
    assert_eq!(at(&r, "/nodeconfig/spec"), &json!({}));
    assert!(r.has_errors());
}

#[test]
fn unknown_fields_vanish_as_in_nodeadm() {
    let r = run(nc(&format!("{CLUSTER}    clusterEndpoint: https://typo\n")).as_bytes(), &Options::default());
    assert!(at(&r, "/nodeconfig/spec/cluster").get("clusterEndpoint").is_none());
}

#[test]
fn gzip_and_base64_parts_decode() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(nc("  kubelet:\n    config:\n      maxPods: 17\n").as_bytes()).unwrap();
    let gz = base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap());
    let r = run(&mime(&[nc(CLUSTER), gz]), &Options::default());
    assert_eq!(at(&r, "/kubelet/config/maxPods"), 17);
}

#[test]
fn drop_ins_merge_after_user_data_in_name_order() {
    let opts = Options {
        drop_ins: vec![
            ("20-b.yaml".into(), nc("  kubelet:\n    config:\n      maxPods: 30\n").into_bytes()),
            ("10-a.json".into(), br#"{"apiVersion":"node.eks.aws/v1alpha1","kind":"NodeConfig","spec":{"kubelet":{"config":{"maxPods":20}}}}"#.to_vec()),
            ("README.md".into(), b"ignored: not yaml or json".to_vec()),
        ],
        explain: true,
        ..Default::default()
    };
    let r = run(nc(&format!("{CLUSTER}  kubelet:\n    config:\n      maxPods: 10\n")).as_bytes(), &opts);
    assert_eq!(at(&r, "/kubelet/config/maxPods"), 30);
    let ex = at(&r, "/explain/spec.kubelet.config.maxPods");
    assert_eq!(ex["from"], "drop-in 20-b.yaml");
    assert_eq!(ex["overrode"], json!([{"from": "drop-in 10-a.json", "value": 20}, {"from": "user data", "value": 10}]));
    let broken = Options {
        drop_ins: vec![(
            "30-bad.yaml".into(),
            b"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {kubelet: {flags: 3}}\n".to_vec(),
        )],
        ..Default::default()
    };
    let r = run(nc(CLUSTER).as_bytes(), &broken);
    assert!(r.notes.iter().any(|n| n.severity == Severity::Error && n.message.contains("nodeadm-run fails")));
}

#[test]
fn appended_parts_are_named_and_win() {
    let r = run(
        nc("  kubelet:\n    config:\n      maxPods: 10\n    flags: [--node-labels=mine=1]\n").as_bytes(),
        &Options { appended_by: Some(Target::Karpenter), explain: true, ..Default::default() },
    );
    assert_eq!(at(&r, "/nodeconfig/spec/cluster/name"), "(set by Karpenter)");
    assert_eq!(at(&r, "/explain/spec.kubelet.config.maxPods/from"), "Karpenter part");
    assert!(!r.has_errors(), "the appended part supplies the cluster section: {:?}", r.notes);
}

#[test]
fn feature_gates_and_environment_merge_key_by_key_and_false_overrides() {
    let r = run(
        &mime(&[
            nc(&format!(
                "{CLUSTER}  featureGates: {{FastImagePull: true, InstanceIdNodeName: true}}\n  instance:\n    environment:\n      default: {{A: '1'}}\n"
            )),
            nc("  featureGates: {FastImagePull: false}\n  instance:\n    environment:\n      default: {B: '2'}\n"),
        ]),
        &Options::default(),
    );
    assert_eq!(at(&r, "/nodeconfig/spec/featureGates"), &json!({"FastImagePull": false, "InstanceIdNodeName": true}));
    assert_eq!(at(&r, "/nodeconfig/spec/instance/environment/default"), &json!({"A": "1", "B": "2"}));
    assert!(at(&r, "/kubelet/args").as_array().unwrap().contains(&json!("--hostname-override=(instance id)")));
}

#[test]
fn containerd_toml_deep_merges() {
    let r = run(
        &mime(&[
            nc(&format!("{CLUSTER}  containerd:\n    config: |\n      [plugins.a]\n      x = 1\n      y = 2\n")),
            nc("  containerd:\n    config: |\n      [plugins.a]\n      y = 3\n"),
        ]),
        &Options::default(),
    );
    let t: toml::Table = at(&r, "/containerd/overlay/config").as_str().unwrap().parse().unwrap();
    assert_eq!((t["plugins"]["a"]["x"].as_integer(), t["plugins"]["a"]["y"].as_integer()), (Some(1), Some(3)));
}

#[test]
fn ami_release_refuses_newer_features() {
    let r = run(nc(&format!("{CLUSTER}  kubelet:\n    maxPodsExpression: max_pods\n  instance:\n    localStorage:\n      strategy: RAID10\n")).as_bytes(), &Options { ami_release: Some("v20250101".into()), drop_ins: vec![("a.yaml".into(), nc("  kubelet: {}\n").into_bytes())], ..Default::default() });
    let errors: Vec<&str> =
        r.notes.iter().filter(|n| n.severity == Severity::Error).map(|n| n.message.as_str()).collect();
    assert!(errors.iter().any(|m| m.contains("maxPodsExpression needs AMI release v20251007")), "{errors:?}");
    assert!(errors.iter().any(|m| m.contains("RAID10 needs AMI release v20250228")), "{errors:?}");
    assert!(errors.iter().any(|m| m.contains("drop-ins need AMI release v20251023")), "{errors:?}");
    let ok = run(nc(CLUSTER).as_bytes(), &Options { ami_release: Some("v20260101".into()), ..Default::default() });
    assert!(!ok.has_errors());
}

#[test]
fn local_storage_actions_and_boot_order() {
    let user = write(
        &[
            OutPart::new("text/x-shellscript", "#!/bin/bash\necho hi\n"),
            OutPart::new(
                "application/node.eks.aws",
                nc(&format!(
                    "{CLUSTER}  instance:\n    localStorage:\n      strategy: RAID0\n      disabledMounts: [Containerd]\n"
                )),
            ),
        ],
        &WriteOptions::default(),
    );
    let r = run(&user, &Options::default());
    assert_eq!(at(&r, "/localStorage/command"), "setup-local-disks raid0 --dir /mnt/k8s-disks --no-bind-containerd");
    let boot: Vec<&str> = at(&r, "/bootOrder").as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        boot[0].starts_with("nodeadm-config") && boot[1].contains("part 1") && boot[2].starts_with("nodeadm-run"),
        "{boot:?}"
    );
}

#[test]
fn output_is_deterministic() {
    let input = mime(&[nc(CLUSTER), nc("  kubelet:\n    config: {b: 1, a: 2}\n")]);
    let opts = Options { instance_type: Some("m5.large".into()), explain: true, ..Default::default() };
    assert_eq!(run(&input, &opts).yaml(), run(&input, &opts).yaml());
}
