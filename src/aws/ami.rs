//! `push --ami auto`: the AL2023 EKS AMI for the cluster's Kubernetes version and the
//! template's architecture. EKS publishes them as owner `amazon` with names
//! `amazon-eks-node-al2023-<arch>-standard-<k8s>-v<YYYYMMDD>` (issue #7; peers §5.1); the
//! newest release sorts last by name. `--ami-release` pins the release, `--ami-owner` names an
//! account that holds copies (organisations that copy AMIs into their own accounts).

use super::{AwsError, Connection};
use aws_sdk_ec2::types::Filter;

/// The image's architecture in EKS AMI names (`x86_64`, `arm64`).
pub async fn architecture(conn: &Connection, image_id: &str) -> Result<String, AwsError> {
    let out = conn
        .ec2
        .describe_images()
        .image_ids(image_id)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DescribeImages", e))?;
    let Some(image) = out.images().first() else {
        return Err(AwsError::new(
            "ec2:DescribeImages",
            "InvalidAMIID.NotFound",
            format!("image {image_id} not found, so its architecture is unknown; pass --ami ami-…"),
        ));
    };
    image.architecture().map(|a| a.as_str().to_string()).ok_or_else(|| {
        AwsError::new(
            "ec2:DescribeImages",
            "NoArchitecture",
            format!("image {image_id} has no architecture; pass --ami ami-…"),
        )
    })
}

/// (image id, name) of the newest matching AL2023 EKS AMI.
pub async fn find(
    conn: &Connection,
    owner: &str,
    kubernetes: &str,
    arch: &str,
    release: Option<&str>,
) -> Result<(String, String), AwsError> {
    let pattern = name_pattern(kubernetes, arch, release);
    let out = conn
        .ec2
        .describe_images()
        .owners(owner)
        .filters(Filter::builder().name("name").values(&pattern).build())
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DescribeImages", e))?;
    out.images()
        .iter()
        .filter_map(|i| Some((i.image_id()?.to_string(), i.name()?.to_string())))
        .max_by(|a, b| a.1.cmp(&b.1))
        .ok_or_else(|| {
            AwsError::new(
                "ec2:DescribeImages",
                "NoMatchingImage",
                format!("no image named {pattern} owned by {owner} in {}", conn.region),
            )
        })
}

pub fn name_pattern(kubernetes: &str, arch: &str, release: Option<&str>) -> String {
    let release = release.map_or("*".to_string(), |r| r.trim_start_matches('v').to_string());
    format!("amazon-eks-node-al2023-{arch}-standard-{kubernetes}-v{release}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn name_pattern_follows_eks_naming() {
        assert_eq!(super::name_pattern("1.33", "x86_64", None), "amazon-eks-node-al2023-x86_64-standard-1.33-v*");
        assert_eq!(
            super::name_pattern("1.33", "arm64", Some("v20251007")),
            "amazon-eks-node-al2023-arm64-standard-1.33-v20251007"
        );
    }
}
