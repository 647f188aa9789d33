//! What `preflight` read from the cluster, as plain data: the Kubernetes side (from the API
//! server, `preflight::kube` with the `aws` feature) and the AWS side (EKS and EC2). The checks
//! are pure functions over it, so each is unit-tested without a server, and the JSON report can
//! show exactly what was looked at.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// `None`: no kubeconfig was given or it could not be read.
    pub kubernetes: Option<KubeView>,
    /// `None`: no cluster name or AWS credentials were given.
    pub aws: Option<AwsView>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KubeView {
    /// The API server's `gitVersion` (`v1.31.4-eks-2d5f260`).
    pub server_version: Option<String>,
    pub nodes: Vec<Node>,
    /// Pods, one per controller (the first pod of each Deployment, DaemonSet, StatefulSet, Job)
    /// or on their own.
    pub workloads: Vec<Workload>,
    /// The `aws-node` DaemonSet's container images in `kube-system` (the VPC CNI).
    pub vpc_cni_images: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Node {
    pub name: String,
    /// `status.nodeInfo.osImage` (`Amazon Linux 2`, `Amazon Linux 2023.6.20250107`).
    pub os_image: String,
    pub labels: BTreeMap<String, String>,
}

impl Node {
    /// Amazon Linux 2 and not 2023.
    pub fn is_al2(&self) -> bool {
        let os = self.os_image.trim();
        os.starts_with("Amazon Linux 2") && !os.starts_with("Amazon Linux 2023")
    }

    /// The group a node belongs to, for the report: its managed node group, Karpenter
    /// NodePool, or eksctl node group.
    pub fn group(&self) -> String {
        for (label, kind) in [
            ("eks.amazonaws.com/nodegroup", "node group"),
            ("karpenter.sh/nodepool", "NodePool"),
            ("alpha.eksctl.io/nodegroup-name", "eksctl node group"),
        ] {
            if let Some(v) = self.labels.get(label) {
                return format!("{kind} {v}");
            }
        }
        "nodes with no node group or NodePool label".into()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Workload {
    /// `Deployment`, `DaemonSet`, `StatefulSet`, `Job`, `Pod`…
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub host_network: bool,
    pub containers: Vec<Container>,
    /// `hostPath` volumes' paths.
    pub host_paths: Vec<String>,
    /// The nodes its pods run on.
    pub nodes: Vec<String>,
}

impl Workload {
    pub fn subject(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// Environment variables; those set with `valueFrom` have an empty value here.
    pub env: BTreeMap<String, String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AwsView {
    pub cluster: String,
    pub region: String,
    /// `1.31`.
    pub version: Option<String>,
    /// Add-on name → version (`vpc-cni` → `v1.18.3-eksbuild.2`).
    pub addons: BTreeMap<String, String>,
    pub nodegroups: Vec<NodeGroup>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeGroup {
    pub name: String,
    pub ami_type: Option<String>,
    /// The launch template and the version the group uses.
    pub launch_template: Option<String>,
    /// `MetadataOptions.HttpPutResponseHopLimit` of that version; `None` when it sets none.
    pub hop_limit: Option<i64>,
    /// The `alpha.eksctl.io/eksctl-version` tag: the eksctl that last wrote the group.
    pub eksctl_version: Option<String>,
}

/// `(major, minor, patch)` of a version string: `v1.16.2-eksbuild.1`, `0.176.0`, `1.31`,
/// `v1.31.4-eks-2d5f260`. `None` when it does not start with digits.
pub fn version(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.trim().trim_start_matches('v');
    let core = s.split(['-', '+', '_']).next()?;
    let mut it = core.split('.').map(|p| p.parse::<u32>());
    let major = it.next()?.ok()?;
    let minor = it.next().and_then(Result::ok).unwrap_or(0);
    let patch = it.next().and_then(Result::ok).unwrap_or(0);
    Some((major, minor, patch))
}

/// The tag of a container image reference (`repo/name:tag@sha256:…` → `tag`).
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next()?;
    let last = no_digest.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t)
}

/// The repository name of an image reference without registry and tag (`…/amazon-k8s-cni`).
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_images() {
        assert_eq!(version("v1.16.2-eksbuild.1"), Some((1, 16, 2)));
        assert_eq!(version("0.176.0"), Some((0, 176, 0)));
        assert_eq!(version("1.31"), Some((1, 31, 0)));
        assert_eq!(version("v1.31.4-eks-2d5f260"), Some((1, 31, 4)));
        assert_eq!(version("latest"), None);
        let img = "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.15.1-eksbuild.1";
        assert_eq!((image_name(img), image_tag(img)), ("amazon-k8s-cni", Some("v1.15.1-eksbuild.1")));
        assert_eq!(image_tag("localhost:5000/app"), None);
        assert_eq!(image_tag("eclipse-temurin:11.0.14_9-jdk@sha256:abc"), Some("11.0.14_9-jdk"));
        let n = |os: &str| Node { os_image: os.into(), ..Default::default() };
        assert!(
            n("Amazon Linux 2").is_al2()
                && !n("Amazon Linux 2023.6.20250107").is_al2()
                && !n("Bottlerocket OS").is_al2()
        );
    }
}
