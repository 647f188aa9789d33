//! PF604: the eksctl that created each node group (its `alpha.eksctl.io/eksctl-version` tag)
//! against 0.176.0, the first with AL2023 node groups (eksctl #7684). The tag says which eksctl
//! made the group, not which one the team runs now, so an old one is a warning to check, not an
//! error.

use super::super::inventory::{Inventory, version};
use super::super::{Finding, codes};
use crate::diagnostic::Severity;

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let Some(a) = &inv.aws else { return Vec::new() };
    a.nodegroups
        .iter()
        .filter_map(|g| {
            let v = g.eksctl_version.as_deref()?;
            let got = version(v);
            let old = got.is_some_and(|got| got < (0, 176, 0));
            let (severity, message) = if old {
                (Severity::Warning, format!("created by eksctl {v}: the eksctl that makes its AL2023 twin must be 0.176.0 or later; check the one your pipeline runs (`eksctl version`)"))
            } else if got.is_none() {
                (
                    Severity::Warning,
                    format!("written by eksctl `{v}`, which is not a version this check can compare with 0.176.0"),
                )
            } else {
                (Severity::Info, format!("created by eksctl {v} (AL2023 node groups need 0.176.0 or later)"))
            };
            Some(Finding::new(&codes::EKSCTL_VERSION, severity, format!("managed node group {}", g.name), message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{AwsView, NodeGroup};

    #[test]
    fn old_eksctl_is_an_error() {
        let ng = |n: &str, v: Option<&str>| NodeGroup {
            name: n.into(),
            eksctl_version: v.map(Into::into),
            ..Default::default()
        };
        let inv = Inventory {
            aws: Some(AwsView {
                nodegroups: vec![ng("a", Some("0.150.0")), ng("b", Some("0.190.0")), ng("c", None)],
                ..Default::default()
            }),
            ..Default::default()
        };
        let f = check(&inv);
        assert_eq!(f.iter().map(|f| f.severity).collect::<Vec<_>>(), [Severity::Warning, Severity::Info]);
    }
}
