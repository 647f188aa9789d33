//! AL2 AMI selectors and their AL2023 counterparts for the same architecture and accelerator:
//! EKS AMI types (EKS API reference, Nodegroup `amiType`), the SSM parameters EKS publishes
//! (EKS User Guide, "Retrieve recommended Amazon Linux AMI IDs":
//! `/aws/service/eks/optimized-ami/<k8s>/amazon-linux-2[-arm64|-gpu]/recommended/…` and
//! `/aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/<x86_64|arm64>/<standard|nvidia|neuron>/recommended/…`),
//! and the AMI names those point at (`amazon-eks[-arm64|-gpu]-node-<k8s>-v<date>` and
//! `amazon-eks-node-al2023-<arch>-<flavour>-<k8s>-v<date>`).
//!
//! AL2's GPU AMI served both NVIDIA and Inferentia/Trainium instances; AL2023 splits them into
//! `nvidia` and `neuron`. The GPU mapping picks `nvidia` and says so, as the instance types
//! decide which one is right.

/// Why an AL2 selector for an old Kubernetes version is left alone.
pub const TOO_OLD: &str = "EKS publishes AL2023 AMIs for Kubernetes 1.23 and later only (AWS Containers blog, \"Amazon EKS-Optimized Amazon Linux 2023 AMIs Now Available\"): upgrade the cluster first";

/// The literal Kubernetes minor version in an SSM parameter name or AMI name, when it is older
/// than any AL2023 EKS AMI (1.23).
pub fn too_old(s: &str) -> Option<u32> {
    let after = s
        .find("/optimized-ami/")
        .map(|i| i + "/optimized-ami/".len())
        .or_else(|| NAMES.iter().find_map(|(p, _, _)| s.find(p).map(|i| i + p.len())))?;
    let rest = s.get(after..)?;
    let v = rest.strip_prefix("1.")?;
    let minor: String = v.chars().take_while(char::is_ascii_digit).collect();
    minor.parse::<u32>().ok().filter(|m| *m < 23)
}

/// An AL2 selector's AL2023 replacement, and a caveat when the choice is not certain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub to: String,
    pub caveat: Option<&'static str>,
}

const GPU_CAVEAT: &str =
    "AL2's GPU AMI also ran Inferentia and Trainium instances; for those use the neuron variant instead of nvidia";

/// The accelerator every instance type of a list has, when they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accelerator {
    /// Inferentia and Trainium (`inf1`, `inf2`, `trn1`, `trn2`…): the AL2023 neuron AMIs.
    Neuron,
    /// Anything else the AL2 GPU AMI ran (NVIDIA `p*` and `g*` types).
    Nvidia,
}

/// `Some` when all the instance types share one accelerator family, `None` when they mix.
pub fn accelerator(types: &[String]) -> Option<Accelerator> {
    let neuron = |t: &String| {
        let t = t.to_ascii_lowercase();
        t.starts_with("inf") || t.starts_with("trn")
    };
    match (types.iter().all(neuron), types.iter().any(neuron)) {
        (true, _) => Some(Accelerator::Neuron),
        (false, false) => Some(Accelerator::Nvidia),
        (false, true) => None,
    }
}

/// `AL2_x86_64` → `AL2023_x86_64_STANDARD`, and so on.
pub fn ami_type(al2: &str) -> Option<Mapped> {
    let (to, caveat) = match al2 {
        "AL2_x86_64" => ("AL2023_x86_64_STANDARD", None),
        "AL2_ARM_64" => ("AL2023_ARM_64_STANDARD", None),
        "AL2_x86_64_GPU" => ("AL2023_x86_64_NVIDIA", Some(GPU_CAVEAT)),
        _ => return None,
    };
    Some(Mapped { to: to.into(), caveat })
}

/// The AL2 SSM path segments and their AL2023 replacements.
const SSM: [(&str, &str, Option<&str>); 3] = [
    ("/amazon-linux-2-arm64/", "/amazon-linux-2023/arm64/standard/", None),
    ("/amazon-linux-2-gpu/", "/amazon-linux-2023/x86_64/nvidia/", Some(GPU_CAVEAT)),
    ("/amazon-linux-2/", "/amazon-linux-2023/x86_64/standard/", None),
];

/// An SSM parameter name (possibly with template interpolations, `${var.k8s}`) under
/// `/aws/service/eks/optimized-ami/`: the byte range of the AL2 segment in `name` and its
/// replacement. The segment is the one right after the Kubernetes version, where EKS puts it;
/// an `amazon-linux-2` further along is not the AMI family.
pub fn ssm_segment(name: &str) -> Option<(std::ops::Range<usize>, Mapped)> {
    const BASE: &str = "/aws/service/eks/optimized-ami/";
    let version_start = name.find(BASE)? + BASE.len();
    let at = version_start + name.get(version_start..)?.find('/')?;
    let rest = name.get(at..)?;
    SSM.iter().find_map(|(al2, al2023, caveat)| {
        rest.starts_with(al2).then(|| (at..at + al2.len(), Mapped { to: (*al2023).into(), caveat: *caveat }))
    })
}

/// The AL2 AMI name prefixes (before `<k8s>-v<date>`) and their AL2023 replacements.
const NAMES: [(&str, &str, Option<&str>); 3] = [
    ("amazon-eks-arm64-node-", "amazon-eks-node-al2023-arm64-standard-", None),
    ("amazon-eks-gpu-node-", "amazon-eks-node-al2023-x86_64-nvidia-", Some(GPU_CAVEAT)),
    ("amazon-eks-node-", "amazon-eks-node-al2023-x86_64-standard-", None),
];

/// An AMI name or name filter: the byte range of the AL2 prefix and its replacement. A name
/// already AL2023 (`amazon-eks-node-al2023-…`) is left alone.
pub fn name_prefix(name: &str) -> Option<(std::ops::Range<usize>, Mapped)> {
    if name.contains("amazon-eks-node-al2023-") {
        return None;
    }
    NAMES.iter().find_map(|(al2, al2023, caveat)| {
        let at = name.find(al2)?;
        // `amazon-eks-node-` must be followed by the Kubernetes version (or a placeholder), not
        // another product's name.
        let next = name.get(at + al2.len()..)?.chars().next()?;
        (next.is_ascii_digit() || next == '$' || next == '*')
            .then(|| (at..at + al2.len(), Mapped { to: (*al2023).into(), caveat: *caveat }))
    })
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn apply(s: &str, (r, m): (std::ops::Range<usize>, Mapped)) -> String {
        format!("{}{}{}", &s[..r.start], m.to, &s[r.end..])
    }

    #[test]
    fn ssm_paths_keep_version_and_leaf() {
        let p = "/aws/service/eks/optimized-ami/${var.cluster_version}/amazon-linux-2/recommended/image_id";
        assert_eq!(
            apply(p, ssm_segment(p).unwrap()),
            "/aws/service/eks/optimized-ami/${var.cluster_version}/amazon-linux-2023/x86_64/standard/recommended/image_id"
        );
        let arm = "/aws/service/eks/optimized-ami/1.29/amazon-linux-2-arm64/recommended/release_version";
        assert_eq!(
            apply(arm, ssm_segment(arm).unwrap()),
            "/aws/service/eks/optimized-ami/1.29/amazon-linux-2023/arm64/standard/recommended/release_version"
        );
        let gpu = "/aws/service/eks/optimized-ami/1.29/amazon-linux-2-gpu/recommended/image_id";
        assert!(ssm_segment(gpu).unwrap().1.caveat.is_some());
        assert_eq!(
            ssm_segment("/aws/service/eks/optimized-ami/1.29/amazon-linux-2023/x86_64/standard/recommended"),
            None
        );
        assert_eq!(ssm_segment("/my/amazon-linux-2/param"), None, "only EKS's parameters");
        // Found by the migrate fuzz target: only the segment after the version is the family,
        // so a second run over the output has nothing left to change.
        let odd =
            "/aws/service/eks/optimized-ami/1.30/amazon-linux-2023/arm64/standard/x/1.30/amazon-linux-2-arm64/image_id";
        assert_eq!(ssm_segment(odd), None);
    }

    #[test]
    fn ami_names_and_types() {
        let n = "amazon-eks-node-${var.k8s}-v*";
        assert_eq!(apply(n, name_prefix(n).unwrap()), "amazon-eks-node-al2023-x86_64-standard-${var.k8s}-v*");
        let a = "amazon-eks-arm64-node-1.29-v20240315";
        assert_eq!(apply(a, name_prefix(a).unwrap()), "amazon-eks-node-al2023-arm64-standard-1.29-v20240315");
        assert_eq!(name_prefix("amazon-eks-node-al2023-x86_64-standard-1.29-v*"), None);
        assert_eq!(name_prefix("amazon-eks-node-windows-2022"), None);
        assert_eq!(ami_type("AL2_ARM_64").unwrap().to, "AL2023_ARM_64_STANDARD");
        assert_eq!(ami_type("AL2023_ARM_64_STANDARD"), None);
        assert_eq!(ami_type("BOTTLEROCKET_x86_64"), None);
        assert_eq!(too_old("/aws/service/eks/optimized-ami/1.13/amazon-linux-2-arm64/recommended/image_id"), Some(13));
        assert_eq!(too_old("/aws/service/eks/optimized-ami/1.23/amazon-linux-2/recommended/image_id"), None);
        assert_eq!(too_old("/aws/service/eks/optimized-ami/${var.v}/amazon-linux-2/recommended/image_id"), None);
        assert_eq!(too_old("amazon-eks-node-1.21-v*"), Some(21));
    }
}
