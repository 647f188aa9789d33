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
