//! `karpenter migrate --cluster` against the project's fake API server, with its fake of
//! Karpenter's drift replacement switched on (`tests/kube/karpenter.py`: the class hash, Drifted
//! claims, replacements paced by the NodePool's budgets) and its server-side apply field
//! ownership (`tests/kube/fields.py`). The real `kubectl` restores the backup.

use crate::preflight::{FakeApi, kubectl};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const CLASS: &str = "/apis/karpenter.k8s.aws/v1/ec2nodeclasses/default";

fn tool(api: &FakeApi, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"))
        .args(["karpenter", "migrate", "--cluster", "prod", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn start() -> FakeApi {
    let api = FakeApi::start("karpenter.json", "v1.32.3-eks-1");
    api.post("/_fake/config", r#"{"karpenter": {"drift_after": 0.3, "launch_after": 0.5}, "ready_after": 0.3}"#);
    api
}

fn os_images(api: &FakeApi) -> Vec<(String, String)> {
    let nodes = api.get("/api/v1/nodes");
    nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["metadata"]["labels"]["karpenter.sh/nodepool"] == "default")
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap().to_string(),
                n["status"]["nodeInfo"]["osImage"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Plan (nothing changes), apply without taking the fields over (a conflict, nothing changes but
/// the backup), apply with --force-conflicts and follow until both claims run AL2023; then the
/// real kubectl puts the backup back.
#[test]
fn plan_backup_apply_and_follow_the_drift_to_al2023() {
    let api = start();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("classes.yaml");
    let backup_arg = backup.to_str().unwrap();

    let (code, out, err) = tool(&api, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 EC2NodeClass(es) to move to AL2023"), "{out}");
    assert!(
        out.contains("      - alias: al2023@v20251023\n      kubelet:\n        maxPods: 58\n  removes: spec.userData"),
        "{out}"
    );
    assert!(out.contains("default-a1b2c (NodePool default, node ip-10-0-1-10.ec2.internal): AL2"), "{out}");
    assert!(out.contains("NodePool default (2 nodes): drift replacements 1 at once"), "{out}");
    assert!(out.contains("KP512 warning: NodePool default: a scheduled budget allows 0 nodes in its window"), "{out}");
    assert!(!out.contains("batch"), "the AL2023 class is not touched: {out}");
    let requests = api.get("/_fake/requests");
    let writes: Vec<&Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap().starts_with("/_fake/"))
        .collect();
    assert!(writes.is_empty(), "planning changes nothing: {writes:?}");

    let (code, _, err) = tool(&api, &["--force-conflicts"]);
    assert_eq!(code, 2, "--force-conflicts alone applies nothing and says so: {err}");
    let (code, out, err) = tool(&api, &["--apply", "--backup", backup_arg]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(r#"conflict with "kubectl-client-side-apply""#)
            && err.contains(".spec.amiSelectorTerms")
            && err.contains("--force-conflicts"),
        "{err}"
    );
    assert_eq!(api.get(CLASS)["spec"]["amiSelectorTerms"][0]["alias"], "al2@v20251023", "nothing applied");
    let saved = std::fs::read_to_string(&backup).unwrap();
    assert!(saved.contains("alias: al2@v20251023") && saved.contains("/etc/eks/bootstrap.sh prod"), "{saved}");

    let (code, out, err) =
        tool(&api, &["--apply", "--backup", backup_arg, "--force-conflicts", "--timeout", "60", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["format"], "eks-userdata/karpenter-rollout/v1");
    assert_eq!(
        (summary["applied"].clone(), summary["done"].clone()),
        (serde_json::json!(["default"]), Value::Bool(true))
    );
    assert_eq!(
        summary["tally"],
        serde_json::json!({"total": 2, "replaced": 2, "al2": 0, "drifted": 0, "launching": 0})
    );
    assert!(err.contains("[0/2] on AL2023; 2 on AL2"), "plain progress lines off a terminal:\n{err}");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), saved, "the backup is the classes before any change");

    let class = api.get(CLASS);
    assert_eq!(class["spec"]["amiSelectorTerms"][0]["alias"], "al2023@v20251023");
    assert_eq!(class["spec"]["kubelet"], serde_json::json!({"maxPods": 58}));
    assert!(class["spec"].get("userData").is_none(), "userData is removed though another manager set it: {class}");
    assert_eq!(class["spec"]["role"], "KarpenterNodeRole-prod", "fields not migrated keep their value");
    let managers: Vec<(&str, Value)> = class["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["manager"].as_str().unwrap(), m["fieldsV1"]["f:spec"].clone()))
        .collect();
    assert_eq!(managers[0].0, "eks-userdata");
    assert!(managers[0].1.get("f:amiSelectorTerms").is_some() && managers[0].1.get("f:role").is_none(), "{managers:?}");
    let images = os_images(&api);
    assert!(!images.is_empty() && images.iter().all(|(_, os)| os.starts_with("Amazon Linux 2023")), "{images:?}");
    let requests = api.get("/_fake/requests");
    let applies: Vec<&Value> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["contentType"].as_str().unwrap_or("").starts_with("application/apply-patch+yaml"))
        .collect();
    let dry: Vec<bool> = applies.iter().map(|r| r["query"]["dryRun"] == "All").collect();
    assert_eq!(dry, [true, true, false], "a dry run refused, then a forced dry run and the apply");
    assert_eq!(
        (applies[2]["query"]["fieldManager"].as_str(), applies[2]["query"]["force"].as_str()),
        (Some("eks-userdata"), Some("true"))
    );

    // The backup is what `kubectl replace -f` reads back.
    let Some(kubectl) = kubectl() else { return };
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&api.kubeconfig)
        .args(["replace", "-f", backup_arg])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let class = api.get(CLASS);
    assert_eq!(class["spec"]["amiSelectorTerms"][0]["alias"], "al2@v20251023");
    assert!(class["spec"]["userData"].as_str().unwrap().contains("bootstrap.sh"));
}

/// A NodePool budget of 0 holds every drifted claim: the plan says so, the follow stops at its
/// timeout with where each claim is; once the budget is raised, a run finds nothing to apply,
/// follows the claims still on AL2 and finishes.
#[test]
fn a_zero_budget_stops_the_follow_and_a_rerun_finishes_it() {
    let api = start();
    api.patch("/apis/karpenter.sh/v1/nodepools/default", r#"{"spec": {"disruption": {"budgets": [{"nodes": "0"}]}}}"#);
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("classes.yaml");
    let args = ["--apply", "--backup", backup.to_str().unwrap(), "--force-conflicts"];

    let (code, out, err) = tool(&api, &[&args[..], &["--timeout", "3"]].concat());
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("KP512 warning: NodePool default: a disruption budget allows 0 nodes at once"), "{out}");
    assert!(err.contains("after 3s, 0 of 2 NodeClaims on AL2023 nodes; 2 on AL2 (2 drifted)"), "{err}");
    assert!(out.contains("not replaced:\n  - default-a1b2c on ip-10-0-1-10.ec2.internal\n  - default-d3e4f"), "{out}");
    assert!(os_images(&api).iter().all(|(_, os)| os == "Amazon Linux 2"), "nothing was replaced");

    api.patch(
        "/apis/karpenter.sh/v1/nodepools/default",
        r#"{"spec": {"disruption": {"budgets": [{"nodes": "50%"}]}}}"#,
    );
    // On a terminal this time (a pseudo-terminal): the progress is one bar redrawn in place.
    let script = "import os, pty, sys\n\
                  status = pty.spawn(sys.argv[1:])\n\
                  sys.exit(os.waitstatus_to_exitcode(status))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(assert_cmd::cargo::cargo_bin!("eks-userdata"))
        .args(["karpenter", "migrate", "--cluster", "prod", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .args([&args[..], &["--timeout", "60"]].concat())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(screen.starts_with("Karpenter on cluster prod: 0 EC2NodeClass(es) to move to AL2023\n"), "{screen}");
    assert!(screen.contains("NodeClaims of default (Karpenter replaces them as they drift)"), "{screen}");
    assert!(!screen.contains("backup:") && !screen.contains("applied:"), "nothing applied the second time: {screen}");
    // How far the replacements got by the first poll depends on timing; the form does not.
    assert!(screen.contains("\r\x1b[K[") && screen.contains(" on AL2023; "), "a bar: {screen:?}");
    let plain = screen.lines().any(|l| l.starts_with('[') && l.chars().nth(1).is_some_and(|c| c.is_ascii_digit()));
    assert!(!plain, "no plain progress lines on a terminal: {screen:?}");
    assert!(screen.contains("2 of 2 NodeClaims on AL2023 nodes"), "{screen}");
}

/// What holds a claim back is named, and a kubeconfig for another EKS cluster is refused.
#[test]
fn do_not_disrupt_is_named_and_another_clusters_kubeconfig_is_refused() {
    let api = start();
    api.post(
        "/_fake/objects",
        r#"[{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "report-0", "namespace": "default",
            "annotations": {"karpenter.sh/do-not-disrupt": "true"}},
            "spec": {"nodeName": "ip-10-0-1-11.ec2.internal", "containers": [{"name": "c", "image": "busybox"}]}}]"#,
    );
    let (code, out, err) = tool(&api, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let findings: Vec<&Value> =
        plan["plan"]["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "KP513").collect();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0]["message"].as_str().unwrap().contains("default-d3e4f"), "{findings:?}");
    assert_eq!(plan["plan"]["claims"][1]["blockedBy"], serde_json::json!(["pod/default/report-0"]));

    let text = std::fs::read_to_string(&api.kubeconfig)
        .unwrap()
        .replace("name: fake", "name: arn:aws:eks:us-west-2:111122223333:cluster/stage")
        .replace("cluster: fake", "cluster: arn:aws:eks:us-west-2:111122223333:cluster/stage")
        .replace("current-context: fake", "current-context: arn:aws:eks:us-west-2:111122223333:cluster/stage");
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("kubeconfig");
    std::fs::write(&other, text).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"))
        .args(["karpenter", "migrate", "--cluster", "prod", "--apply", "--kubeconfig"])
        .arg(Path::new(&other))
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("reaches EKS cluster stage, not prod"), "{err}");
}
