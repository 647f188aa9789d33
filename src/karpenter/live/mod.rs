//! `karpenter migrate --cluster` (issue #18): the live half of the EC2NodeClass migration.
//!
//! What Karpenter does once a class changes (karpenter.sh/docs/concepts/disruption): every
//! NodeClaim launched under the old spec drifts, and the disruption controller replaces drifted
//! claims as fast as the NodePool's budgets allow (the most restrictive budget that applies to
//! `Drifted`, a count or a percentage of the pool's nodes rounded up; 10% when none is set),
//! passing over nodes that carry `karpenter.sh/do-not-disrupt` or run pods that do
//! (karpenter.sh/docs/reference/annotations).
//!
//! The pure part works over a snapshot of the cluster: `change` says what to change on each
//! class and what to back up, `disruption` where the NodeClaims stand and what paces or holds
//! them, and this module puts them together into the plan (and, while following, the status).
//! `run` talks to the API server; `output` renders.

mod change;
mod disruption;
pub mod output;
#[cfg(feature = "aws")]
pub mod run;

pub(crate) use change::change;
pub use change::{Change, backup, clean};
use change::{managed_by_us, needs_migrating};
pub use disruption::{Claim, ClaimState, Tally, budgets, claims};

use super::KarpenterVersion;
use super::codes;
use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::nodeconfig::pointer::Pointer as _;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The field manager this tool applies as (what `metadata.managedFields` will name).
pub const FIELD_MANAGER: &str = "eks-userdata";

pub const FORMAT: &str = "eks-userdata/karpenter-rollout/v1";

/// What the API server holds, as read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub classes: Vec<Value>,
    pub pools: Vec<Value>,
    pub claims: Vec<Value>,
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Pods annotated `karpenter.sh/do-not-disrupt: "true"`, as `namespace/name`, by node.
    pub protected_pods: BTreeMap<String, Vec<String>>,
    /// The pods a drain evicts (active, not a DaemonSet's), by node.
    pub pods: BTreeMap<String, Vec<PodInfo>>,
    pub budgets: Vec<PodBudget>,
}

#[derive(Debug, Clone, Default)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// A PodDisruptionBudget: its selector (as JSON) and `status.disruptionsAllowed`.
#[derive(Debug, Clone, Default)]
pub struct PodBudget {
    pub namespace: String,
    pub name: String,
    pub selector: Option<Value>,
    pub allowed: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub os_image: String,
    pub ready: bool,
    pub do_not_disrupt: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub code: String,
    pub severity: String,
    pub message: String,
}

impl Line {
    fn new(meta: &RuleMeta, message: String) -> Line {
        Line { code: meta.code.into(), severity: meta.severity.as_str().into(), message }
    }

    fn from(d: Diagnostic) -> Line {
        Line { code: d.code.into(), severity: d.severity.as_str().into(), message: d.message }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    pub name: String,
    pub class: String,
    /// The pool's NodeClaims.
    pub nodes: usize,
    /// Drift replacements at once that the always-active budgets allow (`None`: no limit).
    pub allowed: Option<u64>,
    /// Each budget, as read, with how it counts for drift.
    pub budgets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub changes: Vec<Change>,
    /// The classes whose NodeClaims are followed: those changed now, and AL2023 classes that
    /// still have claims on AL2 nodes (a run that stopped while following).
    pub followed: Vec<String>,
    pub pools: Vec<Pool>,
    pub claims: Vec<Claim>,
    pub findings: Vec<Line>,
}

fn name(v: &Value) -> String {
    v.at("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The `status.conditions` entry of type `kind`.
fn condition_entry<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v.at("/status/conditions")?.as_array()?.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition(v: &Value, kind: &str) -> Option<String> {
    condition_entry(v, kind)?.get("status")?.as_str().map(str::to_string)
}

/// What to change, follow and expect.
pub fn plan(s: &Snapshot, version: KarpenterVersion) -> Plan {
    let mut classes: Vec<&Value> = s.classes.iter().collect();
    classes.sort_by_key(|c| name(c));
    let changes: Vec<Change> = classes.iter().filter(|c| needs_migrating(c)).map(|c| change(c, version)).collect();
    let mut followed: BTreeSet<String> = changes.iter().map(|c| c.name.clone()).collect();
    // A class an earlier run changed (its managedFields name this tool) whose claims still run
    // AL2: followed again. Other AL2023 classes with AL2 nodes (a custom AMI family) are not
    // this tool's to wait for.
    let al2023: BTreeSet<String> =
        classes.iter().filter(|c| !needs_migrating(c) && managed_by_us(c)).map(|c| name(c)).collect();
    for c in claims(s, &al2023) {
        if c.state == ClaimState::Al2 {
            followed.insert(c.class);
        }
    }
    let mut p = status(s, &followed);
    p.changes = changes;
    p
}

/// Where the claims of `followed` stand, and what paces or holds them (no changes).
pub fn status(s: &Snapshot, followed: &BTreeSet<String>) -> Plan {
    let claims = claims(s, followed);
    let mut pools = Vec::new();
    let mut findings = Vec::new();
    let mut sorted_pools: Vec<&Value> = s.pools.iter().collect();
    sorted_pools.sort_by_key(|p| name(p));
    for p in sorted_pools {
        let class = p.at("/spec/template/spec/nodeClassRef/name").and_then(Value::as_str).unwrap_or_default();
        if !followed.contains(class) {
            continue;
        }
        let pool_name = name(p);
        // Karpenter counts the pool's initialized nodes that are not being deleted.
        let nodes = s
            .claims
            .iter()
            .filter(|c| c.at("/metadata/labels/karpenter.sh~1nodepool").and_then(Value::as_str) == Some(&pool_name))
            .filter(|c| c.at("/metadata/deletionTimestamp").is_none())
            .filter(|c| {
                let node = c.at("/status/nodeName").and_then(Value::as_str).unwrap_or_default();
                s.nodes.get(node).is_some_and(|n| n.ready)
            })
            .count();
        let (allowed, said) = budgets(p, nodes);
        let al2 = claims.iter().filter(|c| c.pool == pool_name && c.state == ClaimState::Al2).count();
        let frozen: Vec<&String> = said.iter().filter(|b| b.contains("no drift replacement while")).collect();
        if allowed != Some(0) && al2 > 0 && !frozen.is_empty() {
            findings.push(Line::new(
                &codes::BUDGET_BLOCKS,
                format!("NodePool {pool_name}: a scheduled budget allows 0 nodes in its window ({}); run outside it, or its {al2} AL2 node(s) wait until it closes", frozen.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")),
            ));
        }
        if allowed == Some(0) && al2 > 0 {
            findings.push(Line::new(
                &codes::BUDGET_BLOCKS,
                format!("NodePool {pool_name}: a disruption budget allows 0 nodes at once, so its {al2} AL2 node(s) will not be replaced until it is raised ({})", said.join("; ")),
            ));
        }
        pools.push(Pool { name: pool_name, class: class.to_string(), nodes, allowed, budgets: said });
    }
    for c in claims.iter().filter(|c| c.state == ClaimState::Al2 && !c.blocked_by.is_empty()) {
        let (budgets, annotated): (Vec<&String>, Vec<&String>) =
            c.blocked_by.iter().partition(|b| b.starts_with("pdb/"));
        let node = c.node.as_deref().unwrap_or("no node");
        if !annotated.is_empty() {
            let on: Vec<&str> = annotated.iter().map(|s| s.as_str()).collect();
            findings.push(Line::new(
                &codes::DO_NOT_DISRUPT,
                format!(
                    "NodeClaim {} ({node}) stays on AL2 while karpenter.sh/do-not-disrupt is on {}",
                    c.name,
                    on.join(", ")
                ),
            ));
        }
        if !budgets.is_empty() {
            let by: Vec<&str> = budgets.iter().map(|s| s.as_str()).collect();
            findings.push(Line::new(
                &codes::PDB_BLOCKS,
                format!(
                    "NodeClaim {} ({node}) is not a drift candidate while these budgets allow no eviction: {}",
                    c.name,
                    by.join(", ")
                ),
            ));
        }
    }
    // Karpenter launches (and so replaces) nothing for a class that is not Ready.
    for class in s.classes.iter().filter(|c| followed.contains(&name(c))) {
        if condition(class, "Ready").as_deref() == Some("False") {
            let why = condition_entry(class, "Ready")
                .and_then(|c| c.get("message").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            findings.push(Line::new(
                &codes::CLASS_NOT_READY,
                format!(
                    "EC2NodeClass {} is not Ready ({why}): Karpenter launches no replacement for it until it is",
                    name(class)
                ),
            ));
        }
    }
    Plan { changes: Vec::new(), followed: followed.iter().cloned().collect(), pools, claims, findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn class(name: &str, alias: &str, extra: Value) -> Value {
        let mut v = json!({
            "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
            "metadata": {"name": name, "resourceVersion": "7", "uid": "u",
                "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
                    "fieldsV1": {"f:spec": {"f:amiSelectorTerms": {}, "f:role": {}, "f:userData": {}}}}]},
            "spec": {"role": "R", "amiSelectorTerms": [{"alias": alias}],
                "subnetSelectorTerms": [{"tags": {"k": "v"}}], "securityGroupSelectorTerms": [{"tags": {"k": "v"}}]},
            "status": {"amis": []}
        });
        if let (Some(spec), Some(extra)) = (v["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        v
    }

    fn claim(name: &str, class: &str, node: &str, extra: Value) -> Value {
        let mut v = json!({"metadata": {"name": name, "labels": {"karpenter.sh/nodepool": class}},
            "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": class}},
            "status": {"nodeName": node, "conditions": [{"type": "Ready", "status": "True"}]}});
        merge(&mut v, &extra);
        v
    }

    fn merge(a: &mut Value, b: &Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b.clone(),
        }
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot {
            classes: vec![
                class(
                    "default",
                    "al2@v20251023",
                    json!({"userData": "#!/bin/bash\n/etc/eks/bootstrap.sh prod --kubelet-extra-args '--max-pods=58'\n"}),
                ),
                class("batch", "al2023@v20251023", json!({})),
            ],
            pools: vec![
                json!({"metadata": {"name": "default"}, "spec": {"template": {"spec": {"nodeClassRef": {"name": "default"}}},
                "disruption": {"budgets": [{"nodes": "50%"}, {"nodes": "0", "schedule": "0 9 * * mon-fri", "duration": "8h"}, {"nodes": "0", "reasons": ["Underutilized"]}]}}}),
            ],
            claims: vec![
                claim("default-a", "default", "n1", json!({})),
                claim(
                    "default-b",
                    "default",
                    "n2",
                    json!({"status": {"conditions": [{"type": "Drifted", "status": "True"}]}}),
                ),
                claim("batch-a", "batch", "n3", json!({})),
            ],
            ..Default::default()
        };
        for (n, os) in [("n1", "Amazon Linux 2"), ("n2", "Amazon Linux 2"), ("n3", "Amazon Linux 2023.9.20251110")] {
            s.nodes.insert(n.into(), NodeInfo { os_image: os.into(), ready: true, do_not_disrupt: false });
        }
        s
    }

    #[test]
    fn the_apply_holds_only_what_changes_and_the_rest_is_removed_after() {
        let p = plan(&snapshot(), KarpenterVersion::V1_14);
        assert_eq!(p.changes.len(), 1, "the AL2023 class is left alone");
        let c = &p.changes[0];
        assert_eq!(
            c.apply,
            json!({"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
                "metadata": {"name": "default", "resourceVersion": "7"},
                "spec": {"amiSelectorTerms": [{"alias": "al2023@v20251023"}], "kubelet": {"maxPods": 58}}})
        );
        assert_eq!(c.remove, ["userData"]);
        assert_eq!(c.managers, ["kubectl-client-side-apply"]);
        assert!(c.after.get("status").is_none() && c.after["metadata"].get("managedFields").is_none());
        assert!(
            c.report.iter().any(|l| l.code == "KP514" && l.message.contains("--force-conflicts")),
            "{:?}",
            c.report
        );
        assert_eq!(p.followed, ["default"]);
        assert_eq!(Tally::of(&p.claims), Tally { total: 2, replaced: 0, al2: 2, drifted: 1, launching: 0 });
        assert_eq!(
            p.pools[0].allowed,
            Some(1),
            "50% of 2 nodes; the scheduled and consolidation-only budgets do not count"
        );
        assert_eq!(p.findings.len(), 1, "{:?}", p.findings);
        assert!(p.findings[0].message.contains("a scheduled budget allows 0 nodes in its window"));
    }

    #[test]
    fn a_zero_budget_and_do_not_disrupt_are_said() {
        let mut s = snapshot();
        s.pools[0]["spec"]["disruption"]["budgets"] = json!([{"nodes": 0}]);
        s.protected_pods.insert("n1".into(), vec!["default/db-0".into()]);
        let p = plan(&s, KarpenterVersion::V1_14);
        let codes: Vec<&str> = p.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["KP512", "KP513"]);
        assert!(p.findings[1].message.contains("pod/default/db-0"), "{:?}", p.findings);
        // Once its node registered, a claim's own annotation is not read (the node's is).
        s.claims[1]["metadata"]["annotations"] = json!({"karpenter.sh/do-not-disrupt": "true"});
        assert_eq!(plan(&s, KarpenterVersion::V1_14).findings.len(), 2);
        // A claim with a grace period is drifted past its pods' annotation.
        s.claims[0]["spec"]["terminationGracePeriod"] = json!("1h");
        assert_eq!(plan(&s, KarpenterVersion::V1_14).findings.len(), 1);
    }

    #[test]
    fn gitops_owners_are_named_and_a_resumed_run_follows_the_changed_class() {
        let mut s = snapshot();
        s.classes[0]["metadata"]["managedFields"][0]["manager"] = json!("argocd-controller");
        let p = plan(&s, KarpenterVersion::V1_14);
        assert!(p.changes[0].report.iter().any(|l| l.message.contains("argocd-controller syncs from a source")));
        // After the change: the class is AL2023, one claim is replaced, one still runs AL2.
        s.classes[0]["spec"]["amiSelectorTerms"][0]["alias"] = json!("al2023@v20251023");
        s.classes[0]["spec"].as_object_mut().unwrap().remove("userData");
        // Changed by someone else (no eks-userdata entry): not this tool's to follow.
        s.classes[0]["metadata"]["managedFields"] = json!([{"manager": "kubectl-client-side-apply"}]);
        assert!(plan(&s, KarpenterVersion::V1_14).followed.is_empty());
        s.classes[0]["metadata"]["managedFields"] = json!([{"manager": "eks-userdata", "operation": "Apply"}]);
        s.nodes.insert(
            "n1".into(),
            NodeInfo { os_image: "Amazon Linux 2023.9".into(), ready: true, do_not_disrupt: false },
        );
        let p = plan(&s, KarpenterVersion::V1_14);
        assert!(p.changes.is_empty());
        assert_eq!(p.followed, ["default"]);
        let t = Tally::of(&p.claims);
        assert_eq!((t.replaced, t.al2, t.done()), (1, 1, false));
        let launching = Tally { total: 2, replaced: 1, al2: 0, drifted: 0, launching: 1 };
        assert!(launching.done(), "a claim launching for a scale-up is not waited for");
        assert_eq!(t.line(), "1 of 2 NodeClaims on AL2023 nodes; 1 on AL2 (1 drifted), 0 launching");
    }

    #[test]
    fn a_half_migrated_class_is_finished_and_unworkable_ones_are_blocked() {
        let mut s = snapshot();
        // Stopped between the apply and the removal: AL2023 alias, AL2 userData still there.
        s.classes[0]["spec"]["amiSelectorTerms"][0]["alias"] = json!("al2023@v20251023");
        s.classes[0]["spec"]["kubelet"] = json!({"maxPods": 58});
        let p = plan(&s, KarpenterVersion::V1_14);
        assert_eq!(p.changes.len(), 1);
        assert_eq!(p.changes[0].remove, ["userData"]);
        assert_eq!(p.changes[0].blocked, None);
        // amiFamily AL2 with terms that pick images: AL2023 would be told to boot AL2 AMIs.
        let mut s = snapshot();
        s.classes[0]["spec"]["amiSelectorTerms"] = json!([{"tags": {"team": "base"}}]);
        s.classes[0]["spec"]["amiFamily"] = json!("AL2");
        let p = plan(&s, KarpenterVersion::V1_14);
        assert!(p.changes[0].blocked.as_deref().is_some_and(|b| b.contains("pick AMIs by id, name or tags")));
    }

    #[test]
    fn budgets_that_allow_no_eviction_and_a_class_not_ready_are_said() {
        let mut s = snapshot();
        let web = PodInfo {
            namespace: "default".into(),
            name: "web-1".into(),
            labels: [("app".to_string(), "web".to_string())].into(),
        };
        s.pods.insert("n1".into(), vec![web]);
        let budget = |allowed| PodBudget {
            namespace: "default".into(),
            name: "web".into(),
            selector: Some(json!({"matchLabels": {"app": "web"}})),
            allowed,
        };
        s.budgets.push(budget(1));
        assert!(plan(&s, KarpenterVersion::V1_14).findings.iter().all(|f| f.code != "KP515"));
        s.budgets[0] = budget(0);
        s.classes[0]["status"] = json!({"conditions": [{"type": "Ready", "status": "False", "message": "AMISelector did not match any AMIs"}]});
        let p = plan(&s, KarpenterVersion::V1_14);
        let codes: Vec<&str> = p.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"KP515") && codes.contains(&"KP516"), "{:?}", p.findings);
        assert!(p.findings.iter().any(|f| f.message.contains("pdb/default/web (pod web-1)")));
        assert!(p.findings.iter().any(|f| f.message.contains("AMISelector did not match any AMIs")));
    }

    #[test]
    fn the_backup_is_the_classes_as_read_without_server_fields() {
        let b = backup(&snapshot(), &["default".into()], "prod");
        assert!(b.starts_with("# EC2NodeClasses of cluster prod"));
        assert!(b.contains("alias: al2@v20251023") && b.contains("userData:") && !b.contains("batch"));
        assert!(!b.contains("resourceVersion") && !b.contains("managedFields") && !b.contains("amis"));
    }
}
