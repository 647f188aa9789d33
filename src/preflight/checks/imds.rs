//! PF605: workloads off the host network that reach IMDS, which a hop limit of 1 (the AL2023
//! default on managed node groups and Karpenter; EKS AL2023 page) cuts off. Known controllers
//! and the settings that spare them IMDS are from their documentation: the AWS Load Balancer
//! Controller reads the VPC and region from IMDS unless `--aws-vpc-id` (or `--aws-vpc-tags`)
//! and `--aws-region` are given; the cluster autoscaler and the EBS and EFS CSI controllers
//! read the region unless `AWS_REGION` is set; any AWS SDK falls back to IMDS for credentials
//! without IRSA or EKS Pod Identity.

use super::super::inventory::{Container, Inventory, Workload, image_name};
use super::super::{Confidence, Finding, codes};
use crate::diagnostic::Severity;

/// A controller known to read IMDS, matched by image name.
struct Known {
    image: &'static str,
    what: &'static str,
    /// Needs a region from IMDS unless given.
    region: bool,
    /// Needs the VPC from IMDS unless given (the Load Balancer Controller).
    vpc: bool,
}

const KNOWN: [Known; 4] = [
    Known { image: "aws-load-balancer-controller", what: "the AWS Load Balancer Controller", region: true, vpc: true },
    Known { image: "cluster-autoscaler", what: "the cluster autoscaler", region: true, vpc: false },
    Known { image: "aws-ebs-csi-driver", what: "the EBS CSI driver", region: true, vpc: false },
    Known { image: "aws-efs-csi-driver", what: "the EFS CSI driver", region: true, vpc: false },
];

const IMDS_ADDRESS: &str = "169.254.169.254";

fn has_credentials(c: &Container) -> bool {
    let e = |k: &str| c.env.contains_key(k);
    (e("AWS_ROLE_ARN") && e("AWS_WEB_IDENTITY_TOKEN_FILE"))
        || e("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        || e("AWS_ACCESS_KEY_ID")
}

fn arg(c: &Container, names: &[&str]) -> bool {
    c.args.iter().chain(&c.command).any(|a| names.iter().any(|n| a == n || a.starts_with(&format!("{n}="))))
}

/// Why a container needs IMDS, and how sure that is; `None` when it does not.
fn reason(c: &Container) -> Option<(String, Confidence)> {
    // NO_PROXY lists the address to keep IMDS off a proxy: that is no use of it.
    let env = c.env.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("NO_PROXY")).map(|(_, v)| v);
    let names_imds = env.chain(&c.args).chain(&c.command).any(|v| v.contains(IMDS_ADDRESS));
    if names_imds {
        return Some((format!("container {} names {IMDS_ADDRESS}", c.name), Confidence::Certain));
    }
    let name = image_name(&c.image);
    let k = KNOWN.iter().find(|k| name == k.image)?;
    let mut missing = Vec::new();
    let creds = has_credentials(c);
    if !creds {
        missing.push("credentials (no IRSA or Pod Identity environment)");
    }
    let region = c.env.contains_key("AWS_REGION")
        || c.env.contains_key("AWS_DEFAULT_REGION")
        || arg(c, &["--aws-region", "--region"]);
    if k.region && !region {
        missing.push("its region (no AWS_REGION or --aws-region)");
    }
    if k.vpc && !arg(c, &["--aws-vpc-id", "--aws-vpc-tags"]) {
        missing.push("its VPC (no --aws-vpc-id)");
    }
    if missing.is_empty() {
        return None;
    }
    let confidence = if creds { Confidence::Likely } else { Confidence::Certain };
    Some((format!("{} reads {} from IMDS", k.what, missing.join(" and ")), confidence))
}

/// The workloads off the host network that need IMDS, with why and how sure.
pub fn needs_imds(inv: &Inventory) -> Vec<(&Workload, String, Confidence)> {
    let Some(k) = &inv.kubernetes else { return Vec::new() };
    k.workloads
        .iter()
        .filter(|w| !w.host_network)
        .filter_map(|w| {
            let (why, c) = w.containers.iter().filter_map(reason).max_by_key(|(_, c)| *c)?;
            Some((w, why, c))
        })
        .collect()
}

pub fn check(inv: &Inventory) -> Vec<Finding> {
    // Launch templates that let two hops through spare the workloads, where that is known.
    let all_two = inv
        .aws
        .as_ref()
        .is_some_and(|a| !a.nodegroups.is_empty() && a.nodegroups.iter().all(|g| g.hop_limit.is_some_and(|h| h >= 2)));
    needs_imds(inv)
        .into_iter()
        .map(|(w, why, c)| {
            let (severity, tail) = if all_two {
                (
                    Severity::Info,
                    "; every managed node group's launch template allows 2 hops, so it still reaches IMDS there",
                )
            } else {
                (Severity::Warning, "; with AL2023's hop limit of 1 it cannot, off the host network")
            };
            Finding::new(&codes::IMDS_FROM_PODS, severity, w.subject(), format!("{why}{tail}")).with_confidence(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::inventory::KubeView;

    fn w(name: &str, image: &str, env: &[(&str, &str)], args: &[&str], host: bool) -> Workload {
        Workload {
            kind: "Deployment".into(),
            namespace: "kube-system".into(),
            name: name.into(),
            host_network: host,
            containers: vec![Container {
                name: "c".into(),
                image: image.into(),
                env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                args: args.iter().map(|a| a.to_string()).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn controllers_that_need_imds_are_found_with_how_sure() {
        let irsa = [("AWS_ROLE_ARN", "arn:aws:iam::1:role/x"), ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/t")];
        let inv = Inventory {
            kubernetes: Some(KubeView {
                workloads: vec![
                    w(
                        "alb",
                        "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1",
                        &[],
                        &["--cluster-name=x"],
                        false,
                    ),
                    w(
                        "alb-ok",
                        "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.1",
                        &irsa,
                        &["--aws-vpc-id=vpc-1", "--aws-region=eu-west-1"],
                        false,
                    ),
                    w("ca", "registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.0", &irsa, &[], false),
                    w("nth", "x/aws-node-termination-handler:v1", &[("X", "http://169.254.169.254/latest")], &[], true),
                    w("app", "x/app:1", &[("META", "http://169.254.169.254/latest/meta-data")], &[], false),
                ],
                ..Default::default()
            }),
            aws: None,
        };
        let f = check(&inv);
        let got: Vec<(&str, Option<Confidence>)> = f.iter().map(|f| (f.subject.as_str(), f.confidence)).collect();
        assert_eq!(
            got,
            [
                ("Deployment kube-system/alb", Some(Confidence::Certain)),
                ("Deployment kube-system/ca", Some(Confidence::Likely)),
                ("Deployment kube-system/app", Some(Confidence::Certain)),
            ]
        );
        assert!(f[0].message.contains("credentials") && f[0].message.contains("VPC"), "{}", f[0].message);
    }
}
