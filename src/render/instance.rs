//! What nodeadm computes from the instance type (docs §5.2, `nodeadm/internal/kubelet`):
//! maxPods = defaultMaxENIs × (IPv4 per ENI − 1) + 2 from its embedded table (ours is derived
//! from it by `tools/gen-instance-info.py`); a type missing from the table makes nodeadm ask EC2
//! DescribeInstanceTypes and fall back to 110. kubeReserved: memory 11 × maxPods + 255 MiB, where
//! maxPods is the instance value (or the maxPodsExpression result), never the user's override;
//! cpu 6 % of the first core, 1 % of the second, 0.5 % of cores 3–4, 0.25 % of the rest;
//! ephemeral-storage 1Gi.

use std::collections::HashMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("instance-info.tsv");

/// nodeadm's fallback when the type is unknown and EC2 cannot be asked.
pub const FALLBACK_MAX_PODS: i64 = 110;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    pub default_enis: i64,
    pub ips_per_eni: i64,
}

impl Instance {
    pub fn max_pods(self) -> i64 {
        self.default_enis * (self.ips_per_eni - 1) + 2
    }
}

pub fn lookup(instance_type: &str) -> Option<Instance> {
    static T: OnceLock<HashMap<&'static str, Instance>> = OnceLock::new();
    T.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut c = l.split('\t');
                let (t, e, i) = (c.next()?, c.next()?.parse().ok()?, c.next()?.parse().ok()?);
                Some((t, Instance { default_enis: e, ips_per_eni: i }))
            })
            .collect()
    })
    .get(instance_type)
    .copied()
}

pub fn memory_mebibytes_to_reserve(max_pods: i64) -> i64 {
    11 * max_pods + 255
}

/// Millicores nodeadm reserves for `vcpus` cores.
pub fn cpu_millicores_to_reserve(vcpus: u32) -> i64 {
    let mut total = 0.0f64;
    for core in 1..=vcpus {
        total += match core {
            1 => 60.0,
            2 => 10.0,
            3 | 4 => 5.0,
            _ => 2.5,
        };
    }
    total as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_nodeadm_for_known_types() {
        let m4 = lookup("m4.xlarge").unwrap();
        assert_eq!(m4.max_pods(), 58);
        assert_eq!(memory_mebibytes_to_reserve(58), 893, "the e2e value in docs §5.2");
        assert_eq!(lookup("m5.large").unwrap().max_pods(), 29);
        assert_eq!(lookup("m5.24xlarge").unwrap().max_pods(), 737);
        assert!(lookup("z9.nonexistent").is_none());
        assert_eq!(cpu_millicores_to_reserve(1), 60);
        assert_eq!(cpu_millicores_to_reserve(2), 70);
        assert_eq!(cpu_millicores_to_reserve(4), 80);
        assert_eq!(cpu_millicores_to_reserve(8), 90);
    }
}
