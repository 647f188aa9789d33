//! Whose credentials a run uses: the default chain, named profiles (`--profile`, repeatable) or
//! roles assumed with STS (`--assume-role ARN`, repeatable, or one ARN a line in
//! `--assume-role-file`), the way platform teams reach every account of an AWS Organization
//! from one place. Each source is resolved once to an [`Identity`]: its SDK configuration and the
//! account it reaches (STS GetCallerIdentity, which also proves the credentials work before any
//! plan is made). A saved plan records the account of every template, and is applied only
//! through credentials that reach that account.

use super::{AwsError, Connection, MAX_ATTEMPTS};

/// One source of credentials, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The standard chain: environment, shared files, SSO, instance role.
    Default,
    Profile(String),
    /// A role assumed with the credentials of `via` (a profile), or of the default chain.
    Role {
        arn: String,
        via: Option<String>,
    },
}

impl std::fmt::Display for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Default => f.write_str("default credentials"),
            Credentials::Profile(p) => write!(f, "profile {p}"),
            Credentials::Role { arn, .. } => write!(f, "role {arn}"),
        }
    }
}

/// The sources the flags name: every `--assume-role` (through the one `--profile`, if given),
/// else every `--profile`, else the default chain.
pub fn sources(profiles: &[String], roles: &[String]) -> Result<Vec<Credentials>, String> {
    if !roles.is_empty() {
        if profiles.len() > 1 {
            return Err(
                "--assume-role takes the credentials of at most one --profile; run once per source profile".into()
            );
        }
        let via = profiles.first().cloned();
        let mut out: Vec<Credentials> = Vec::new();
        for arn in roles {
            let c = Credentials::Role { arn: arn.clone(), via: via.clone() };
            if !out.contains(&c) {
                out.push(c);
            }
        }
        return Ok(out);
    }
    if profiles.is_empty() {
        return Ok(vec![Credentials::Default]);
    }
    let mut out: Vec<Credentials> = Vec::new();
    for p in profiles {
        let c = Credentials::Profile(p.clone());
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Role ARNs from a file: one a line; blank lines and `#` comments are skipped. Each must look
/// like an IAM role ARN, so a stray line is reported with its number instead of failing in STS.
pub fn parse_role_file(name: &str, text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if !is_role_arn(line) {
            return Err(format!("{name}:{}: `{line}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", n + 1));
        }
        out.push(line.to_string());
    }
    if out.is_empty() {
        return Err(format!("{name}: no role ARNs"));
    }
    Ok(out)
}

/// `arn:PARTITION:iam::ACCOUNT:role/NAME`, ACCOUNT twelve digits.
pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty()))
}

/// Resolved credentials: the SDK configuration and the account it reaches.
#[derive(Debug, Clone)]
pub struct Identity {
    pub source: Credentials,
    pub account: String,
    config: aws_config::SdkConfig,
}

impl Identity {
    /// Clients for `region` (`None`: the configured region).
    pub fn connection(&self, region: Option<&str>) -> Connection {
        let mut b = self.config.to_builder();
        if let Some(r) = region {
            b = b.region(aws_config::Region::new(r.to_string()));
        }
        let config = b.build();
        Connection {
            account: self.account.clone(),
            identity: self.source.to_string(),
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            ec2: aws_sdk_ec2::Client::new(&config),
            eks: aws_sdk_eks::Client::new(&config),
        }
    }

    /// The configured region, when no `--region` is given.
    pub fn default_region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }
}

/// Loads the configuration for `creds` (STS calls go to `region` or the configured one), assumes
/// the role if asked, and asks STS which account the credentials reach.
pub async fn resolve(creds: &Credentials, region: Option<&str>) -> Result<Identity, AwsError> {
    let profile = match creds {
        Credentials::Default | Credentials::Role { via: None, .. } => None,
        Credentials::Profile(p) | Credentials::Role { via: Some(p), .. } => Some(p.as_str()),
    };
    let loader = || {
        let mut l = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Some(p) = profile {
            l = l.profile_name(p);
        }
        if let Some(r) = region {
            l = l.region(aws_config::Region::new(r.to_string()));
        }
        l
    };
    let mut config = loader().load().await;
    if config.region().is_none() {
        return Err(AwsError::new(
            "configuration",
            "NoRegion",
            "no AWS region: pass --region, or set AWS_REGION or a region in the profile",
        ));
    }
    if let Credentials::Role { arn, .. } = creds {
        let provider = aws_config::sts::AssumeRoleProvider::builder(arn.clone())
            .session_name("eks-userdata")
            .configure(&config)
            .build()
            .await;
        config = loader().credentials_provider(provider).load().await;
    }
    let who = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await.map_err(|e| {
        let mut e = AwsError::sdk("sts:GetCallerIdentity", e);
        e.message = format!("{creds}: {}", e.message);
        e
    })?;
    let Some(account) = who.account().map(str::to_string) else {
        return Err(AwsError::new("sts:GetCallerIdentity", "NoAccount", format!("{creds}: STS named no account")));
    };
    Ok(Identity { source: creds.clone(), account, config })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_go_through_at_most_one_profile() {
        let roles = vec!["arn:aws:iam::111111111111:role/m".to_string()];
        assert_eq!(
            sources(&["ops".into()], &roles).unwrap(),
            vec![Credentials::Role { arn: roles[0].clone(), via: Some("ops".into()) }]
        );
        assert!(sources(&["a".into(), "b".into()], &roles).is_err());
        assert_eq!(sources(&[], &[]).unwrap(), vec![Credentials::Default]);
        assert_eq!(sources(&["a".into(), "a".into()], &[]).unwrap().len(), 1, "a repeated profile is one source");
    }

    #[test]
    fn role_files_name_the_bad_line() {
        let text = "# prod\narn:aws:iam::111111111111:role/migrate\n\narn:aws-us-gov:iam::222222222222:role/m # gov\n";
        assert_eq!(parse_role_file("r", text).unwrap().len(), 2);
        assert_eq!(
            parse_role_file("r", "arn:aws:iam::111111111111:role/m\nmigrate\n").unwrap_err(),
            "r:2: `migrate` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        );
        assert!(parse_role_file("r", "# nothing\n").is_err());
        assert!(!is_role_arn("arn:aws:iam::1111:role/m") && !is_role_arn("arn:aws:iam::111111111111:user/m"));
    }
}
