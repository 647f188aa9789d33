//! The AL2023 node's effective configuration in the shape `effective::Node` shares with the
//! AL2 side: the kubelet configuration nodeadm writes (its base overlaid by `kubelet.config`)
//! with the command line folded in, labels from `--node-labels`, the containerd overlay's
//! leaves, and the service environment from `instance.environment` (docs §2.2–2.4).

use super::Rendered;
use crate::effective::{self, Node};
use serde_json::Value;

/// The node `render` describes.
pub fn of(r: &Rendered) -> Node {
    let mut n = Node::default();
    let k = r.doc.get("kubelet");
    let config = k.and_then(|k| k.get("config")).cloned().unwrap_or(Value::Null);
    let args: Vec<String> = k
        .and_then(|k| k.get("args"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    effective::kubelet(config, &args, &mut n);
    let spec = r.doc.get("nodeconfig").and_then(|d| d.get("spec"));
    if let Some(c) = spec.and_then(|s| s.get("containerd")).and_then(|c| c.get("config")).and_then(Value::as_str) {
        match c.parse::<toml::Table>() {
            Ok(t) => effective::flatten_toml(&toml::Value::Table(t), "", &mut n.containerd),
            Err(_) => {
                n.containerd.insert("(config)".into(), "(not valid TOML: nodeadm fails)".into());
            }
        }
    }
    if let Some(Value::Object(envs)) = spec.and_then(|s| s.get("instance")).and_then(|i| i.get("environment")) {
        for (svc, vars) in envs {
            if let Value::Object(vars) = vars {
                let m = n.environment.entry(svc.clone()).or_default();
                for (k, v) in vars {
                    m.insert(k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string));
                }
            }
        }
    }
    if let Some(note) = r.notes.iter().find(|n| n.severity == crate::diagnostic::Severity::Error) {
        n.fails = Some(note.message.clone());
    }
    n
}
