//! Every clap type, and nothing else (uv's `uv-cli`, typos' `args.rs`): `main.rs` turns these
//! into the library's plain option structs, so library code never sees clap.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "eks-userdata",
    version,
    about = "Move EKS worker-node user data from Amazon Linux 2 (bootstrap.sh) to Amazon Linux 2023 (nodeadm NodeConfig)",
    long_about = "Move EKS worker-node user data from Amazon Linux 2 (bootstrap.sh) to Amazon Linux 2023 \
(nodeadm NodeConfig): lint it strictly, convert it, render what nodeadm will build, push launch \
templates and write Karpenter EC2NodeClasses.\n\nExit codes: 0 done, nothing at or above the \
failure threshold; 1 findings at or above it; 2 could not run (bad usage, unreadable or refused \
input).",
    rename_all = "kebab-case"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[command(rename_all = "kebab-case")]
pub enum Command {
    /// Check user data (MIME, base64/gzip, NodeConfig) strictly, stricter than nodeadm.
    Lint(LintArgs),
    /// Print the explanation of a lint rule, or list every rule.
    Explain(ExplainArgs),
    /// Translate AL2 bootstrap.sh user data into AL2023 nodeadm user data.
    Convert(ConvertArgs),
    /// Show the effective configuration nodeadm will build from user data.
    Render(RenderArgs),
    /// Fetch a cluster's coordinates (EKS DescribeCluster) into the file `convert --cluster-info` reads.
    ClusterInfo(ClusterInfoArgs),
    /// Create AL2023 launch-template versions in bulk: plan, apply, verify (needs `--features aws`).
    Push(PushArgs),
    /// Set launch templates' default version back to the one before `push`.
    Rollback(RollbackArgs),
    /// Produce or migrate Karpenter EC2NodeClass manifests.
    #[command(subcommand)]
    Karpenter(KarpenterCommand),
    /// Migrate infrastructure code (Terraform) to AL2023 in place: user data, AMI types, SSM
    /// parameters and AMI names, keeping every other byte.
    Migrate(CodeMigrateArgs),
    /// Check a cluster before moving nodes to AL2023: versions, AL2 nodes, VPC CNI, eksctl,
    /// IMDS from pods, Java on cgroup v2, AL2-only host paths (needs `--features aws`).
    Preflight(PreflightArgs),
    /// Managed node groups (needs `--features aws`).
    #[command(subcommand)]
    Nodegroup(NodegroupCommand),
}

#[derive(Debug, Subcommand)]
pub enum NodegroupCommand {
    /// Move a managed node group to AL2023 by an AL2023 twin: plan, then create, wait, cordon,
    /// drain through the Eviction API, and delete the old group only when asked. Resumable.
    Bluegreen(BluegreenArgs),
}

#[derive(Debug, Args)]
pub struct BluegreenArgs {
    /// The EKS cluster.
    #[arg(long)]
    pub cluster: String,
    /// The AL2 node group to replace (not needed with --plan).
    pub old: Option<String>,
    /// The twin's name [default: OLD-al2023].
    pub new: Option<String>,
    /// Write the plan (and, with --apply, its progress) to this file.
    #[arg(long, value_name = "FILE", conflicts_with = "plan")]
    pub plan_out: Option<String>,
    /// Carry out (or go on with) the plan in this file, recording progress there.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<String>,
    /// Carry the plan out (without it, only the plan is shown).
    #[arg(long)]
    pub apply: bool,
    /// Delete the old node group once it is drained and nothing is Pending.
    #[arg(long)]
    pub delete_old: bool,
    /// The launch template version the twin uses (an AL2023 version `push` made), when the old
    /// group has a launch template whose user data is AL2 or that names an AMI.
    #[arg(long, value_name = "VERSION")]
    pub launch_template_version: Option<String>,
    /// Seconds to wait for one node to drain.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub drain_timeout: u64,
    /// Seconds to wait for the twin to be ACTIVE, and again for its nodes to be Ready.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    pub twin_timeout: u64,
    /// Old nodes drained at the same time (each still through the Eviction API and its budgets).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max_unavailable: u16,
    #[command(flatten)]
    pub access: ClusterAccessArgs,
    /// text: the plan and progress lines; json: the plan file's JSON on standard output.
    #[arg(long, value_enum, default_value = "text")]
    pub format: PreflightFormatArg,
}

/// How to reach one cluster: AWS for EKS and EC2, a kubeconfig for the Kubernetes API.
#[derive(Debug, Args)]
pub struct ClusterAccessArgs {
    /// AWS region [default: the configured region].
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from the AWS config files.
    #[arg(long)]
    pub profile: Option<String>,
    #[command(flatten)]
    pub kube: KubeAccessArgs,
}

/// How to reach the Kubernetes API.
#[derive(Debug, Args)]
pub struct KubeAccessArgs {
    /// Kubeconfig file [default: $KUBECONFIG, then ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<String>,
    /// Kubeconfig context [default: the current context].
    #[arg(long)]
    pub context: Option<String>,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The EKS cluster (with AWS credentials: the EKS, add-on, node group and launch template checks).
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub access: ClusterAccessArgs,
    /// Skip the Kubernetes checks (read AWS only).
    #[arg(long)]
    pub no_kubernetes: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: PreflightFormatArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PreflightFormatArg {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct CodeMigrateArgs {
    /// Files and directories (`.tf` files are found under directories; a template or script
    /// named directly is converted whole).
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Exit 1 if anything is left to migrate (a file would change, or something needs a person).
    #[arg(long)]
    pub check: bool,
    /// Print a unified diff of each file that would change.
    #[arg(long)]
    pub diff: bool,
    /// Write the migrated files (atomically, keeping their mode).
    #[arg(long, conflicts_with = "check")]
    pub in_place: bool,
    /// Who consumes the user data; decides which NodeConfig fields it must carry.
    #[arg(long, value_enum, default_value = "self-managed")]
    pub target: TargetArg,
    /// Cluster coordinates for user data that does not carry them (`cluster-info` writes it).
    #[arg(long, value_name = "FILE")]
    pub cluster_info: Option<String>,
    /// The service CIDR for NodeConfig `spec.cluster.cidr`, which AL2 derived from the VPC: a
    /// CIDR, or a Terraform expression for the templates (`${var.service_ipv4_cidr}`).
    #[arg(long, value_name = "CIDR|EXPR")]
    pub service_cidr: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: PushFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetArg {
    /// Self-managed node groups: the user data must carry the cluster section.
    SelfManaged,
    /// Managed node group on an EKS AMI: EKS appends the cluster section.
    Mng,
    /// Managed node group with a custom AMI: the user data must carry the cluster section.
    MngCustomAmi,
    /// Karpenter EC2NodeClass userData: Karpenter appends the cluster section.
    Karpenter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Source snippets with carets (the default).
    Text,
    /// One line per finding: `path:line:col: CODE [severity] message`.
    Concise,
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files or directories to check (a directory is walked for the files holding user data);
    /// `-` (or nothing) reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Who consumes the user data; decides which NodeConfig fields are required
    /// [default: `target` in .eks-userdata.toml, else self-managed].
    #[arg(long, value_enum)]
    pub target: Option<TargetArg>,
    /// The AMI release the user data boots on (`v20251007`, or an AMI name ending in it):
    /// fields newer than it are reported (NC220).
    #[arg(long, value_name = "RELEASE", value_parser = parse_ami_release)]
    pub ami_release: Option<u32>,
    /// The node group's Kubernetes version (`1.29`): decides which containerd config schema
    /// applies (NC221) [default: `kubernetes-version` in .eks-userdata.toml, else a current AMI].
    #[arg(long, value_name = "VERSION", value_parser = parse_kubernetes_version)]
    pub kubernetes_version: Option<u32>,
    /// Use this settings file instead of the nearest .eks-userdata.toml above each file.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<String>,
    /// Ignore every .eks-userdata.toml.
    #[arg(long)]
    pub no_config: bool,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    /// Report findings but always exit 0 (unless the tool could not run).
    #[arg(long)]
    pub exit_zero: bool,
    /// Skip named files that do not look like user data, as a directory walk does (for
    /// pre-commit, which passes every staged file).
    #[arg(long)]
    pub only_user_data: bool,
    /// Rewrite files in place with the safe fixes (apiVersion typos, YAML 1.1 booleans,
    /// `--flag value` items, MIME blank lines and close delimiters), then
    /// report what is left.
    #[arg(long)]
    pub fix: bool,
    /// Refuse inputs larger than this many bytes (exit 2).
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_input_bytes: usize,
    /// Stop decoding base64/gzip bodies past this many bytes (reported as a finding).
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_decoded_bytes: usize,
    /// A Terraform template variable's or CloudFormation parameter's value (repeatable): the
    /// branches, conditions and interpolations it decides are linted as rendered.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Values from a `.tfvars` or `.tfvars.json` file, or CloudFormation parameters (a
    /// `--parameters` JSON list or a template configuration file) (repeatable; later files and
    /// `--var` win).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormatArg {
    /// MIME multipart: kept shell parts and the NodeConfig part.
    Mime,
    /// The NodeConfig YAML alone (only when no shell part is kept).
    Nodeconfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataVolumeArg {
    /// A shell part: waits for the device, formats only a blank one, copies, mounts by UUID.
    Script,
    /// `#cloud-config` fs_setup + mounts at a staging directory, then a copy and bind mount.
    CloudConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateArg {
    /// Detect Terraform (`%{`, `$${`) or CloudFormation (`${AWS::`, `${!`) syntax.
    Auto,
    /// Plain shell: `${VAR}` is a shell expansion.
    None,
    Terraform,
    Cloudformation,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// AL2 user data (script, MIME, template, base64/gzip); `-` or nothing reads standard input.
    /// Several files or directories need --out-dir.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Write the AL2023 user data here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<String>,
    /// Convert every file under the inputs into this directory, keeping relative paths.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<String>,
    /// Parallel conversions with --out-dir (default: the number of cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Replace an existing, different output file.
    #[arg(long)]
    pub force: bool,
    /// Who consumes the user data; decides which NodeConfig fields are written.
    #[arg(long, value_enum, default_value_t = TargetArg::SelfManaged)]
    pub target: TargetArg,
    /// YAML with name, apiServerEndpoint, certificateAuthority, cidr (from `aws eks describe-cluster`).
    #[arg(long, value_name = "FILE", help_heading = "Cluster")]
    pub cluster_info: Option<String>,
    #[arg(long, value_name = "NAME", help_heading = "Cluster")]
    pub cluster_name: Option<String>,
    #[arg(long, value_name = "URL", help_heading = "Cluster")]
    pub api_server_endpoint: Option<String>,
    /// Base64 cluster CA bundle.
    #[arg(long, value_name = "BASE64", help_heading = "Cluster")]
    pub certificate_authority: Option<String>,
    /// The cluster's SERVICE CIDR (not the VPC CIDR).
    #[arg(long, value_name = "CIDR", help_heading = "Cluster")]
    pub service_cidr: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormatArg::Mime)]
    pub format: OutputFormatArg,
    /// Migration report format (written to standard error, or to --report).
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub report_format: FormatArg,
    /// Write the migration report to this file instead of standard error.
    #[arg(long, value_name = "FILE")]
    pub report: Option<String>,
    /// Keep AL2's replace-the-whole-map semantics for --kube-reserved, --eviction-hard, … by
    /// keeping them as kubelet flags.
    #[arg(long)]
    pub keep_map_semantics: bool,
    /// Leave the commands that followed bootstrap.sh in the script (they then run before
    /// kubelet starts) instead of moving them into a unit ordered after nodeadm-run.
    #[arg(long)]
    pub keep_post_bootstrap_inline: bool,
    /// How a data volume mounted over node state is written.
    #[arg(long, value_enum, default_value_t = DataVolumeArg::Script)]
    pub data_volume: DataVolumeArg,
    /// Template syntax of the input.
    #[arg(long, value_enum, default_value_t = TemplateArg::Auto)]
    pub template: TemplateArg,
    /// Compute settings that differ between spot and on-demand branches at boot with
    /// eks-userdata-boot (a nodeadm drop-in; AMI v20251023+) instead of keeping the first branch.
    #[arg(long)]
    pub boot_hook: bool,
    /// With --boot-hook: download the hook from this URL at boot (needs --boot-hook-sha256).
    #[arg(
        long,
        value_name = "URL",
        requires = "boot_hook",
        requires = "boot_hook_sha256",
        conflicts_with = "boot_hook_path"
    )]
    pub boot_hook_url: Option<String>,
    /// The hook binary's sha256 (64 hex digits), checked before it runs.
    #[arg(long, value_name = "HEX", requires = "boot_hook_url")]
    pub boot_hook_sha256: Option<String>,
    /// With --boot-hook: the hook is baked into the AMI at this path
    /// [default: /usr/local/bin/eks-userdata-boot].
    #[arg(long, value_name = "PATH", requires = "boot_hook")]
    pub boot_hook_path: Option<String>,
    /// Exit 1 when the AL2023 node differs from the AL2 node in a field the report cannot
    /// explain (the equivalence check runs on every conversion; this makes it a gate).
    #[arg(long)]
    pub verify: bool,
    /// The instance type the equivalence check computes max pods and kubeReserved for, on both
    /// nodes [default: m5.large].
    #[arg(long, value_name = "TYPE")]
    pub instance_type: Option<String>,
    /// Refuse inputs larger than this many bytes (exit 2).
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub max_input_bytes: usize,
    /// A Terraform template variable's or CloudFormation parameter's value (repeatable): the
    /// template is rendered with the values first, and must then have one way through (its
    /// remaining `${…}` stay placeholders).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Values from a `.tfvars` or `.tfvars.json` file, or CloudFormation parameters (a
    /// `--parameters` JSON list or a template configuration file) (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormatArg {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AppendedByArg {
    /// The NodeConfig EKS appends to a managed node group's user data.
    Mng,
    /// The NodeConfig Karpenter appends from the EC2NodeClass and NodePool.
    Karpenter,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// AL2023 user data; `-` or nothing reads standard input. A directory needs --check or
    /// --update and pairs every file with its `NAME.snap` sibling.
    #[arg(value_name = "INPUT")]
    pub input: Option<String>,
    #[arg(long, value_enum, default_value_t = RenderFormatArg::Yaml)]
    pub format: RenderFormatArg,
    /// /etc/eks/nodeadm.d drop-ins, merged after user data in file-name order.
    #[arg(long, value_name = "DIR")]
    pub drop_ins: Option<String>,
    /// Add the part EKS or Karpenter appends (its values are marked as theirs).
    #[arg(long = "as", value_enum, value_name = "WHO")]
    pub appended_by: Option<AppendedByArg>,
    /// Compute maxPods and kubeReserved for this instance type, as nodeadm does.
    #[arg(long, value_name = "TYPE")]
    pub instance_type: Option<String>,
    /// vCPUs, for kubeReserved.cpu.
    #[arg(long, value_name = "N")]
    pub vcpus: Option<u32>,
    /// Refuse features the AMI release vYYYYMMDD does not have.
    #[arg(long, value_name = "vYYYYMMDD")]
    pub ami_release: Option<String>,
    /// Kubernetes minor version, for version-dependent kubelet defaults.
    #[arg(long, value_name = "1.XX", default_value = "1.34")]
    pub kubernetes_version: String,
    /// For every effective value, the part or file that set it and what it overrode.
    #[arg(long)]
    pub explain: bool,
    /// Compare with a stored rendering and exit 1 with a diff if it differs: `--check` uses
    /// INPUT.snap (every file's sibling in a directory), `--check=FILE` names the snapshot.
    #[arg(long, value_name = "SNAPSHOT", num_args = 0..=1, default_missing_value = "", require_equals = true)]
    pub check: Option<String>,
    /// Rewrite the stored rendering instead of comparing.
    #[arg(long)]
    pub update: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule code (`NC205`) or name (`unknown-field`); omit to list every rule.
    pub rule: Option<String>,
    /// Print the whole catalogue as Markdown (this is how docs/rules.md is made).
    #[arg(long, conflicts_with = "rule")]
    pub markdown: bool,
}

/// Where AWS calls go: the standard AWS configuration, as the AWS CLI reads it.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// AWS region; repeat for several (push, rollback) [default: the configured region].
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Named profile from the AWS config files (SSO profiles included); repeat for several
    /// accounts (push, rollback).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Assume this IAM role (STS) and work in its account; repeat for several accounts. Uses
    /// the credentials of --profile, or the default ones.
    #[arg(long = "assume-role", value_name = "ROLE_ARN")]
    pub assume_roles: Vec<String>,
    /// Role ARNs to assume, one a line (`#` comments), as if each were given with --assume-role.
    #[arg(long, value_name = "FILE")]
    pub assume_role_file: Option<String>,
}

#[derive(Debug, Args)]
pub struct ClusterInfoArgs {
    /// The EKS cluster's name.
    pub cluster: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Write the file here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,
    /// Replace an existing, different output file.
    #[arg(long)]
    pub force: bool,
}

/// Which launch templates: ids and name globs are alternatives, every tag must match.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Launch template id (repeatable).
    #[arg(long = "id", value_name = "LT_ID")]
    pub ids: Vec<String>,
    /// Launch template name; `*` and `?` are wildcards (repeatable).
    #[arg(long = "name", value_name = "GLOB")]
    pub names: Vec<String>,
    /// Only templates with this tag (repeatable; all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Every launch template in the region(s); needed when no --id, --name or --tag is given.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushFormatArg {
    /// Diffs, then a summary table.
    Text,
    /// The plan and its results as one JSON document.
    Json,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// The version to convert: `$Default`, `$Latest` or a number.
    #[arg(long, default_value = "$Default", value_name = "VERSION")]
    pub version: String,
    /// Who consumes the user data; decides which NodeConfig fields it must carry.
    #[arg(long, value_enum, default_value = "self-managed")]
    pub target: TargetArg,
    /// EKS cluster whose coordinates go into the NodeConfig (DescribeCluster in each region).
    #[arg(long, value_name = "NAME", conflicts_with = "cluster_info")]
    pub cluster: Option<String>,
    /// The cluster's coordinates from a file (`eks-userdata cluster-info` writes one).
    #[arg(long, value_name = "FILE")]
    pub cluster_info: Option<String>,
    /// Also swap the AMI: `auto` (the AL2023 EKS AMI for the cluster's Kubernetes version and
    /// the template's architecture) or an AMI id.
    #[arg(long, value_name = "auto|AMI_ID")]
    pub ami: Option<String>,
    /// With --ami auto: this AMI release (`v20251007`) instead of the newest.
    #[arg(long, value_name = "RELEASE")]
    pub ami_release: Option<String>,
    /// With --ami auto: the account that owns the AMIs (`amazon`, or an account with copies).
    #[arg(long, default_value = "amazon", value_name = "OWNER")]
    pub ami_owner: String,
    /// Set IMDS HttpPutResponseHopLimit (2 lets pods reach IMDSv2).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=64))]
    pub hop_limit: Option<i32>,
    /// Create the new versions (without it nothing is written).
    #[arg(long)]
    pub apply: bool,
    /// Make each migrated version the default (planned without --apply, taken with it).
    #[arg(long)]
    pub set_default: bool,
    /// With --cluster: move managed node groups that use a migrated template to the migrated
    /// version (EKS UpdateNodegroupVersion; planned without --apply, taken with it).
    #[arg(long)]
    pub update_nodegroups: bool,
    /// Push to templates that CloudFormation, eksctl, Terraform, Karpenter or EKS owns too (the
    /// plan warns: the owner reverts such a version unless its source is migrated).
    #[arg(long)]
    pub include_owned: bool,
    /// Save the plan as JSON (written atomically).
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<String>,
    /// Apply this saved plan exactly (with --apply); refuses templates that changed since.
    #[arg(long, value_name = "FILE", requires = "apply", conflicts_with_all = ["ids", "names", "tags", "all", "ami", "hop_limit", "cluster_info", "cluster", "set_default", "update_nodegroups", "include_owned"])]
    pub plan: Option<String>,
    /// Templates worked on at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[arg(long, value_enum, default_value = "text")]
    pub format: PushFormatArg,
    /// Keep AL2's replace-the-whole-map semantics for map kubelet flags (as in convert).
    #[arg(long)]
    pub keep_map_semantics: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Return to the default versions recorded in this plan (instead of reading version
    /// descriptions).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ids", "names", "tags", "all"])]
    pub plan: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: PushFormatArg,
}

#[derive(Debug, Subcommand)]
#[command(rename_all = "kebab-case")]
pub enum KarpenterCommand {
    /// Write an AL2023 EC2NodeClass (and a NodePool snippet) from AL2 or AL2023 user data.
    Nodeclass(Box<NodeclassArgs>),
    /// Rewrite existing EC2NodeClass manifests from AL2 to AL2023 (files, or with --cluster the
    /// classes in a cluster, following Karpenter's replacement of the nodes).
    Migrate(MigrateArgs),
}

/// `karpenter migrate --cluster --timeout`'s default: an hour.
pub const DEFAULT_FOLLOW_TIMEOUT: u64 = 3600;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Manifest files (multi-document YAML); documents other than AL2 EC2NodeClasses are kept.
    #[arg(required_unless_present = "cluster")]
    pub files: Vec<String>,
    /// Rewrite the files (atomically, keeping their mode) instead of printing them.
    #[arg(long, conflicts_with = "cluster")]
    pub in_place: bool,
    /// Migrate the EC2NodeClasses in this cluster through the Kubernetes API instead of files
    /// (plan first; --apply changes them and follows Karpenter's replacement of the nodes).
    #[arg(long, value_name = "NAME", conflicts_with = "files")]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub kube: KubeAccessArgs,
    /// Back up the classes, apply the migration (server-side apply) and follow the NodeClaims.
    #[arg(long)]
    pub apply: bool,
    /// Where --apply saves the classes before changing them (never overwritten with other content).
    #[arg(long, value_name = "FILE")]
    pub backup: Option<String>,
    /// Take over fields another field manager owns (as `kubectl apply --server-side --force-conflicts`).
    #[arg(long, requires = "apply")]
    pub force_conflicts: bool,
    /// Apply and stop: do not follow the NodeClaims.
    #[arg(long, requires = "apply")]
    pub no_follow: bool,
    /// Seconds to follow the NodeClaims before stopping with a summary.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_FOLLOW_TIMEOUT)]
    pub timeout: u64,
    /// With --cluster: text (plan, progress and summary) or json (the summary, on standard output).
    #[arg(long, value_enum, default_value = "text")]
    pub format: PushFormatArg,
    /// Which EC2NodeClass CRD to write and validate for.
    #[arg(long, value_enum, default_value = "v1.14")]
    pub karpenter_version: KarpenterVersionArg,
    /// Format of the report on standard error.
    #[arg(long, value_enum, default_value = "text")]
    pub report_format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KarpenterVersionArg {
    /// Karpenter v1.14.1: typed spec.kubelet.
    #[value(name = "v1.14")]
    V1_14,
    /// Karpenter's main branch: spec.kubelet holds any KubeletConfiguration field.
    Main,
}

#[derive(Debug, Args)]
pub struct NodeclassArgs {
    /// User data (script, MIME, NodeConfig, base64/gzip); `-` or nothing reads standard input.
    pub input: Option<String>,
    /// metadata.name of the EC2NodeClass (and of the NodePool snippet).
    #[arg(long)]
    pub name: String,
    /// Pin the AMI release (`v20251023`) in the `al2023@` alias [default: latest, with a warning].
    #[arg(long, value_name = "VERSION")]
    pub ami_version: Option<String>,
    /// The node IAM role (Karpenter makes the instance profile).
    #[arg(long, conflicts_with = "instance_profile")]
    pub role: Option<String>,
    /// An existing instance profile instead of --role.
    #[arg(long)]
    pub instance_profile: Option<String>,
    /// Cluster name for `karpenter.sh/discovery` subnet and security-group selectors.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Subnet selector tag (repeatable).
    #[arg(long = "subnet-tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub subnet_tags: Vec<(String, String)>,
    /// Security group selector tag (repeatable).
    #[arg(long = "security-group-tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub security_group_tags: Vec<(String, String)>,
    /// metadataOptions.httpPutResponseHopLimit [default: 1, the CRD default].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..=64))]
    pub hop_limit: Option<i64>,
    /// Size of the EBS data volume's block device mapping (`100Gi`), when the user data mounts one.
    #[arg(long, value_name = "SIZE")]
    pub data_volume_size: Option<String>,
    /// Which EC2NodeClass CRD to write and validate for.
    #[arg(long, value_enum, default_value = "v1.14")]
    pub karpenter_version: KarpenterVersionArg,
    /// Write the manifests here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<String>,
    /// Replace an existing, different output file.
    #[arg(long)]
    pub force: bool,
    /// Format of the report on standard error.
    #[arg(long, value_enum, default_value = "text")]
    pub report_format: FormatArg,
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn parse_kubernetes_version(s: &str) -> Result<u32, String> {
    eks_userdata::lint::parse_kubernetes_version(s)
        .ok_or_else(|| format!("`{s}` is not a Kubernetes version; write it as 1.29"))
}

fn parse_ami_release(s: &str) -> Result<u32, String> {
    eks_userdata::lint::parse_ami_release(s)
        .ok_or_else(|| format!("`{s}` is not an AMI release; write it as v20251007"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lint_defaults() {
        let cli = Cli::try_parse_from(["eks-userdata", "lint", "a", "-"]).unwrap();
        let Command::Lint(a) = cli.command else { unreachable!("parsed as lint") };
        assert_eq!(a.paths, ["a", "-"]);
        assert_eq!(a.target, None, "unset, so .eks-userdata.toml can supply it");
        assert!(!a.no_config && a.config.is_none());
        assert_eq!(a.format, FormatArg::Text);
    }
}
