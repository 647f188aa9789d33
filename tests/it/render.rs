//! `render` on the command line: formats, drop-ins, exit codes, and `--check`/`--update` on a
//! directory tree with diffs.

use crate::util::{bin, root};
use predicates::prelude::*;

#[test]
fn renders_yaml_and_json() {
    let out = bin()
        .args(["render", "--instance-type", "m4.xlarge", "fixtures/al2023/multipart-shell-and-nodeconfig.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let doc: serde_json::Value = eks_userdata::nodeconfig::yaml::from_str(&text).unwrap();
    assert_eq!(doc["kubelet"]["config"]["kubeReserved"]["memory"], "893Mi");
    let out = bin()
        .args(["render", "--format", "json", "--explain", "fixtures/al2023/bare-nodeconfig.yaml"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["explain"]["spec.cluster.name"]["from"], "user data");
    assert_eq!(doc["localStorage"]["command"], "setup-local-disks raid0 --dir /mnt/k8s-disks");
}

#[test]
fn drop_ins_and_appended_parts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("50-pods.yaml"),
        "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 42\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "render",
            "--format",
            "json",
            "--drop-ins",
            dir.path().to_str().unwrap(),
            "fixtures/al2023/bare-nodeconfig.yaml",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kubelet"]["config"]["maxPods"], 42);
    // A managed node group's part supplies the cluster section the partial config lacks.
    bin()
        .args(["render", "fixtures/al2023/mng-partial.txt"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("spec.cluster.name is missing"));
    bin()
        .args(["render", "--as", "mng", "fixtures/al2023/mng-partial.txt"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("(set by EKS)"));
}

#[test]
fn check_and_update_a_directory_tree() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("userdata");
    std::fs::create_dir_all(tree.join("team-a")).unwrap();
    std::fs::copy(root().join("fixtures/al2023/bare-nodeconfig.yaml"), tree.join("team-a/nodes.yaml")).unwrap();
    std::fs::copy(root().join("fixtures/al2023/multipart-shell-and-nodeconfig.txt"), tree.join("web.txt")).unwrap();
    let t = tree.to_str().unwrap();
    // No snapshots yet: --check fails and creates nothing.
    bin().args(["render", "--check", t]).assert().code(1).stderr(predicate::str::contains("missing"));
    assert!(!tree.join("web.txt.snap").exists());
    bin().args(["render", "--update", t]).assert().code(0).stderr(predicate::str::contains("updated"));
    assert!(tree.join("team-a/nodes.yaml.snap").is_file());
    bin().args(["render", "--check", t]).assert().code(0).stderr(predicate::str::contains("ok       ").count(2));
    // A change in the user data is a readable diff and exit 1.
    let text = std::fs::read_to_string(tree.join("team-a/nodes.yaml")).unwrap().replace("RAID0", "RAID10");
    std::fs::write(tree.join("team-a/nodes.yaml"), text).unwrap();
    bin().args(["render", "--check", t]).assert().code(1).stderr(predicate::str::contains("differs")).stdout(
        predicate::str::contains("-        strategy: RAID0").and(predicate::str::contains("+        strategy: RAID10")),
    );
    // One file with an explicit snapshot path.
    bin()
        .args([
            "render",
            &format!("--check={}", tree.join("web.txt.snap").display()),
            tree.join("web.txt").to_str().unwrap(),
        ])
        .assert()
        .code(0);
    bin().args(["render", t]).assert().code(2).stderr(predicate::str::contains("--check or --update"));
}
