//! The NodeConfig API (`node.eks.aws/v1alpha1`): typed model, YAML in and out, nodeadm's merge
//! rules, and the strict schema that nodeadm itself never applies (docs §1).

pub mod kubelet_args;
pub mod labels;
pub mod merge;
pub mod pointer;
#[cfg(feature = "schema")]
pub mod schema;
pub mod since;
pub mod types;
pub mod yaml;
mod yaml_walk;

pub use types::{API_VERSION, KIND, NodeConfig};
