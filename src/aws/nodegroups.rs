//! `push --update-nodegroups`: managed node groups that use a migrated launch template are moved
//! to the new version with EKS UpdateNodegroupVersion, which recycles their nodes. That works in
//! place only when the template names an AMI: "You must create a new node group to switch
//! between specifying an AMI ID in a launch template and not specifying an AMI ID", and a node
//! group on an EKS-chosen AMI keeps its AL2 `amiType` (peers §4 rules 2, 5, 6), so those are
//! reported with the blue/green path instead (`converge.rs`). The node groups are read when the
//! plan is made, so the plan lists each one it will move.

use super::{AwsError, Connection};
use serde::{Deserialize, Serialize};

/// A managed node group and the launch template version it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupRef {
    pub cluster: String,
    pub name: String,
    pub template_id: String,
    /// As EKS reports it: a number, or `$Default` / `$Latest`.
    pub version: Option<String>,
    pub ami_type: Option<String>,
    /// `ACTIVE`, `UPDATING`, …: a node group being updated is left for the next run.
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupUpdate {
    pub cluster: String,
    pub nodegroup: String,
    pub template_id: String,
    /// `started` or `error`.
    pub action: String,
    pub version: Option<i64>,
    pub update_id: Option<String>,
    pub detail: String,
}

/// Every node group of `cluster` that uses a launch template of the user's (EKS's own copies
/// are not listed by DescribeNodegroup; the node group names the template it was given).
pub async fn list(conn: &Connection, cluster: &str) -> Result<Vec<NodegroupRef>, AwsError> {
    let names = names(conn, cluster).await?;
    let mut out = Vec::new();
    for ng in names {
        let Some(group) = describe(conn, cluster, &ng).await? else { continue };
        let Some(lt) = group.launch_template() else { continue };
        let Some(id) = lt.id() else { continue };
        out.push(NodegroupRef {
            cluster: cluster.to_string(),
            name: ng.clone(),
            template_id: id.to_string(),
            version: lt.version().map(str::to_string),
            ami_type: group.ami_type().map(|a| a.as_str().to_string()),
            status: group.status().map(|a| a.as_str().to_string()),
        });
    }
    Ok(out)
}

/// The names of every managed node group of `cluster`, sorted (all ListNodegroups pages).
pub async fn names(conn: &Connection, cluster: &str) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = conn.eks.list_nodegroups().cluster_name(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("eks:ListNodegroups", e))?;
        names.extend(page.nodegroups().iter().cloned());
    }
    names.sort();
    Ok(names)
}

/// The launch template version a node group uses now.
pub async fn current_version(conn: &Connection, cluster: &str, nodegroup: &str) -> Result<Option<String>, AwsError> {
    let group = describe(conn, cluster, nodegroup).await?;
    Ok(group.as_ref().and_then(|g| g.launch_template()).and_then(|l| l.version()).map(str::to_string))
}

pub(crate) async fn describe(
    conn: &Connection,
    cluster: &str,
    nodegroup: &str,
) -> Result<Option<aws_sdk_eks::types::Nodegroup>, AwsError> {
    let described = conn
        .eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(nodegroup)
        .send()
        .await
        .map_err(|e| AwsError::sdk("eks:DescribeNodegroup", e))?;
    Ok(described.nodegroup().cloned())
}

/// Starts the update of one node group to `version` of its template.
pub async fn update(
    conn: &Connection,
    cluster: &str,
    nodegroup: &str,
    template_id: &str,
    version: i64,
) -> NodegroupUpdate {
    let mut u = NodegroupUpdate {
        cluster: cluster.to_string(),
        nodegroup: nodegroup.to_string(),
        template_id: template_id.to_string(),
        action: String::new(),
        version: Some(version),
        update_id: None,
        detail: String::new(),
    };
    let spec =
        aws_sdk_eks::types::LaunchTemplateSpecification::builder().id(template_id).version(version.to_string()).build();
    match conn
        .eks
        .update_nodegroup_version()
        .cluster_name(cluster)
        .nodegroup_name(nodegroup)
        .launch_template(spec)
        .send()
        .await
    {
        Ok(r) => {
            u.action = "started".into();
            u.update_id = r.update().and_then(|x| x.id()).map(str::to_string);
            u.detail = format!(
                "UpdateNodegroupVersion to version {version} ({}): EKS replaces the nodes",
                r.update().and_then(|x| x.status()).map_or("submitted", |s| s.as_str())
            );
        }
        Err(e) => {
            u.action = "error".into();
            u.detail = AwsError::sdk("eks:UpdateNodegroupVersion", e).to_string();
        }
    }
    u
}
