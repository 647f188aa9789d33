//! Reads the AWS side of the inventory: the EKS cluster's version, its add-ons' versions, its
//! managed node groups (AMI type, launch template, the eksctl version tag), and the IMDS hop
//! limit of the launch template version each uses (EC2 DescribeLaunchTemplateVersions).

use super::inventory::{AwsView, NodeGroup};
use crate::aws::{AwsError, Connection, nodegroups};
use std::collections::BTreeMap;

pub async fn read(conn: &Connection, cluster: &str) -> Result<AwsView, AwsError> {
    let described =
        conn.eks.describe_cluster().name(cluster).send().await.map_err(|e| AwsError::sdk("eks:DescribeCluster", e))?;
    let version = described.cluster().and_then(|c| c.version()).map(str::to_string);
    let mut names = Vec::new();
    let mut pages = conn.eks.list_addons().cluster_name(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(page.map_err(|e| AwsError::sdk("eks:ListAddons", e))?.addons().iter().cloned());
    }
    let mut addons = BTreeMap::new();
    for name in names {
        let a = conn
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(&name)
            .send()
            .await
            .map_err(|e| AwsError::sdk("eks:DescribeAddon", e))?;
        if let Some(v) = a.addon().and_then(|a| a.addon_version()) {
            addons.insert(name, v.to_string());
        }
    }
    let mut nodegroups = Vec::new();
    for name in nodegroups::names(conn, cluster).await? {
        let Some(g) = nodegroups::describe(conn, cluster, &name).await? else { continue };
        let lt = g
            .launch_template()
            .and_then(|l| Some((l.id()?.to_string(), l.version().unwrap_or("$Default").to_string())));
        let hop_limit = match &lt {
            Some((id, v)) => hop_limit(conn, id, v).await?,
            None => None,
        };
        nodegroups.push(NodeGroup {
            name,
            ami_type: g.ami_type().map(|a| a.as_str().to_string()),
            launch_template: lt.map(|(id, v)| format!("{id} version {v}")),
            hop_limit,
            eksctl_version: g.tags().and_then(|t| t.get("alpha.eksctl.io/eksctl-version")).cloned(),
        });
    }
    Ok(AwsView { cluster: cluster.to_string(), region: conn.region.clone(), version, addons, nodegroups })
}

async fn hop_limit(conn: &Connection, id: &str, version: &str) -> Result<Option<i64>, AwsError> {
    let data = crate::aws::launch_template_data(conn, id, version).await?;
    Ok(data.as_ref().and_then(|d| d.metadata_options()).and_then(|m| m.http_put_response_hop_limit()).map(i64::from))
}
