//! The drop-in nodeadm merges after user data: `/etc/eks/nodeadm.d/NN-eks-userdata.yaml`
//! (docs §2.3; files in name order, only `.yaml`/`.yml`/`.json` are read, and one that does not
//! decode fails nodeadm-run). It is written to a hidden name without that suffix and renamed
//! into place, so nodeadm never sees half a file. Merge semantics decide the shape: labels go
//! in as `--node-labels` (flags append, and the kubelet merges repeated map flags), maxPods and
//! kubeReserved.memory as config keys (maps merge key by key, so nodeadm's cpu reservation
//! stays), taints as `registerWithTaints` (a list: it replaces one set in user data config).

use super::compute::Computed;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The NodeConfig text, or `None` when there is nothing to write.
pub fn render(c: &Computed) -> Option<String> {
    let mut config = Map::new();
    if let Some(n) = c.max_pods {
        config.insert("maxPods".into(), json!(n));
    }
    if let Some(m) = &c.kube_reserved_memory {
        config.insert("kubeReserved".into(), json!({ "memory": m }));
    }
    if !c.taints.is_empty() {
        config.insert("registerWithTaints".into(), Value::Array(c.taints.clone()));
    }
    let mut kubelet = Map::new();
    if !config.is_empty() {
        kubelet.insert("config".into(), Value::Object(config));
    }
    if !c.labels.is_empty() {
        let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        kubelet.insert("flags".into(), json!([format!("--node-labels={}", labels.join(","))]));
    }
    if kubelet.is_empty() {
        return None;
    }
    let doc = json!({ "apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": { "kubelet": kubelet } });
    Some(format!(
        "# Written at boot by eks-userdata-boot.\n{}",
        crate::nodeconfig::yaml::to_string(&doc).unwrap_or_default()
    ))
}

pub fn path(root: &Path, priority: u8) -> PathBuf {
    root.join("etc/eks/nodeadm.d").join(format!("{priority:02}-eks-userdata.yaml"))
}

/// Writes `text` at `path` atomically (hidden temporary in the same directory, then rename).
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{}.tmp", name.trim_end_matches(".yaml")));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_only_what_was_computed_and_writes_atomically() {
        assert_eq!(render(&Computed::default()), None);
        let c = Computed {
            max_pods: Some(110),
            kube_reserved_memory: Some("1465Mi".into()),
            labels: vec![("a".into(), "b".into())],
            ..Default::default()
        };
        let text = render(&c).unwrap();
        assert!(
            text.contains("maxPods: 110") && text.contains("memory: 1465Mi") && text.contains("--node-labels=a=b"),
            "{text}"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), 50);
        write(&p, &text).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        let left: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 1, "no temporary left: {left:?}");
    }
}
