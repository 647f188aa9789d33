//! Codes of the `preflight` report, with their metadata (as `translate::codes`). The facts each
//! check uses and where they come from are in its explanation (docs/nodeadm-and-bootstrap.md
//! §"EKS user guide", the EKS AL2023 page, the AWS VPC CNI and eksctl release notes, OpenJDK's
//! cgroup v2 backports).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::Severity;
use crate::translate::codes::code;

code!(
    KUBERNETES_VERSION,
    "PF601",
    "kubernetes-version",
    Info,
    "the cluster's Kubernetes version against the AL2 and AL2023 AMIs that exist for it",
    "\"Kubernetes version 1.32 is the last version for which Amazon EKS will release AL2 AMIs\" (the EKS AMI deprecation FAQ), so there are none for 1.33 or later; AL2023 AMIs exist from 1.23 (AWS Containers blog, \"Amazon EKS-Optimized Amazon Linux 2023 AMIs Now Available\"). So at 1.33 and later, AL2 nodes can be neither replaced nor upgraded (an error when any are left), 1.32 is the last minor to move from (a warning), and a cluster before 1.23 must be upgraded before its nodes can run AL2023 (an error).\n\nFix: move the AL2 nodes before upgrading past 1.32; upgrade a cluster older than 1.23 first."
);
code!(
    AL2_NODES,
    "PF602",
    "al2-nodes",
    Warning,
    "nodes or node groups still run Amazon Linux 2",
    "Nodes whose `status.nodeInfo.osImage` is `Amazon Linux 2` (not `Amazon Linux 2023`), grouped by their managed node group (`eks.amazonaws.com/nodegroup`) or Karpenter NodePool (`karpenter.sh/nodepool`) label, and managed node groups whose `amiType` is an `AL2_*` type. These are what the migration moves.\n\nFix: `eks-userdata nodegroup bluegreen` for a managed node group; `eks-userdata karpenter migrate` for a NodePool's EC2NodeClass; `eks-userdata migrate` or `push` for self-managed groups' launch templates."
);
code!(
    VPC_CNI,
    "PF603",
    "vpc-cni-version",
    Error,
    "the Amazon VPC CNI is older than 1.16.2, which AL2023 nodes need",
    "The EKS page \"Upgrade from Amazon Linux 2 to Amazon Linux 2023\" lists the Amazon VPC CNI plugin 1.16.2 or later as a requirement for AL2023 nodes. The version is read from the `aws-node` DaemonSet's image tag in `kube-system`, or from the EKS `vpc-cni` add-on.\n\nFix: update the add-on (`aws eks update-addon --addon-name vpc-cni`) or the self-managed manifest before adding AL2023 nodes."
);
code!(
    EKSCTL_VERSION,
    "PF604",
    "eksctl-version",
    Warning,
    "node groups eksctl manages were made with an eksctl older than 0.176.0",
    "eksctl supports AL2023 node groups (`amiFamily: AmazonLinux2023`) from 0.176.0. The version that created a node group is in its `alpha.eksctl.io/eksctl-version` tag; it says which eksctl the team used then, not which it runs now, so an old one is a warning to check: an eksctl older than 0.176.0 cannot create the AL2023 twin.\n\nFix: upgrade eksctl (0.199.0 or later if the config uses `overrideBootstrapCommand` or `preBootstrapCommands` with AL2023)."
);
code!(
    IMDS_FROM_PODS,
    "PF605",
    "imds-from-pods",
    Warning,
    "a workload reaches the instance metadata service from a pod network",
    "AL2023 requires IMDSv2, and managed node groups and Karpenter default to a hop limit of 1 (EKS AL2023 page; the EC2NodeClass CRD default): a pod that is not on the host network then cannot reach 169.254.169.254. Controllers that read their region, VPC or credentials from IMDS fail (the AWS Load Balancer Controller without `--aws-vpc-id`/`--aws-region`, the cluster autoscaler without `AWS_REGION`, the EBS and EFS CSI controllers without a region), as does anything that names 169.254.169.254 itself. Credentials from IRSA (`AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`) or EKS Pod Identity (`AWS_CONTAINER_CREDENTIALS_FULL_URI`) need no IMDS. Each finding says how sure it is: `certain` when the workload names IMDS or has no credentials but IMDS, `likely` when it has credentials and only a region or VPC lookup is left (some versions find those elsewhere).\n\nFix: give the controller its region/VPC and IRSA or Pod Identity, or set `HttpPutResponseHopLimit: 2` in the node groups' launch templates (`eks-userdata push --hop-limit 2`) or the EC2NodeClass `metadataOptions`."
);
code!(
    HOP_LIMIT,
    "PF606",
    "launch-template-hop-limit",
    Info,
    "the IMDS hop limit each node group's launch template sets",
    "A launch template's `MetadataOptions.HttpPutResponseHopLimit` decides whether pods off the host network reach IMDS (2 or more) or not (1). A template that does not set it leaves the AMI's default, which for AL2023 is 1 on managed node groups. Reported per node group; a warning when workloads found by PF605 would run there.\n\nFix: `eks-userdata push --hop-limit 2` on the templates, or fix the workloads (PF605)."
);
code!(
    JAVA_CGROUP_V2,
    "PF607",
    "java-cgroup-v2",
    Warning,
    "a Java workload on a JDK that mis-reads cgroup v2 limits",
    "AL2023 runs cgroup v2. JDKs read container limits from cgroup v2 from JDK 15, and from the backports in 11.0.16 and 8u372; older ones (and 9, 10, 12 to 14) see the whole node's memory and CPUs, size their heap and thread pools for it, and get OOM-killed. The JDK is found from `JAVA_VERSION`-style environment variables (`certain`), a full version in the image tag (`likely`), or a Java image whose tag gives only the major version (`possible`: the update is unknown).\n\nFix: move to JDK 8u372, 11.0.16, 17 or later, or set `-XX:MaxRAMPercentage`/`-Xmx` and `-XX:ActiveProcessorCount` explicitly."
);
code!(
    HOST_PATHS,
    "PF608",
    "al2-host-paths",
    Warning,
    "a workload mounts a host path that only AL2 nodes have",
    "AL2023 nodes run containerd only: there is no Docker daemon, so a `hostPath` of `/var/run/docker.sock` or `/run/docker.sock` (an error) gives the pod nothing to talk to, and `/var/lib/docker` and `/etc/docker` are empty. `/etc/eks/bootstrap.sh` and the AL2 kubelet files under `/etc/kubernetes/kubelet` do not exist either.\n\nFix: use the containerd socket (`/run/containerd/containerd.sock`) or the Kubernetes API instead, and read kubelet settings from the NodeConfig."
);
code!(
    NOT_LOOKED_AT,
    "PF609",
    "not-looked-at",
    Info,
    "a check that had nothing to read (no kubeconfig, or no AWS credentials)",
    "`preflight` works with a kubeconfig (the Kubernetes checks), AWS credentials (the EKS, add-on and launch template checks), or both; each check that had no source says so, so an empty report is never taken for a clean one.\n\nFix: give `--kubeconfig`/`--context` and `--cluster`/`--region` to run every check."
);

pub static ALL: &[&RuleMeta] = &[
    &KUBERNETES_VERSION,
    &AL2_NODES,
    &VPC_CNI,
    &EKSCTL_VERSION,
    &IMDS_FROM_PODS,
    &HOP_LIMIT,
    &JAVA_CGROUP_V2,
    &HOST_PATHS,
    &NOT_LOOKED_AT,
];
