//! `push --update-nodegroups`: managed node groups that use a migrated launch template are moved
//! to the new version with EKS UpdateNodegroupVersion, which recycles their nodes. That works in
//! place only when the template names an AMI: "You must create a new node group to switch
//! between specifying an AMI ID in a launch template and not specifying an AMI ID", and a node
//! group on an EKS-chosen AMI keeps its AL2 `amiType` (peers §4 rules 2, 5, 6), so those are
//! reported with the blue/green path instead.

use super::{AwsError, Connection};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupUpdate {
    pub cluster: String,
    pub nodegroup: String,
    pub template_id: String,
    /// `started`, `not-in-place` or `error`.
    pub action: String,
    pub version: Option<i64>,
    pub update_id: Option<String>,
    pub detail: String,
}

/// A template migrated by this run: its id, the new version, whether it names an AMI.
#[derive(Debug, Clone)]
pub struct Migrated {
    pub template_id: String,
    pub version: i64,
    pub custom_ami: bool,
}

pub async fn update(conn: &Connection, cluster: &str, migrated: &[Migrated]) -> Result<Vec<NodegroupUpdate>, AwsError> {
    let mut names = Vec::new();
    let mut pages = conn.eks.list_nodegroups().cluster_name(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::sdk("eks:ListNodegroups", e))?;
        names.extend(page.nodegroups().iter().cloned());
    }
    names.sort();
    let mut out = Vec::new();
    for ng in names {
        let described = conn
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(&ng)
            .send()
            .await
            .map_err(|e| AwsError::sdk("eks:DescribeNodegroup", e))?;
        let Some(group) = described.nodegroup() else { continue };
        let Some(lt) = group.launch_template() else { continue };
        let Some(m) = migrated.iter().find(|m| lt.id() == Some(m.template_id.as_str())) else { continue };
        let mut u = NodegroupUpdate {
            cluster: cluster.to_string(),
            nodegroup: ng.clone(),
            template_id: m.template_id.clone(),
            action: String::new(),
            version: Some(m.version),
            update_id: None,
            detail: String::new(),
        };
        if !m.custom_ami {
            let ami_type = group.ami_type().map_or("its AMI type".to_string(), |a| a.as_str().to_string());
            u.action = "not-in-place".into();
            u.detail = format!(
                "EKS chooses this node group's AMI ({ami_type}), and a node group cannot switch to AL2023 in place: create a new node group with amiType AL2023_x86_64_STANDARD (or AL2023_ARM_64_STANDARD) and launch template {} version {}, move the workloads, then delete this one",
                m.template_id, m.version
            );
            out.push(u);
            continue;
        }
        let spec = aws_sdk_eks::types::LaunchTemplateSpecification::builder()
            .id(&m.template_id)
            .version(m.version.to_string())
            .build();
        match conn
            .eks
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(&ng)
            .launch_template(spec)
            .send()
            .await
        {
            Ok(r) => {
                u.action = "started".into();
                u.update_id = r.update().and_then(|x| x.id()).map(str::to_string);
                u.detail = format!(
                    "UpdateNodegroupVersion to version {} ({}): EKS replaces the nodes",
                    m.version,
                    r.update().and_then(|x| x.status()).map_or("submitted", |s| s.as_str())
                );
            }
            Err(e) => {
                let e = AwsError::sdk("eks:UpdateNodegroupVersion", e);
                u.action = "error".into();
                u.detail = e.to_string();
            }
        }
        out.push(u);
    }
    Ok(out)
}
