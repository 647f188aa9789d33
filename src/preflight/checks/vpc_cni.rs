//! PF603: the Amazon VPC CNI version (EKS AL2023 page: 1.16.2 or later), from the `aws-node`
//! DaemonSet's image or the EKS add-on.

use super::super::inventory::{Inventory, image_name, image_tag, version};
use super::super::{Finding, codes};
use crate::diagnostic::Severity;

const MIN: (u32, u32, u32) = (1, 16, 2);

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let mut seen: Vec<(String, String)> = Vec::new();
    if let Some(k) = &inv.kubernetes {
        for img in k.vpc_cni_images.iter().filter(|i| image_name(i) == "amazon-k8s-cni") {
            if let Some(tag) = image_tag(img) {
                seen.push(("DaemonSet kube-system/aws-node".into(), tag.to_string()));
            }
        }
    }
    if let Some(v) = inv.aws.as_ref().and_then(|a| a.addons.get("vpc-cni")) {
        seen.push(("EKS add-on vpc-cni".into(), v.clone()));
    }
    let mut out = Vec::new();
    for (subject, v) in seen {
        let finding = match version(&v) {
            Some(got) if got < MIN => Finding::new(
                &codes::VPC_CNI,
                Severity::Error,
                subject,
                format!("VPC CNI {v}: AL2023 nodes need 1.16.2 or later"),
            ),
            Some(_) => Finding::new(
                &codes::VPC_CNI,
                Severity::Info,
                subject,
                format!("VPC CNI {v}: 1.16.2 or later, as AL2023 needs"),
            ),
            None => Finding::new(
                &codes::VPC_CNI,
                Severity::Warning,
                subject,
                format!("VPC CNI version `{v}` could not be read as a version: check that it is 1.16.2 or later"),
            ),
        };
        out.push(finding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::{AwsView, KubeView};

    #[test]
    fn old_cni_versions_are_errors_from_either_source() {
        let inv = Inventory {
            kubernetes: Some(KubeView {
                vpc_cni_images: vec![
                    "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.15.1-eksbuild.1".into(),
                    "x/amazon-k8s-cni-init:v1.15.1".into(),
                ],
                ..Default::default()
            }),
            aws: Some(AwsView {
                addons: [("vpc-cni".to_string(), "v1.18.3-eksbuild.2".to_string())].into(),
                ..Default::default()
            }),
        };
        let f = check(&inv);
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].severity, f[1].severity), (Severity::Error, Severity::Info));
        assert!(f[0].message.contains("v1.15.1-eksbuild.1"));
    }
}
