//! Kubelet feature gates Kubernetes has removed (kubernetes/website "Feature Gates (removed)",
//! derived into `removed-feature-gates.tsv` by `tools/gen-removed-gates.py`). A kubelet newer
//! than a gate's last release refuses to start when the gate is set ("unrecognized feature
//! gate"), so an AL2 setting of such a gate cannot be carried to an AL2023 AMI.

const TABLE: &str = include_str!("removed-feature-gates.tsv");

/// The oldest Kubernetes minor the conversion assumes for AL2023 AMIs (EKS standard support).
pub const AL2023_MIN_MINOR: u32 = 30;

/// The last Kubernetes minor release (1.x) that still recognises `gate`, if it was removed.
pub fn last_minor(gate: &str) -> Option<u32> {
    table().get(gate).copied()
}

/// The table, read once: lint and the equivalence check ask about every gate of every node.
fn table() -> &'static std::collections::BTreeMap<&'static str, u32> {
    static TABLE_MAP: std::sync::OnceLock<std::collections::BTreeMap<&'static str, u32>> = std::sync::OnceLock::new();
    TABLE_MAP.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|l| l.split_once('\t'))
            .filter_map(|(g, v)| Some((g, v.trim().parse().ok()?)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_gates_and_live_ones() {
        assert_eq!(last_minor("CSIMigrationAWS"), Some(26));
        assert_eq!(last_minor("DynamicKubeletConfig"), Some(25));
        assert_eq!(last_minor("RotateKubeletServerCertificate"), None, "still a gate");
        assert_eq!(last_minor("gate"), None, "the header is not a gate");
    }
}
