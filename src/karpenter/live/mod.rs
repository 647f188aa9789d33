//! `karpenter migrate --cluster` (issue #18): the live half of the EC2NodeClass migration.
//!
//! What Karpenter does once a class changes (karpenter.sh/docs/concepts/disruption): every
//! NodeClaim launched under the old spec drifts, and the disruption controller replaces drifted
//! claims as fast as the NodePool's budgets allow (the most restrictive budget that applies to
//! `Drifted`, a count or a percentage of the pool's nodes rounded up; 10% when none is set),
//! passing over nodes that carry `karpenter.sh/do-not-disrupt` or run pods that do
//! (karpenter.sh/docs/reference/annotations).
//!
//! This module is the pure part, over a snapshot of the cluster: what to change (a server-side
//! apply configuration holding only the changed fields, plus the fields to remove, which an
//! apply cannot take away from the manager that set them), what to back up, what will hold the
//! rollout back, and how far it has come. `run` talks to the API server.

pub mod output;
#[cfg(feature = "aws")]
pub mod run;

use super::KarpenterVersion;
use super::codes;
use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::nodeconfig::pointer::Pointer as _;
use serde::Serialize;
use serde_json::{Map, Value, json};
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

/// The budgets that let none of `node`'s pods be evicted now, as `namespace/budget (pod)`.
/// Karpenter does not pick such a node for drift unless its claim has a grace period
/// (sigs.k8s.io/karpenter, disruption candidates: "pdb prevents pod evictions").
fn held_by_budgets(s: &Snapshot, node: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pod in s.pods.get(node).into_iter().flatten() {
        for b in s.budgets.iter().filter(|b| b.namespace == pod.namespace && b.allowed <= 0) {
            if crate::selector::matches(b.selector.as_ref(), &pod.labels) {
                out.push(format!("pdb/{}/{} (pod {})", b.namespace, b.name, pod.name));
            }
        }
    }
    out
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

/// One EC2NodeClass to change.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub name: String,
    /// The server-side apply configuration: the changed top-level `spec` fields only, so the
    /// fields this tool takes over are the ones it changes.
    pub apply: Value,
    /// Top-level `spec` fields the migration drops (a merge patch removes them after the apply).
    pub remove: Vec<String>,
    /// The class as it will read after the change (server fields left out).
    pub after: Value,
    pub report: Vec<Line>,
    /// Other field managers that own fields this change sets or removes.
    pub managers: Vec<String>,
    /// Why it will not be applied (the run stops before any write), if it will not.
    pub blocked: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ClaimState {
    /// Its node runs Amazon Linux 2: still to be replaced.
    Al2,
    /// No Ready node yet (a replacement being launched).
    Launching,
    /// A Ready node that is not Amazon Linux 2.
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub name: String,
    pub class: String,
    pub pool: String,
    pub node: Option<String>,
    pub os_image: Option<String>,
    pub state: ClaimState,
    pub drifted: bool,
    /// What holds it back (`karpenter.sh/do-not-disrupt` on the claim, its node or its pods).
    pub blocked_by: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub total: usize,
    pub replaced: usize,
    pub al2: usize,
    pub drifted: usize,
    pub launching: usize,
}

impl Tally {
    pub fn of(claims: &[Claim]) -> Tally {
        let count = |s| claims.iter().filter(|c| c.state == s).count();
        Tally {
            total: claims.len(),
            replaced: count(ClaimState::Replaced),
            al2: count(ClaimState::Al2),
            drifted: claims.iter().filter(|c| c.state == ClaimState::Al2 && c.drifted).count(),
            launching: count(ClaimState::Launching),
        }
    }

    /// No claim of the followed classes runs AL2. Claims still launching are not waited for:
    /// Karpenter deletes a drifted claim only once its replacement is initialized, so they are
    /// new capacity (a scale-up), not the migration's.
    pub fn done(&self) -> bool {
        self.al2 == 0
    }

    pub fn line(&self) -> String {
        format!(
            "{} of {} NodeClaims on AL2023 nodes; {} on AL2 ({} drifted), {} launching",
            self.replaced, self.total, self.al2, self.drifted, self.launching
        )
    }
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

fn annotated(v: &Value) -> bool {
    v.at("/metadata/annotations/karpenter.sh~1do-not-disrupt").and_then(Value::as_str) == Some("true")
}

fn condition(v: &Value, kind: &str) -> Option<String> {
    v.at("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))?
        .get("status")?
        .as_str()
        .map(str::to_string)
}

/// A class as a person would write it: server-set metadata and status left out.
pub fn clean(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] {
            md.remove(k);
        }
        // Karpenter's own hash of the spec: it writes it again, and a backup taken again after
        // it changed should still read the same.
        if let Some(a) = md.get_mut("annotations").and_then(Value::as_object_mut) {
            a.retain(|k, _| !k.starts_with("karpenter.k8s.aws/ec2nodeclass-hash"));
            if a.is_empty() {
                md.remove("annotations");
            }
        }
    }
    v
}

/// Amazon Linux 2 and not 2023 (as `status.nodeInfo.osImage` says).
fn is_al2_image(os: &str) -> bool {
    let os = os.trim();
    os.starts_with("Amazon Linux 2") && !os.starts_with("Amazon Linux 2023")
}

/// A class to migrate: one that selects AL2, or an AL2023 one whose `userData` still calls
/// bootstrap.sh (a run stopped between its apply and the removal of `userData`, or a class
/// someone half-migrated by hand).
fn needs_migrating(class: &Value) -> bool {
    if super::migrate::is_al2(class) {
        return true;
    }
    let Some(user_data) = class.at("/spec/userData").and_then(Value::as_str) else { return false };
    let env = crate::userdata::Envelope::parse(user_data.as_bytes(), &crate::userdata::Limits::default());
    !crate::lint::rules::bootstrap_sh_call::calls(&env).is_empty()
}

/// Why a change must not be applied to a live class: what it would make cannot work. `None`
/// when it can go.
fn blocked(before: &Value, report: &[Line]) -> Option<String> {
    let selects_images = before
        .at("/spec/amiSelectorTerms")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.get("alias").is_none()));
    if before.at("/spec/amiFamily").and_then(Value::as_str) == Some("AL2") && selects_images {
        return Some(
            "its amiSelectorTerms pick AMIs by id, name or tags, which are AL2 images today: with amiFamily AL2023 its nodes would not join; point the terms at AL2023 images (or an al2023@ alias) first".into(),
        );
    }
    let errors: Vec<&str> = report.iter().filter(|l| l.severity == "error").map(|l| l.code.as_str()).collect();
    (!errors.is_empty()).then(|| {
        format!(
            "the migrated class has errors ({}): fix them in the cluster or migrate the source files",
            errors.join(", ")
        )
    })
}

/// Field managers other than this tool that own any of `keys` of `spec`.
fn owners(class: &Value, keys: &[String]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for entry in class.at("/metadata/managedFields").and_then(Value::as_array).into_iter().flatten() {
        let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("unknown");
        if manager == FIELD_MANAGER {
            continue;
        }
        let spec = entry.at("/fieldsV1/f:spec");
        if keys.iter().any(|k| spec.and_then(|s| s.get(format!("f:{k}"))).is_some()) {
            out.insert(manager.to_string());
        }
    }
    out.into_iter().collect()
}

fn managed_by_us(class: &Value) -> bool {
    class
        .at("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)))
}

/// Managers that sync from a source and would put the old values back.
fn is_gitops(manager: &str) -> bool {
    let m = manager.to_ascii_lowercase();
    ["argocd", "kustomize-controller", "helm-controller", "helm", "flux", "terraform", "pulumi"]
        .iter()
        .any(|g| m.contains(g))
}

pub(crate) fn change(class: &Value, version: KarpenterVersion) -> Change {
    let class_name = name(class);
    let before = clean(class);
    let mut after = before.clone();
    let mut entries = Vec::new();
    super::migrate::migrate_one(&format!("ec2nodeclass/{class_name}"), &mut after, version, &mut entries);
    let empty = Map::new();
    let old_spec = before.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let new_spec = after.get("spec").and_then(Value::as_object).unwrap_or(&empty);
    let changed: Map<String, Value> =
        new_spec.iter().filter(|(k, v)| old_spec.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove: Vec<String> = old_spec.keys().filter(|k| !new_spec.contains_key(*k)).cloned().collect();
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(class_name));
    // The apply is conditional on the version read: a class edited meanwhile is a conflict.
    if let Some(rv) = class.at("/metadata/resourceVersion") {
        metadata.insert("resourceVersion".into(), rv.clone());
    }
    let apply = json!({
        "apiVersion": class.get("apiVersion").cloned().unwrap_or(json!("karpenter.k8s.aws/v1")),
        "kind": "EC2NodeClass",
        "metadata": metadata,
        "spec": changed,
    });
    let touched: Vec<String> = changed.keys().cloned().chain(remove.iter().cloned()).collect();
    let managers = owners(class, &touched);
    let mut report: Vec<Line> = entries.into_iter().map(Line::from).collect();
    if !managers.is_empty() {
        let gitops: Vec<&String> = managers.iter().filter(|m| is_gitops(m)).collect();
        let why = if gitops.is_empty() {
            "the apply takes them over only with --force-conflicts".to_string()
        } else {
            format!(
                "{} syncs from a source and would put the AL2 values back: migrate the source (`eks-userdata karpenter migrate FILE --in-place`) instead",
                gitops.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        };
        report.push(Line::new(
            &codes::OTHER_MANAGER,
            format!(
                "{class_name}: spec fields it changes ({}) are owned by {}; {why}",
                touched.join(", "),
                managers.join(", ")
            ),
        ));
    }
    let blocked = blocked(&before, &report);
    Change { name: class_name, apply, remove, after, report, managers, blocked }
}

/// The budgets of a pool, for drift, over `nodes` NodeClaims: (what they allow at once, each
/// described).
pub fn budgets(pool: &Value, nodes: usize) -> (Option<u64>, Vec<String>) {
    let listed = pool.at("/spec/disruption/budgets").and_then(Value::as_array);
    let default = [json!({"nodes": "10%"})];
    let (list, defaulted) = match listed {
        Some(l) => (l.as_slice(), false),
        None => (&default[..], true),
    };
    let mut allowed: Option<u64> = None;
    let mut said = Vec::new();
    for b in list {
        let value = match b.get("nodes") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => "10%".into(),
        };
        let mut text = format!("nodes: {value}");
        if defaulted {
            text.push_str(" (Karpenter's default)");
        }
        let reasons: Vec<&str> = b
            .get("reasons")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !reasons.is_empty() && !reasons.contains(&"Drifted") {
            said.push(format!("{text} for {} only: not for drift", reasons.join(", ")));
            continue;
        }
        if let Some(schedule) = b.get("schedule").and_then(Value::as_str) {
            let duration = b.get("duration").and_then(Value::as_str).unwrap_or("?");
            let zero = matches!(value.as_str(), "0" | "0%");
            let note =
                if zero { "no drift replacement while that window is open" } else { "applies in that window only" };
            said.push(format!("{text} during \"{schedule}\" (UTC) for {duration}: {note}"));
            continue;
        }
        let n = match value.strip_suffix('%').map(str::parse::<u64>) {
            Some(Ok(pct)) => (nodes as u64).saturating_mul(pct.min(100)).div_ceil(100),
            Some(Err(_)) => continue,
            None => match value.parse::<u64>() {
                Ok(n) => n,
                Err(_) => continue,
            },
        };
        said.push(format!("{text}: {n} at once"));
        allowed = Some(allowed.map_or(n, |a| a.min(n)));
    }
    (allowed, said)
}

/// The claims of `classes`, with where each one is.
pub fn claims(s: &Snapshot, classes: &BTreeSet<String>) -> Vec<Claim> {
    let mut out = Vec::new();
    for c in &s.claims {
        let class = c.at("/spec/nodeClassRef/name").and_then(Value::as_str).unwrap_or_default().to_string();
        if !classes.contains(&class) {
            continue;
        }
        let node = c.at("/status/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string);
        let info = node.as_ref().and_then(|n| s.nodes.get(n));
        // A claim being deleted whose node is gone already is on its way out, not launching.
        if info.is_none() && c.at("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let state = match info {
            Some(i) if is_al2_image(&i.os_image) => ClaimState::Al2,
            Some(i) if i.ready && !i.os_image.trim().is_empty() => ClaimState::Replaced,
            _ => ClaimState::Launching,
        };
        let mut blocked_by = Vec::new();
        // Karpenter reads the claim's annotation only until its node registers, then the node's.
        if annotated(c) && info.is_none() {
            blocked_by.push(format!("nodeclaim/{}", name(c)));
        }
        if let (Some(n), Some(i)) = (&node, info) {
            if i.do_not_disrupt {
                blocked_by.push(format!("node/{n}"));
            }
            // A pod's annotation, or a budget that lets none of its pods go, holds drift back
            // only when the claim sets no grace period.
            if c.at("/spec/terminationGracePeriod").is_none() {
                blocked_by.extend(s.protected_pods.get(n).into_iter().flatten().map(|p| format!("pod/{p}")));
                blocked_by.extend(held_by_budgets(s, n));
            }
        }
        out.push(Claim {
            name: name(c),
            class,
            pool: c.at("/metadata/labels/karpenter.sh~1nodepool").and_then(Value::as_str).unwrap_or_default().into(),
            os_image: info.map(|i| i.os_image.clone()),
            node,
            state,
            drifted: condition(c, "Drifted").as_deref() == Some("True"),
            blocked_by,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
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
            let why = class
                .at("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|x| x.get("type").and_then(Value::as_str) == Some("Ready")))
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

/// The classes as read, before any change: what `kubectl replace -f` puts back.
pub fn backup(s: &Snapshot, names: &[String], cluster: &str) -> String {
    let mut out = format!(
        "# EC2NodeClasses of cluster {cluster} before `eks-userdata karpenter migrate --cluster {cluster}`.\n# To put them back: kubectl replace -f THIS-FILE\n"
    );
    let mut classes: Vec<&Value> = s.classes.iter().filter(|c| names.contains(&name(c))).collect();
    classes.sort_by_key(|c| name(c));
    for c in classes {
        out.push_str("---\n");
        out.push_str(&crate::nodeconfig::yaml::to_string(&clean(c)).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn budgets_count_as_karpenter_does() {
        let pool = |b: Value| json!({"spec": {"disruption": {"budgets": b}}});
        assert_eq!(budgets(&json!({}), 25).0, Some(3), "10% of 25, rounded up");
        assert_eq!(budgets(&pool(json!([{"nodes": "20%"}, {"nodes": "5"}])), 100).0, Some(5));
        assert_eq!(budgets(&pool(json!([{"nodes": "0", "reasons": ["Drifted"]}])), 4).0, Some(0));
        assert_eq!(budgets(&pool(json!([{"nodes": "0", "reasons": ["Empty"]}])), 4).0, None);
        assert_eq!(budgets(&pool(json!([{"nodes": "x%"}])), 4).0, None, "an unreadable budget is not counted");
        assert_eq!(budgets(&pool(json!([{"nodes": "99999999999999999999%"}])), 4).0, None);
        assert_eq!(budgets(&pool(json!([{"nodes": "250%"}])), 7).0, Some(7), "never more than the pool");
    }

    #[test]
    fn the_backup_is_the_classes_as_read_without_server_fields() {
        let b = backup(&snapshot(), &["default".into()], "prod");
        assert!(b.starts_with("# EC2NodeClasses of cluster prod"));
        assert!(b.contains("alias: al2@v20251023") && b.contains("userData:") && !b.contains("batch"));
        assert!(!b.contains("resourceVersion") && !b.contains("managedFields") && !b.contains("amis"));
    }
}
