//! One `bootstrap.sh` call → NodeConfig fields, flag by flag (docs §5.1): cluster coordinates,
//! IP family, outposts, DNS, local disks, the containerd config file, and the flags AL2023 has
//! no use for. Kubelet arguments are `kubelet_args.rs`. Invocations bootstrap.sh itself
//! rejected are reported before anything else (`rejected.rs`).

use super::codes;
use super::context::{Ctx, shown, translated, value_of};
use super::kubelet_args;
use crate::al2::analysis::Invocation;
use crate::al2::bootstrap::{Arg, Call, Flag};
use crate::nodeconfig::types::{LocalStorageStrategy, NodeConfig};
use serde_json::Value;

/// `${bootstrap_extra_args}`: a whole word that is a template input by its name (lower case or
/// dotted, as Terraform and Helm inputs are; a script's own variables are upper case and set),
/// even where the file did not read as a template.
fn template_input(t: &str) -> bool {
    t.strip_prefix("${").and_then(|r| r.strip_suffix('}')).is_some_and(|name| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && name.chars().any(|c| c.is_ascii_lowercase())
    })
}

/// Applies one bootstrap.sh call to a NodeConfig.
pub(super) fn apply_call(cx: &mut Ctx, pi: usize, inv: &Invocation, nc: &mut NodeConfig) {
    let call: &Call = &inv.call;
    let supplies_cluster = cx.opts.supplies_cluster();
    if super::rejected::report(cx, pi, inv) && cx.never_joined.is_none() {
        let line = cx.text.get(..inv.span.0).map_or(0, |t| t.matches('\n').count() + 1);
        cx.never_joined = Some(format!("bootstrap.sh refused the call on line {line}"));
    }
    for arg in &call.opaque {
        cx.push(
            &codes::TEMPLATE_BOOTSTRAP_ARGS,
            pi,
            arg.span,
            format!("`{}` stands for more bootstrap.sh arguments, filled in when the template is rendered; they cannot be translated here and are lost on AL2023", arg.value.text()),
            Some("move what the variable holds into NodeConfig fields, or render the template and convert the result".into()),
        );
    }
    for arg in &call.unknown {
        let t = arg.value.text();
        // A template placeholder renders to something only the renderer knows: an option name
        // (`--service-${family}-cidr`) or more arguments.
        if matches!(arg.value, crate::al2::words::Value::Template(_)) || template_input(t) {
            let what = if t.starts_with('-') {
                "an option whose name is a template expression"
            } else {
                "a template placeholder after the cluster name"
            };
            cx.push(
                &codes::TEMPLATE_BOOTSTRAP_ARGS,
                pi,
                arg.span,
                format!("`{t}` is {what}: what it renders to reached bootstrap.sh on AL2 and cannot be read here, so it is not translated and is lost on AL2023"),
                Some("render the template and convert the result, or set what it holds in the NodeConfig".into()),
            );
            continue;
        }
        let why = if t.starts_with("--")
            && t.contains('=')
            && Flag::from_name(t.split('=').next().unwrap_or_default()).is_some()
        {
            "bootstrap.sh takes `--flag value`, not `--flag=value`; this was a positional argument and did nothing"
        } else if t.starts_with('-') {
            "bootstrap.sh has no such option (it treated it as a positional argument)"
        } else {
            "an extra positional argument; bootstrap.sh used only the first (the cluster name)"
        };
        let split = if arg.split {
            format!(
                " (bash split the unquoted `{}` at whitespace, so this word reached bootstrap.sh on its own)",
                cx.text.get(arg.span.0..arg.span.1).unwrap_or_default()
            )
        } else {
            String::new()
        };
        cx.push(
            &codes::UNKNOWN,
            pi,
            arg.span,
            format!("`{t}`: {why}{split}; not translated"),
            Some("configure what it was meant to do in the NodeConfig by hand".into()),
        );
    }
    for (flag, arg) in call.options.iter().filter(|(_, a)| a.split && a.from_env.is_none()) {
        let word = cx.text.get(arg.span.0..arg.span.1).unwrap_or_default().to_string();
        cx.push(
            &codes::TRANSLATED,
            pi,
            arg.span,
            format!(
                "`{word}` is unquoted, so bash split it at whitespace: `{}` got only `{}` as its value, as on AL2",
                flag.name(),
                arg.value.text()
            ),
            None,
        );
    }
    // Cluster coordinates.
    let cidr_arg = match (
        call.get(Flag::IpFamily).map(|a| a.value.text().to_string()),
        call.get(Flag::ServiceIpv6Cidr),
        call.get(Flag::ServiceIpv4Cidr),
    ) {
        (Some(f), Some(v6), _) if f == "ipv6" => Some(v6),
        (_, Some(v6), None) => Some(v6),
        (_, _, Some(v4)) => Some(v4),
        _ => None,
    };
    let fields: [(&str, Option<&Arg>, &str); 4] = [
        ("spec.cluster.name", call.cluster_name.as_ref(), "cluster name (bootstrap.sh's first argument)"),
        ("spec.cluster.apiServerEndpoint", call.get(Flag::ApiserverEndpoint), "--apiserver-endpoint"),
        ("spec.cluster.certificateAuthority", call.get(Flag::B64ClusterCa), "--b64-cluster-ca"),
        ("spec.cluster.cidr", cidr_arg, "--service-ipv4-cidr / --service-ipv6-cidr"),
    ];
    for (field, arg, what) in fields {
        let Some(arg) = arg else { continue };
        if !supplies_cluster {
            cx.push(
                &codes::OMITTED,
                pi,
                arg.span,
                format!(
                    "`{}` ({what}) left out: {} supplies {field}",
                    shown(arg),
                    cx.opts.cluster_supplier().unwrap_or("the target")
                ),
                None,
            );
            continue;
        }
        // The cluster info given replaces the script's value (`cluster.rs` says so): a value the
        // script only knew at render or boot time needs no review then.
        let given = match field {
            "spec.cluster.name" => cx.opts.cluster.name.is_some(),
            "spec.cluster.apiServerEndpoint" => cx.opts.cluster.api_server_endpoint.is_some(),
            "spec.cluster.certificateAuthority" => cx.opts.cluster.certificate_authority.is_some(),
            _ => cx.opts.cluster.cidr.is_some(),
        };
        let v = if given { arg.value.text().to_string() } else { value_of(cx, pi, arg, what) };
        let c = &mut nc.spec.cluster;
        match field {
            "spec.cluster.name" => c.name = v,
            "spec.cluster.apiServerEndpoint" => c.api_server_endpoint = v,
            "spec.cluster.certificateAuthority" => c.certificate_authority = v,
            _ => c.cidr = v,
        }
        translated(cx, pi, arg.span, &shown(arg), field);
    }
    if let Some(arg) = call.get(Flag::IpFamily) {
        cx.push(
            &codes::TRANSLATED,
            pi,
            arg.span,
            format!(
                "`--ip-family {}`: no field; nodeadm infers the IP family from spec.cluster.cidr",
                arg.value.text()
            ),
            None,
        );
    }
    for other in [Flag::ServiceIpv4Cidr, Flag::ServiceIpv6Cidr] {
        if let (Some(a), Some(chosen)) = (call.get(other), cidr_arg)
            && a.span != chosen.span
        {
            cx.push(
                &codes::DROPPED,
                pi,
                a.span,
                format!(
                    "`{}` not used: nodeadm takes one service CIDR and `{}` was chosen by --ip-family",
                    shown(a),
                    chosen.value.text()
                ),
                None,
            );
        }
    }
    // Outposts.
    if let Some(a) = call.get(Flag::EnableLocalOutpost) {
        if a.value.text() == "true" {
            nc.spec.cluster.enable_outpost = Some(true);
            translated(cx, pi, a.span, &shown(a), "spec.cluster.enableOutpost");
        } else {
            cx.push(
                &codes::TRANSLATED,
                pi,
                a.span,
                format!("`{}`: outposts are off by default; nothing to write", shown(a)),
                None,
            );
        }
    }
    if let Some(a) = call.get(Flag::ClusterId) {
        nc.spec.cluster.id = value_of(cx, pi, a, "--cluster-id");
        translated(cx, pi, a.span, &shown(a), "spec.cluster.id");
    }
    apply_settings(cx, pi, call, inv.command, nc);
}

/// The call's node settings (everything but the cluster coordinates): DNS, local disks, kubelet
/// arguments, the containerd config file, and flags AL2023 has no use for.
/// `at` is the call's command index: files written before it count.
pub(super) fn apply_settings(cx: &mut Ctx, pi: usize, call: &Call, at: usize, nc: &mut NodeConfig) {
    // DNS.
    if let Some(a) = call.get(Flag::DnsClusterIp) {
        let ips: Vec<Value> = value_of(cx, pi, a, "--dns-cluster-ip")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.into()))
            .collect();
        nc.spec.kubelet.config.insert("clusterDNS".into(), Value::Array(ips));
        translated(cx, pi, a.span, &shown(a), "spec.kubelet.config.clusterDNS");
    }
    // Local disks.
    if let Some(a) = call.get(Flag::LocalDisks) {
        match a.value.text() {
            "raid0" => nc.spec.instance.local_storage.strategy = Some(LocalStorageStrategy::Raid0),
            "raid10" => nc.spec.instance.local_storage.strategy = Some(LocalStorageStrategy::Raid10),
            "mount" => nc.spec.instance.local_storage.strategy = Some(LocalStorageStrategy::Mount),
            other => {
                cx.push(
                    &codes::UNKNOWN,
                    pi,
                    a.span,
                    format!("`--local-disks {other}` is not raid0, raid10 or mount; not translated"),
                    None,
                );
            }
        }
        if nc.spec.instance.local_storage.strategy.is_some() {
            translated(cx, pi, a.span, &shown(a), "spec.instance.localStorage.strategy");
        }
    }
    kubelet_args::apply(cx, pi, call, nc);
    // Containerd config file.
    if let Some(a) = call.get(Flag::ContainerdConfigFile) {
        let path = a.value.text().to_string();
        let written = cx.files.iter().rev().find(|(p, idx, _)| *p == path && *idx < at).map(|(_, _, c)| c.clone());
        match written {
            Some(content) => {
                let schema = if content.contains("version = 3") { "version 3 (containerd 2.x, current AMIs)" } else if content.contains("version = 2") { "version 2: only AMIs with containerd 1.7 (Kubernetes 1.28–1.29) read it" } else { "no version key" };
                nc.spec.containerd.config = content;
                cx.push(&codes::CONTAINERD, pi, a.span, format!("`--containerd-config-file {path}` → spec.containerd.config, inlined from the file the script writes; it is merged over nodeadm's config, not a replacement; schema {schema}"), None);
            }
            None => cx.push(
                &codes::NOT_REPLAYED,
                pi,
                a.span,
                format!("`--containerd-config-file {path}`: the user data does not write this file, so what containerd ran with is unknown; not translated"),
                Some("put the TOML in spec.containerd.config (it is merged over nodeadm's config)".into()),
            ),
        }
    }
    // Flags with no AL2023 meaning.
    for (flag, why) in [
        (Flag::ContainerRuntime, "AL2023 always runs containerd"),
        (Flag::EnableDockerBridge, "there is no Docker on AL2023"),
        (Flag::DockerConfigJson, "there is no Docker on AL2023"),
        (
            Flag::PauseContainerAccount,
            "the AMI caches the pause image (localhost/kubernetes/pause); containerd has no ECR credentials to pull another",
        ),
        (Flag::PauseContainerVersion, "the AMI caches the pause image (localhost/kubernetes/pause)"),
        (
            Flag::AwsApiRetryAttempts,
            "nodeadm never calls DescribeCluster; set AWS_MAX_ATTEMPTS in spec.instance.environment.default if EC2 retries matter",
        ),
        (Flag::MountBpfFs, "AL2023 images handle bpffs themselves (not verified upstream; check with your CNI)"),
    ] {
        if let Some(arg) = call.get(flag) {
            cx.push(
                &codes::DROPPED,
                pi,
                arg.span,
                format!("`{} {}` dropped: {why}", flag.name(), arg.value.text()),
                None,
            );
        }
    }
}
