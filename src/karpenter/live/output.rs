//! Text and JSON renderings of a live Karpenter migration: the plan before anything changes, and
//! the summary after (what was applied, where every NodeClaim ended).

use super::{ClaimState, Plan, Tally};
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;

/// What the run did, for the summary (and `--format json`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub format: &'static str,
    pub cluster: String,
    pub plan: Plan,
    /// Where the classes were saved before the change.
    pub backup: Option<String>,
    /// Classes changed on the cluster by this run.
    pub applied: Vec<String>,
    /// Whether the NodeClaims were followed, and how it ended.
    pub followed: bool,
    pub done: bool,
    pub tally: Tally,
}

fn yaml(v: &Value) -> String {
    crate::nodeconfig::yaml::to_string(v).unwrap_or_default()
}

/// The plan, for a person: each change as the fields it sets and removes, the claims and the
/// budgets that pace them, what holds them back.
pub fn plan_text(p: &Plan, cluster: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Karpenter on cluster {cluster}: {} EC2NodeClass(es) to move to AL2023", p.changes.len());
    if p.changes.is_empty() && p.followed.is_empty() {
        let _ =
            writeln!(out, "nothing to do: no EC2NodeClass selects AL2 and no NodeClaim of an AL2023 class runs AL2");
    }
    for c in &p.changes {
        let _ = writeln!(out, "\nec2nodeclass/{}:", c.name);
        let _ = writeln!(out, "  sets (server-side apply, field manager {}):", super::FIELD_MANAGER);
        let spec = c.apply.get("spec").cloned().unwrap_or(Value::Null);
        for line in yaml(&serde_json::json!({ "spec": spec })).lines() {
            // A blank line inside a block scalar stays blank (no trailing indentation).
            let _ = writeln!(out, "{}", format!("    {line}").trim_end());
        }
        if !c.remove.is_empty() {
            let _ = writeln!(out, "  removes: spec.{}", c.remove.join(", spec."));
        }
        for l in &c.report {
            let _ = writeln!(out, "  {} {}: {}", l.code, l.severity, l.message);
        }
        if let Some(why) = &c.blocked {
            let _ = writeln!(out, "  NOT APPLIED: {why}");
        }
    }
    if !p.followed.is_empty() {
        let _ = writeln!(out, "\nNodeClaims of {} (Karpenter replaces them as they drift):", p.followed.join(", "));
        for c in &p.claims {
            let state = match c.state {
                ClaimState::Al2 if c.drifted => "AL2, drifted",
                ClaimState::Al2 => "AL2",
                ClaimState::Launching => "launching",
                ClaimState::Replaced => "replaced",
            };
            let _ = writeln!(
                out,
                "  - {} (NodePool {}, node {}): {state}",
                c.name,
                c.pool,
                c.node.as_deref().unwrap_or("none yet")
            );
        }
        for pool in &p.pools {
            let allowed = pool.allowed.map_or("no limit".to_string(), |n| format!("{n} at once"));
            let _ = writeln!(
                out,
                "  NodePool {} ({} nodes): drift replacements {allowed} [{}]",
                pool.name,
                pool.nodes,
                pool.budgets.join("; ")
            );
        }
    }
    for f in &p.findings {
        let _ = writeln!(out, "{} {}: {}", f.code, f.severity, f.message);
    }
    out
}

pub fn summary_text(s: &Summary) -> String {
    let mut out = String::new();
    if let Some(b) = &s.backup {
        let _ = writeln!(out, "backup: {b} (restore with `kubectl replace -f {b}`)");
    }
    if !s.applied.is_empty() {
        let _ = writeln!(out, "applied: ec2nodeclass/{}", s.applied.join(", ec2nodeclass/"));
    }
    if s.followed {
        let _ = writeln!(out, "{}", s.tally.line());
        let left: Vec<String> = s
            .plan
            .claims
            .iter()
            .filter(|c| c.state != ClaimState::Replaced)
            .map(|c| {
                let why = if c.blocked_by.is_empty() {
                    String::new()
                } else {
                    format!(", held by karpenter.sh/do-not-disrupt on {}", c.blocked_by.join(", "))
                };
                format!("  - {} on {}{why}", c.name, c.node.as_deref().unwrap_or("no node yet"))
            })
            .collect();
        if !left.is_empty() {
            let _ = writeln!(out, "not replaced:\n{}", left.join("\n"));
            for f in &s.plan.findings {
                let _ = writeln!(out, "{} {}: {}", f.code, f.severity, f.message);
            }
        }
    }
    out
}
