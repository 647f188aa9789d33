//! `nodegroup bluegreen`: a managed node group moves to AL2023 the way EKS requires when it
//! cannot change the AMI type in place (peers §4 rules 5 and 6: "you're required to upgrade using
//! a blue/green strategy"): an AL2023 twin with the same instance types, scaling, subnets,
//! labels, taints and launch template is created, waited for (ACTIVE, nodes Ready), the old
//! nodes are tainted and cordoned, then drained one by one through the Eviction API (which
//! honours PodDisruptionBudgets), and the old group is deleted only when asked.
//!
//! The plan is data (this module, pure and unit-tested); `run` carries it out (the `aws`
//! feature). The plan file is also the record of progress: each step is written there before it
//! is taken on the cluster, so a run that stops anywhere (an error, a timeout, Ctrl-C) leaves no
//! node cordoned without the plan saying so, and a re-run with `--plan` continues where it
//! stopped and never creates a second twin.

#[cfg(feature = "aws")]
pub mod run;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FORMAT: &str = "eks-userdata/bluegreen-plan/v1";

/// The tag the twin carries: which group it replaces (how a re-run recognises it).
pub const TWIN_TAG: &str = "eks-userdata/bluegreen-of";

/// The taint the old nodes get before they are drained, so nothing new lands there.
pub const TAINT_KEY: &str = "eks-userdata/migrating";

/// The old node group as EKS describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub name: String,
    pub ami_type: Option<String>,
    pub instance_types: Vec<String>,
    pub capacity_type: Option<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_size: i32,
    pub subnets: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub node_role: String,
    /// Launch template id and version.
    pub launch_template: Option<(String, String)>,
    pub disk_size: Option<i32>,
    pub tags: BTreeMap<String, String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// EKS's spelling: `NO_SCHEDULE`, `NO_EXECUTE`, `PREFER_NO_SCHEDULE`.
    pub effect: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeState {
    /// Not touched yet.
    Pending,
    /// Tainted and cordoned (recorded before it was done).
    Cordoned,
    /// Every evictable pod is gone from it.
    Drained,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStep {
    pub name: String,
    pub state: NodeState,
}

/// What is done, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub twin_created: bool,
    pub twin_active: bool,
    pub twin_ready: bool,
    pub drained: bool,
    pub old_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format: String,
    pub cluster: String,
    pub old: String,
    pub twin: Group,
    /// The old group's nodes, in drain order.
    pub nodes: Vec<NodeStep>,
    /// The PodDisruptionBudgets that select pods on those nodes, as `namespace/name (allows N)`.
    pub budgets: Vec<String>,
    pub progress: Progress,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("node group {0} has AMI type {1}, which is not an Amazon Linux 2 type: nothing to move")]
    NotAl2(String, String),
    #[error(
        "node group {0} uses launch template {1} version {2}, whose user data still calls bootstrap.sh: convert it first (`eks-userdata push --id {1}`), then give the new version with --launch-template-version"
    )]
    Al2UserData(String, String, String),
    #[error(
        "node group {0} runs a custom AMI from launch template {1}: make an AL2023 version of the template (`eks-userdata push --id {1} --ami auto`) and give it with --launch-template-version"
    )]
    CustomAmi(String, String),
    #[error("the twin's name {0} is longer than EKS's 63 characters: give a shorter NEW name")]
    NameTooLong(String),
}

/// The AL2023 twin of `old`. `template_version`: the launch template version the twin uses
/// (from `push`); `user_data_is_al2`: whether the old group's template version still calls
/// bootstrap.sh (read by the caller).
pub fn twin(
    old: &Group,
    new_name: &str,
    template_version: Option<&str>,
    user_data_is_al2: bool,
) -> Result<Group, PlanError> {
    if new_name.len() > 63 {
        return Err(PlanError::NameTooLong(new_name.to_string()));
    }
    let mut t = old.clone();
    t.name = new_name.to_string();
    t.status = None;
    // eksctl's and CloudFormation's ownership tags say who made the old group; the twin is
    // this tool's.
    t.tags.retain(|k, _| {
        !k.starts_with("alpha.eksctl.io/") && !k.starts_with("eksctl.cluster.k8s.io/") && !k.starts_with("aws:")
    });
    t.tags.insert(TWIN_TAG.into(), old.name.clone());
    match (old.ami_type.as_deref(), &old.launch_template) {
        // A template that names an AMI: EKS reports CUSTOM; the AMI is the template's.
        (Some("CUSTOM"), Some((id, _))) => match template_version {
            Some(v) => t.launch_template = Some((id.clone(), v.to_string())),
            None => return Err(PlanError::CustomAmi(old.name.clone(), id.clone())),
        },
        (Some(a), lt) => {
            let mapped =
                crate::migrate::ami::ami_type(a).ok_or_else(|| PlanError::NotAl2(old.name.clone(), a.to_string()))?;
            t.ami_type = Some(mapped.to);
            if let Some((id, v)) = lt {
                match template_version {
                    Some(nv) => t.launch_template = Some((id.clone(), nv.to_string())),
                    None if user_data_is_al2 => {
                        return Err(PlanError::Al2UserData(old.name.clone(), id.clone(), v.clone()));
                    }
                    None => {}
                }
            }
        }
        (None, _) => t.ami_type = Some("AL2023_x86_64_STANDARD".into()),
    }
    Ok(t)
}

/// The default twin name: the old one with `-al2023`, kept within EKS's 63 characters.
pub fn twin_name(old: &str) -> String {
    let suffix = "-al2023";
    let keep = 63 - suffix.len();
    let base: String = old.chars().take(keep).collect();
    format!("{base}{suffix}")
}

impl Plan {
    pub fn new(cluster: &str, old: &Group, twin: Group, mut nodes: Vec<String>, budgets: Vec<String>) -> Plan {
        nodes.sort();
        let mut notes = Vec::new();
        if let Some(c) = old.capacity_type.as_deref().filter(|c| *c == "SPOT") {
            notes.push(format!("capacity type {c}: the twin asks for the same"));
        }
        if !old.taints.is_empty() || !old.labels.is_empty() {
            notes.push("the twin carries the old group's labels and taints".into());
        }
        Plan {
            format: FORMAT.into(),
            cluster: cluster.to_string(),
            old: old.name.clone(),
            twin,
            nodes: nodes.into_iter().map(|name| NodeStep { name, state: NodeState::Pending }).collect(),
            budgets,
            progress: Progress::default(),
            notes,
        }
    }

    /// The plan for a person: what will be created, which nodes drain in which order, and what
    /// constrains it.
    pub fn describe(&self) -> String {
        let t = &self.twin;
        let mut out = format!("blue/green for node group {} of cluster {}\n", self.old, self.cluster);
        let done = |b: bool| if b { "done" } else { "to do" };
        out.push_str(&format!(
            "  1. create node group {} ({}): {}, {} to {} nodes (desired {}), {} subnet(s){}: {}\n",
            t.name,
            t.ami_type.as_deref().unwrap_or("AMI from the launch template"),
            t.instance_types.join(", "),
            t.min_size,
            t.max_size,
            t.desired_size,
            t.subnets.len(),
            t.launch_template.as_ref().map(|(id, v)| format!(", launch template {id} version {v}")).unwrap_or_default(),
            done(self.progress.twin_created)
        ));
        out.push_str(&format!(
            "  2. wait until it is ACTIVE and its nodes are Ready: {}\n",
            done(self.progress.twin_ready)
        ));
        out.push_str(&format!(
            "  3. taint ({TAINT_KEY}=true:NoSchedule) and cordon the old nodes, then drain them one by one:\n"
        ));
        for n in &self.nodes {
            let s = match n.state {
                NodeState::Pending => "to do",
                NodeState::Cordoned => "cordoned",
                NodeState::Drained => "drained",
            };
            out.push_str(&format!("     - {}: {s}\n", n.name));
        }
        if self.budgets.is_empty() {
            out.push_str("     no PodDisruptionBudget selects pods on them\n");
        } else {
            out.push_str(&format!("     PodDisruptionBudgets that pace the drain: {}\n", self.budgets.join(", ")));
        }
        out.push_str(&format!("  4. check that no pod is left Pending: {}\n", done(self.progress.drained)));
        out.push_str(&format!(
            "  5. delete node group {} (only with --delete-old): {}\n",
            self.old,
            done(self.progress.old_deleted)
        ));
        for n in &self.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old() -> Group {
        Group {
            name: "general".into(),
            ami_type: Some("AL2_x86_64".into()),
            instance_types: vec!["m6i.large".into()],
            min_size: 1,
            max_size: 4,
            desired_size: 2,
            subnets: vec!["subnet-1".into()],
            labels: [("team".to_string(), "pay".to_string())].into(),
            taints: vec![Taint { key: "dedicated".into(), value: Some("pay".into()), effect: "NO_SCHEDULE".into() }],
            node_role: "arn:aws:iam::1:role/node".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_twin_keeps_everything_but_the_ami_type() {
        let mut tagged = old();
        tagged.tags = [
            ("alpha.eksctl.io/eksctl-version".to_string(), "0.150.0".to_string()),
            ("team".to_string(), "pay".to_string()),
        ]
        .into();
        let t = twin(&tagged, "general-al2023", None, false).unwrap();
        assert!(
            !t.tags.contains_key("alpha.eksctl.io/eksctl-version") && t.tags.contains_key("team"),
            "eksctl's ownership tags are not copied"
        );
        assert_eq!(t.ami_type.as_deref(), Some("AL2023_x86_64_STANDARD"));
        assert_eq!((t.labels, t.taints, t.instance_types), (old().labels, old().taints, old().instance_types));
        assert_eq!(t.tags.get(TWIN_TAG).map(String::as_str), Some("general"));
        let mut lt = old();
        lt.launch_template = Some(("lt-1".into(), "3".into()));
        assert!(matches!(twin(&lt, "x", None, true), Err(PlanError::Al2UserData(..))));
        assert_eq!(twin(&lt, "x", Some("4"), true).unwrap().launch_template, Some(("lt-1".into(), "4".into())));
        assert_eq!(twin(&lt, "x", None, false).unwrap().launch_template, Some(("lt-1".into(), "3".into())));
        let mut custom = lt.clone();
        custom.ami_type = Some("CUSTOM".into());
        assert!(matches!(twin(&custom, "x", None, false), Err(PlanError::CustomAmi(..))));
        let mut br = old();
        br.ami_type = Some("BOTTLEROCKET_x86_64".into());
        assert!(matches!(twin(&br, "x", None, false), Err(PlanError::NotAl2(..))));
        assert_eq!(twin_name(&"n".repeat(70)).len(), 63);
    }

    #[test]
    fn the_plan_lists_its_steps_and_round_trips() {
        let p = Plan::new(
            "prod",
            &old(),
            twin(&old(), "general-al2023", None, false).unwrap(),
            vec!["b".into(), "a".into()],
            vec!["default/web (allows 0)".into()],
        );
        let text = p.describe();
        assert!(text.contains("  1. create node group general-al2023 (AL2023_x86_64_STANDARD): m6i.large, 1 to 4 nodes (desired 2), 1 subnet(s): to do"), "{text}");
        assert!(text.find("     - a: to do").unwrap() < text.find("     - b: to do").unwrap(), "{text}");
        let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
