//! nodeadm merges NodeConfig documents left to right, later wins (docs §2.2,
//! `nodeadm/internal/api/merge.go` with `mergo.WithOverride`):
//! * typed scalars: a later *non-empty* value overrides; empty or `false` cannot clear;
//! * typed lists (`certificateAuthority`, `nameservers`, `domains`, `disabledMounts`): a later
//!   non-empty list replaces;
//! * `kubelet.flags`: appended, no de-duplication;
//! * `kubelet.config`, `containerd.baseRuntimeSpec`: deep map merge, a later scalar always wins
//!   (even `""`, `0`, `false`), lists replaced;
//! * `containerd.config`: TOML deep-merged the same way (comments and layout are lost, as in
//!   nodeadm); taken as is when the earlier one is empty;
//! * `featureGates`, `instance.environment`: merged key by key, a later `false` does override.

use super::types::*;
use indexmap::IndexMap;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("containerd.config is not valid TOML: {0}")]
pub struct MergeError(pub String);

fn scalar(dst: &mut String, src: &str) {
    if !src.is_empty() {
        *dst = src.to_string();
    }
}

fn list<T: Clone>(dst: &mut Vec<T>, src: &[T]) {
    if !src.is_empty() {
        *dst = src.to_vec();
    }
}

/// Deep merge of JSON maps: maps recurse, anything else (lists included) is replaced.
pub fn deep_merge(dst: &mut IndexMap<String, Value>, src: &IndexMap<String, Value>) {
    for (k, v) in src {
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => merge_objects(d, s),
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

fn merge_objects(dst: &mut serde_json::Map<String, Value>, src: &serde_json::Map<String, Value>) {
    for (k, v) in src {
        match (dst.get_mut(k), v) {
            (Some(Value::Object(d)), Value::Object(s)) => merge_objects(d, s),
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Deep merge of TOML tables, as nodeadm merges `containerd.config`: tables recurse, anything
/// else is replaced.
pub fn merge_toml(dst: &mut toml::Table, src: &toml::Table) {
    for (k, v) in src {
        match (dst.get_mut(k), v) {
            (Some(toml::Value::Table(d)), toml::Value::Table(s)) => merge_toml(d, s),
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Merges `src` over `dst` in place.
pub fn merge_into(dst: &mut NodeConfig, src: &NodeConfig) -> Result<(), MergeError> {
    let (d, s) = (&mut dst.spec, &src.spec);
    scalar(&mut d.cluster.name, &s.cluster.name);
    scalar(&mut d.cluster.api_server_endpoint, &s.cluster.api_server_endpoint);
    scalar(&mut d.cluster.certificate_authority, &s.cluster.certificate_authority);
    scalar(&mut d.cluster.cidr, &s.cluster.cidr);
    scalar(&mut d.cluster.id, &s.cluster.id);
    if s.cluster.enable_outpost == Some(true) {
        d.cluster.enable_outpost = Some(true);
    } else if d.cluster.enable_outpost.is_none() {
        d.cluster.enable_outpost = s.cluster.enable_outpost;
    }
    if !s.containerd.config.is_empty() {
        if d.containerd.config.is_empty() {
            d.containerd.config = s.containerd.config.clone();
        } else {
            let mut base: toml::Table =
                d.containerd.config.parse().map_err(|e: toml::de::Error| MergeError(e.to_string()))?;
            let over: toml::Table =
                s.containerd.config.parse().map_err(|e: toml::de::Error| MergeError(e.to_string()))?;
            merge_toml(&mut base, &over);
            d.containerd.config = base.to_string();
        }
    }
    deep_merge(&mut d.containerd.base_runtime_spec, &s.containerd.base_runtime_spec);
    let (dl, sl) = (&mut d.instance.local_storage, &s.instance.local_storage);
    // An empty strategy is empty (nodeadm's decoder keeps "" as a value that cannot clear).
    if sl.strategy.as_ref().is_some_and(|st| !st.as_str().is_empty()) {
        dl.strategy = sl.strategy.clone();
    }
    scalar(&mut dl.mount_path, &sl.mount_path);
    list(&mut dl.disabled_mounts, &sl.disabled_mounts);
    for (unit, vars) in &s.instance.environment {
        let entry = d.instance.environment.entry(unit.clone()).or_default();
        for (k, v) in vars {
            entry.insert(k.clone(), v.clone());
        }
    }
    list(&mut d.instance.network.nameservers, &s.instance.network.nameservers);
    list(&mut d.instance.network.domains, &s.instance.network.domains);
    deep_merge(&mut d.kubelet.config, &s.kubelet.config);
    d.kubelet.flags.extend(s.kubelet.flags.iter().cloned());
    scalar(&mut d.kubelet.max_pods_expression, &s.kubelet.max_pods_expression);
    for (k, v) in &s.feature_gates {
        d.feature_gates.insert(k.clone(), *v);
    }
    Ok(())
}

/// Merges documents in order, as nodeadm merges the parts of user data.
pub fn merge_all<'a>(docs: impl IntoIterator<Item = &'a NodeConfig>) -> Result<NodeConfig, MergeError> {
    let mut out = NodeConfig::default();
    for doc in docs {
        merge_into(&mut out, doc)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nc(yaml: &str) -> NodeConfig {
        crate::nodeconfig::yaml::from_str(&format!(
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n{yaml}"
        ))
        .unwrap()
    }

    #[test]
    fn later_non_empty_wins_and_empty_cannot_clear() {
        let a = nc(
            "  cluster: {name: a, cidr: 10.100.0.0/16, enableOutpost: true}\n  instance: {localStorage: {strategy: RAID0}}",
        );
        let b = nc("  cluster: {name: b, cidr: '', enableOutpost: false}");
        let m = merge_all([&a, &b]).unwrap();
        assert_eq!(m.spec.cluster.name, "b");
        assert_eq!(m.spec.cluster.cidr, "10.100.0.0/16");
        assert_eq!(m.spec.cluster.enable_outpost, Some(true), "a later false does not undo true");
        assert_eq!(m.spec.instance.local_storage.strategy, Some(LocalStorageStrategy::Raid0));
    }

    #[test]
    fn flags_append_config_deep_merges_lists_replace() {
        let a = nc(
            "  kubelet:\n    flags: [--node-labels=a=1]\n    config: {logging: {verbosity: 5}, podsPerCore: 3, clusterDNS: [10.0.0.10], systemReserved: {cpu: 1}}\n  featureGates: {FastImagePull: true}",
        );
        let b = nc(
            "  kubelet:\n    flags: [--node-labels=b=2]\n    config: {logging: {verbosity: 2}, clusterDNS: [10.0.0.53], systemReserved: {memory: 1Gi}, podsPerCore: 0}\n  featureGates: {FastImagePull: false}",
        );
        let m = merge_all([&a, &b]).unwrap();
        assert_eq!(m.spec.kubelet.flags, ["--node-labels=a=1", "--node-labels=b=2"]);
        let cfg = serde_json::to_value(&m.spec.kubelet.config).unwrap();
        assert_eq!(
            cfg,
            serde_json::json!({"logging": {"verbosity": 2}, "podsPerCore": 0, "clusterDNS": ["10.0.0.53"], "systemReserved": {"cpu": 1, "memory": "1Gi"}})
        );
        assert!(!m.spec.feature_gates["FastImagePull"]);
    }

    #[test]
    fn containerd_toml_deep_merges() {
        let a = nc("  containerd:\n    config: |\n      [plugins.a]\n      x = 1\n      y = 2\n");
        let b = nc("  containerd:\n    config: |\n      [plugins.a]\n      y = 3\n");
        let m = merge_all([&a, &b]).unwrap();
        let t: toml::Table = m.spec.containerd.config.parse().unwrap();
        assert_eq!(t["plugins"]["a"]["x"].as_integer(), Some(1));
        assert_eq!(t["plugins"]["a"]["y"].as_integer(), Some(3));
        let bad = nc("  containerd:\n    config: 'not = = toml'\n");
        assert!(merge_all([&a, &bad]).is_err());
    }
}
