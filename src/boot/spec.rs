//! The boot spec: what the hook computes. YAML, strict (unknown keys are errors, so a typo is not
//! silently a no-op on every node). It travels in the user data inside the shell part that runs
//! the hook (a quoted heredoc written to `/etc/eks-userdata/boot.yaml`): cloud-init runs that part
//! as a script, and nodeadm reads only `application/node.eks.aws` parts, so neither reads the
//! spec as its own configuration.
//!
//! ```yaml
//! apiVersion: eks-userdata/v1alpha1
//! kind: BootSpec
//! maxPods: {formula: prefix-delegation, cap: auto, required: false}
//! kubeReserved: recompute
//! labels:
//!   - {key: node.example.com/lifecycle, from: lifecycle}
//! taints:
//!   - {key: spot, value: "true", effect: NoSchedule, when: {lifecycle: spot}}
//! overrides:
//!   - {instanceTypes: ["m5.*"], maxPods: 58}
//!   - {when: {lifecycle: spot}, maxPods: 110}
//! dataVolumes:
//!   - {device: vol-0123456789abcdef0, target: /var/lib/containerd}
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "eks-userdata/v1alpha1";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BootSpec {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub max_pods: Option<MaxPods>,
    #[serde(default)]
    pub kube_reserved: Option<KubeReserved>,
    #[serde(default)]
    pub labels: Vec<Label>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// First match wins: by instance type and/or IMDS facts.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// EBS data volumes to format (only if blank), fill and mount before nodeadm-run.
    #[serde(default)]
    pub data_volumes: Vec<super::volume::Volume>,
    /// The drop-in's order among `/etc/eks/nodeadm.d/` files (`NN-eks-userdata.yaml`).
    #[serde(default = "default_priority")]
    pub priority: u8,
}

fn default_priority() -> u8 {
    50
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Formula {
    /// nodeadm's own: ENIs × (IPs per ENI − 1) + 2.
    Standard,
    /// The primary ENI carries no pods: (ENIs − 1) × (IPs per ENI − 1) + 2.
    CustomNetworking,
    /// /28 prefixes: ENIs × (IPs per ENI − 1) × 16 + 2, capped.
    PrefixDelegation,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaxPods {
    pub formula: Formula,
    /// Use at most this many ENIs (the calculator's `--cni-max-eni`).
    #[serde(default)]
    pub max_enis: Option<i64>,
    /// `auto`: 110 with 30 vCPUs or fewer, else 250 (max-pods-calculator.sh); or a number.
    #[serde(default)]
    pub cap: Option<Cap>,
    /// Without the value the node must not join: a failure exits non-zero.
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Cap {
    Number(i64),
    Word(CapWord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapWord {
    Auto,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KubeReserved {
    /// Memory from the max pods chosen here (11 × maxPods + 255 Mi), fixing amazon-eks-ami #1698.
    Recompute,
}

/// An IMDS fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fact {
    Lifecycle,
    Zone,
    Region,
    InstanceType,
    Partition,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    /// Take the value from this IMDS fact.
    #[serde(default)]
    pub from: Option<Fact>,
    #[serde(default)]
    pub when: BTreeMap<Fact, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub from: Option<Fact>,
    pub effect: String,
    #[serde(default)]
    pub when: BTreeMap<Fact, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Override {
    /// Globs over the instance type; empty matches every type.
    #[serde(default)]
    pub instance_types: Vec<String>,
    /// IMDS facts that must all match (`{lifecycle: spot}`).
    #[serde(default)]
    pub when: BTreeMap<Fact, String>,
    #[serde(default)]
    pub max_pods: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the boot spec is not valid: {0}")]
    Yaml(String),
    #[error("the boot spec says apiVersion `{0}` kind `{1}`; expected {API_VERSION} BootSpec")]
    Kind(String, String),
    #[error("taint `{0}`: effect must be NoSchedule, PreferNoSchedule or NoExecute")]
    Effect(String),
    #[error("{0} `{1}` needs `value` or `from`")]
    NoValue(&'static str, String),
}

pub fn parse(text: &str) -> Result<BootSpec, SpecError> {
    let spec: BootSpec = crate::nodeconfig::yaml::from_str(text).map_err(|e| SpecError::Yaml(e.to_string()))?;
    if spec.api_version != API_VERSION || spec.kind != "BootSpec" {
        return Err(SpecError::Kind(spec.api_version, spec.kind));
    }
    for t in &spec.taints {
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&t.effect.as_str()) {
            return Err(SpecError::Effect(t.key.clone()));
        }
        if t.value.is_none() && t.from.is_none() {
            return Err(SpecError::NoValue("taint", t.key.clone()));
        }
    }
    if let Some(l) = spec.labels.iter().find(|l| l.value.is_none() && l.from.is_none()) {
        return Err(SpecError::NoValue("label", l.key.clone()));
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strictly() {
        let s = parse("apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nmaxPods: {formula: prefix-delegation, cap: auto}\nkubeReserved: recompute\nlabels: [{key: lc, from: lifecycle}]\ntaints: [{key: spot, value: 'true', effect: NoSchedule, when: {lifecycle: spot}}]\n").unwrap();
        assert_eq!(s.max_pods.unwrap().cap, Some(Cap::Word(CapWord::Auto)));
        assert_eq!(s.priority, 50);
        for bad in [
            "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nmaxpods: {formula: standard}\n",
            "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nmaxPods: {formula: prefix}\n",
            "apiVersion: v1\nkind: ConfigMap\n",
            "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\ntaints: [{key: a, value: b, effect: Never}]\n",
            "apiVersion: eks-userdata/v1alpha1\nkind: BootSpec\nlabels: [{key: a}]\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
