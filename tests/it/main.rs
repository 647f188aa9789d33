//! One integration-test binary (one link step on a 2-core CI), one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

mod bad_input;
mod boot;
mod cli;
mod cloudformation;
mod cloudinit;
mod convert;
mod datavol;
mod formats;
mod karpenter;
#[cfg(feature = "aws")]
mod karpenter_live;
mod lint;
mod migrate;
mod mime;
mod nodeadm_mime;
mod precommit;
#[cfg(feature = "aws")]
mod preflight;
mod properties;
#[cfg(feature = "aws")]
mod push;
mod render;
mod shell_plain;
mod templates;
mod util;
