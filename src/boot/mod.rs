//! The on-node boot hook (`eks-userdata-boot`, issue #9): values AL2 user data computed at boot
//! (max pods for prefix delegation or custom networking, labels from the instance's lifecycle or
//! zone) written as a nodeadm drop-in. nodeadm merges `/etc/eks/nodeadm.d/*` after user data
//! since AMI v20251023 (docs §2.3, §3), so a program run from a shell part, before
//! `nodeadm-run`, can add configuration without calling `nodeadm init` itself (which races
//! nodeadm's own units: amazon-eks-ami #2124, #2414). Built without the AWS SDK and without the
//! JSON-schema engine, so the binary stays small and static.

pub mod compute;
pub mod dropin;
pub mod imds;
pub mod spec;
pub mod volume;
