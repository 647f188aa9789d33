//! Who consumes the user data decides which NodeConfig fields it must carry (docs §5.3,
//! peers §8 lesson 3): self-managed nodes and managed node groups with a custom AMI get no
//! cluster details from anyone else, so `cluster.{name, apiServerEndpoint, certificateAuthority,
//! cidr}` are required; a managed node group on an EKS AMI and Karpenter append their own
//! NodeConfig with the cluster section.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    #[default]
    SelfManaged,
    Mng,
    MngCustomAmi,
    Karpenter,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::SelfManaged, Target::Mng, Target::MngCustomAmi, Target::Karpenter];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::SelfManaged => "self-managed",
            Target::Mng => "mng",
            Target::MngCustomAmi => "mng-custom-ami",
            Target::Karpenter => "karpenter",
        }
    }

    /// Whether the user data alone must give nodeadm the cluster coordinates.
    pub fn user_data_supplies_cluster(self) -> bool {
        matches!(self, Target::SelfManaged | Target::MngCustomAmi)
    }

    /// Who supplies the cluster section when the user data does not.
    pub fn cluster_supplier(self) -> Option<&'static str> {
        match self {
            Target::Mng => Some("EKS (it appends its own NodeConfig to a managed node group's user data)"),
            Target::Karpenter => Some("Karpenter (it appends its own NodeConfig from the EC2NodeClass)"),
            _ => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
