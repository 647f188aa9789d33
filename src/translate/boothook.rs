//! `convert --boot-hook`: AL2 scripts that call bootstrap.sh differently on spot and on-demand
//! instances (the lifecycle read from IMDS) cannot become one static NodeConfig (CV409). With the
//! boot hook (issue #9), the common settings stay static and the differing ones (max pods,
//! node labels, taints) become a boot spec that `eks-userdata-boot` applies at boot as a nodeadm
//! drop-in (docs §2.3: `/etc/eks/nodeadm.d/`, AMI v20251023 and later). The shell part that runs
//! the hook writes the spec to `/etc/eks-userdata/boot.yaml` with a quoted heredoc, so neither
//! cloud-init nor nodeadm reads the spec as configuration, and installs the hook from a URL
//! (checked against its sha256) or expects it at a path baked into the AMI.

use crate::nodeconfig::types::NodeConfig;
use indexmap::IndexMap;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookSource {
    /// Downloaded at boot and verified.
    Url { url: String, sha256: String },
    /// Already on the AMI.
    Path(String),
}

/// `if [ "$X" = "spot" ]`-style conditions on a variable assigned from IMDS
/// `instance-life-cycle`: the value tested (`spot` or `on-demand`).
pub fn lifecycle_condition(branch: &str, script: &str) -> Option<String> {
    let inner = branch.trim().strip_prefix("if ")?.trim();
    let inner = inner.trim_start_matches('[').trim_end_matches(']').trim();
    let (lhs, rhs) = inner.split_once("==").or_else(|| inner.split_once(" = "))?;
    let unq = |s: &str| s.trim().trim_matches(['"', '\'']).to_string();
    let (var, value) = (unq(lhs), unq(rhs));
    let var = var.strip_prefix('$')?.trim_matches(['{', '}']);
    if !matches!(value.as_str(), "spot" | "on-demand") {
        return None;
    }
    assignment(script, var).is_some_and(|v| fact_of(v) == Some("lifecycle")).then_some(value)
}

/// The value text of `VAR=…` (or `export`/`local VAR=…`) in the script, the first one.
fn assignment<'a>(script: &'a str, var: &str) -> Option<&'a str> {
    script.lines().find_map(|l| {
        let l = l.trim().trim_start_matches("export ").trim_start_matches("local ");
        l.strip_prefix(var)?.strip_prefix('=')
    })
}

fn labels(nc: &NodeConfig) -> (IndexMap<String, String>, Vec<String>) {
    let mut labels = IndexMap::new();
    let mut other = Vec::new();
    for f in &nc.spec.kubelet.flags {
        match f.strip_prefix("--node-labels=") {
            Some(l) => {
                for kv in l.split(',').filter(|s| !s.is_empty()) {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    labels.insert(k.to_string(), v.to_string());
                }
            }
            None => other.push(f.clone()),
        }
    }
    (labels, other)
}

/// An empty boot spec.
pub fn new_spec() -> serde_json::Map<String, Value> {
    let mut spec = serde_json::Map::new();
    spec.insert("apiVersion".into(), json!(crate::boot::spec::API_VERSION));
    spec.insert("kind".into(), json!("BootSpec"));
    spec
}

/// The spec as YAML, if the hook accepts it.
pub fn spec_yaml(spec: &serde_json::Map<String, Value>) -> Option<String> {
    let yaml = crate::nodeconfig::yaml::to_string(&Value::Object(spec.clone())).ok()?;
    crate::boot::spec::parse(&yaml).ok()?;
    Some(yaml)
}

/// The IMDS fact a text reads (`…/latest/meta-data/placement/availability-zone` → `zone`).
pub fn fact_of(text: &str) -> Option<&'static str> {
    let path = text.split("meta-data/").nth(1)?;
    let path: String = path.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/')).collect();
    Some(match path.trim_end_matches('/') {
        "instance-life-cycle" => "lifecycle",
        "placement/availability-zone" => "zone",
        "placement/region" => "region",
        "instance-type" => "instance-type",
        "placement/partition-number" => "partition",
        _ => return None,
    })
}

/// Node labels whose values the script reads from IMDS at boot (`zone=$ZONE` with
/// `ZONE=$(curl …/meta-data/placement/availability-zone)`, or the `$(curl …)` inline): taken out
/// of `--node-labels` and returned as boot-spec labels. Labels it cannot trace stay as they are.
pub fn runtime_labels(nc: &mut NodeConfig, script: &str) -> Vec<Value> {
    let source = |value: &str| -> Option<&'static str> {
        if value.starts_with("$(") || value.starts_with('`') {
            return fact_of(value);
        }
        let var = value.strip_prefix('$')?.trim_matches(['{', '}']);
        assignment(script, var).and_then(fact_of)
    };
    let mut out = Vec::new();
    let mut flags = Vec::new();
    for f in std::mem::take(&mut nc.spec.kubelet.flags) {
        let Some(list) = f.strip_prefix("--node-labels=") else {
            flags.push(f);
            continue;
        };
        let mut kept = Vec::new();
        for pair in list.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match v.contains(['$', '`']).then(|| source(v.trim_matches('"'))).flatten() {
                Some(fact) => out.push(json!({ "key": k, "from": fact })),
                None => kept.push(pair.to_string()),
            }
        }
        if !kept.is_empty() {
            flags.push(format!("--node-labels={}", kept.join(",")));
        }
    }
    nc.spec.kubelet.flags = flags;
    out
}

/// The common NodeConfig and the boot spec, or `None` when the branches differ in something
/// the hook cannot compute (then CV409 stands).
pub fn split(
    first: &NodeConfig,
    second: &NodeConfig,
    first_value: &str,
) -> Option<(NodeConfig, serde_json::Map<String, Value>)> {
    let second_value = if first_value == "spot" { "on-demand" } else { "spot" };
    // Everything but maxPods, taints and labels must be the same.
    let strip = |nc: &NodeConfig| {
        let mut c = nc.clone();
        c.spec.kubelet.config.shift_remove("maxPods");
        c.spec.kubelet.config.shift_remove("registerWithTaints");
        c.spec.kubelet.flags.retain(|f| !f.starts_with("--node-labels="));
        c
    };
    let (a, b) = (strip(first), strip(second));
    if a != b {
        return None;
    }
    let mut common = a;
    let mut spec = new_spec();

    let (pa, pb) = (first.spec.kubelet.config.get("maxPods"), second.spec.kubelet.config.get("maxPods"));
    if pa != pb {
        let mut overrides = Vec::new();
        for (v, when) in [(pa, first_value), (pb, second_value)] {
            if let Some(v) = v {
                overrides.push(json!({ "when": { "lifecycle": when }, "maxPods": v }));
            }
        }
        spec.insert("overrides".into(), Value::Array(overrides));
        spec.insert("kubeReserved".into(), json!("recompute"));
    } else if let Some(v) = pa {
        common.spec.kubelet.config.insert("maxPods".into(), v.clone());
    }

    let ((la, _), (lb, _)) = (labels(first), labels(second));
    let mut shared = Vec::new();
    let mut by_lifecycle = Vec::new();
    for (k, v) in &la {
        if lb.get(k) == Some(v) {
            shared.push(format!("{k}={v}"));
        } else {
            by_lifecycle.push(json!({ "key": k, "value": v, "when": { "lifecycle": first_value } }));
        }
    }
    for (k, v) in lb.iter().filter(|(k, v)| la.get(*k) != Some(*v)) {
        by_lifecycle.push(json!({ "key": k, "value": v, "when": { "lifecycle": second_value } }));
    }
    if !shared.is_empty() {
        common.spec.kubelet.flags.insert(0, format!("--node-labels={}", shared.join(",")));
    }
    if !by_lifecycle.is_empty() {
        spec.insert("labels".into(), Value::Array(by_lifecycle));
    }

    let (ta, tb) =
        (first.spec.kubelet.config.get("registerWithTaints"), second.spec.kubelet.config.get("registerWithTaints"));
    if ta != tb {
        let mut taints = Vec::new();
        for (list, when) in [(ta, first_value), (tb, second_value)] {
            for t in list.and_then(Value::as_array).into_iter().flatten() {
                let mut t = t.clone();
                // A taint that is not a mapping cannot carry `when`: no split.
                t.as_object_mut()?.insert("when".into(), json!({ "lifecycle": when }));
                taints.push(t);
            }
        }
        spec.insert("taints".into(), Value::Array(taints));
    } else if let Some(t) = ta {
        common.spec.kubelet.config.insert("registerWithTaints".into(), t.clone());
    }
    // The spec must read back as one the hook accepts.
    spec_yaml(&spec)?;
    Some((common, spec))
}

/// The shell part that installs and runs the hook.
pub fn script(spec: &str, source: &HookSource) -> String {
    let install = match source {
        HookSource::Path(p) => format!("HOOK={}\n", sq(p)),
        HookSource::Url { url, sha256 } => format!(
            "HOOK=/usr/local/bin/eks-userdata-boot\nif [ ! -x \"$HOOK\" ]; then\n  curl -fsSL --retry 5 --retry-connrefused -o \"$HOOK.download\" {url}\n  echo {sum} | sha256sum -c -\n  chmod 0755 \"$HOOK.download\"\n  mv \"$HOOK.download\" \"$HOOK\"\nfi\n",
            url = sq(url),
            sum = sq(&format!("{sha256}  /usr/local/bin/eks-userdata-boot.download")),
        ),
    };
    format!(
        "#!/bin/bash\n# Values this node computes at boot (eks-userdata convert --boot-hook; `eks-userdata explain CV431`).\n# eks-userdata-boot writes them to /etc/eks/nodeadm.d/, which nodeadm-run merges (AMI v20251023+).\nset -euo pipefail\nmkdir -p /etc/eks-userdata\ncat > /etc/eks-userdata/boot.yaml <<'EKS_USERDATA_BOOT'\n{spec}EKS_USERDATA_BOOT\n{install}\"$HOOK\" --spec /etc/eks-userdata/boot.yaml\n"
    )
}

fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_lifecycle_branches_only() {
        let script = "LIFECYCLE=$(curl -s http://169.254.169.254/latest/meta-data/instance-life-cycle)\n";
        assert_eq!(lifecycle_condition("if [ \"$LIFECYCLE\" = \"spot\" ]", script).as_deref(), Some("spot"));
        assert_eq!(lifecycle_condition("if [[ $LIFECYCLE == on-demand ]]", script).as_deref(), Some("on-demand"));
        assert_eq!(
            lifecycle_condition("if [ \"$ZONE\" = \"spot\" ]", script),
            None,
            "not assigned from IMDS lifecycle"
        );
        assert_eq!(lifecycle_condition("if [ \"$LIFECYCLE\" = \"x\" ]", script), None);
    }
}
