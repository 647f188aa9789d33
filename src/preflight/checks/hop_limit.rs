//! PF606: each managed node group's launch template hop limit, and whether the workloads that
//! need IMDS (PF605) would be cut off there.

use super::super::inventory::Inventory;
use super::super::{Finding, codes};
use crate::diagnostic::Severity;

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let Some(a) = &inv.aws else { return Vec::new() };
    let needing = super::needs_imds(inv).len();
    a.nodegroups
        .iter()
        .map(|g| {
            let subject = format!("managed node group {}", g.name);
            let (limit, said) = match (&g.launch_template, g.hop_limit) {
                (None, _) => (None, "no launch template: EKS's default applies (1 for AL2023)".to_string()),
                (Some(lt), None) if g.ami_type.as_deref() == Some("CUSTOM") => (
                    Some(0),
                    format!("launch template {lt} sets no hop limit and names its own AMI: that AMI's default applies; check it"),
                ),
                (Some(lt), None) => {
                    (None, format!("launch template {lt} sets no hop limit: the AMI's default applies (1 for AL2023)"))
                }
                (Some(lt), Some(h)) => (Some(h), format!("launch template {lt} sets HttpPutResponseHopLimit {h}")),
            };
            // Some(0): not known (a custom AMI's default), said but not judged.
            let cut_off = limit.is_none_or(|h| (1..2).contains(&h)) && needing > 0;
            let (severity, tail) = if cut_off {
                (
                    Severity::Warning,
                    format!("; {needing} workload(s) found by PF605 would not reach IMDS on AL2023 nodes here"),
                )
            } else {
                (Severity::Info, String::new())
            };
            Finding::new(&codes::HOP_LIMIT, severity, subject, format!("{said}{tail}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{AwsView, Container, KubeView, NodeGroup, Workload};

    #[test]
    fn a_hop_limit_of_one_matters_only_with_workloads_that_need_imds() {
        let ng = |n: &str, lt: Option<&str>, h: Option<i64>| NodeGroup {
            name: n.into(),
            launch_template: lt.map(Into::into),
            hop_limit: h,
            ..Default::default()
        };
        let mut inv = Inventory {
            aws: Some(AwsView {
                nodegroups: vec![
                    ng("a", Some("lt-1 v3"), Some(1)),
                    ng("b", Some("lt-2 v1"), Some(2)),
                    ng("c", None, None),
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(check(&inv).iter().all(|f| f.severity == Severity::Info));
        inv.kubernetes = Some(KubeView {
            workloads: vec![Workload {
                kind: "Deployment".into(),
                containers: vec![Container { image: "x/cluster-autoscaler:v1".into(), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        });
        let sev: Vec<Severity> = check(&inv).iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::Warning, Severity::Info, Severity::Warning]);
    }
}
