//! Reads the Kubernetes side of the inventory through the API server (kube-rs): the server
//! version, nodes, pods (one per controller), and the `aws-node` DaemonSet. The kubeconfig is
//! read as kubectl reads it: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, with its
//! current context or `--context`, and exec credential plugins (`aws eks get-token`) run as
//! kube-rs runs them.

use super::inventory::{Container, KubeView, Node, Workload};
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node as KNode, Pod};
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubeconfig: {0}")]
    Config(String),
    #[error("the Kubernetes API: {0}")]
    Api(String),
}

/// A client for the kubeconfig and context asked for. `retry`: kube-rs retries a 429 on its own;
/// a drain turns that off, because there a 429 is a PodDisruptionBudget's answer to report and
/// time, not throttling.
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>, retry: bool) -> Result<kube::Client, KubeError> {
    let options = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    let config = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(kc, &options).await
        }
        None => kube::Config::from_kubeconfig(&options).await,
    }
    .map_err(|e| KubeError::Config(e.to_string()))?;
    let mut config = config;
    config.default_retry = retry;
    kube::Client::try_from(config).map_err(|e| KubeError::Config(e.to_string()))
}

/// The EKS cluster a kubeconfig context reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksTarget {
    pub name: String,
    pub region: Option<String>,
}

/// The value after `flag` in an argument list (`--flag value` or `--flag=value`).
fn flag_value(args: &[String], flags: &[&str]) -> Option<String> {
    let spaced = args.iter().position(|a| flags.contains(&a.as_str())).and_then(|i| args.get(i + 1)).cloned();
    spaced.or_else(|| {
        args.iter().find_map(|a| {
            let (flag, value) = a.split_once('=')?;
            flags.contains(&flag).then(|| value.to_string())
        })
    })
}

/// The EKS cluster a kubeconfig context reaches, when it says: the cluster entry's name is the
/// cluster's ARN (`aws eks update-kubeconfig` names it so: `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`),
/// or the user's exec plugin names it (`aws eks get-token --cluster-name NAME [--region R]`,
/// `aws-iam-authenticator token -i NAME`). `None` when neither does (a hand-written
/// kubeconfig): then nothing can be checked.
pub fn eks_cluster_of(kc: &Kubeconfig, context: Option<&str>) -> Option<EksTarget> {
    let wanted = context.map(str::to_string).or_else(|| kc.current_context.clone())?;
    let ctx = kc.contexts.iter().find(|c| c.name == wanted)?.context.as_ref()?;
    if ctx.cluster.starts_with("arn:aws")
        && let Some((head, name)) = ctx.cluster.split_once(":cluster/")
    {
        let region = head.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_string);
        return Some(EksTarget { name: name.to_string(), region });
    }
    let user = ctx.user.as_deref()?;
    let exec = kc.auth_infos.iter().find(|a| a.name == user)?.auth_info.as_ref()?.exec.as_ref()?;
    let args = exec.args.as_deref().unwrap_or_default();
    let name = flag_value(args, &["--cluster-name", "-i", "--cluster-id"])?;
    Some(EksTarget { name, region: flag_value(args, &["--region"]) })
}

/// Refuses a kubeconfig context that reaches another EKS cluster than `--cluster` (and
/// `--region`, when given) names: the commands that change a cluster read EKS for one and would
/// drain or apply on the other.
pub fn check_cluster(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    cluster: &str,
    region: Option<&str>,
) -> Result<(), KubeError> {
    let kc = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    // An unreadable kubeconfig is reported when the client is made.
    let Ok(kc) = kc else { return Ok(()) };
    let Some(target) = eks_cluster_of(&kc, context) else { return Ok(()) };
    let shown = context.map(str::to_string).or(kc.current_context).unwrap_or_default();
    if target.name != cluster {
        return Err(KubeError::Config(format!(
            "the kubeconfig context {shown} reaches EKS cluster {}, not {cluster}: pass --context for {cluster} (aws eks update-kubeconfig --name {cluster})",
            target.name
        )));
    }
    if let (Some(want), Some(have)) = (region, target.region.as_deref())
        && want != have
    {
        return Err(KubeError::Config(format!(
            "the kubeconfig context {shown} reaches cluster {cluster} in {have}, not in {want}: pass --context for the one in {want}"
        )));
    }
    Ok(())
}

fn api(e: kube::Error) -> KubeError {
    KubeError::Api(e.to_string())
}

/// Everything the checks read from the API server.
pub async fn read(client: &kube::Client) -> Result<KubeView, KubeError> {
    let version = client.apiserver_version().await.map_err(api)?;
    let nodes: Api<KNode> = Api::all(client.clone());
    let nodes = nodes.list(&ListParams::default()).await.map_err(api)?;
    let pods: Api<Pod> = Api::all(client.clone());
    let pods = pods.list(&ListParams::default()).await.map_err(api)?;
    let ds: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    let aws_node = ds.get_opt("aws-node").await.map_err(api)?;
    Ok(KubeView {
        server_version: Some(version.git_version),
        nodes: nodes.items.iter().map(node).collect(),
        workloads: workloads(&pods.items),
        vpc_cni_images: aws_node
            .map(|d| d.spec)
            .and_then(|s| s.template.spec)
            .map(|s| {
                s.containers.into_iter().chain(s.init_containers.unwrap_or_default()).filter_map(|c| c.image).collect()
            })
            .unwrap_or_default(),
    })
}

/// Whether a node's `Ready` condition is True.
pub fn node_ready(n: &KNode) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn node(n: &KNode) -> Node {
    Node {
        name: n.metadata.name.clone().unwrap_or_default(),
        os_image: n.status.as_ref().and_then(|s| s.node_info.as_ref()).map(|i| i.os_image.clone()).unwrap_or_default(),
        labels: n.metadata.labels.clone().unwrap_or_default(),
    }
}

/// The controller a pod belongs to: a ReplicaSet's pods are the Deployment's (its name less the
/// `pod-template-hash` suffix), others are their owner's, and a pod with no owner is its own.
fn owner(p: &Pod) -> (String, String) {
    let name = p.metadata.name.clone().unwrap_or_default();
    let Some(o) = p.metadata.owner_references.as_ref().and_then(|o| o.iter().find(|o| o.controller == Some(true)))
    else {
        return ("Pod".into(), name);
    };
    let hash = p.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash"));
    match (o.kind.as_str(), hash) {
        ("ReplicaSet", Some(h)) => match o.name.strip_suffix(&format!("-{h}")) {
            Some(d) => ("Deployment".into(), d.to_string()),
            None => ("ReplicaSet".into(), o.name.clone()),
        },
        (kind, _) => (kind.to_string(), o.name.clone()),
    }
}

/// Pods grouped by controller: the first pod's spec stands for the rest (they share a
/// template), and every node they run on is kept.
fn workloads(pods: &[Pod]) -> Vec<Workload> {
    let mut by: BTreeMap<(String, String, String), Workload> = BTreeMap::new();
    for p in pods {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let (kind, name) = owner(p);
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone());
        let w = by.entry((ns.clone(), kind.clone(), name.clone())).or_insert_with(|| {
            let spec = p.spec.clone().unwrap_or_default();
            Workload {
                kind,
                namespace: ns,
                name,
                host_network: spec.host_network.unwrap_or(false),
                containers: spec
                    .containers
                    .iter()
                    .chain(spec.init_containers.iter().flatten())
                    .map(container)
                    .collect(),
                host_paths: spec
                    .volumes
                    .iter()
                    .flatten()
                    .filter_map(|v| v.host_path.as_ref().map(|h| h.path.clone()))
                    .collect(),
                nodes: Vec::new(),
            }
        });
        if let Some(n) = node.filter(|n| !w.nodes.contains(n)) {
            w.nodes.push(n);
        }
    }
    by.into_values().collect()
}

fn container(c: &k8s_openapi::api::core::v1::Container) -> Container {
    Container {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        // A variable set from a secret or field is present with an unknown value: kept with an
        // empty one, so checks that ask whether it is set see it.
        env: c.env.iter().flatten().map(|e| (e.name.clone(), e.value.clone().unwrap_or_default())).collect(),
        command: c.command.clone().unwrap_or_default(),
        args: c.args.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kc(text: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(text).unwrap()
    }

    #[test]
    fn the_eks_cluster_comes_from_the_arn_or_the_exec_plugin() {
        let arn = kc(
            "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: a\n  context: {cluster: 'arn:aws:eks:us-west-2:111122223333:cluster/prod', user: u}\ncurrent-context: a\n",
        );
        assert_eq!(
            eks_cluster_of(&arn, None),
            Some(EksTarget { name: "prod".into(), region: Some("us-west-2".into()) })
        );
        let exec = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n- name: b\n  context: {cluster: c, user: v}\n- name: h\n  context: {cluster: c, user: w}\ncurrent-context: a\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [--region, us-west-2, eks, get-token, --cluster-name, stage]}\n- name: v\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws-iam-authenticator, args: [token, '-i=dev']}\n- name: w\n  user: {token: t}\n";
        let exec = kc(exec);
        assert_eq!(
            eks_cluster_of(&exec, None),
            Some(EksTarget { name: "stage".into(), region: Some("us-west-2".into()) })
        );
        assert_eq!(eks_cluster_of(&exec, Some("b")), Some(EksTarget { name: "dev".into(), region: None }));
        assert_eq!(eks_cluster_of(&exec, Some("h")), None, "a token says nothing of the cluster");
        assert_eq!(eks_cluster_of(&exec, Some("missing")), None);
    }
}
