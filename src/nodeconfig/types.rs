//! Typed model of `NodeConfig` `node.eks.aws/v1alpha1`, field for field from
//! `nodeadm/api/v1alpha1/nodeconfig_types.go` (docs §1.2; CRD in `../shared/reference`).
//! Free-form documents (`kubelet.config`, `containerd.baseRuntimeSpec`) are ordered maps so
//! output keeps the user's key order; `containerd.config` stays TOML text. Empty values are
//! omitted on output, as nodeadm treats empty and absent alike (docs §2.2).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const API_VERSION: &str = "node.eks.aws/v1alpha1";
pub const KIND: &str = "NodeConfig";

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeConfig {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub spec: NodeConfigSpec,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata: None,
            spec: NodeConfigSpec::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeConfigSpec {
    #[serde(default, skip_serializing_if = "is_default")]
    pub cluster: ClusterDetails,
    #[serde(default, skip_serializing_if = "is_default")]
    pub containerd: ContainerdOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub instance: InstanceOptions,
    #[serde(default, skip_serializing_if = "is_default")]
    pub kubelet: KubeletOptions,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub feature_gates: IndexMap<String, bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDetails {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_server_endpoint: String,
    /// Base64 text as written (nodeadm decodes it to `[]byte`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate_authority: String,
    /// The *service* CIDR (docs §1.2, amazon-eks-ami #2139).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_outpost: Option<bool>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerdOptions {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub config: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub base_runtime_spec: IndexMap<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceOptions {
    #[serde(default, skip_serializing_if = "is_default")]
    pub local_storage: LocalStorageOptions,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: IndexMap<String, IndexMap<String, String>>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub network: NetworkOptions,
}

/// `instance.localStorage.strategy`. nodeadm's decoder takes any string (the enum is not
/// enforced, docs §1.3), so an unknown value is kept as written instead of failing to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalStorageStrategy {
    Raid0,
    Raid10,
    Mount,
    Other(String),
}

/// `instance.localStorage.disabledMounts[]`, unknown values kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisabledMount {
    Containerd,
    PodLogs,
    Soci,
    Other(String),
}

macro_rules! string_enum {
    ($t:ident { $($v:ident => $s:literal),* }) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                match self {
                    $($t::$v => $s,)*
                    $t::Other(s) => s,
                }
            }
        }
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(match s.as_str() {
                    $($s => $t::$v,)*
                    _ => $t::Other(s),
                })
            }
        }
    };
}

string_enum!(LocalStorageStrategy { Raid0 => "RAID0", Raid10 => "RAID10", Mount => "Mount" });
string_enum!(DisabledMount { Containerd => "Containerd", PodLogs => "PodLogs", Soci => "SOCI" });

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalStorageOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<LocalStorageStrategy>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mount_path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_mounts: Vec<DisabledMount>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkOptions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletOptions {
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub config: IndexMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_pods_expression: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field_in_order() {
        let text = r#"apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: c
    apiServerEndpoint: https://example.com
    certificateAuthority: Y2E=
    cidr: 10.100.0.0/16
    enableOutpost: true
    id: abc
  containerd:
    config: |
      version = 3
    baseRuntimeSpec:
      process:
        rlimits: []
  instance:
    localStorage:
      strategy: RAID10
      mountPath: /mnt/x
      disabledMounts: [Containerd, PodLogs, SOCI]
    environment:
      default: {HTTP_PROXY: "http://p:3128"}
    network:
      nameservers: [10.0.0.2]
      domains: [ec2.internal]
  kubelet:
    config:
      zeta: 1
      alpha: 2
    flags: [--node-labels=a=b]
    maxPodsExpression: max_pods
  featureGates:
    InstanceIdNodeName: true
"#;
        let nc: NodeConfig = crate::nodeconfig::yaml::from_str(text).unwrap();
        assert_eq!(nc.spec.instance.local_storage.strategy, Some(LocalStorageStrategy::Raid10));
        assert_eq!(nc.spec.kubelet.config.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
        let out = crate::nodeconfig::yaml::to_string(&nc).unwrap();
        let back: NodeConfig = crate::nodeconfig::yaml::from_str(&out).unwrap();
        assert_eq!(nc, back);
        let empty = crate::nodeconfig::yaml::to_string(&NodeConfig::default()).unwrap();
        assert_eq!(empty.trim_end(), "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {}");
    }
}
