//! `cluster-info`: EKS DescribeCluster → the cluster coordinates nodeadm needs and no longer
//! looks up itself (docs §5.3: apiServerEndpoint, certificateAuthority and the *service* CIDR
//! are required on AL2023), in the file `convert --cluster-info` reads.

use super::{AwsError, Connection};
use crate::translate::ClusterInfo;

pub async fn describe(conn: &Connection, name: &str) -> Result<ClusterInfo, AwsError> {
    let out =
        conn.eks.describe_cluster().name(name).send().await.map_err(|e| AwsError::sdk("eks:DescribeCluster", e))?;
    let Some(c) = out.cluster() else {
        return Err(AwsError::new("eks:DescribeCluster", "ResourceNotFoundException", format!("no cluster {name}")));
    };
    let net = c.kubernetes_network_config();
    let family = net.and_then(|n| n.ip_family()).map(|f| f.as_str().to_string());
    // The service CIDR of the family the cluster runs (docs §5.1, `--service-ipv6-cidr`).
    let cidr = match family.as_deref() {
        Some("ipv6") => net.and_then(|n| n.service_ipv6_cidr()),
        _ => net.and_then(|n| n.service_ipv4_cidr()),
    };
    Ok(ClusterInfo {
        name: c.name().map(str::to_string),
        api_server_endpoint: c.endpoint().map(str::to_string),
        certificate_authority: c.certificate_authority().and_then(|a| a.data()).map(str::to_string),
        cidr: cidr.map(str::to_string),
        ip_family: family.or_else(|| cidr.map(|_| "ipv4".to_string())),
        kubernetes_version: c.version().map(str::to_string),
    })
}
