//! AL2 user data → AL2023 user data. Each `bootstrap.sh` call becomes NodeConfig fields per
//! `../shared/docs/nodeadm-and-bootstrap.md` §5.1 (flags) and §6 (kubelet flags), shaped by the
//! [`Target`] (peers §8 lesson 3); the rest of each script is kept byte for byte with the call
//! replaced by `true`; every construct gets a report entry (`codes.rs`). Nothing is guessed:
//! unknown flags, boot-time values and missing cluster values are entries that need review.

pub mod batch;
pub mod boothook;
pub mod codes;
pub mod datavol;
pub mod emit;

use crate::al2::analysis::{self, Invocation};
use crate::al2::bootstrap::{Arg, Call, Flag};
use crate::al2::kubelet_flags::{self, DropReason, Outcome as KOutcome};
use crate::al2::maxpods;
use crate::al2::shell;
use crate::al2::template::{self, Syntax};
use crate::al2::words::Value as WValue;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::nodeconfig::types::{DisabledMount, LocalStorageStrategy, NodeConfig};
use crate::target::Target;
use crate::userdata::mime_write::OutPart;
use crate::userdata::{Envelope, Part, PartKind};
use serde::Deserialize;
use serde_json::Value;

/// One input converted: the reports (translation, and the output's own lint when it has
/// findings), the bytes to write (none when nothing is needed or the output failed its lint).
#[derive(Debug, Clone)]
pub struct Conversion {
    pub reports: Vec<crate::report::FileReport>,
    pub output: Option<Vec<u8>>,
    /// The output had lint errors and must not be written.
    pub refused: bool,
    pub needs_review: bool,
}

/// Reads, plans, renders and lints one input, as `convert` does.
pub fn convert(
    source: &crate::source::Source,
    opts: &Options,
    format: emit::Format,
    output_name: &str,
) -> Result<Conversion, emit::EmitError> {
    let env = Envelope::parse(&source.bytes, &crate::userdata::Limits::default());
    let plan = plan(&env, opts);
    let mut reports = vec![crate::lint::resolve(source, &env, plan.entries.clone())];
    let bytes = emit::render(&plan, format, opts.target)?;
    let mut refused = false;
    let output = if bytes.is_empty() {
        None
    } else {
        let check = emit::check(&bytes, output_name, opts.target);
        let bad = check.max_severity() == Some(Severity::Error);
        if !check.findings.is_empty() {
            reports.push(check);
        }
        refused = bad;
        (!bad).then_some(bytes)
    };
    Ok(Conversion { reports, output, refused, needs_review: plan.needs_review() })
}

/// Cluster coordinates given on the command line or in `--cluster-info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterInfo {
    pub name: Option<String>,
    pub api_server_endpoint: Option<String>,
    pub certificate_authority: Option<String>,
    pub cidr: Option<String>,
    /// `ipv4` or `ipv6`, as DescribeCluster says; nodeadm infers it from `cidr`, so it is
    /// informational here.
    pub ip_family: Option<String>,
    /// `1.33`, as DescribeCluster says; `push --ami auto` picks the AMI for it.
    pub kubernetes_version: Option<String>,
}

impl ClusterInfo {
    /// The `--cluster-info` file: YAML (or JSON) with the keys above, unknown keys refused.
    pub fn parse(text: &str) -> Result<ClusterInfo, crate::nodeconfig::yaml::YamlError> {
        crate::nodeconfig::yaml::from_str(text)
    }

    /// The same file, written by `cluster-info`: stable key order, LF, no timestamps.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for (key, value) in [
            ("name", &self.name),
            ("apiServerEndpoint", &self.api_server_endpoint),
            ("certificateAuthority", &self.certificate_authority),
            ("cidr", &self.cidr),
            ("ipFamily", &self.ip_family),
            ("kubernetesVersion", &self.kubernetes_version),
        ] {
            if let Some(v) = value {
                // JSON strings are YAML double-quoted scalars: `1.30` stays a string.
                out.push_str(&format!("{key}: {}\n", serde_json::Value::String(v.clone())));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub target: Target,
    pub cluster: ClusterInfo,
    /// Keep AL2's replace-the-whole-map semantics by keeping map flags as flags.
    pub keep_map_semantics: bool,
    /// Template syntax; `None` detects it.
    pub template: Option<Syntax>,
    /// Leave commands that followed bootstrap.sh in the script instead of moving them into a
    /// unit that runs after nodeadm-run.
    pub keep_post_bootstrap_inline: bool,
    /// How a data volume over node state is written: a script part, or `#cloud-config`.
    pub data_volume: DataVolumeStyle,
    /// Compute lifecycle-dependent settings at boot with `eks-userdata-boot` (`--boot-hook`).
    pub boot_hook: Option<boothook::HookSource>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DataVolumeStyle {
    #[default]
    Script,
    CloudConfig,
}

/// A translation: the NodeConfig, the parts to write, and the report.
#[derive(Debug, Clone)]
pub struct Plan {
    pub nodeconfig: NodeConfig,
    /// Parts in output order; the NodeConfig part is last.
    pub parts: Vec<OutPart>,
    pub entries: Vec<Diagnostic>,
    /// The data volumes the script mounted over node state, rewritten safely in `parts`.
    pub data_volumes: Vec<datavol::DataVolume>,
}

impl Plan {
    pub fn needs_review(&self) -> bool {
        self.entries.iter().any(|d| d.severity == Severity::Error)
    }
}

struct Ctx<'a> {
    opts: &'a Options,
    part: Option<usize>,
    /// Offset of the script text inside the part body (non-zero for a bare argument string).
    shift: isize,
    entries: Vec<Diagnostic>,
    /// Files the script writes before each command: (path, command index, content).
    files: Vec<(String, usize, String)>,
    /// The script text spans refer to (with the bare-argument prefix, if any).
    text: String,
    /// When the script was assembled from another document (eksctl's config), every entry
    /// points at this offset of the original instead.
    anchor: Option<usize>,
    /// Variables assigned from max-pods-calculator.sh.
    calculators: Vec<(String, maxpods::Calculator)>,
    /// Data volumes found (for `karpenter`, which also needs their block device mappings).
    data_volumes: Vec<datavol::DataVolume>,
}

impl Ctx<'_> {
    fn span(&self, part_index: usize, span: (usize, usize)) -> Span {
        if let Some(at) = self.anchor {
            return Span::part(part_index, at, at);
        }
        let f = |x: usize| (x as isize - self.shift).max(0) as usize;
        Span::part(part_index, f(span.0), f(span.1))
    }
    fn push(&mut self, meta: &RuleMeta, part_index: usize, span: (usize, usize), msg: String, help: Option<String>) {
        let mut d = Diagnostic::new(meta, msg).with_span(self.span(part_index, span)).with_part(self.part);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.entries.push(d);
    }
}

fn shown(arg: &Arg) -> String {
    let t = arg.value.text();
    let t: String = t.chars().take(70).collect();
    match &arg.from_env {
        Some(var) => format!("{var}={t} (environment)"),
        None => t,
    }
}

/// The value as NodeConfig text, with an entry when it is only known at boot.
fn value_of(cx: &mut Ctx, pi: usize, arg: &Arg, what: &str) -> String {
    if let WValue::Runtime { why, text } = &arg.value {
        cx.push(
            &codes::RUNTIME_VALUE,
            pi,
            arg.span,
            format!("{what} is `{text}`, only known at boot ({why}); it is written as is and needs review"),
            Some("give a static value (a literal, or --cluster-info for cluster values), or set it at boot with a drop-in".into()),
        );
    }
    arg.value.text().to_string()
}

/// Takes a `--max-pods` computed by max-pods-calculator.sh out of a kubelet argument string:
/// inline (`--max-pods=$(…max-pods-calculator.sh …)`) or through a variable assigned from it.
fn take_calculator(args: &str, calculators: &[(String, maxpods::Calculator)]) -> (String, Option<maxpods::Calculator>) {
    if let Some(start) = args.find("--max-pods") {
        let after = &args[start + "--max-pods".len()..];
        let value = after.trim_start_matches(['=', ' ']);
        let skipped = after.len() - value.len();
        if value.starts_with("$(") && value.contains("max-pods-calculator.sh") {
            let end = value.find(')').map_or(value.len(), |e| e + 1);
            let calc = maxpods::parse(&value[..end]);
            let rest = format!("{}{}", &args[..start], &value[end..]);
            return (rest, calc);
        }
        let name = value.trim_start_matches(['"', '\'']).trim_start_matches('$').trim_start_matches('{');
        let name_end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
        if let Some((_, calc)) = calculators.iter().find(|(v, _)| v == &name[..name_end]) {
            let token_end = value.find(char::is_whitespace).unwrap_or(value.len());
            let rest = format!("{}{}", &args[..start], &value[token_end..]);
            let _ = skipped;
            return (rest, Some(calc.clone()));
        }
    }
    (args.to_string(), None)
}

/// Settings the target supplies itself, so the user data must not (peers §8 lesson 3).
fn omitted_by(target: Target, what: &str) -> Option<&'static str> {
    match (target, what) {
        (Target::Mng, "nodeLabels") => Some(
            "a managed node group takes labels from its `labels` setting (EKS puts them in its own NodeConfig); set them there",
        ),
        (Target::Mng, "registerWithTaints") => {
            Some("a managed node group takes taints from its `taints` setting; set them there")
        }
        (Target::Karpenter, "nodeLabels") => {
            Some("Karpenter sets node labels from the NodePool; put them in its template labels")
        }
        (Target::Karpenter, "registerWithTaints") => {
            Some("Karpenter registers taints from the NodePool; put them in its template taints")
        }
        (Target::Karpenter, "maxPods") => Some("Karpenter sets maxPods (EC2NodeClass spec.kubelet.maxPods)"),
        (Target::Karpenter, "clusterDNS") => Some("Karpenter sets clusterDNS (EC2NodeClass spec.kubelet.clusterDNS)"),
        _ => None,
    }
}

fn translated(cx: &mut Ctx, pi: usize, span: (usize, usize), construct: &str, field: &str) {
    cx.push(&codes::TRANSLATED, pi, span, format!("`{construct}` → `{field}`"), None);
}

/// Applies one bootstrap.sh call to a NodeConfig.
fn apply_call(cx: &mut Ctx, pi: usize, inv: &Invocation, nc: &mut NodeConfig) {
    let call: &Call = &inv.call;
    let target = cx.opts.target;
    let supplies_cluster = target.user_data_supplies_cluster();
    if call.help {
        cx.push(
            &codes::UNKNOWN,
            pi,
            inv.span,
            "bootstrap.sh is called with -h/--help: it prints its usage and exits 1".into(),
            None,
        );
    }
    for (flag, span) in &call.missing_value {
        cx.push(
            &codes::UNKNOWN,
            pi,
            *span,
            format!("`{}` is the last word and has no value; bootstrap.sh fails on it", flag.name()),
            None,
        );
    }
    for arg in &call.opaque {
        cx.push(
            &codes::TEMPLATE_ARGS,
            pi,
            arg.span,
            format!("`{}` stands for more bootstrap.sh arguments, filled in when the template is rendered; they cannot be translated here and are lost on AL2023", arg.value.text()),
            Some("move what the variable holds into NodeConfig fields, or render the template and convert the result".into()),
        );
        if let Some(last) = cx.entries.last_mut() {
            last.severity = Severity::Error;
        }
    }
    for arg in &call.unknown {
        let t = arg.value.text();
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
        cx.push(
            &codes::UNKNOWN,
            pi,
            arg.span,
            format!("`{t}`: {why}; not translated"),
            Some("configure what it was meant to do in the NodeConfig by hand".into()),
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
                    target.cluster_supplier().unwrap_or("the target")
                ),
                None,
            );
            continue;
        }
        let v = value_of(cx, pi, arg, what);
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
    // Kubelet arguments.
    let use_max_pods = call.get(Flag::UseMaxPods).map(|a| (a.value.text() == "false", a.span));
    let mut saw_max_pods = false;
    if let Some(a) = call.get(Flag::KubeletExtraArgs) {
        let (args_text, calc) = take_calculator(a.value.text(), &cx.calculators);
        if let Some(calc) = calc {
            saw_max_pods = true;
            match calc.expression() {
                Some(expr) => {
                    cx.push(&codes::MAX_PODS_EXPR, pi, a.span, format!("`--max-pods` from max-pods-calculator.sh → spec.kubelet.maxPodsExpression: `{expr}` (needs AMI v20251007 or later)"), None);
                    nc.spec.kubelet.max_pods_expression = expr;
                }
                None => cx.push(
                    &codes::MAX_PODS_EXPR,
                    pi,
                    a.span,
                    "`--max-pods` from max-pods-calculator.sh without options is nodeadm's own default; nothing to write".into(),
                    None,
                ),
            }
        }
        if let WValue::Runtime { why, text } = &a.value
            && args_text.contains(['$', '`'])
        {
            cx.push(&codes::RUNTIME_VALUE, pi, a.span, format!("--kubelet-extra-args is `{text}`, only known at boot ({why}); the static parts are translated, the rest needs review"), None);
        }
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut search_from = a.span.0;
        let words = kubelet_flags::split_args(&args_text);
        let whole_placeholder = |w: &str| {
            (w.starts_with("${") && w.ends_with('}') && w.matches("${").count() == 1) || w == "%s" || w == "%v"
        };
        let placeholder_words: Vec<String> =
            words.iter().map(|w| w.0.clone()).filter(|w| whole_placeholder(w)).collect();
        for w in &placeholder_words {
            nc.spec.kubelet.flags.push(w.clone());
            cx.push(
                &codes::TEMPLATE_ARGS,
                pi,
                a.span,
                format!("`{w}` is a template placeholder for kubelet arguments → kept in spec.kubelet.flags as is"),
                Some("after rendering it must hold only kubelet flags, unquoted; deprecated flags belong in spec.kubelet.config".into()),
            );
        }
        let rest: Vec<String> = words.into_iter().map(|w| w.0).filter(|w| !placeholder_words.contains(w)).collect();
        for t in kubelet_flags::translate(&rest.join(" ")) {
            // Point at the flag itself when it appears literally inside the argument.
            let region = cx.text.get(search_from..a.span.1).unwrap_or_default();
            let span = match region.find(t.flag.as_str()) {
                Some(off) => {
                    let start = search_from + off;
                    let len = cx.text[start..a.span.1]
                        .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
                        .unwrap_or(a.span.1 - start);
                    search_from = start + len;
                    (start, start + len)
                }
                None => a.span,
            };
            match t.outcome {
                KOutcome::Config { path, value } => {
                    saw_max_pods |= path == "maxPods";
                    if let Some(why) = omitted_by(target, &path) {
                        cx.push(&codes::OMITTED, pi, span, format!("`{}` left out: {why}", t.text), None);
                        if let Some(last) = cx.entries.last_mut() {
                            last.severity = Severity::Warning;
                        }
                        continue;
                    }
                    if t.replaces && cx.opts.keep_map_semantics {
                        nc.spec.kubelet.flags.push(t.text.clone());
                        cx.push(
                            &codes::KEPT_FLAG,
                            pi,
                            span,
                            format!(
                                "`{}` kept in spec.kubelet.flags (--keep-map-semantics: it replaces the whole {path})",
                                t.text
                            ),
                            None,
                        );
                        continue;
                    }
                    let repeat = !seen.insert(path.clone());
                    if let Value::String(v) = &value
                        && template::has_placeholder(v)
                        && !matches!(
                            kubelet_flags::table().get(t.flag.trim_start_matches('-')).map(|s| s.codec),
                            Some(
                                kubelet_flags::Codec::String
                                    | kubelet_flags::Codec::Quantity
                                    | kubelet_flags::Codec::Duration
                                    | kubelet_flags::Codec::Ip
                            )
                        )
                    {
                        cx.push(
                            &codes::TEMPLATE_ARGS,
                            pi,
                            span,
                            format!("`{}`: the template value is written as is into spec.kubelet.config.{path}; it must render to the field's type (not a quoted string)", t.text),
                            None,
                        );
                    }
                    kubelet_flags::apply(&mut nc.spec.kubelet.config, &path, value, repeat);
                    translated(cx, pi, span, &t.text, &format!("spec.kubelet.config.{path}"));
                    if t.replaces
                        && path != "featureGates"
                        && matches!(
                            kubelet_flags::table().get(t.flag.trim_start_matches('-')).map(|s| s.codec),
                            Some(kubelet_flags::Codec::Map | kubelet_flags::Codec::MapLangle)
                        )
                    {
                        cx.push(
                            &codes::MAP_SEMANTICS,
                            pi,
                            span,
                            format!("`{}` replaced the whole {path} map on AL2; as a drop-in it is merged with nodeadm's defaults, so keys it left out keep their default values", t.text),
                            Some("use --keep-map-semantics to keep the AL2 behaviour (the flag stays a flag)".into()),
                        );
                    }
                    if path == "reservedSystemCPUs" {
                        for key in ["kubeReservedCgroup", "systemReservedCgroup"] {
                            nc.spec.kubelet.config.insert(key.into(), Value::String(String::new()));
                        }
                        cx.push(&codes::TRANSLATED, pi, span, "`--reserved-cpus` also clears kubeReservedCgroup and systemReservedCgroup, as bootstrap.sh did".into(), None);
                    }
                }
                KOutcome::Flag(f) => {
                    let is_label = f.starts_with("--node-labels");
                    if let Some(why) = is_label.then(|| omitted_by(target, "nodeLabels")).flatten() {
                        cx.push(&codes::OMITTED, pi, span, format!("`{f}` left out: {why}"), None);
                        if let Some(last) = cx.entries.last_mut() {
                            last.severity = Severity::Warning;
                        }
                        continue;
                    }
                    nc.spec.kubelet.flags.push(f.clone());
                    cx.push(&codes::KEPT_FLAG, pi, span, format!("`{f}` → spec.kubelet.flags"), None);
                }
                KOutcome::Dropped(DropReason::NodeadmOwned) => cx.push(
                    &codes::NODEADM_OWNED,
                    pi,
                    span,
                    format!("`{}` dropped: nodeadm sets {} itself", t.text, t.flag),
                    None,
                ),
                KOutcome::Dropped(DropReason::Unregistered) => cx.push(
                    &codes::NODEADM_OWNED,
                    pi,
                    span,
                    format!("`{}` dropped: the kubelet no longer has {} and would refuse to start", t.text, t.flag),
                    None,
                ),
                KOutcome::Invalid(why) => {
                    cx.push(&codes::INVALID_VALUE, pi, span, format!("`{}`: {why}; not translated", t.text), None)
                }
                KOutcome::Unknown => cx.push(
                    &codes::UNKNOWN,
                    pi,
                    span,
                    format!("`{}` is not a kubelet flag; not translated", t.text),
                    None,
                ),
            }
        }
    }
    if let Some((false_, span)) = use_max_pods {
        if false_ && !saw_max_pods && target != Target::Karpenter {
            nc.spec.kubelet.config.insert("maxPods".into(), Value::Number(110.into()));
            cx.push(&codes::TRANSLATED, pi, span, "`--use-max-pods false` without --max-pods: AL2 left the kubelet default → spec.kubelet.config.maxPods: 110".into(), None);
        } else {
            cx.push(
                &codes::TRANSLATED,
                pi,
                span,
                format!(
                    "`--use-max-pods {}`: nodeadm always sets maxPods; {}",
                    if false_ { "false" } else { "true" },
                    if saw_max_pods {
                        "the --max-pods value is used"
                    } else {
                        "the instance-type default applies, as on AL2"
                    }
                ),
                None,
            );
        }
    }
    // Containerd config file.
    if let Some(a) = call.get(Flag::ContainerdConfigFile) {
        let path = a.value.text().to_string();
        let written =
            cx.files.iter().rev().find(|(p, idx, _)| *p == path && *idx < inv.command).map(|(_, _, c)| c.clone());
        match written {
            Some(content) => {
                let schema = if content.contains("version = 3") { "version 3 (containerd 2.x, current AMIs)" } else if content.contains("version = 2") { "version 2: only AMIs with containerd 1.7 (Kubernetes 1.28–1.29) read it" } else { "no version key" };
                nc.spec.containerd.config = content;
                cx.push(&codes::CONTAINERD, pi, a.span, format!("`--containerd-config-file {path}` → spec.containerd.config, inlined from the file the script writes; it is merged over nodeadm's config, not a replacement; schema {schema}"), None);
            }
            None => cx.push(
                &codes::CONTAINERD,
                pi,
                a.span,
                format!("`--containerd-config-file {path}`: the script does not write this file, so its content is unknown; not translated"),
                Some("put the TOML in spec.containerd.config (it is merged over nodeadm's config)".into()),
            ),
        }
        if let Some(last) = cx.entries.last_mut()
            && last.message.contains("content is unknown")
        {
            last.severity = Severity::Error;
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

/// Handles the script's disk commands; returns the commands the output replaces.
fn disks(cx: &mut Ctx, pi: usize, a: &analysis::Analysis, out: &mut Vec<OutPart>, nc: &mut NodeConfig) -> Vec<usize> {
    use crate::al2::analysis::{DiskOp, STATE_DIRS};
    let mut replaced = Vec::new();
    let text = cx.text.clone();
    let line_of = |c: usize| text[..a.script.commands[c].span.0.min(text.len())].matches('\n').count() + 1;
    for op in &a.disk_ops {
        match op {
            DiskOp::Mount { command, device, target }
                if STATE_DIRS.contains(&target.as_str()) && !is_instance_store(device) && !static_device(device) =>
            {
                cx.push(
                    &codes::DATA_VOLUME,
                    pi,
                    a.script.commands[*command].span,
                    format!("`{device}` is mounted over {target}, but the device is only known at boot, so no safe replacement is written; kept (on AL2023 this hides the cached pause image)"),
                    Some("give the device as a fixed path or an EBS volume id, or copy the directory's contents onto the volume before mounting".into()),
                );
                if let Some(last) = cx.entries.last_mut() {
                    last.severity = Severity::Error;
                }
            }
            DiskOp::Mount { command, device, target }
                if STATE_DIRS.contains(&target.as_str()) && !is_instance_store(device) && static_device(device) =>
            {
                let real = if target == "/var/lib/docker" { "/var/lib/containerd" } else { target.as_str() };
                let mkfs: Vec<(usize, Option<String>)> = a
                    .disk_ops
                    .iter()
                    .filter_map(|o| match o {
                        DiskOp::Mkfs { command, device: d, fstype } if d == device => Some((*command, fstype.clone())),
                        _ => None,
                    })
                    .collect();
                let fstab: Vec<usize> = a
                    .disk_ops
                    .iter()
                    .filter_map(|o| match o {
                        DiskOp::Fstab { command, line }
                            if line.contains(device.as_str()) || line.contains(target.as_str()) =>
                        {
                            Some(*command)
                        }
                        _ => None,
                    })
                    .collect();
                let mut v = datavol::DataVolume::new(&volume_id(device).unwrap_or_else(|| device.clone()), real);
                if let Some(fs) = mkfs.iter().find_map(|(_, f)| f.clone()) {
                    v.fstype = fs;
                }
                cx.data_volumes.push(v.clone());
                out.push(match cx.opts.data_volume {
                    DataVolumeStyle::Script => OutPart::text("text/x-shellscript", datavol::script(&v)),
                    DataVolumeStyle::CloudConfig => OutPart::text("text/cloud-config", datavol::cloud_config(&v)),
                });
                let mut lines: Vec<String> =
                    mkfs.iter().map(|(c, _)| format!("mkfs at line {}", line_of(*c))).collect();
                lines.push(format!("mount at line {}", line_of(*command)));
                lines.extend(fstab.iter().map(|c| format!("fstab entry at line {}", line_of(*c))));
                let docker = if real != target {
                    "; it was for Docker, so it is mounted on /var/lib/containerd now"
                } else {
                    ""
                };
                cx.push(
                    &codes::DATA_VOLUME,
                    pi,
                    a.script.commands[*command].span,
                    format!(
                        "the setup of {device} for {target} ({}) is replaced by a safe data-volume script part{docker}",
                        lines.join(", ")
                    ),
                    Some(
                        "review the generated part; it formats only a blank device and keeps the cached pause image"
                            .into(),
                    ),
                );
                replaced.push(*command);
                replaced.extend(mkfs.iter().map(|(c, _)| *c));
                replaced.extend(fstab);
            }
            DiskOp::Mkfs { command, device, .. }
                if !replaced.contains(command) && !is_instance_store(device) && !in_loop(a, *command, device) =>
            {
                let state_mount = a.disk_ops.iter().any(|o| matches!(o, DiskOp::Mount { device: d, target, .. } if d == device && STATE_DIRS.contains(&target.as_str())));
                let guarded = !a.script.commands[*command].unconditional();
                if !state_mount && !guarded {
                    cx.push(
                        &codes::UNSAFE_MKFS,
                        pi,
                        a.script.commands[*command].span,
                        format!("`mkfs` on {device} runs without checking for an existing filesystem; kept"),
                        None,
                    );
                }
            }
            DiskOp::SetupLocalDisks { command, mode, dir, options } => {
                let span = a.script.commands[*command].span;
                let strategy = match mode.as_str() {
                    "raid0" => Some(LocalStorageStrategy::Raid0),
                    "raid10" => Some(LocalStorageStrategy::Raid10),
                    "mount" => Some(LocalStorageStrategy::Mount),
                    _ => None,
                };
                let unsupported: Vec<&String> = options
                    .iter()
                    .filter(|o| {
                        !matches!(o.as_str(), "--no-bind-containerd" | "--no-bind-pods-logs" | "--no-bind-soci")
                    })
                    .collect();
                match strategy {
                    Some(st) if unsupported.is_empty() => {
                        let ls = &mut nc.spec.instance.local_storage;
                        ls.strategy = Some(st);
                        if let Some(d) = dir {
                            ls.mount_path = d.clone();
                        }
                        for o in options {
                            ls.disabled_mounts.push(match o.as_str() {
                                "--no-bind-containerd" => DisabledMount::Containerd,
                                "--no-bind-pods-logs" => DisabledMount::PodLogs,
                                _ => DisabledMount::Soci,
                            });
                        }
                        let at = dir.as_ref().map(|d| format!(", mountPath {d}")).unwrap_or_default();
                        cx.push(&codes::LOCAL_STORAGE, pi, span, format!("`setup-local-disks {mode}` → spec.instance.localStorage (strategy {mode}{at}); nodeadm runs it"), None);
                        replaced.push(*command);
                    }
                    _ => {
                        let opts: Vec<&str> = unsupported.iter().map(|s| s.as_str()).collect();
                        cx.push(
                            &codes::LOCAL_DISK_SCRIPT,
                            pi,
                            span,
                            format!(
                                "`setup-local-disks {mode} {}` has a mode or options localStorage cannot express; kept",
                                opts.join(" ")
                            ),
                            None,
                        )
                    }
                }
            }
            DiskOp::Raid { command, device, level } => {
                let span = a.script.commands[*command].span;
                let for_state = a.disk_ops.iter().any(|o| match o {
                    DiskOp::Mount { device: d, target, .. } => d == device && STATE_DIRS.contains(&target.as_str()),
                    DiskOp::Fstab { line, .. } => {
                        line.contains(device.as_str()) && STATE_DIRS.iter().any(|s| line.contains(s))
                    }
                    _ => false,
                });
                let strategy = match level.as_str() {
                    "0" => Some(LocalStorageStrategy::Raid0),
                    "10" => Some(LocalStorageStrategy::Raid10),
                    _ => None,
                };
                match (for_state, strategy) {
                    (true, Some(st)) => {
                        nc.spec.instance.local_storage.strategy = Some(st);
                        let related: Vec<usize> = a
                            .disk_ops
                            .iter()
                            .filter_map(|o| match o {
                                DiskOp::Mkfs { command, device: d, .. } | DiskOp::Mount { command, device: d, .. } if d == device => Some(*command),
                                DiskOp::Fstab { command, line } if line.contains(device.as_str()) => Some(*command),
                                _ => None,
                            })
                            .collect();
                        cx.push(
                            &codes::LOCAL_STORAGE,
                            pi,
                            span,
                            format!("a RAID{level} over instance store ({device}) for the node's state → spec.instance.localStorage; the mdadm, mkfs and mount commands are replaced"),
                            None,
                        );
                        replaced.push(*command);
                        replaced.extend(related);
                    }
                    _ => cx.push(
                        &codes::LOCAL_DISK_SCRIPT,
                        pi,
                        span,
                        format!("a RAID{level} ({device}) for a mount point of the workload's own; kept (localStorage mounts its array at <mountPath>/0)"),
                        None,
                    ),
                }
            }
            DiskOp::Mkfs { command, device, .. } if in_loop(a, *command, device) => {
                cx.push(
                    &codes::LOCAL_DISK_SCRIPT,
                    pi,
                    a.script.commands[*command].span,
                    format!("a loop formats every disk it finds ({device}) and mounts each for the workload; kept (localStorage strategy Mount mounts each instance-store disk at <mountPath>/1..N)"),
                    None,
                );
            }
            DiskOp::Wipe { command, path }
                if path.starts_with("/var/lib/containerd") || path.starts_with("/var/lib/kubelet") =>
            {
                cx.push(
                    &codes::WIPE_STATE,
                    pi,
                    a.script.commands[*command].span,
                    format!("`rm -rf {path}` would delete the AMI's cached pause image and node state; removed"),
                    None,
                );
                replaced.push(*command);
            }
            _ => {}
        }
    }
    replaced.sort();
    replaced.dedup();
    replaced
}

/// A `mkfs` of a device found at run time inside a `for` loop: a per-disk format loop.
fn in_loop(a: &analysis::Analysis, command: usize, device: &str) -> bool {
    device.contains('$') && a.script.commands[command].branch.iter().any(|b| b.starts_with("for "))
}

/// A device path known before boot (no shell expansion left in it).
fn static_device(device: &str) -> bool {
    device.starts_with("/dev/") && !device.contains(['$', '`', '*'])
}

/// `vol-0123…` from an NVMe by-id link such as
/// `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123…`.
fn volume_id(device: &str) -> Option<String> {
    let at = device.find("Amazon_Elastic_Block_Store_vol")? + "Amazon_Elastic_Block_Store_".len();
    let id: String = device[at + 3..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (!id.is_empty()).then(|| format!("vol-{id}"))
}

fn is_instance_store(device: &str) -> bool {
    device.starts_with("/dev/md") || device.contains("Instance_Storage")
}

/// Commands that carry no meaning once the call is gone.
fn trivial(cmd: &shell::Command) -> bool {
    cmd.words.is_empty() || matches!(cmd.name(), Some("set" | "true" | ":" | "exit" | "export"))
}

/// Replaces each command span by `true` in the original text, so `|| exit 1` and `if` blocks
/// still parse, with a comment saying why when the command ends its line. A command's
/// redirections carry no location, so when only they follow it on the line they go too.
fn residual(text: &str, spans: &[(usize, usize, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut sorted = spans.to_vec();
    sorted.sort();
    for (s, mut e, why) in sorted {
        if s < last || e > text.len() {
            continue;
        }
        let line_rest = text[e..].split('\n').next().unwrap_or_default();
        let only_redirects = !line_rest.trim().is_empty()
            && !line_rest.contains([';', '&', '|', '#', '\\'])
            && line_rest.trim_start().starts_with(['>', '<', '2', '1']);
        if only_redirects {
            e += line_rest.len();
        }
        out.push_str(&text[last..s]);
        out.push_str("true");
        if only_redirects || line_rest.trim().is_empty() {
            out.push_str("  # eks-userdata: ");
            out.push_str(why);
        }
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

fn translate_script(
    cx: &mut Ctx,
    part: &Part,
    text: &str,
    script_text: &str,
    nc: &mut NodeConfig,
    out: &mut Vec<OutPart>,
    headers: Vec<(String, String)>,
) {
    let pi = part.index;
    cx.text = script_text.to_string();
    let syntax = cx.opts.template.unwrap_or_else(|| template::detect(script_text));
    let script = match shell::parse(script_text, syntax) {
        Ok(s) => s,
        Err(e) => {
            let at = e.offset.unwrap_or(0);
            cx.push(
                &codes::PARSE_ERROR,
                pi,
                (at, at),
                format!("{e}; the script is kept unchanged and not translated"),
                Some("correct the syntax, or pass --template if it is a template".into()),
            );
            out.push(OutPart { headers, body: text.as_bytes().to_vec() });
            return;
        }
    };
    let a = analysis::analyze(script);
    cx.calculators = a
        .script
        .commands
        .iter()
        .flat_map(|c| {
            let exported = c
                .words
                .iter()
                .skip(1)
                .filter_map(|w| w.raw.split_once('=').map(|(n, v)| (n.to_string(), v.to_string())));
            c.assignments.iter().map(|(n, w)| (n.clone(), w.raw.clone())).chain(exported)
        })
        .filter_map(|(n, v)| maxpods::parse(&v).map(|c| (n, c)))
        .collect();
    cx.files = a
        .files
        .iter()
        .filter(|fw| !fw.content.is_runtime())
        .map(|fw| (fw.path.clone(), fw.command, fw.content.text().to_string()))
        .collect();
    for idx in &a.patches {
        let cmd = &a.script.commands[*idx];
        cx.push(
            &codes::PATCHED,
            pi,
            cmd.span,
            "this command edits /etc/eks/bootstrap.sh; on AL2023 that file is a stub, so the edit does nothing".into(),
            Some("express what the edit did as a NodeConfig field".into()),
        );
    }
    for (idx, path, vars) in &a.env_files {
        let cmd = &a.script.commands[*idx];
        cx.push(
            &codes::ENV_FILE,
            pi,
            cmd.span,
            format!("writes {} to {path}, which nothing sources: bootstrap.sh never read it, and nothing on AL2023 does; not translated", vars.join(", ")),
            Some("pass the setting as a bootstrap.sh flag and convert again, or set the NodeConfig field".into()),
        );
    }
    for (i, cmd) in a.script.commands.iter().enumerate() {
        if let Some(l) = crate::al2::legacy::classify(i, cmd) {
            cx.push(&codes::AL2_ONLY, pi, cmd.span, format!("{}: {}; kept", l.what, l.instead), None);
        }
    }
    if a.invocations.is_empty() {
        let exported: Vec<&str> = crate::al2::bootstrap::Flag::ALL
            .iter()
            .map(|f| f.env_var())
            .filter(|v| {
                a.script.commands.iter().any(|c| {
                    c.name() == Some("export")
                        && c.words.iter().any(|w| w.parsed.starts_with(&format!("{v}=")) || w.parsed == *v)
                })
            })
            .collect();
        if !exported.is_empty() {
            cx.push(
                &codes::ORPHAN_ENV,
                pi,
                (0, 0),
                format!(
                    "exports {} but never calls bootstrap.sh; nothing on AL2023 reads it, so the setting is lost",
                    exported.join(", ")
                ),
                Some("convert together with the part that called bootstrap.sh, or set the NodeConfig field".into()),
            );
        }
    }
    // The first call is translated; others are compared with it.
    let mut first_nc: Option<NodeConfig> = None;
    // What `--boot-hook` computes at boot instead (boothook.rs).
    let mut hook: Option<serde_json::Map<String, Value>> = None;
    for (n, inv) in a.invocations.iter().enumerate() {
        let mut this = NodeConfig::default();
        let mut scratch = Ctx {
            opts: cx.opts,
            part: cx.part,
            shift: cx.shift,
            entries: Vec::new(),
            files: cx.files.clone(),
            text: cx.text.clone(),
            anchor: cx.anchor,
            calculators: cx.calculators.clone(),
            data_volumes: Vec::new(),
        };
        apply_call(&mut scratch, pi, inv, &mut this);
        match &first_nc {
            None => {
                cx.entries.append(&mut scratch.entries);
                cx.data_volumes.append(&mut scratch.data_volumes);
                first_nc = Some(this);
            }
            Some(first) if *first == this => {}
            Some(first)
                if n == 1
                    && a.invocations.len() == 2
                    && let Some(source) = &cx.opts.boot_hook
                    && let (Some(cond), Some(other)) = (a.invocations[0].branch.first(), inv.branch.first())
                    && other.starts_with("else")
                    && let Some(value) = boothook::lifecycle_condition(cond, &cx.text)
                    && let Some((common, spec)) = boothook::split(first, &this, &value) =>
            {
                let _ = source;
                hook = Some(spec);
                cx.push(
                    &codes::BOOT_HOOK,
                    pi,
                    inv.span,
                    format!("the {value} and the other branch differ in settings eks-userdata-boot computes at boot (max pods, labels, taints); the common ones stay static"),
                    None,
                );
                first_nc = Some(common);
            }
            Some(first) => {
                let (fa, fb) = (
                    serde_json::to_value(&first.spec).unwrap_or_default(),
                    serde_json::to_value(&this.spec).unwrap_or_default(),
                );
                let diff = differing_fields(&fa, &fb, "spec");
                let where_ = if inv.branch.is_empty() {
                    "at the top level".to_string()
                } else {
                    format!("in `{}`", inv.branch.join(" › "))
                };
                let first_where = a.invocations[0].branch.join(" › ");
                cx.push(
                    &codes::BRANCHES,
                    pi,
                    inv.span,
                    format!("bootstrap.sh call {} ({where_}) differs from the first ({}) in {}; the output uses the first", n + 1, if first_where.is_empty() { "top level".into() } else { first_where }, diff.join(", ")),
                    Some("one static NodeConfig cannot express both; split the node group, or set the differing fields at boot with a drop-in".into()),
                );
            }
        }
        if !inv.branch.is_empty() && a.invocations.len() == 1 {
            cx.push(
                &codes::BRANCHES,
                pi,
                inv.span,
                format!(
                    "the only bootstrap.sh call runs inside `{}`; the NodeConfig applies on every boot path",
                    inv.branch.join(" › ")
                ),
                None,
            );
            if let Some(last) = cx.entries.last_mut() {
                last.severity = Severity::Warning;
            }
        }
    }
    if let (Some(source), Some(first)) = (&cx.opts.boot_hook, first_nc.as_mut()) {
        let labels = boothook::runtime_labels(first, &cx.text);
        if !labels.is_empty() {
            let keys: Vec<String> = labels.iter().filter_map(|l| l["key"].as_str().map(str::to_string)).collect();
            let spec = hook.get_or_insert_with(boothook::new_spec);
            if let Some(Value::Array(existing)) = spec.get_mut("labels") {
                existing.extend(labels);
            } else {
                spec.insert("labels".into(), Value::Array(labels));
            }
            let span = a.invocations.first().map_or((0, 0), |i| i.span);
            cx.push(
                &codes::BOOT_HOOK,
                pi,
                span,
                format!("node labels read from IMDS at boot ({}) are set by eks-userdata-boot", keys.join(", ")),
                None,
            );
            // Nothing left that only the boot knows: the runtime entry no longer applies.
            let text = serde_json::to_string(&first.spec.kubelet).unwrap_or_default();
            if !text.contains('$') && !text.contains('`') {
                cx.entries.retain(|d| {
                    !(d.code == codes::RUNTIME_VALUE.code && d.message.starts_with("--kubelet-extra-args is"))
                });
            }
        }
        if let Some(yaml) = hook.as_ref().and_then(boothook::spec_yaml) {
            out.push(OutPart::text("text/x-shellscript", boothook::script(&yaml, source)));
        }
    }
    if let Some(first) = first_nc {
        let _ = crate::nodeconfig::merge::merge_into(nc, &first);
    }
    let later: Vec<&shell::Command> =
        a.after_bootstrap.iter().map(|i| &a.script.commands[*i]).filter(|c| !trivial(c)).collect();
    if let Some(first) = later.first() {
        let list: Vec<String> = later
            .iter()
            .take(5)
            .map(|c| {
                format!(
                    "`{}`",
                    c.words
                        .iter()
                        .map(|w| w.raw.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(50)
                        .collect::<String>()
                )
            })
            .collect();
        let more = if later.len() > 5 { format!(" and {} more", later.len() - 5) } else { String::new() };
        let span = (first.span.0, later.last().map_or(first.span.1, |c| c.span.1));
        cx.push(
            &codes::AFTER_BOOTSTRAP,
            pi,
            span,
            format!("{} command(s) ran after bootstrap.sh, with kubelet running: {}{more}; on AL2023 they run before kubelet starts", later.len(), list.join(", ")),
            Some("anything that needs a running kubelet belongs in a systemd unit ordered After=nodeadm-run.service".into()),
        );
    }
    // Disk commands: data volumes over node state become a safe script; wipes go.
    let mut replaced: Vec<usize> = disks(cx, pi, &a, out, nc);
    // jq edits of the AL2 kubelet config file become kubelet.config keys.
    for (i, cmd) in a.script.commands.iter().enumerate() {
        let Some(filter) = crate::al2::jq::find(&text_of(text, cmd.span, cx.shift)) else { continue };
        match crate::al2::jq::assignments(&filter) {
            Ok(keys) => {
                let names: Vec<String> = keys.iter().map(|(k, _)| format!("spec.kubelet.config.{k}")).collect();
                for (k, v) in keys {
                    kubelet_flags::apply(&mut nc.spec.kubelet.config, &k, v, false);
                }
                cx.push(&codes::JQ_EDIT, pi, cmd.span, format!("the jq edit `{filter}` of the kubelet config → {}; the command is removed", names.join(", ")), None);
                if let Some(last) = cx.entries.last_mut() {
                    last.severity = Severity::Info;
                }
                replaced.push(i);
            }
            Err(why) => cx.push(
                &codes::JQ_EDIT,
                pi,
                cmd.span,
                format!("the jq edit `{filter}` of the kubelet config is not translated ({why}); on AL2023 nodeadm rewrites that file, so the edit is lost; kept"),
                Some("write the resulting keys into spec.kubelet.config".into()),
            ),
        }
    }
    // max-pods-calculator.sh does not exist on AL2023: its assignment would fail the script.
    replaced.extend(
        a.script
            .commands
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.words.is_empty() && c.assignments.iter().any(|(_, w)| w.raw.contains("max-pods-calculator.sh"))
            })
            .map(|(i, _)| i),
    );
    // The rest of the script.
    let calls: Vec<(usize, usize, &str)> = replaced
        .iter()
        .map(|c| (*c, "replaced by the data-volume script part (or removed as unsafe on AL2023)"))
        .chain(a.invocations.iter().map(|i| (i.command, "bootstrap.sh call translated into the NodeConfig part")))
        .map(|(c, why)| {
            let (s_, e) = a.script.commands[c].span;
            ((s_ as isize - cx.shift).max(0) as usize, (e as isize - cx.shift).max(0) as usize, why)
        })
        .collect();
    replaced.extend(a.invocations.iter().map(|i| i.command));
    let meaningful = a.script.commands.iter().enumerate().any(|(i, c)| !trivial(c) && !replaced.contains(&i));
    // Commands after the call move into a unit ordered after nodeadm-run (docs §3).
    let moved = if cx.opts.keep_post_bootstrap_inline || cx.shift != 0 || cx.anchor.is_some() {
        None
    } else {
        post_bootstrap_tail(text, &a, &replaced)
    };
    if let Some(tail_start) = moved {
        cx.entries.retain(|d| !(d.code == codes::AFTER_BOOTSTRAP.code && d.message.contains("with kubelet running")));
        let n = a.after_bootstrap.iter().filter(|i| !trivial(&a.script.commands[**i])).count();
        cx.push(
            &codes::AFTER_BOOTSTRAP,
            pi,
            (tail_start, text.len()),
            format!("the {n} command(s) after bootstrap.sh are moved into eks-userdata-post-bootstrap.service, ordered After=nodeadm-run.service, so they still run once the node is up"),
            Some("use --keep-post-bootstrap-inline to leave them in the script (they then run before kubelet starts)".into()),
        );
    }
    if cx.shift == 0 && (meaningful || (a.invocations.is_empty() && replaced.is_empty())) {
        let mut body = residual(text, &calls);
        if let Some(tail_start) = moved {
            let kept_len =
                residual(&text[..tail_start], &calls.iter().copied().filter(|c| c.1 <= tail_start).collect::<Vec<_>>())
                    .len();
            body.truncate(kept_len);
            body.push_str(&post_bootstrap_unit(text, &a, tail_start));
        }
        if !body.starts_with("#!") {
            // cloud-init executes a text/x-shellscript part: without `#!` that fails.
            body.insert_str(0, "#!/bin/bash\n");
        }
        out.push(OutPart { headers, body: body.into_bytes() });
        let msg = if a.invocations.is_empty() && calls.is_empty() {
            "the script is kept unchanged as a text/x-shellscript part"
        } else if a.invocations.is_empty() {
            "the script is kept as a text/x-shellscript part, with the commands named above replaced by `true`"
        } else {
            "the rest of the script is kept as a text/x-shellscript part, with the bootstrap.sh call replaced by `true`"
        };
        cx.push(&codes::SCRIPT_KEPT, pi, (0, 0), msg.into(), None);
    }
}

/// The original text of a command span (shifted for bare argument strings).
fn text_of(text: &str, span: (usize, usize), shift: isize) -> String {
    let f = |x: usize| ((x as isize - shift).max(0) as usize).min(text.len());
    text.get(f(span.0)..f(span.1)).unwrap_or_default().to_string()
}

/// Where the movable tail after the first top-level bootstrap.sh call starts: the line after the
/// call, when everything after it is plain top-level commands the translator does not rewrite.
fn post_bootstrap_tail(text: &str, a: &analysis::Analysis, replaced: &[usize]) -> Option<usize> {
    let first = a.invocations.first().filter(|i| a.script.commands[i.command].unconditional())?;
    if a.invocations.len() > 1 || a.after_bootstrap.iter().all(|i| trivial(&a.script.commands[*i])) {
        return None;
    }
    if replaced.iter().any(|r| *r > first.command && a.invocations.iter().all(|i| i.command != *r)) {
        return None;
    }
    let end = first.span.1.min(text.len());
    let tail = text[end..].find('\n').map(|i| end + i + 1)?;
    // Later commands start in the tail, or are the call's own `|| exit 1` on its line.
    a.script.commands[first.command + 1..].iter().all(|c| c.span.0 >= tail || c.conditional).then_some(tail)
}

/// The shell that installs the moved commands as a oneshot unit after nodeadm-run. The unit is
/// started with `--no-block`: this script runs in cloud-final, which nodeadm-run waits for.
fn post_bootstrap_unit(text: &str, a: &analysis::Analysis, tail_start: usize) -> String {
    let first = a.invocations[0].command;
    // Variables and shell options set before the call, so the moved commands see them.
    let mut prelude = String::new();
    for c in &a.script.commands[..first] {
        let keeps = c.unconditional() && (c.words.is_empty() || matches!(c.name(), Some("export" | "set")));
        if keeps && c.span.1 > c.span.0 {
            let line_start = text[..c.span.0].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[c.span.1..].find('\n').map_or(text.len(), |i| c.span.1 + i);
            prelude.push_str(&text[line_start..line_end]);
            prelude.push('\n');
        }
    }
    let tail = &text[tail_start..];
    let mut delim = "EKS_USERDATA_POST".to_string();
    while tail.lines().any(|l| l.trim() == delim) || prelude.lines().any(|l| l.trim() == delim) {
        delim.push('_');
    }
    format!(
        "# eks-userdata: the commands that followed bootstrap.sh ran with kubelet up on AL2. On AL2023 this\n\
         # script runs before nodeadm starts kubelet, so they now run from a oneshot unit after nodeadm-run.\n\
         mkdir -p /etc/eks-userdata\n\
         cat > /etc/eks-userdata/post-bootstrap.sh <<'{delim}'\n\
         #!/bin/bash\n\
         {prelude}{tail}{nl}{delim}\n\
         chmod 0755 /etc/eks-userdata/post-bootstrap.sh\n\
         cat > /etc/systemd/system/eks-userdata-post-bootstrap.service <<'{delim}'\n\
         [Unit]\n\
         Description=User-data commands that ran after bootstrap.sh on AL2 (moved by eks-userdata)\n\
         After=nodeadm-run.service\n\
         Wants=nodeadm-run.service\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/bin/bash /etc/eks-userdata/post-bootstrap.sh\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n\
         {delim}\n\
         systemctl daemon-reload\n\
         systemctl enable eks-userdata-post-bootstrap.service\n\
         systemctl start --no-block eks-userdata-post-bootstrap.service\n",
        nl = if tail.ends_with('\n') || tail.is_empty() { "" } else { "\n" },
    )
}

fn differing_fields(a: &Value, b: &Value, path: &str) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differing_fields(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{path}.{k}"),
                    )
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![path.to_string()],
    }
}

/// `#cloud-config` with `runcmd`/`bootcmd` items that call bootstrap.sh: each such item is
/// translated like a script line and removed from the cloud-config, which is otherwise kept
/// byte for byte.
fn translate_cloud_config(
    cx: &mut Ctx,
    part: &Part,
    text: &str,
    nc: &mut NodeConfig,
    out: &mut Vec<OutPart>,
    headers: Vec<(String, String)>,
) {
    let pi = part.index;
    let Ok(doc) = crate::nodeconfig::yaml::parse(text) else {
        cx.push(
            &codes::PARSE_ERROR,
            pi,
            (0, 0),
            if part.kind == PartKind::JinjaTemplate {
                "the cloud-config is a Jinja template that is not valid YAML before cloud-init renders it; kept unchanged and not translated".into()
            } else {
                "the cloud-config is not valid YAML; kept unchanged and not translated".into()
            },
            Some("render the template (`cloud-init query --format`) and convert the result".into()),
        );
        out.push(OutPart { headers, body: text.as_bytes().to_vec() });
        return;
    };
    // Volumes cloud-init mounts over node state: no copy of what is there first.
    if let Some(mounts) = doc.value.get("mounts").and_then(Value::as_array) {
        for (i, m) in mounts.iter().enumerate() {
            let target =
                m.as_array().and_then(|a| a.get(1)).and_then(Value::as_str).unwrap_or_default().trim_end_matches('/');
            if !crate::al2::analysis::STATE_DIRS.contains(&target) {
                continue;
            }
            let span = doc.spans.lookup(&format!("/mounts/{i}")).map_or((0, 0), |(_, ns)| ns.value);
            let msg = if target == "/var/lib/docker" {
                "cloud-config mounts a volume on /var/lib/docker; AL2023 has no Docker, so nothing uses it (container images live in /var/lib/containerd); kept".to_string()
            } else {
                format!(
                    "cloud-config mounts a volume over {target} without copying what is there first; on AL2023 that hides the cached pause image; kept"
                )
            };
            cx.push(
                &codes::CLOUD_MOUNT,
                pi,
                span,
                msg,
                Some("drop the mount, or create the volume from a shell part that copies before mounting".into()),
            );
        }
    }
    // AL2-only commands in bootcmd/runcmd.
    for (key, i, line) in cloud_config_commands(&doc.value) {
        let Ok(script) = shell::parse(&line, Syntax::None) else { continue };
        for (ci, c) in script.commands.iter().enumerate() {
            if let Some(l) = crate::al2::legacy::classify(ci, c) {
                let span = doc.spans.lookup(&format!("/{key}/{i}")).map_or((0, 0), |(_, ns)| ns.value);
                cx.push(&codes::AL2_ONLY, pi, span, format!("{}: {}; kept", l.what, l.instead), None);
            }
        }
    }
    let mut removed: Vec<(usize, usize)> = Vec::new();
    for (key, i, line) in cloud_config_commands(&doc.value) {
        if crate::al2::find_bootstrap_calls(&line).is_empty() {
            continue;
        }
        let pointer = format!("/{key}/{i}");
        let Some((_, ns)) = doc.spans.lookup(&pointer).filter(|(p, _)| *p == pointer) else { continue };
        let mut sub = Ctx {
            opts: cx.opts,
            part: cx.part,
            shift: 0,
            entries: Vec::new(),
            files: Vec::new(),
            text: String::new(),
            anchor: Some(ns.value.0),
            calculators: Vec::new(),
            data_volumes: Vec::new(),
        };
        let mut discard = Vec::new();
        translate_script(&mut sub, part, &line, &format!("{line}\n"), nc, &mut discard, headers.clone());
        cx.entries.extend(sub.entries.into_iter().filter(|d| d.code != codes::SCRIPT_KEPT.code));
        cx.data_volumes.append(&mut sub.data_volumes);
        // Remove the item's whole line(s): from the start of its line to the end of its value.
        let start = text[..ns.value.0].rfind('\n').map_or(0, |p| p + 1);
        let end = text[ns.value.1..].find('\n').map_or(text.len(), |p| ns.value.1 + p + 1);
        removed.push((start, end));
        cx.push(
            &codes::SCRIPT_KEPT,
            pi,
            ns.value,
            format!("the `{key}` item calling bootstrap.sh is removed; the rest of the cloud-config is kept"),
            None,
        );
    }
    removed.sort();
    let mut body = String::new();
    let mut last = 0;
    for (s_, e) in removed {
        if s_ >= last {
            body.push_str(&text[last..s_]);
            last = e;
        }
    }
    body.push_str(&text[last..]);
    out.push(OutPart { headers, body: body.into_bytes() });
}

/// Every `bootcmd`/`runcmd` item as a shell command line (a list item is an argv, a string is
/// run by sh), with its key and index.
fn cloud_config_commands(doc: &Value) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    for key in ["bootcmd", "runcmd"] {
        let Some(items) = doc.get(key).and_then(Value::as_array) else { continue };
        for (i, item) in items.iter().enumerate() {
            let line = match item {
                Value::String(s) => s.clone(),
                Value::Array(argv) => argv
                    .iter()
                    .map(|a| shell_quote(&a.as_str().map_or_else(|| a.to_string(), str::to_string)))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => continue,
            };
            out.push((key, i, line));
        }
    }
    out
}

/// `#cloud-config` as the first line, or the second after `## template: jinja`.
fn is_cloud_config(text: &str) -> bool {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim().to_ascii_lowercase();
    first.starts_with("#cloud-config")
        || (first.starts_with("## template:")
            && lines.next().is_some_and(|l| l.trim().to_ascii_lowercase().starts_with("#cloud-config")))
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// eksctl's node group YAML (`preBootstrapCommands`, `overrideBootstrapCommand`) as one script,
/// and the offset of the first of those keys.
fn eksctl_script(text: &str) -> Option<(String, usize)> {
    if !text.contains("overrideBootstrapCommand") && !text.contains("preBootstrapCommands") {
        return None;
    }
    let doc = crate::nodeconfig::yaml::parse(text).ok()?;
    let obj = doc.value.as_object()?;
    let pre: Vec<&str> = obj
        .get("preBootstrapCommands")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let over = obj.get("overrideBootstrapCommand").and_then(Value::as_str);
    if pre.is_empty() && over.is_none() {
        return None;
    }
    let at = ["/preBootstrapCommands", "/overrideBootstrapCommand"]
        .iter()
        .filter_map(|p| doc.spans.lookup(p).filter(|(found, _)| found == p).map(|(_, s)| s.key.unwrap_or(s.value).0))
        .min()
        .unwrap_or(0);
    let mut script = String::from("#!/bin/bash\n");
    for c in pre {
        script.push_str(c);
        script.push('\n');
    }
    if let Some(o) = over {
        script.push_str(o.strip_prefix("#!").map_or(o, |rest| rest.split_once('\n').map_or("", |(_, body)| body)));
    }
    Some((script, at))
}

/// Shell without `#!`: not a YAML mapping, not a bare argument string, and it parses as shell
/// with at least one command whose name is a path or a known command.
fn looks_like_shell(text: &str) -> bool {
    if looks_like_bare_args(text) || crate::userdata::kind::looks_like_nodeconfig(text.as_bytes()) {
        return false;
    }
    if crate::nodeconfig::yaml::parse(text).is_ok_and(|d| d.value.is_object()) {
        return false;
    }
    shell::parse(text, template::detect(text)).is_ok_and(|s| {
        s.commands.iter().any(|c| {
            c.name().is_some_and(|n| {
                n.starts_with('/')
                    || matches!(n, "yum" | "dnf" | "echo" | "mkdir" | "mount" | "export" | "systemctl" | "curl" | "set")
            })
        })
    })
}

/// A bare argument string (a CloudFormation `BootstrapArguments` value): no script, just flags.
fn looks_like_bare_args(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.starts_with('#')
        && t.lines().count() <= 3
        && (t.starts_with('-') || t.contains(" --"))
        && !t.contains(": ")
}

/// Builds the plan for an envelope.
pub fn plan(env: &Envelope, opts: &Options) -> Plan {
    let mut nc = NodeConfig::default();
    let mut out: Vec<OutPart> = Vec::new();
    let mut entries = Vec::new();
    let mut data_volumes = Vec::new();
    let multipart = env.is_multipart();
    let mut any_call = false;
    for part in &env.parts {
        let headers: Vec<(String, String)> = if part.headers.is_empty() {
            // Not MIME: the part's type follows from what it is.
            let media = match part.kind {
                PartKind::CloudConfig => "text/cloud-config",
                PartKind::Boothook => "text/cloud-boothook",
                PartKind::Include => "text/x-include-url",
                PartKind::NodeConfig if crate::userdata::kind::looks_like_nodeconfig(&part.body) => {
                    crate::userdata::NODECONFIG_MEDIA_TYPE
                }
                _ => "text/x-shellscript",
            };
            vec![(
                "Content-Type".into(),
                if media.starts_with("text/") { format!("{media}; charset=\"us-ascii\"") } else { media.to_string() },
            )]
        } else {
            let mut seen = false;
            part.headers
                .iter()
                .filter(|h| !(h.is("content-type") && std::mem::replace(&mut seen, true)))
                .filter(|h| !h.is("content-transfer-encoding") || !part.encoding.base64)
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect()
        };
        let Ok(text) = std::str::from_utf8(&part.body) else {
            out.push(OutPart { headers, body: part.body.clone() });
            continue;
        };
        let mut cx = Ctx {
            opts,
            part: multipart.then_some(part.index),
            shift: 0,
            entries: Vec::new(),
            files: Vec::new(),
            text: String::new(),
            anchor: None,
            calculators: Vec::new(),
            data_volumes: Vec::new(),
        };
        match part.kind {
            PartKind::ShellScript | PartKind::Boothook => {
                translate_script(&mut cx, part, text, text, &mut nc, &mut out, headers)
            }
            PartKind::NodeConfig if !multipart && eksctl_script(text).is_some() => {
                // An eksctl node group config: its commands are the user data.
                if let Some((script, at)) = eksctl_script(text) {
                    cx.anchor = Some(at);
                    cx.push(&codes::SCRIPT_KEPT, part.index, (at, at), "an eksctl node group config: preBootstrapCommands and overrideBootstrapCommand are read as the user-data script".into(), None);
                    let headers =
                        vec![("Content-Type".to_string(), "text/x-shellscript; charset=\"us-ascii\"".to_string())];
                    translate_script(&mut cx, part, &script, &script, &mut nc, &mut out, headers);
                }
            }
            PartKind::NodeConfig if !multipart && !crate::al2::find_bootstrap_calls(text).is_empty() => {
                // A script without `#!` (eksctl's overrideBootstrapCommand, a pasted snippet).
                translate_script(&mut cx, part, text, text, &mut nc, &mut out, headers)
            }
            PartKind::NodeConfig if !multipart && looks_like_shell(text) => {
                // A script without `#!` (a pasted snippet): read it as the shell it is.
                translate_script(&mut cx, part, text, text, &mut nc, &mut out, headers)
            }
            PartKind::NodeConfig if !multipart && looks_like_bare_args(text) => {
                const PREFIX: &str = "/etc/eks/bootstrap.sh ";
                cx.shift = PREFIX.len() as isize;
                let script = format!("{PREFIX}{text}");
                translate_script(&mut cx, part, text, &script, &mut nc, &mut out, headers);
            }
            PartKind::CloudConfig | PartKind::JinjaTemplate
                if is_cloud_config(text)
                    && (text.contains("bootstrap.sh") || text.contains("mounts:") || text.contains("cmd:")) =>
            {
                translate_cloud_config(&mut cx, part, text, &mut nc, &mut out, headers)
            }
            _ => out.push(OutPart { headers, body: part.raw_body(&env.payload).to_vec() }),
        }
        any_call |= cx.entries.iter().any(|d| d.code != codes::SCRIPT_KEPT.code);
        entries.append(&mut cx.entries);
        data_volumes.append(&mut cx.data_volumes);
    }
    if !any_call {
        entries.push(Diagnostic::new(&codes::NO_CALL, "no bootstrap.sh call found; the parts are kept and a NodeConfig is written from the cluster values given").with_span(Span::payload(0, 0)));
    }
    // Cluster values from --cluster-info / flags fill what the script did not give.
    let target = opts.target;
    if target.user_data_supplies_cluster() {
        let ci = &opts.cluster;
        let c = &mut nc.spec.cluster;
        for (slot, given, field, flag) in [
            (&mut c.name, &ci.name, "name", "--cluster-name"),
            (&mut c.api_server_endpoint, &ci.api_server_endpoint, "apiServerEndpoint", "--api-server-endpoint"),
            (
                &mut c.certificate_authority,
                &ci.certificate_authority,
                "certificateAuthority",
                "--certificate-authority",
            ),
            (&mut c.cidr, &ci.cidr, "cidr", "--service-cidr"),
        ] {
            if let Some(v) = given {
                let d = if !slot.is_empty() && slot != v {
                    Diagnostic::new(
                        &codes::TRANSLATED,
                        format!("spec.cluster.{field}: the cluster info given (`{v}`) replaces the script's `{slot}`"),
                    )
                    .with_severity(Severity::Warning)
                } else {
                    Diagnostic::new(
                        &codes::TRANSLATED,
                        format!("`{field}` from the cluster info given → spec.cluster.{field}"),
                    )
                };
                entries.push(d.with_span(Span::payload(0, 0)));
                *slot = v.clone();
            } else if slot.is_empty() {
                let script_flag = match field {
                    "name" => "bootstrap.sh's cluster-name argument",
                    "apiServerEndpoint" => "--apiserver-endpoint",
                    "certificateAuthority" => "--b64-cluster-ca",
                    _ => "--service-ipv4-cidr (the SERVICE CIDR, not the VPC CIDR)",
                };
                entries.push(
                    Diagnostic::new(&codes::MISSING_CLUSTER, format!("spec.cluster.{field} is required for --target {target} and nothing gives it"))
                        .with_help(format!("pass {flag} or `--cluster-info FILE` (from `aws eks describe-cluster`), or add {script_flag} to the script"))
                        .with_span(Span::payload(0, 0)),
                );
            }
        }
    }
    let yaml = crate::nodeconfig::yaml::to_string(&nc).unwrap_or_default();
    if nc.spec != Default::default() || target.user_data_supplies_cluster() {
        out.push(OutPart::new(crate::userdata::NODECONFIG_MEDIA_TYPE, yaml.into_bytes()));
    }
    if out.is_empty() {
        entries.push(
            Diagnostic::new(
                &codes::NOTHING_TO_WRITE,
                format!("nothing to write: with --target {target} the AL2023 node needs no user data from this input"),
            )
            .with_span(Span::payload(0, 0)),
        );
    }
    Plan { nodeconfig: nc, parts: out, entries, data_volumes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::userdata::Limits;

    fn run(text: &str, opts: &Options) -> Plan {
        plan(&Envelope::parse(text.as_bytes(), &Limits::default()), opts)
    }

    fn codes(p: &Plan) -> Vec<&str> {
        p.entries.iter().map(|d| d.code).collect()
    }

    const FULL: &str = "#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh prod --apiserver-endpoint https://x.eks.amazonaws.com --b64-cluster-ca Y2E= --service-ipv4-cidr 172.20.0.0/16 --kubelet-extra-args '--max-pods=58 --node-labels=a=b' || exit 1\necho configured\n";

    #[test]
    fn translates_a_full_call_for_self_managed() {
        let p = run(FULL, &Options::default());
        let c = &p.nodeconfig.spec.cluster;
        assert_eq!((c.name.as_str(), c.cidr.as_str()), ("prod", "172.20.0.0/16"));
        assert_eq!(p.nodeconfig.spec.kubelet.config["maxPods"], 58);
        assert_eq!(p.nodeconfig.spec.kubelet.flags, ["--node-labels=a=b"]);
        assert!(!p.needs_review(), "{:?}", p.entries);
        assert_eq!(p.parts.len(), 2);
        let script = String::from_utf8(p.parts[0].body.clone()).unwrap();
        assert!(script.contains("true || exit 1") && script.contains("echo configured"), "{script}");
        assert!(codes(&p).contains(&"CV410"), "echo ran after bootstrap");
    }

    #[test]
    fn mng_omits_the_cluster_and_missing_values_are_errors() {
        let p = run(FULL, &Options { target: Target::Mng, ..Default::default() });
        assert!(p.nodeconfig.spec.cluster.name.is_empty());
        assert!(codes(&p).contains(&"CV413"));
        let p = run("#!/bin/bash\n/etc/eks/bootstrap.sh prod\n", &Options::default());
        assert_eq!(codes(&p).iter().filter(|c| **c == "CV408").count(), 3);
        assert!(p.needs_review());
        let info = ClusterInfo {
            name: None,
            api_server_endpoint: Some("https://e".into()),
            certificate_authority: Some("Y2E=".into()),
            cidr: Some("10.100.0.0/16".into()),
            ..Default::default()
        };
        let p = run("#!/bin/bash\n/etc/eks/bootstrap.sh prod\n", &Options { cluster: info, ..Default::default() });
        assert!(!p.needs_review(), "{:?}", p.entries);
    }

    #[test]
    fn every_bootstrap_flag_has_an_outcome() {
        let script = "#!/bin/bash\n/etc/eks/bootstrap.sh c --apiserver-endpoint https://e --b64-cluster-ca Y2E= --service-ipv6-cidr fd00::/108 --ip-family ipv6 --dns-cluster-ip 10.0.0.10,10.0.0.11 --use-max-pods false --container-runtime containerd --pause-container-account 602401143452 --pause-container-version 3.5 --enable-local-outpost true --cluster-id abc --aws-api-retry-attempts 5 --enable-docker-bridge true --docker-config-json '{}' --local-disks raid10 --mount-bpf-fs false --system-profile x --containerd-config-file /etc/c.toml\n";
        let p = run(script, &Options::default());
        let s = &p.nodeconfig.spec;
        assert_eq!(s.cluster.cidr, "fd00::/108");
        assert_eq!(s.cluster.enable_outpost, Some(true));
        assert_eq!(s.cluster.id, "abc");
        assert_eq!(s.kubelet.config["clusterDNS"], serde_json::json!(["10.0.0.10", "10.0.0.11"]));
        assert_eq!(s.kubelet.config["maxPods"], 110);
        assert_eq!(s.instance.local_storage.strategy, Some(LocalStorageStrategy::Raid10));
        let dropped = p.entries.iter().filter(|d| d.code == "CV403").count();
        assert_eq!(dropped, 7);
        assert!(p.entries.iter().any(|d| d.code == "CV405" && d.message.contains("--system-profile")));
        assert!(p.entries.iter().any(|d| d.code == "CV414" && d.severity == Severity::Error));
    }

    #[test]
    fn branches_with_different_calls_need_review() {
        let p = run(
            "#!/bin/bash\nif [ \"$SPOT\" = 1 ]; then\n  /etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=20'\nelse\n  /etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=30'\nfi\n",
            &Options { target: Target::Mng, ..Default::default() },
        );
        let d = p.entries.iter().find(|d| d.code == "CV409").unwrap();
        assert!(d.message.contains("spec.kubelet.config.maxPods"), "{}", d.message);
        assert!(p.needs_review());
    }

    #[test]
    fn containerd_file_written_by_the_script_is_inlined() {
        let p = run(
            "#!/bin/bash\ncat <<'EOF' > /etc/eks/containerd/custom.toml\nversion = 3\n[plugins]\nEOF\n/etc/eks/bootstrap.sh c --containerd-config-file /etc/eks/containerd/custom.toml\n",
            &Options { target: Target::Mng, ..Default::default() },
        );
        assert_eq!(p.nodeconfig.spec.containerd.config, "version = 3\n[plugins]\n");
        assert!(!p.needs_review(), "{:?}", p.entries);
    }

    #[test]
    fn bare_argument_string() {
        let p = run(
            "--kubelet-extra-args '--node-labels=x=y --max-pods=17' --b64-cluster-ca Y2E=",
            &Options { target: Target::Mng, ..Default::default() },
        );
        // Only flags: bootstrap.sh's first positional would be missing; kubelet flags still translate.
        assert_eq!(p.nodeconfig.spec.kubelet.config["maxPods"], 17);
        assert!(
            p.entries.iter().any(|d| d.code == "CV413" && d.message.contains("labels")),
            "labels go to the node group on mng"
        );
        assert_eq!(p.parts.len(), 1, "no residual script for a bare argument string");
    }

    #[test]
    fn keep_map_semantics_keeps_map_flags_as_flags() {
        let script = "#!/bin/bash\n/etc/eks/bootstrap.sh c --kubelet-extra-args '--kube-reserved=cpu=250m --eviction-hard=memory.available<5% --max-pods=9'\n";
        let merged = run(script, &Options { target: Target::Mng, ..Default::default() });
        assert_eq!(merged.nodeconfig.spec.kubelet.config["kubeReserved"], serde_json::json!({"cpu": "250m"}));
        assert_eq!(merged.entries.iter().filter(|d| d.code == "CV407").count(), 2);
        let kept = run(script, &Options { target: Target::Mng, keep_map_semantics: true, ..Default::default() });
        assert_eq!(
            kept.nodeconfig.spec.kubelet.flags,
            ["--kube-reserved=cpu=250m", "--eviction-hard=memory.available<5%"]
        );
        assert!(!kept.nodeconfig.spec.kubelet.config.contains_key("kubeReserved"));
        assert_eq!(kept.nodeconfig.spec.kubelet.config["maxPods"], 9, "scalars are unaffected");
    }

    #[test]
    fn post_bootstrap_commands_move_into_a_unit_after_nodeadm_run() {
        let script = "#!/bin/bash\nset -e\nNAME=web\n/etc/eks/bootstrap.sh c || exit 1\nkubectl label node \"$(hostname)\" app=$NAME\ncat <<X\nEKS_USERDATA_POST\nX\n";
        let p = run(script, &Options { target: Target::Mng, ..Default::default() });
        let out = String::from_utf8(p.parts[0].body.clone()).unwrap();
        assert!(out.contains("true || exit 1\n# eks-userdata: the commands"), "{out}");
        assert!(out.contains("After=nodeadm-run.service") && out.contains("systemctl start --no-block"), "{out}");
        assert!(out.contains("<<'EKS_USERDATA_POST_'"), "the heredoc delimiter avoids the script's own lines: {out}");
        assert!(out.contains("set -e\nNAME=web\nkubectl label node"), "the prelude keeps variables and options: {out}");
        crate::al2::shell::parse(&out, Syntax::None).unwrap();
        assert!(p.entries.iter().any(|d| d.code == "CV410" && d.message.contains("moved into")));
        let inline =
            run(script, &Options { target: Target::Mng, keep_post_bootstrap_inline: true, ..Default::default() });
        let out = String::from_utf8(inline.parts[0].body.clone()).unwrap();
        assert!(!out.contains("nodeadm-run") && out.contains("kubectl label node"), "{out}");
    }

    #[test]
    fn data_volume_devices() {
        assert_eq!(
            volume_id("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123def4567890").as_deref(),
            Some("vol-0abc123def4567890")
        );
        assert!(static_device("/dev/xvdb") && !static_device("$(readlink -f /dev/sdf)") && !static_device("/dev/$DEV"));
        let p = run(
            "#!/bin/bash\nDEV=$(lsblk -dn -o NAME | tail -1)\nmkfs -t xfs /dev/$DEV\nmount /dev/$DEV /var/lib/containerd\n/etc/eks/bootstrap.sh c\n",
            &Options { target: Target::Mng, ..Default::default() },
        );
        let d = p.entries.iter().find(|d| d.code == "CV421").unwrap();
        assert_eq!(d.severity, Severity::Error, "{}", d.message);
        let p = run(
            "#!/bin/bash\nmkfs -t xfs /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123\nmount /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123 /var/lib/containerd\n/etc/eks/bootstrap.sh c\n",
            &Options { target: Target::Mng, ..Default::default() },
        );
        let script = String::from_utf8(p.parts[0].body.clone()).unwrap();
        assert!(script.contains("DEVICE='vol-0abc123'"), "{script}");
    }

    #[test]
    fn residual_replaces_calls_with_true() {
        let text = "a\n/etc/eks/bootstrap.sh x || exit 1\nb\n/etc/eks/bootstrap.sh y\n";
        let s1 = text.find("/etc").unwrap();
        let s2 = text.rfind("/etc").unwrap();
        let r = residual(text, &[(s1, s1 + 23, "why"), (s2, s2 + 23, "moved")]);
        assert_eq!(r, "a\ntrue || exit 1\nb\ntrue  # eks-userdata: moved\n");
        let text = "echo \"x\" >> /etc/fstab\nmount a b 2>/dev/null && echo ok\n";
        let r = residual(text, &[(0, 8, "gone"), (23, 32, "gone")]);
        assert_eq!(r, "true  # eks-userdata: gone\ntrue 2>/dev/null && echo ok\n");
    }
}
