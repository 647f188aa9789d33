//! The AWS side of `cluster-info`, `push` and `rollback` (issue #7), built only with the `aws`
//! feature. Credentials, region, profile and endpoints come from the standard AWS configuration
//! chain, read the way the AWS CLI reads it: environment, shared config and credentials files,
//! SSO profiles, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL_EKS`
//! (docs/rust-stack.md §1.5.2). Throttling is retried by the SDK's standard retry mode
//! (exponential back-off with jitter); a bulk run meets EC2's request-rate limits by design, so
//! the attempts are raised from 3 to [`MAX_ATTEMPTS`].

pub mod ami;
pub mod apply;
pub mod cluster;
pub mod converge;
pub mod identity;
pub mod nodegroups;
pub mod output;
pub mod owner;
pub mod plan;
pub mod push;
pub mod rollback;
pub mod select;
pub mod verify;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

/// SDK attempts per call (first try included) before a throttled call is reported.
pub const MAX_ATTEMPTS: u32 = 8;

/// An AWS call that failed, with the service's error code (`InvalidLaunchTemplateId.NotFound`,
/// `RequestLimitExceeded`, …) or the client-side reason (`DispatchFailure`, `Timeout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    pub operation: String,
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn new(operation: &str, code: &str, message: impl Into<String>) -> Self {
        AwsError { operation: operation.into(), code: code.into(), message: message.into() }
    }

    pub(crate) fn sdk<E, R>(operation: &str, e: aws_sdk_ec2::error::SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        use aws_sdk_ec2::error::SdkError;
        let (code, message) = match &e {
            SdkError::ServiceError(s) => (
                s.err().code().unwrap_or("Unknown").to_string(),
                s.err().message().map(str::to_string).unwrap_or_else(|| s.err().to_string()),
            ),
            SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into()),
            SdkError::DispatchFailure(_) => {
                ("DispatchFailure".into(), aws_sdk_ec2::error::DisplayErrorContext(&e).to_string())
            }
            _ => ("ClientError".into(), aws_sdk_ec2::error::DisplayErrorContext(&e).to_string()),
        };
        AwsError { operation: operation.into(), code, message }
    }
}

/// Clients for one account and region.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The AWS account the credentials reach (STS GetCallerIdentity).
    pub account: String,
    /// How the credentials were obtained, as the user named them (`default credentials`,
    /// `profile ops`, `role arn:aws:iam::…`).
    pub identity: String,
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub eks: aws_sdk_eks::Client,
}

/// Clients from the standard configuration; `region` and `profile` override it as `--region`
/// and `--profile` do for the AWS CLI.
pub async fn connect(region: Option<&str>, profile: Option<&str>) -> Result<Connection, AwsError> {
    let creds = match profile {
        Some(p) => identity::Credentials::Profile(p.to_string()),
        None => identity::Credentials::Default,
    };
    let id = identity::resolve(&creds, region).await?;
    Ok(id.connection(region))
}
/// Runs `future` on a small runtime: the work is network-bound, two workers keep a 2-core
/// machine responsive.
pub fn block_on<F: std::future::Future>(future: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    Ok(rt.block_on(future))
}

/// One launch template version's data (DescribeLaunchTemplateVersions; `version` may be a number,
/// `$Default` or `$Latest`).
pub async fn launch_template_data(
    conn: &Connection,
    id: &str,
    version: &str,
) -> Result<Option<aws_sdk_ec2::types::ResponseLaunchTemplateData>, AwsError> {
    let out = conn
        .ec2
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions(version)
        .send()
        .await
        .map_err(|e| AwsError::sdk("ec2:DescribeLaunchTemplateVersions", e))?;
    Ok(out.launch_template_versions().first().and_then(|v| v.launch_template_data()).cloned())
}
