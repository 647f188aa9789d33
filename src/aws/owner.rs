//! Who owns a launch template, read from what EC2 DescribeLaunchTemplates returns: its tags,
//! its name and `CreatedBy`. A version pushed behind an owner's back is reverted at the owner's
//! next deploy (CloudFormation, eksctl's stacks, Terraform) or is pointless (Karpenter makes and
//! deletes its own templates; EKS copies a node group's template into one it owns), so `push`
//! leaves owned templates alone unless `--include-owned` is given.
//!
//! The markers, and where each comes from:
//! - CloudFormation tags every resource it creates with `aws:cloudformation:stack-name`,
//!   `aws:cloudformation:stack-id` and `aws:cloudformation:logical-id` (CloudFormation User
//!   Guide, "Resource tags"); the `aws:` prefix is reserved, so nothing else can set them.
//! - eksctl's node group stacks carry `alpha.eksctl.io/cluster-name`,
//!   `alpha.eksctl.io/nodegroup-name` and `eksctl.cluster.k8s.io/v1alpha1/cluster-name`
//!   (eksctl `pkg/apis/eksctl.io/v1alpha5/types.go`), and CloudFormation copies stack tags to
//!   the template.
//! - Karpenter names its templates `karpenter.k8s.aws/<hash>` and tags them with
//!   `karpenter.k8s.aws/ec2nodeclass`, `karpenter.sh/nodepool` and `eks:eks-cluster-name`
//!   (karpenter-provider-aws `pkg/utils/utils.go` GetTags, `pkg/providers/launchtemplate`);
//!   v0.37 to v1.0 also set `karpenter.k8s.aws/cluster`. `karpenter.sh/discovery` is not a
//!   marker: it is the tag users put on their own resources for Karpenter to find.
//! - EKS: a template made for a managed node group (its own, or its copy of the user's) is named
//!   `eks-<uuid>`, tagged `eks:cluster-name` and `eks:nodegroup-name`, and `CreatedBy` is
//!   `arn:aws:sts::ACCOUNT:assumed-role/AWSServiceRoleForAmazonEKSNodegroup/EKS` (EKS User Guide,
//!   "Customize managed nodes with launch templates"; DescribeLaunchTemplates output). The `eks-`
//!   prefix alone proves nothing: users name templates `eks-ubuntu-lt` too.
//! - Terraform: no marker of its own; teams tag (`ManagedBy = "terraform"`, `Terraform = "true"`)
//!   or set provider `default_tags`, which `.eks-userdata.toml` lists (`[push] terraform-tags`);
//!   terraform-aws-modules/eks adds no tag of its own.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnerKind {
    Cloudformation,
    Eksctl,
    Karpenter,
    Eks,
    Terraform,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Cloudformation => "CloudFormation",
            OwnerKind::Eksctl => "eksctl",
            OwnerKind::Karpenter => "Karpenter",
            OwnerKind::Eks => "EKS",
            OwnerKind::Terraform => "Terraform",
        }
    }
}

/// The owner of a template and how it is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Owner {
    pub kind: OwnerKind,
    /// The tag, name or creator that says so (`tag aws:cloudformation:stack-name=web-nodes`).
    pub evidence: String,
    /// What to do instead of pushing a version.
    pub advice: String,
}

/// A tag that marks a template as Terraform's: `KEY` (any value) or `KEY=VALUE` (the value
/// compared without regard to case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMarker {
    pub key: String,
    pub value: Option<String>,
}

impl TagMarker {
    pub fn parse(s: &str) -> Option<TagMarker> {
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim().to_string())),
            None => (s.trim(), None),
        };
        (!key.is_empty()).then(|| TagMarker { key: key.to_string(), value })
    }

    fn matches(&self, key: &str, value: &str) -> bool {
        key == self.key && self.value.as_deref().is_none_or(|v| v.eq_ignore_ascii_case(value))
    }
}

/// What is known about a template's origin.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub name: &'a str,
    pub tags: &'a [(String, String)],
    pub created_by: Option<&'a str>,
}

/// The owner of a template, or `None` when nothing marks one (then the template is the user's
/// to push to). `terraform_tags` are the project's extra Terraform markers.
pub fn of(f: Facts<'_>, terraform_tags: &[TagMarker]) -> Option<Owner> {
    let tag = |k: &str| f.tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let owner = |kind, evidence: String, advice: String| Some(Owner { kind, evidence, advice });

    let karpenter_tag = f.tags.iter().find(|(k, _)| {
        k.starts_with("karpenter.k8s.aws/") || (k.starts_with("karpenter.sh/") && k != "karpenter.sh/discovery")
    });
    if f.name.starts_with("karpenter.k8s.aws/") || karpenter_tag.is_some() {
        let evidence = match karpenter_tag {
            Some((k, v)) => format!("tag {k}={v}"),
            None => format!("name {}", f.name),
        };
        let class = tag("karpenter.k8s.aws/ec2nodeclass").map_or(String::new(), |c| format!(" `{c}`"));
        return owner(
            OwnerKind::Karpenter,
            evidence,
            format!(
                "Karpenter makes and deletes its own launch templates from the EC2NodeClass{class}: migrate the EC2NodeClass instead (`eks-userdata karpenter migrate`)"
            ),
        );
    }

    let eks_role = f.created_by.filter(|c| c.contains("AWSServiceRoleForAmazonEKSNodegroup"));
    if let Some(ng) = tag("eks:nodegroup-name") {
        let cluster = tag("eks:cluster-name").unwrap_or("its cluster");
        return owner(
            OwnerKind::Eks,
            format!("tag eks:nodegroup-name={ng}"),
            format!(
                "EKS made this template for managed node group {cluster}/{ng} and replaces it on every node group update: change the node group instead (a new AL2023 node group, or an update to a launch template of your own)"
            ),
        );
    }
    if let Some(by) = eks_role {
        return owner(
            OwnerKind::Eks,
            format!("created by {by}"),
            "EKS made this template for a managed node group and replaces it on every node group update: change the node group instead".into(),
        );
    }

    let stack = tag("aws:cloudformation:stack-name");
    let eksctl = f
        .tags
        .iter()
        .find(|(k, _)| ["alpha.eksctl.io/", "eksctl.cluster.k8s.io/", "eksctl.io/"].iter().any(|p| k.starts_with(p)));
    if let Some((k, v)) = eksctl {
        let ng = tag("alpha.eksctl.io/nodegroup-name").map_or(String::new(), |n| format!(" node group {n}"));
        let stack = stack.map_or(String::new(), |s| format!(" (stack {s})"));
        return owner(
            OwnerKind::Eksctl,
            format!("tag {k}={v}"),
            format!(
                "eksctl made this template for{ng}{stack} and rewrites it from its config: change the node group in the eksctl config (amiFamily: AmazonLinux2023; `eks-userdata convert` converts its overrideBootstrapCommand or preBootstrapCommands) and let eksctl replace the node group"
            ),
        );
    }
    let cloudformation = f.tags.iter().find(|(k, _)| k.starts_with("aws:cloudformation:"));
    if let Some((k, v)) = cloudformation {
        let s = stack.unwrap_or("(unnamed)");
        let logical = tag("aws:cloudformation:logical-id").map_or(String::new(), |l| format!(" resource {l}"));
        let evidence = match stack {
            Some(s) => format!("tag aws:cloudformation:stack-name={s}"),
            None => format!("tag {k}={v}"),
        };
        return owner(
            OwnerKind::Cloudformation,
            evidence,
            format!(
                "CloudFormation stack {s}{logical} owns this template and restores its own version at the next stack update: change the UserData in the stack's template (`eks-userdata convert` converts it) and update the stack"
            ),
        );
    }

    let terraform =
        f.tags.iter().find(|(k, v)| is_terraform_tag(k, v) || terraform_tags.iter().any(|m| m.matches(k, v)));
    if let Some((k, v)) = terraform {
        return owner(
            OwnerKind::Terraform,
            format!("tag {k}={v}"),
            "Terraform manages this template and reverts a version made outside it at the next `terraform apply`: change the user data in the Terraform source (`eks-userdata convert` converts it) and apply".into(),
        );
    }
    None
}

/// The conventional Terraform markers: `ManagedBy`-style keys whose value names Terraform, and a
/// `Terraform` key that is not `false`.
fn is_terraform_tag(key: &str, value: &str) -> bool {
    let k: String = key.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    let v = value.to_ascii_lowercase();
    match k.as_str() {
        "terraform" | "terraformmanaged" => !matches!(v.as_str(), "false" | "no" | "0"),
        // `ManagedBy`, `managed-by`, `cloud/managed_by`, `CreatedBy`, `ProvisionedBy`, `IaC`.
        _ => {
            (["managedby", "createdby", "provisionedby", "deployedby"].iter().any(|s| k.ends_with(s)) || k == "iac")
                && v.contains("terraform")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[(&str, &str)]) -> Vec<(String, String)> {
        t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn kind(name: &str, t: &[(&str, &str)], by: Option<&str>, extra: &[TagMarker]) -> Option<OwnerKind> {
        of(Facts { name, tags: &tags(t), created_by: by }, extra).map(|o| o.kind)
    }

    #[test]
    fn each_owner_is_recognised_by_its_own_marker() {
        let cfn = [("aws:cloudformation:stack-name", "web"), ("aws:cloudformation:logical-id", "LaunchTemplate")];
        assert_eq!(kind("web-lt", &cfn, None, &[]), Some(OwnerKind::Cloudformation));
        let eksctl =
            [("aws:cloudformation:stack-name", "eksctl-prod-nodegroup-ng1"), ("alpha.eksctl.io/nodegroup-name", "ng1")];
        assert_eq!(
            kind("eksctl-prod-nodegroup-ng1", &eksctl, None, &[]),
            Some(OwnerKind::Eksctl),
            "eksctl wins over its stack"
        );
        assert_eq!(kind("karpenter.k8s.aws/123", &[], None, &[]), Some(OwnerKind::Karpenter));
        assert_eq!(kind("x", &[("karpenter.k8s.aws/cluster", "prod")], None, &[]), Some(OwnerKind::Karpenter));
        assert_eq!(kind("x", &[("karpenter.sh/discovery", "prod")], None, &[]), None, "a user's discovery tag");
        assert_eq!(
            kind("eks-1c2", &[("eks:nodegroup-name", "ng"), ("eks:cluster-name", "prod")], None, &[]),
            Some(OwnerKind::Eks)
        );
        let role = "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAmazonEKSNodegroup/EKS";
        assert_eq!(kind("eks-1c2", &[], Some(role), &[]), Some(OwnerKind::Eks));
        assert_eq!(kind("x", &[("ManagedBy", "Terraform")], None, &[]), Some(OwnerKind::Terraform));
        assert_eq!(kind("x", &[("managed-by", "terraform-cloud")], None, &[]), Some(OwnerKind::Terraform));
        assert_eq!(kind("x", &[("Terraform", "true")], None, &[]), Some(OwnerKind::Terraform));
        assert_eq!(kind("x", &[("cloud/managed_by", "terraform")], None, &[]), Some(OwnerKind::Terraform));
        let karpenter = [("karpenter.sh/nodepool", "default"), ("eks:eks-cluster-name", "prod")];
        assert_eq!(kind("karpenter.k8s.aws/9", &karpenter, None, &[]), Some(OwnerKind::Karpenter));
        assert_eq!(kind("x", &[("Terraform", "false")], None, &[]), None);
        assert_eq!(kind("x", &[("aws:cloudformation:logical-id", "LT")], None, &[]), Some(OwnerKind::Cloudformation));
        assert_eq!(kind("x", &[("alpha.eksctl.io/eksctl-version", "0.199.0")], None, &[]), Some(OwnerKind::Eksctl));
        assert_eq!(kind("eks-ubuntu-lt", &[], Some("arn:aws:iam::1:user/ops"), &[]), None, "a user's eks- name");
        assert_eq!(kind("x", &[("team", "web"), ("ManagedBy", "hand")], None, &[]), None);
        let extra = [TagMarker::parse("Stack=platform").unwrap(), TagMarker::parse("tf-workspace").unwrap()];
        assert_eq!(kind("x", &[("Stack", "Platform")], None, &extra), Some(OwnerKind::Terraform));
        assert_eq!(kind("x", &[("tf-workspace", "prod")], None, &extra), Some(OwnerKind::Terraform));
        assert_eq!(kind("x", &[("Stack", "other")], None, &extra), None);
    }

    #[test]
    fn the_advice_names_the_owner_and_the_way_out() {
        let t = tags(&[("aws:cloudformation:stack-name", "web"), ("aws:cloudformation:logical-id", "NodeLT")]);
        let o = of(Facts { name: "n", tags: &t, created_by: None }, &[]).unwrap();
        assert_eq!(o.evidence, "tag aws:cloudformation:stack-name=web");
        assert!(
            o.advice.contains("stack web resource NodeLT") && o.advice.contains("update the stack"),
            "{}",
            o.advice
        );
        assert_eq!(TagMarker::parse(" =x"), None);
    }
}
