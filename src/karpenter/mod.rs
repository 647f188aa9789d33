//! Karpenter `EC2NodeClass` (karpenter.k8s.aws/v1) manifests for AL2023 (issue #8, peers §1):
//! `nodeclass` builds one from user data, `migrate` moves existing ones from AL2, `validate` checks one as the API server would (the
//! CRD schema and its CEL rules), `live` applies a migration to a cluster and follows Karpenter's
//! drift replacement, and `codes` names what the report says.

pub mod codes;
pub mod live;
pub mod migrate;
pub mod nodeclass;
pub mod validate;

pub use validate::KarpenterVersion;
