//! PF602: nodes whose OS image is Amazon Linux 2, by group, and AL2 managed node groups.

use super::super::inventory::Inventory;
use super::super::{Finding, codes};
use crate::diagnostic::Severity;
use std::collections::BTreeMap;

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(k) = &inv.kubernetes {
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for n in k.nodes.iter().filter(|n| n.is_al2()) {
            groups.entry(n.group()).or_default().push(&n.name);
        }
        for (group, names) in groups {
            let shown: Vec<&str> = names.iter().take(5).copied().collect();
            let more = if names.len() > 5 { format!(" and {} more", names.len() - 5) } else { String::new() };
            out.push(Finding::new(
                &codes::AL2_NODES,
                Severity::Warning,
                group,
                format!("{} node(s) run Amazon Linux 2: {}{more}", names.len(), shown.join(", ")),
            ));
        }
    }
    if let Some(a) = &inv.aws {
        for g in &a.nodegroups {
            if let Some(t) = g.ami_type.as_deref().filter(|t| t.starts_with("AL2_")) {
                out.push(Finding::new(
                    &codes::AL2_NODES,
                    Severity::Warning,
                    format!("managed node group {}", g.name),
                    format!("amiType {t}: EKS cannot change a node group's AMI type in place, so it moves by a blue/green twin"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{AwsView, KubeView, Node, NodeGroup};

    #[test]
    fn al2_nodes_are_grouped_and_node_groups_listed() {
        let node = |name: &str, os: &str, ng: &str| Node {
            name: name.into(),
            os_image: os.into(),
            labels: [("eks.amazonaws.com/nodegroup".to_string(), ng.to_string())].into(),
        };
        let inv = Inventory {
            kubernetes: Some(KubeView {
                nodes: vec![
                    node("a", "Amazon Linux 2", "old"),
                    node("b", "Amazon Linux 2", "old"),
                    node("c", "Amazon Linux 2023.6.20250107", "new"),
                ],
                ..Default::default()
            }),
            aws: Some(AwsView {
                nodegroups: vec![
                    NodeGroup { name: "old".into(), ami_type: Some("AL2_x86_64".into()), ..Default::default() },
                    NodeGroup {
                        name: "new".into(),
                        ami_type: Some("AL2023_x86_64_STANDARD".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
        };
        let f = check(&inv);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(
            (f[0].subject.as_str(), f[0].message.as_str()),
            ("node group old", "2 node(s) run Amazon Linux 2: a, b")
        );
        assert_eq!(f[1].subject, "managed node group old");
    }
}
