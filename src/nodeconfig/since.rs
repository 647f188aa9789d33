//! The AMI release that introduced each NodeConfig field and value (docs §1.2, "Since", from
//! nodeadm's git history; drop-ins docs §2.3). One table for `lint` (NC220) and `render`.

use crate::nodeconfig::pointer::Pointer as _;
use serde_json::Value;

pub struct Since {
    /// JSON Pointer into a NodeConfig document; a trailing `/*` means any list item.
    pub pointer: &'static str,
    /// A value that arrived later than its field; `None`: the field itself.
    pub value: Option<&'static str>,
    /// `20251007` for `v20251007`.
    pub release: u32,
    pub what: &'static str,
}

/// nodeadm's first release: no NodeConfig works before it.
pub const GA: u32 = 20240213;
/// `/etc/eks/nodeadm.d/` drop-ins are read from this release on.
pub const DROP_INS: u32 = 20251023;

const fn s(pointer: &'static str, value: Option<&'static str>, release: u32, what: &'static str) -> Since {
    Since { pointer, value, release, what }
}

pub const TABLE: &[Since] = &[
    s("/spec/cluster/id", None, 20240220, "cluster.id"),
    s("/spec/containerd/baseRuntimeSpec", None, 20240615, "containerd.baseRuntimeSpec"),
    s("/spec/instance/localStorage/strategy", Some("RAID0"), 20240227, "localStorage RAID0"),
    s("/spec/instance/localStorage/strategy", Some("Mount"), 20240227, "localStorage Mount"),
    s("/spec/instance/localStorage/strategy", Some("RAID10"), 20250228, "localStorage RAID10"),
    s("/spec/instance/localStorage/mountPath", None, 20250620, "localStorage.mountPath"),
    s("/spec/instance/localStorage/disabledMounts", None, 20250620, "localStorage.disabledMounts"),
    s("/spec/instance/localStorage/disabledMounts/*", Some("PodLogs"), 20251120, "disabledMounts PodLogs"),
    s("/spec/instance/localStorage/disabledMounts/*", Some("SOCI"), 20260120, "disabledMounts SOCI"),
    s("/spec/instance/environment", None, 20251007, "instance.environment"),
    s("/spec/instance/network", None, 20251217, "instance.network"),
    s("/spec/kubelet/maxPodsExpression", None, 20251007, "kubelet.maxPodsExpression"),
    s("/spec/featureGates/InstanceIdNodeName", None, 20240424, "the InstanceIdNodeName feature gate"),
    s("/spec/featureGates/FastImagePull", None, 20250821, "the FastImagePull feature gate"),
];

/// Entries `doc` (a whole NodeConfig document) uses that `release` predates, with the pointer
/// where each was found.
pub fn too_new(doc: &Value, release: u32) -> Vec<(String, &'static Since)> {
    let mut out = Vec::new();
    for e in TABLE.iter().filter(|e| release < e.release) {
        let found: Vec<(String, &Value)> = match e.pointer.strip_suffix("/*") {
            Some(list) => doc
                .at(list)
                .and_then(Value::as_array)
                .map(|items| items.iter().enumerate().map(|(i, x)| (format!("{list}/{i}"), x)).collect())
                .unwrap_or_default(),
            None => doc.at(e.pointer).map(|x| vec![(e.pointer.to_owned(), x)]).unwrap_or_default(),
        };
        for (p, x) in found {
            if e.value.is_none_or(|want| x.as_str() == Some(want)) {
                out.push((p, e));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fields_and_values_newer_than_a_release() {
        let doc = serde_json::json!({"spec": {"instance": {"localStorage": {"strategy": "RAID10", "disabledMounts": ["SOCI"]}}}});
        let got: Vec<&str> = too_new(&doc, 20250101).iter().map(|(_, e)| e.what).collect();
        assert_eq!(got, ["localStorage RAID10", "localStorage.disabledMounts", "disabledMounts SOCI"]);
        let got: Vec<String> = too_new(&doc, 20251201).into_iter().map(|(p, _)| p).collect();
        assert_eq!(got, ["/spec/instance/localStorage/disabledMounts/0"]);
        assert!(too_new(&doc, 20260120).is_empty());
    }
}
