//! The cluster coordinates `convert` takes from `--cluster-info FILE` or flags (what
//! `aws eks describe-cluster` gives), read strictly and written deterministically.

use serde::Deserialize;

/// Cluster coordinates given on the command line or in `--cluster-info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterInfo {
    pub name: Option<String>,
    pub api_server_endpoint: Option<String>,
    pub certificate_authority: Option<String>,
    pub cidr: Option<String>,
    /// `ipv4` or `ipv6`, as DescribeCluster says; nodeadm infers it from `cidr`, so it is
    /// informational here.
    pub ip_family: Option<String>,
    /// `1.33`, as DescribeCluster says; `push --ami auto` picks the AMI for it.
    pub kubernetes_version: Option<String>,
}

impl ClusterInfo {
    /// The `--cluster-info` file: YAML (or JSON) with the keys above, unknown keys refused.
    pub fn parse(text: &str) -> Result<ClusterInfo, crate::nodeconfig::yaml::YamlError> {
        crate::nodeconfig::yaml::from_str(text)
    }

    /// The same file, written by `cluster-info`: stable key order, LF, no timestamps.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for (key, value) in [
            ("name", &self.name),
            ("apiServerEndpoint", &self.api_server_endpoint),
            ("certificateAuthority", &self.certificate_authority),
            ("cidr", &self.cidr),
            ("ipFamily", &self.ip_family),
            ("kubernetesVersion", &self.kubernetes_version),
        ] {
            if let Some(v) = value {
                // JSON strings are YAML double-quoted scalars: `1.30` stays a string.
                out.push_str(&format!("{key}: {}\n", serde_json::Value::String(v.clone())));
            }
        }
        out
    }
}
