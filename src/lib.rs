//! eks-userdata: move Amazon EKS worker-node user data from Amazon Linux 2 (`bootstrap.sh`)
//! to Amazon Linux 2023 (nodeadm `NodeConfig`, API `node.eks.aws/v1alpha1`).
//!
//! One pipeline serves every command (see `docs/architecture.md`):
//! bytes → [`userdata::Envelope`] (base64/gzip/MIME, with byte offsets into the user's file)
//! → typed parts → NodeConfig documents ([`nodeconfig`]) → rules ([`lint`]) → findings
//! ([`diagnostic::Diagnostic`]) → renderers ([`report`]). The library never prints and never
//! exits; `main.rs` picks exit codes.

// Issue #15, "No panic, ever": user text is sliced at computed offsets only through checked access
// (`str::get`, `slice::get`). Tests are exempt (clippy.toml, and an allow on test modules).
#![deny(clippy::string_slice, clippy::indexing_slicing)]

pub mod al2;
#[cfg(feature = "aws")]
pub mod aws;
pub mod bluegreen;
pub mod boot;
pub mod catalogue;
pub mod config;
pub mod diagnostic;
pub mod effective;
pub mod karpenter;
pub mod lint;
pub mod memo;
pub mod migrate;
pub mod nodeconfig;
pub mod preflight;
pub mod progress;
pub mod render;
pub mod report;
pub mod selector;
pub mod source;
pub mod suggest;
pub mod target;
pub mod template;
#[cfg(test)]
mod testing;
pub mod userdata;

pub use diagnostic::{Diagnostic, Severity};
pub use source::Source;
pub use target::Target;
pub mod translate;
