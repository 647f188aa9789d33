//! AL2 `/etc/eks/bootstrap.sh` argument semantics (`templates/al2/runtime/bootstrap.sh` @
//! 0ab84280, docs §5.1): every option takes exactly one value (`--flag value`; `--flag=value` is
//! not recognised and becomes a positional), unknown options and extra words are positionals,
//! only the first positional (the cluster name) is used, and each option can also come from its
//! environment variable (`${VAR:-default}`), so an exported `KUBELET_EXTRA_ARGS` acts like
//! the flag.

use super::words::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    ApiserverEndpoint,
    B64ClusterCa,
    ServiceIpv4Cidr,
    ServiceIpv6Cidr,
    IpFamily,
    DnsClusterIp,
    KubeletExtraArgs,
    UseMaxPods,
    ContainerRuntime,
    ContainerdConfigFile,
    PauseContainerAccount,
    PauseContainerVersion,
    EnableLocalOutpost,
    ClusterId,
    AwsApiRetryAttempts,
    EnableDockerBridge,
    DockerConfigJson,
    LocalDisks,
    MountBpfFs,
}

impl Flag {
    pub const ALL: [Flag; 19] = [
        Flag::ApiserverEndpoint,
        Flag::B64ClusterCa,
        Flag::ServiceIpv4Cidr,
        Flag::ServiceIpv6Cidr,
        Flag::IpFamily,
        Flag::DnsClusterIp,
        Flag::KubeletExtraArgs,
        Flag::UseMaxPods,
        Flag::ContainerRuntime,
        Flag::ContainerdConfigFile,
        Flag::PauseContainerAccount,
        Flag::PauseContainerVersion,
        Flag::EnableLocalOutpost,
        Flag::ClusterId,
        Flag::AwsApiRetryAttempts,
        Flag::EnableDockerBridge,
        Flag::DockerConfigJson,
        Flag::LocalDisks,
        Flag::MountBpfFs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flag::ApiserverEndpoint => "--apiserver-endpoint",
            Flag::B64ClusterCa => "--b64-cluster-ca",
            Flag::ServiceIpv4Cidr => "--service-ipv4-cidr",
            Flag::ServiceIpv6Cidr => "--service-ipv6-cidr",
            Flag::IpFamily => "--ip-family",
            Flag::DnsClusterIp => "--dns-cluster-ip",
            Flag::KubeletExtraArgs => "--kubelet-extra-args",
            Flag::UseMaxPods => "--use-max-pods",
            Flag::ContainerRuntime => "--container-runtime",
            Flag::ContainerdConfigFile => "--containerd-config-file",
            Flag::PauseContainerAccount => "--pause-container-account",
            Flag::PauseContainerVersion => "--pause-container-version",
            Flag::EnableLocalOutpost => "--enable-local-outpost",
            Flag::ClusterId => "--cluster-id",
            Flag::AwsApiRetryAttempts => "--aws-api-retry-attempts",
            Flag::EnableDockerBridge => "--enable-docker-bridge",
            Flag::DockerConfigJson => "--docker-config-json",
            Flag::LocalDisks => "--local-disks",
            Flag::MountBpfFs => "--mount-bpf-fs",
        }
    }

    /// The environment variable bootstrap.sh reads when the flag is absent.
    pub fn env_var(self) -> &'static str {
        match self {
            Flag::ApiserverEndpoint => "APISERVER_ENDPOINT",
            Flag::B64ClusterCa => "B64_CLUSTER_CA",
            Flag::ServiceIpv4Cidr => "SERVICE_IPV4_CIDR",
            Flag::ServiceIpv6Cidr => "SERVICE_IPV6_CIDR",
            Flag::IpFamily => "IP_FAMILY",
            Flag::DnsClusterIp => "DNS_CLUSTER_IP",
            Flag::KubeletExtraArgs => "KUBELET_EXTRA_ARGS",
            Flag::UseMaxPods => "USE_MAX_PODS",
            Flag::ContainerRuntime => "CONTAINER_RUNTIME",
            Flag::ContainerdConfigFile => "CONTAINERD_CONFIG_FILE",
            Flag::PauseContainerAccount => "PAUSE_CONTAINER_ACCOUNT",
            Flag::PauseContainerVersion => "PAUSE_CONTAINER_VERSION",
            Flag::EnableLocalOutpost => "ENABLE_LOCAL_OUTPOST",
            Flag::ClusterId => "CLUSTER_ID",
            Flag::AwsApiRetryAttempts => "API_RETRY_ATTEMPTS",
            Flag::EnableDockerBridge => "ENABLE_DOCKER_BRIDGE",
            Flag::DockerConfigJson => "DOCKER_CONFIG_JSON",
            Flag::LocalDisks => "LOCAL_DISKS",
            Flag::MountBpfFs => "MOUNT_BPF_FS",
        }
    }

    pub fn from_name(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub value: Value,
    /// Byte span in the user's text (of the flag and its value, or of the variable's
    /// assignment for values from the environment).
    pub span: (usize, usize),
    /// `Some(VAR)` when the value came from an environment variable, not a flag.
    pub from_env: Option<String>,
    /// The word was one field of an unquoted expansion bash split at whitespace.
    pub split: bool,
    /// Where the value really came from when not from the call's words or environment (a
    /// patched bootstrap.sh, a kubelet drop-in).
    pub via: Option<String>,
}

/// One argument bootstrap.sh received: a field after bash's expansion and word splitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub value: Value,
    /// Byte span of the word it came from.
    pub span: (usize, usize),
    pub split: bool,
}

impl Input {
    pub fn new(value: Value, span: (usize, usize)) -> Self {
        Input { value, span, split: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Call {
    pub cluster_name: Option<Arg>,
    /// Recognised options in order (a repeated option: the last one wins, as in bootstrap.sh).
    pub options: Vec<(Flag, Arg)>,
    /// Unknown options, `--flag=value` forms and extra positionals, as written.
    pub unknown: Vec<Arg>,
    /// `-h`/`--help`: bootstrap.sh prints help and exits 1.
    pub help: bool,
    /// An option given as the last word, without its value.
    pub missing_value: Vec<(Flag, (usize, usize))>,
    /// Template placeholders standing for more arguments (`${bootstrap_extra_args}`): what they
    /// hold is only known once the template is rendered.
    pub opaque: Vec<Arg>,
}

impl Call {
    /// The effective value of an option: the last flag, else the environment.
    pub fn get(&self, flag: Flag) -> Option<&Arg> {
        self.options.iter().rev().find(|(f, _)| *f == flag).map(|(_, a)| a)
    }
    /// Replaces an option's value (every occurrence goes; `None` removes it).
    pub fn set(&mut self, flag: Flag, arg: Option<Arg>) {
        self.options.retain(|(f, _)| *f != flag);
        if let Some(a) = arg {
            self.options.push((flag, a));
        }
    }
}

/// Parses bootstrap.sh arguments (`args` after the command word, already expanded).
pub fn parse_args(args: &[Input], env: &[(String, Value, (usize, usize))]) -> Call {
    let mut call = Call::default();
    let mut positionals: Vec<Arg> = Vec::new();
    let mut i = 0;
    while let Some(Input { value: v, span, split }) = args.get(i) {
        let split = *split;
        i += 1;
        let text = v.text();
        if text == "-h" || text == "--help" {
            call.help = true;
            continue;
        }
        match Flag::from_name(text) {
            Some(flag) => match args.get(i) {
                Some(next) => {
                    i += 1;
                    call.options.push((
                        flag,
                        Arg {
                            value: next.value.clone(),
                            span: (span.0, next.span.1),
                            from_env: None,
                            split: split || next.split,
                            via: None,
                        },
                    ));
                }
                None => call.missing_value.push((flag, *span)),
            },
            None if is_opaque_args(v) => {
                call.opaque.push(Arg { value: v.clone(), span: *span, from_env: None, split, via: None })
            }
            None => positionals.push(Arg { value: v.clone(), span: *span, from_env: None, split, via: None }),
        }
    }
    let mut positionals = positionals.into_iter();
    call.cluster_name = positionals.next();
    call.unknown = positionals.collect();
    // Environment values act as flags only where no flag was given.
    for flag in Flag::ALL {
        if call.get(flag).is_some() {
            continue;
        }
        if let Some((name, value, span)) = env.iter().rev().find(|(n, _, _)| n == flag.env_var()) {
            call.options.push((
                flag,
                Arg { value: value.clone(), span: *span, from_env: Some(name.clone()), split: false, via: None },
            ));
        }
    }
    call
}

/// A template placeholder whose name says it holds arguments (`${bootstrap_extra_args}`,
/// `${extra_flags}`): a renderer will expand it to several words.
fn is_opaque_args(v: &Value) -> bool {
    let Value::Template(t) = v else { return false };
    let t = t.to_ascii_lowercase();
    t.starts_with("${") && t.ends_with('}') && ["arg", "flag", "extra", "opt"].iter().any(|k| t.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_argument_lists_are_opaque() {
        let a = vec![
            Input::new(Value::Template("${bootstrap_extra_args}".into()), (0, 23)),
            Input::new(Value::Template("${cluster_name}".into()), (24, 39)),
        ];
        let c = parse_args(&a, &[]);
        assert_eq!(c.cluster_name.unwrap().value.text(), "${cluster_name}");
        assert_eq!(c.opaque.len(), 1);
    }

    fn args(words: &[&str]) -> Vec<Input> {
        words
            .iter()
            .enumerate()
            .map(|(i, w)| Input::new(Value::Static(w.to_string()), (i * 10, i * 10 + w.len())))
            .collect()
    }

    #[test]
    fn every_flag_has_a_name_and_an_env_var() {
        for f in Flag::ALL {
            assert_eq!(Flag::from_name(f.name()), Some(f));
            assert!(f.env_var().chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
        }
    }

    #[test]
    fn options_take_one_value_and_positionals_collect() {
        let c = parse_args(
            &args(&[
                "my-cluster",
                "--b64-cluster-ca",
                "Y2E=",
                "--max-pods=3",
                "--apiserver-endpoint",
                "https://x",
                "extra",
            ]),
            &[],
        );
        assert_eq!(c.cluster_name.as_ref().unwrap().value.text(), "my-cluster");
        assert_eq!(c.get(Flag::B64ClusterCa).unwrap().value.text(), "Y2E=");
        assert_eq!(c.get(Flag::ApiserverEndpoint).unwrap().span, (40, 59));
        let unknown: Vec<_> = c.unknown.iter().map(|a| a.value.text().to_string()).collect();
        assert_eq!(unknown, ["--max-pods=3", "extra"]);
    }

    #[test]
    fn flag_before_name_and_equals_form() {
        // `--flag=value` is not an option: it becomes the first positional, i.e. the cluster name.
        let c = parse_args(&args(&["--apiserver-endpoint=https://x", "c"]), &[]);
        assert_eq!(c.cluster_name.as_ref().unwrap().value.text(), "--apiserver-endpoint=https://x");
        let c = parse_args(&args(&["--local-disks", "raid0", "c", "--use-max-pods"]), &[]);
        assert_eq!(c.cluster_name.as_ref().unwrap().value.text(), "c");
        assert_eq!(c.missing_value, [(Flag::UseMaxPods, (30, 44))]);
    }

    #[test]
    fn environment_fills_in_missing_flags_only() {
        let env = vec![
            ("KUBELET_EXTRA_ARGS".to_string(), Value::Static("--max-pods=20".into()), (0, 5)),
            ("B64_CLUSTER_CA".to_string(), Value::Static("ZW52".into()), (6, 9)),
        ];
        let c = parse_args(&args(&["c", "--b64-cluster-ca", "ZmxhZw=="]), &env);
        assert_eq!(c.get(Flag::B64ClusterCa).unwrap().value.text(), "ZmxhZw==");
        let k = c.get(Flag::KubeletExtraArgs).unwrap();
        assert_eq!((k.value.text(), k.from_env.as_deref()), ("--max-pods=20", Some("KUBELET_EXTRA_ARGS")));
    }
}
