//! Where the NodeClaims of the followed classes stand, and what paces or holds Karpenter's
//! drift replacement of them (sigs.k8s.io/karpenter's disruption controller;
//! karpenter.sh/docs/concepts/disruption and reference/annotations): the NodePool's budgets as
//! Karpenter counts them for `Drifted`, `karpenter.sh/do-not-disrupt` on a node (on a claim only
//! before its node registers) or on a running pod, and PodDisruptionBudgets that allow no
//! eviction, which keep a node from being a candidate unless its claim has a grace period.

use super::{Snapshot, condition, name};
use crate::nodeconfig::pointer::Pointer as _;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

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

fn annotated(v: &Value) -> bool {
    v.at("/metadata/annotations/karpenter.sh~1do-not-disrupt").and_then(Value::as_str) == Some("true")
}

/// Amazon Linux 2 and not 2023 (as `status.nodeInfo.osImage` says).
fn is_al2_image(os: &str) -> bool {
    let os = os.trim();
    os.starts_with("Amazon Linux 2") && !os.starts_with("Amazon Linux 2023")
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
