//! Codes of the `karpenter` report, with their metadata (as `translate::codes`): what moved into
//! the EC2NodeClass, what Karpenter will override at run time (peers §1.1-§1.2), and what the
//! CRD refuses (peers §1.4).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::Severity;
use crate::translate::codes::code;

code!(
    TO_SPEC_KUBELET,
    "KP501",
    "moved-to-spec-kubelet",
    Info,
    "a kubelet setting moved from user data into spec.kubelet",
    "Karpenter marshals `spec.kubelet` into the NodeConfig it appends last, so a kubelet setting in `userData` that `spec.kubelet` can hold would be overridden by Karpenter's value (or by its default) and Karpenter's scheduling maths would not see it (peers §1.1). v1.14 holds clusterDNS, maxPods, podsPerCore, systemReserved, kubeReserved, evictionHard, evictionSoft, evictionSoftGracePeriod, evictionMaxPodGracePeriod, the image GC thresholds and cpuCFSQuota; the main-branch CRD holds any KubeletConfiguration field.\n\nFix: nothing; review the value in `spec.kubelet`."
);
code!(
    TO_NODEPOOL,
    "KP502",
    "labels-and-taints-to-nodepool",
    Warning,
    "node labels or taints belong to the NodePool, not the EC2NodeClass",
    "EC2NodeClass has no labels or taints. Karpenter sets `--node-labels` and `registerWithTaints` from the NodePool and NodeClaim in the NodeConfig it appends last (peers §1.1), so labels and taints left in `userData` are overridden, and Karpenter would not know about them when it schedules. They are written as a NodePool snippet next to the EC2NodeClass.\n\nFix: copy `spec.template.metadata.labels` and `spec.template.spec.taints` of the snippet into the NodePool that uses this class."
);
code!(
    INSTANCE_STORE,
    "KP503",
    "instance-store-policy",
    Info,
    "RAID0 local storage became instanceStorePolicy: RAID0",
    "`instanceStorePolicy: RAID0` makes Karpenter set `instance.localStorage.strategy: RAID0` and count the instance store as ephemeral storage in its scheduling (peers §1.4). RAID10 and Mount have no EC2NodeClass field and stay in a NodeConfig in `userData`.\n\nFix: nothing."
);
code!(
    PLACEHOLDER,
    "KP504",
    "required-field-placeholder",
    Error,
    "a required EC2NodeClass field has no source and is a placeholder",
    "An EC2NodeClass needs `role` (or `instanceProfile`), `subnetSelectorTerms` and `securityGroupSelectorTerms`, which user data does not contain. Without `--role`/`--instance-profile`, `--cluster` (Karpenter's `karpenter.sh/discovery` tag convention) or `--subnet-tag`/`--security-group-tag`, they are written as `REPLACE-ME` placeholders.\n\nFix: pass the flags, or replace the placeholders before applying."
);
code!(
    AMI_LATEST,
    "KP505",
    "ami-alias-latest",
    Warning,
    "amiSelectorTerms uses al2023@latest",
    "With `@latest` every new AMI release drifts and replaces every node of the class; Karpenter's docs \"heavily recommend against\" it in production (docs/tasks/managing-amis.md).\n\nFix: pin a release with `--ami-version v20251023` (the AMI release shared by AL2 and AL2023)."
);
code!(
    OVERRIDDEN,
    "KP506",
    "overridden-by-karpenter",
    Warning,
    "a value in userData that Karpenter's own NodeConfig overrides",
    "Karpenter appends its NodeConfig after the user's parts and nodeadm's later value wins (peers §1.2): cluster name, endpoint, CA and CIDR, `maxPods` (always set), `clusterDNS`, `registerWithTaints`, `--node-labels` and every `spec.kubelet` field. A value for them in `userData` has no effect.\n\nFix: remove it from `userData`, or set it where Karpenter reads it (`spec.kubelet`, the NodePool)."
);
code!(
    DRIFT,
    "KP507",
    "userdata-change-drifts",
    Info,
    "changing userData replaces every node of the class",
    "`spec.userData`, `amiSelectorTerms` and the other hashed fields are part of the EC2NodeClass hash, so an edit makes every NodeClaim of the class drift and Karpenter replaces the nodes, within the NodePool's disruption budgets (peers §1.3).\n\nFix: apply during a window the disruption budgets allow."
);
code!(
    INVALID,
    "KP508",
    "ec2nodeclass-invalid",
    Error,
    "the EC2NodeClass fails the CRD schema or one of its validation rules",
    "Every emitted EC2NodeClass is checked against the CRD's schema (strict: unknown fields are errors) and its `x-kubernetes-validations` rules, as the API server would at `kubectl apply`. `kubectl apply --dry-run=client` does not check either without a server.\n\nFix: follow the message; it is the CRD's."
);
code!(
    LEGACY_KIND,
    "KP509",
    "awsnodetemplate",
    Warning,
    "an AWSNodeTemplate (Karpenter before v0.32) is not migrated",
    "`AWSNodeTemplate` (karpenter.k8s.aws/v1alpha1) was replaced by `EC2NodeClass` in v0.32 and removed in v1.0; its fields and semantics differ (`amiFamily`, `userData` merging, `subnetSelector` maps).\n\nFix: upgrade Karpenter through the v1 migration first (karpenter.sh docs: upgrading to v1), then run `eks-userdata karpenter migrate` on the EC2NodeClass."
);
code!(
    FAMILY_CHANGED,
    "KP510",
    "ami-family-changed",
    Info,
    "the AMI family moved from AL2 to AL2023",
    "`al2@VERSION` became `al2023@VERSION` (EKS releases AL2 and AL2023 AMIs under the same version) and `amiFamily: AL2` became `AL2023`. With selector terms that name AMIs by id, name or tags, those AMIs must be AL2023 images too.\n\nFix: check the AMI selector; the change drifts every node (KP507)."
);

code!(
    UNUSABLE,
    "KP511",
    "unusable-user-data",
    Error,
    "a part of the user data cannot be used as it is",
    "A NodeConfig part that is not valid YAML (nodeadm then discards every user-data NodeConfig, docs §2.4), a part that is not text, or a part that is neither a script, cloud-config nor a NodeConfig (Karpenter passes it on and nothing on the node acts on it) would be copied into `userData` unchanged. The first two are errors (exit 1), the last a warning; in `migrate`, a document that is not YAML is kept as it is and reported.\n\nFix: repair the input (`eks-userdata lint` shows where), or drop the part."
);
code!(
    BUDGET_BLOCKS,
    "KP512",
    "drift-blocked-by-budget",
    Warning,
    "a NodePool's disruption budget lets no drifted node be replaced",
    "Karpenter replaces drifted NodeClaims only as fast as the NodePool's `spec.disruption.budgets` allow: the most restrictive budget that applies to `Drifted` (no `reasons`, or `Drifted` among them), `nodes` a count or a percentage of the pool's nodes rounded up, less the nodes already being disrupted; no budgets means 10% (karpenter.sh/docs/concepts/disruption). A budget of `nodes: \"0\"` with no `schedule` holds every drifted node where it is, so after `karpenter migrate --cluster` the class is AL2023 and the nodes stay AL2. A budget with a `schedule` is active only in its window and is reported, not counted.\n\nFix: raise the budget for the migration (or add a window), or replace the nodes yourself (`kubectl delete nodeclaim NAME`)."
);
code!(
    DO_NOT_DISRUPT,
    "KP513",
    "do-not-disrupt",
    Warning,
    "a pod or node carries karpenter.sh/do-not-disrupt, which holds its node back",
    "Karpenter does not replace a drifted node whose Node or NodeClaim has the `karpenter.sh/do-not-disrupt: \"true\"` annotation, nor one running a pod with it unless the NodeClaim sets `terminationGracePeriod` (karpenter.sh/docs/reference/annotations; a pod's value may also be a duration after its start, when the protection ends). Those nodes stay on AL2 until the pod finishes or the annotation is removed.\n\nFix: remove the annotation while the nodes are replaced, or wait for the pods to finish; `karpenter migrate --cluster` names them and keeps following until its timeout."
);
code!(
    OTHER_MANAGER,
    "KP514",
    "fields-owned-by-another-manager",
    Warning,
    "the fields the migration changes belong to another field manager",
    "Server-side apply records who set each field (`metadata.managedFields`). The fields the migration changes (`amiSelectorTerms`, `amiFamily`, `userData`, `kubelet`, `instanceStorePolicy`) were set by another manager, so the apply conflicts unless `--force-conflicts` takes them over. When that manager is a GitOps controller or Helm (Argo CD, Flux's kustomize-controller or helm-controller, Helm), it will put the AL2 values back at its next sync, and the nodes would drift back to AL2.\n\nFix: migrate the source manifests instead (`eks-userdata karpenter migrate FILE --in-place`) and let the controller sync them; use `--force-conflicts` only for classes applied by hand (kubectl)."
);
code!(
    PDB_BLOCKS,
    "KP515",
    "drift-blocked-by-pdb",
    Warning,
    "a PodDisruptionBudget lets none of a node's pods be evicted, so Karpenter does not pick the node",
    "Karpenter takes a drifted node as a disruption candidate only if every pod on it can be evicted: a pod whose PodDisruptionBudget allows no disruption now (`status.disruptionsAllowed: 0`) keeps the node out (\"pdb prevents pod evictions\"), unless the NodeClaim sets `terminationGracePeriod` (sigs.k8s.io/karpenter, disruption candidates). A budget at 0 for long (a single replica with `minAvailable: 1`, a StatefulSet that is not fully Ready) holds the node on AL2 for as long.\n\nFix: scale the workload so its budget allows one disruption, relax the budget for the migration, or set `terminationGracePeriod` on the NodePool."
);
code!(
    CLASS_NOT_READY,
    "KP516",
    "nodeclass-not-ready",
    Warning,
    "the EC2NodeClass is not Ready, so Karpenter launches nothing for it",
    "Karpenter launches no node for an EC2NodeClass whose `Ready` condition is False (no AMI matches its selector terms, a missing subnet, security group or instance profile), so drifted claims are not replaced and the rollout waits. After `karpenter migrate --cluster` applies an `al2023@VERSION` alias, a version that does not exist for the cluster's Kubernetes version or region shows here.\n\nFix: read the class's conditions (`kubectl get ec2nodeclass NAME -o yaml`), correct the alias or selectors, and run again to follow."
);

pub static ALL: &[&RuleMeta] = &[
    &TO_SPEC_KUBELET,
    &TO_NODEPOOL,
    &INSTANCE_STORE,
    &PLACEHOLDER,
    &AMI_LATEST,
    &OVERRIDDEN,
    &DRIFT,
    &INVALID,
    &LEGACY_KIND,
    &FAMILY_CHANGED,
    &UNUSABLE,
    &BUDGET_BLOCKS,
    &DO_NOT_DISRUPT,
    &OTHER_MANAGER,
    &PDB_BLOCKS,
    &CLASS_NOT_READY,
];
