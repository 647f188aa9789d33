//! AL2 user data → AL2023 user data. Each `bootstrap.sh` call becomes NodeConfig fields per
//! `../shared/docs/nodeadm-and-bootstrap.md` §5.1 (flags) and §6 (kubelet flags), shaped by the
//! [`Target`] (peers §8 lesson 3); the rest of each script is kept byte for byte with the call
//! replaced by `true`; every construct gets a report entry (`codes.rs`). Nothing is guessed:
//! unknown flags, boot-time values and missing cluster values are entries that need review.

pub mod batch;
pub mod boothook;
mod branches;
mod call;
mod cloud_config;
mod cluster;
pub mod cluster_info;
pub mod codes;
mod containerd_files;
mod context;
mod crlf;
pub mod datavol;
mod disks;
pub mod emit;
mod hosts;
mod imds;
mod inputs;
mod kubelet_args;
mod kubelet_files;
mod labels;
mod lifecycle;
mod patches;
mod rejected;
mod residual;
mod script;
mod storage;
mod timing;
mod typed;
pub mod verify;

use cloud_config::{is_cloud_config, translate_cloud_config};
pub use cluster_info::ClusterInfo;
use context::Ctx;
use inputs::{looks_like_bare_args, looks_like_shell};
use script::translate_script;

use crate::al2::template::Syntax;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::nodeconfig::types::NodeConfig;
use crate::target::Target;
use crate::userdata::mime_write::OutPart;
use crate::userdata::{Envelope, PartKind};

/// One input converted: the reports (translation, and the output's own lint when it has
/// findings), the bytes to write (none when nothing is needed or the output failed its lint).
#[derive(Debug, Clone)]
pub struct Conversion {
    pub reports: Vec<crate::report::FileReport>,
    pub output: Option<Vec<u8>>,
    /// The output had lint errors and must not be written.
    pub refused: bool,
    pub needs_review: bool,
    /// The comparison of the AL2 node with the AL2023 node, when there was an AL2 node.
    pub equivalence: Option<crate::effective::Equivalence>,
    /// The equivalence check found a difference nothing explains (`convert --verify` fails).
    pub unexplained: bool,
}

impl Conversion {
    /// What the reports say at warning or error severity, one `severity CODE: message` line
    /// each: the summary `push` and `migrate` show beside a conversion.
    pub fn findings(&self) -> Vec<String> {
        self.reports
            .iter()
            .flat_map(|r| &r.findings)
            .filter(|f| f.diagnostic.severity >= crate::diagnostic::Severity::Warning)
            .map(|f| format!("{} {}: {}", f.diagnostic.severity, f.diagnostic.code, f.diagnostic.message))
            .collect()
    }
}

/// AL2023 user data already: a NodeConfig and no bootstrap.sh call (AL301's test). Converting
/// it again would wrap it once more, so `push` and `migrate` leave it as it is.
pub fn is_al2023(env: &Envelope) -> bool {
    env.nodeconfig_parts().next().is_some() && crate::lint::rules::bootstrap_sh_call::calls(env).is_empty()
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
    let bytes = emit::render(&plan, format, opts.target)?;
    let mut entries = plan.entries.clone();
    // With nothing to write the AL2023 node is the target's own (EKS's part for a managed node
    // group), which the check compares too.
    let equivalence = match &plan.al2 {
        Some(al2) => {
            let mime = if format == emit::Format::Mime {
                bytes.clone()
            } else {
                emit::render(&plan, emit::Format::Mime, opts.target)?
            };
            let e = verify::check(al2, &mime, &plan.entries, opts);
            let already = plan.entries.iter().any(|d| d.code == codes::NEVER_WORKED.code);
            entries
                .extend(verify::findings(&e).into_iter().filter(|d| !(already && d.code == codes::NEVER_WORKED.code)));
            Some(e)
        }
        None => None,
    };
    let mut report = crate::lint::resolve(source, &env, entries);
    report.equivalence = equivalence.clone();
    let mut reports = vec![report];
    let mut refused = false;
    let output = if bytes.is_empty() {
        None
    } else {
        let mut check = emit::check(&bytes, output_name, opts.target, opts.cluster_from.is_some());
        // The translation already reported the AL2 leftovers it kept (CV420, CV424, CV425): one
        // finding per construct.
        check.findings.retain(|f| !matches!(f.diagnostic.code, "AL306" | "AL307"));
        let bad = check.max_severity() == Some(Severity::Error);
        if !check.findings.is_empty() {
            reports.push(check);
        }
        refused = bad;
        (!bad).then_some(bytes)
    };
    let unexplained = equivalence
        .as_ref()
        .is_some_and(|e| e.unexplained().next().is_some() || (e.al2_fails.is_none() && e.al2023_fails.is_some()));
    Ok(Conversion { reports, output, refused, needs_review: plan.needs_review(), equivalence, unexplained })
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
    /// The instance type the equivalence check computes max pods and reservations for.
    pub instance_type: Option<String>,
    /// Who writes `spec.cluster` in another NodeConfig part of the same user data, for a
    /// target that otherwise needs it from this one (the EKS Terraform module writes one for its
    /// self-managed node groups): the translation then leaves the cluster section out.
    pub cluster_from: Option<String>,
}

impl Options {
    /// Whether the translated NodeConfig must carry the cluster coordinates itself.
    pub fn supplies_cluster(&self) -> bool {
        self.target.user_data_supplies_cluster() && self.cluster_from.is_none()
    }

    /// Who supplies the cluster section when this user data does not.
    pub fn cluster_supplier(&self) -> Option<&str> {
        self.cluster_from.as_deref().or(self.target.cluster_supplier())
    }

    /// What the AL2 node model knows about the instance and the cluster.
    pub fn facts(&self) -> crate::al2::bootstrap_effects::Facts {
        crate::al2::bootstrap_effects::Facts {
            instance_type: Some(self.instance_type.clone().unwrap_or_else(|| DEFAULT_INSTANCE_TYPE.into())),
            service_cidr: self.cluster.cidr.clone(),
        }
    }
}

/// The instance type the equivalence check assumes when none is given (a common general-purpose
/// type; only max pods and kubeReserved.memory depend on it).
pub const DEFAULT_INSTANCE_TYPE: &str = "m5.large";

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
    /// The AL2 node the input configured (its effective configuration), when a bootstrap.sh
    /// call was replayed; the equivalence check compares the output against it.
    pub al2: Option<crate::effective::Node>,
}

impl Plan {
    pub fn needs_review(&self) -> bool {
        self.entries.iter().any(|d| d.severity == Severity::Error)
    }
}

/// How one part is read.
enum Input {
    /// A shell script: the text the shell saw, the offset shift for a bare argument string,
    /// the host document it came from (eksctl, CloudFormation), and the parse result.
    Script {
        script: String,
        shift: isize,
        host: Option<hosts::Hosted>,
        crlf: Option<crlf::Converted>,
        parsed: Box<script::Analysed>,
    },
    CloudConfig,
    /// Not user data at all: why.
    Refuse(String),
    Keep,
}

fn classify(part: &crate::userdata::Part, text: &str, multipart: bool, opts: &Options) -> Input {
    const PREFIX: &str = "/etc/eks/bootstrap.sh ";
    let script = |script: String, shift: isize, host: Option<hosts::Hosted>| {
        let syntax = host.as_ref().filter(|h| h.cloudformation).map(|_| Syntax::CloudFormation);
        // What bash reads after cloud-init's CRLF handling.
        let crlf = if host.is_none() && shift == 0 { crlf::convert(&script) } else { None };
        let script = crlf.as_ref().map_or(script, |c| c.text.clone());
        let parsed = Box::new(script::analyse(&script, opts, syntax));
        Input::Script { script, shift, host, crlf, parsed }
    };
    let single = !multipart && matches!(part.kind, PartKind::NodeConfig | PartKind::CloudConfig | PartKind::Other);
    match part.kind {
        PartKind::ShellScript | PartKind::Boothook => script(text.to_string(), 0, None),
        _ if single && let Some(h) = hosts::eksctl(text).or_else(|| hosts::cloudformation(text)) => {
            script(h.script.clone(), 0, Some(h))
        }
        _ if single && hosts::terraform_code(text) => Input::Refuse(
            "this is Terraform code, not user data: convert the user data its launch template or module input renders (a `.tpl` file or a heredoc), or lint the `.tf` file with `eks-userdata lint`".into(),
        ),
        PartKind::NodeConfig
            if !multipart && (!crate::al2::find_bootstrap_calls(text).is_empty() || looks_like_shell(text)) =>
        {
            // A script without `#!` (eksctl's overrideBootstrapCommand, a pasted snippet).
            script(text.to_string(), 0, None)
        }
        PartKind::NodeConfig if !multipart && looks_like_bare_args(text) => {
            script(format!("{PREFIX}{text}"), PREFIX.len() as isize, None)
        }
        PartKind::CloudConfig | PartKind::JinjaTemplate
            if is_cloud_config(text)
                && (text.contains("bootstrap.sh") || text.contains("mounts:") || text.contains("cmd:")) =>
        {
            Input::CloudConfig
        }
        _ => Input::Keep,
    }
}

/// The bootstrap.sh call the AL2 node ran when the user data shows none: for a managed node
/// group, the one EKS appended, whose flags (CA, endpoint, DNS, `--use-max-pods false` with the
/// max pods and labels in the extra arguments) beat anything the user data exported; otherwise a
/// plain call.
pub(crate) fn implied_call(target: Target) -> &'static str {
    match target {
        Target::Mng => {
            "/etc/eks/bootstrap.sh cluster --b64-cluster-ca '<set-by-eks>' --apiserver-endpoint '<set-by-eks>' --dns-cluster-ip '<set-by-eks>' --use-max-pods false --kubelet-extra-args '--node-labels=<set-by-eks>= --max-pods=<set-by-eks>'\n"
        }
        _ => "/etc/eks/bootstrap.sh cluster\n",
    }
}

/// Builds the plan for an envelope.
pub fn plan(env: &Envelope, opts: &Options) -> Plan {
    let mut nc = NodeConfig::default();
    let mut out: Vec<OutPart> = Vec::new();
    let mut entries = Vec::new();
    let mut data_volumes = Vec::new();
    let multipart = env.is_multipart();
    let mut never_joined: Option<String> = None;
    let mut commands: Vec<crate::effective::Command> = Vec::new();
    let mut printf_placeholders: Vec<String> = Vec::new();
    // Read every part first: the node is the sum of all of them, in cloud-init's order.
    let inputs: Vec<Option<Input>> = env
        .parts
        .iter()
        .map(|part| std::str::from_utf8(&part.body).ok().map(|t| classify(part, t, multipart, opts)))
        .collect();
    // cloud-init runs a cloud-config's `runcmd` items as one shell script in cloud-final, where
    // a script part runs: its bootstrap.sh call and file edits are part of the node too.
    let runcmds: Vec<(usize, crate::al2::analysis::Analysis)> = env
        .parts
        .iter()
        .zip(&inputs)
        .filter(|(_, i)| matches!(i, Some(Input::CloudConfig)))
        .filter_map(|(p, _)| {
            let doc = crate::nodeconfig::yaml::parse(std::str::from_utf8(&p.body).ok()?).ok()?;
            let script: String = cloud_config::cloud_config_commands(&doc.value)
                .into_iter()
                .filter(|(key, _, _)| *key == "runcmd")
                .map(|(_, _, line)| line + "\n")
                .collect();
            let parsed = crate::al2::shell::parse(&script, Syntax::None).ok()?;
            Some((p.index, crate::al2::analysis::analyze(parsed)))
        })
        .collect();
    let analysed: Vec<(usize, &crate::al2::analysis::Analysis)> = env
        .parts
        .iter()
        .zip(&inputs)
        .filter_map(|(p, i)| match i {
            // A bare argument string is modelled as the call it completes.
            Some(Input::Script { parsed, .. }) => parsed.as_ref().as_ref().ok().map(|(a, _)| (p.index, a)),
            _ => runcmds.iter().find(|(i, _)| *i == p.index).map(|(i, a)| (*i, a)),
        })
        .collect();
    // User data without a call was completed by one the user data does not show (the part EKS
    // merges into a managed node group's user data, or a later part): model that call so what
    // these parts changed is judged by what it did.
    let implied =
        crate::al2::shell::parse(implied_call(opts.target), Syntax::None).ok().map(crate::al2::analysis::analyze);
    let mut analysed = analysed;
    let shown_call = analysed.iter().any(|(_, a)| !a.invocations.is_empty());
    // A real NodeConfig part (AL2023 user data needs no call), not a script without `#!` that
    // the envelope could not tell from one.
    let has_nodeconfig = env
        .parts
        .iter()
        .zip(&inputs)
        .any(|(p, i)| p.kind == PartKind::NodeConfig && !matches!(i, Some(Input::Script { .. })));
    if !shown_call && let Some(a) = &implied {
        analysed.push((usize::MAX, a));
    }
    let node = crate::al2::node::replay(&analysed, &opts.facts());
    // cloud-init reads MIME only from the first line (Python's email parser): headers further
    // down leave one plain-text part that no handler takes, so nothing ran on AL2.
    let unread = env.is_multipart()
        && env.defects.iter().any(|d| matches!(d, crate::userdata::Defect::NotMultipart { not_at_start: true, .. }));
    if unread {
        never_joined = Some("cloud-init did not read the user data as MIME (its headers do not start on the first line), so it took the whole text as one plain part that no handler runs: nothing in it ran".into());
        entries.push(
            Diagnostic::new(
                &codes::NEVER_WORKED,
                "this never worked on AL2: cloud-init did not read the user data as MIME, because its headers do not start on the first line (Python's email parser, which cloud-init uses, ends the headers at the first line that is not one); it took the whole text as one plain part that no handler runs, so none of it ran and the node never joined".to_string(),
            )
            .with_help("the output is the multipart user data this text meant; check that it is the node you want")
            .with_span(Span::payload(0, 0))
            .leading(),
        );
    }
    for d in &env.defects {
        if let crate::userdata::Defect::Epilogue { span } = d {
            let text = String::from_utf8_lossy(env.payload.get(span.start..span.end).unwrap_or_default()).into_owned();
            let shown: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect();
            entries.push(
                Diagnostic::new(
                    &codes::AFTER_CLOSE,
                    format!("`{shown}` comes after the multipart's closing delimiter: it is in no part, so nothing read it on AL2, and the output leaves it out"),
                )
                .with_help("if it was meant to apply, move it into its part (bootstrap.sh arguments: into the call) and convert again")
                .with_span(Span::payload(span.start, span.start)),
            );
        }
    }
    let mut disks = crate::effective::Node::default();
    storage::al2(&mut disks, &node, &analysed);
    for (part, input) in env.parts.iter().zip(inputs) {
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
        if part.body.iter().all(u8::is_ascii_whitespace) && multipart {
            // An empty part (a stray delimiter): cloud-init ignores it; writing it as a script
            // would make one that cannot run.
            continue;
        }
        let (Ok(text), Some(input)) = (std::str::from_utf8(&part.body), input) else {
            out.push(OutPart { headers, body: part.body.clone() });
            continue;
        };
        let mut cx = Ctx::new(opts, multipart.then_some(part.index));
        cx.unread = unread;
        match input {
            Input::Script { script, shift, host, crlf, parsed } => {
                cx.shift = shift;
                if let Some(c) = &crlf {
                    cx.crs = c.crs.clone();
                    let lines = c.lines.iter().take(8).map(usize::to_string).collect::<Vec<_>>().join(", ");
                    let more = if c.lines.len() > 8 { ", …" } else { "" };
                    if c.by_cloud_init {
                        cx.push(&codes::CRLF, part.index, (0, 0), "the script's lines end in CRLF; its first line does too, so cloud-init converts them to LF before running it (AL2 and AL2023 alike); the output is written with LF".into(), None);
                    } else {
                        cx.push(&codes::CRLF_MIXED, part.index, (0, 0), format!("lines {lines}{more} end in CRLF but the first line does not, so cloud-init left the carriage returns and bash read them as part of those lines' last words: they never worked as written on AL2; the output is written with LF, so on AL2023 they run as intended for the first time"), Some("check those lines".into()));
                    }
                }
                if let Some(b) = env.mime.as_ref().and_then(|m| m.boundary.as_deref())
                    && host.is_none()
                {
                    for (at, line) in inputs::stray_delimiters(&script, b) {
                        cx.push(&codes::STRAY_DELIMITER, part.index, (at, at + line.len()), format!("`{line}` starts like this multipart's delimiter but is not one (only whitespace may follow it), so cloud-init kept it in this script, where bash ran it as a command that fails; kept as it was"), Some("delete the line or its stray characters".into()));
                    }
                }
                cx.anchor = host.as_ref().map(|h| h.anchor);
                let hosted = host.is_some();
                let headers = if let Some(h) = &host {
                    for n in &h.notes {
                        cx.push(&codes::SCRIPT_KEPT, part.index, (h.anchor, h.anchor), n.clone(), None);
                    }
                    // A CloudFormation condition picks one branch for the whole output, as a
                    // template `%{ if }` does: a warning, since stacks where it is false differ.
                    for n in &h.conditions {
                        cx.push(
                            &codes::TEMPLATE_BRANCH,
                            part.index,
                            (h.anchor, h.anchor),
                            n.clone(),
                            Some("if the condition is false for some stacks, convert that case too and use each output where it applies".into()),
                        );
                    }
                    if let Some(t) = h.target.filter(|t| *t != opts.target) {
                        cx.push(
                            &codes::TARGET_MISMATCH,
                            part.index,
                            (h.anchor, h.anchor),
                            format!("the input says this user data is for `--target {t}`, but the conversion is for `--target {}`", opts.target),
                            Some(format!("convert with --target {t}")),
                        );
                    }
                    vec![("Content-Type".to_string(), "text/x-shellscript; charset=\"us-ascii\"".to_string())]
                } else {
                    headers
                };
                let body = if hosted || crlf.is_some() { script.as_str() } else { text };
                let node = (shift == 0).then_some(&node);
                translate_script(&mut cx, part, body, &script, *parsed, node, &mut nc, &mut out, headers)
            }
            Input::CloudConfig => translate_cloud_config(&mut cx, part, text, &mut nc, &mut out, headers),
            Input::Refuse(why) => cx.push(&codes::PARSE_ERROR, part.index, (0, 0), why, None),
            Input::Keep => out.push(OutPart { headers, body: part.raw_body(&env.payload).to_vec() }),
        }
        never_joined = never_joined.or(cx.never_joined.take());
        commands.append(&mut cx.commands);
        printf_placeholders.append(&mut cx.printf_placeholders);
        entries.append(&mut cx.entries);
        data_volumes.append(&mut cx.data_volumes);
    }
    // AL2023 user data (it has a NodeConfig part) needs no bootstrap.sh call.
    if !shown_call && !has_nodeconfig {
        let what = if opts.supplies_cluster() {
            "the parts are kept and a NodeConfig is written from the cluster values given"
        } else {
            "the parts are kept"
        };
        let own_start = entries.iter().any(|d| d.code == codes::STARTS_KUBELET.code);
        let judged = if own_start {
            "this user data starts the kubelet itself (CV452), so the AL2 node's kubelet settings are not known and only its commands are compared"
        } else if opts.target == Target::Mng {
            "the AL2 node is judged with the plain `bootstrap.sh <cluster>` EKS appended to a managed node group's user data after these parts"
        } else {
            "the AL2 node is judged as if a plain `bootstrap.sh <cluster>` ran after these parts (a call this input does not show, such as EKS's or another part's)"
        };
        entries.push(
            Diagnostic::new(&codes::NO_CALL, format!("no bootstrap.sh call found; {what}; {judged}"))
                .with_span(Span::payload(0, 0)),
        );
    }
    cluster::fill(&mut nc, opts, &mut entries);
    typed::check(&mut nc, &mut entries);
    let target = opts.target;
    let yaml = int_verbs_bare(crate::nodeconfig::yaml::to_string(&nc).unwrap_or_default());
    if nc.spec != Default::default() || opts.supplies_cluster() {
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
    let al2 = node.run.is_some().then(|| {
        let mut e = crate::al2::effective::of(&node);
        e.fails = never_joined.or(e.fails);
        e.implied = node.run_part == Some(usize::MAX);
        e.commands = commands;
        // A placeholder that went through printf's format: the kubelet got what printf made of
        // the rendered value, not the value itself.
        for a in e.args.iter_mut() {
            if printf_placeholders.iter().any(|p| p == a) {
                a.push_str(" (as printf rewrote it)");
            }
        }
        if entries.iter().any(|d| d.code == codes::STARTS_KUBELET.code) {
            // Not the bootstrap.sh node the model replays: what the kubelet ran with is unknown.
            e.kubelet.clear();
            e.args.clear();
            e.labels.clear();
            e.unknown.push("kubelet configuration".into());
        }
        if entries.iter().any(|d| d.code == codes::TEMPLATE_BOOTSTRAP_ARGS.code) {
            // What a template placeholder rendered to is not in the user data: the settings it
            // carried are only known where the template is rendered.
            e.unknown.push("bootstrap.sh arguments from a template input".into());
        }
        e.local_storage = disks.local_storage;
        e.data_volumes = disks.data_volumes;
        e
    });
    Plan { nodeconfig: nc, parts: out, entries, data_volumes, al2 }
}

/// A Go `%d` verb kept as a value (`--max-pods=%d` in a `fmt.Sprintf` template) renders to an
/// integer, so it is written bare (`maxPods: %d`): the YAML writer quotes it, since `%` cannot
/// start a plain scalar, and `"30"` after rendering is a string nodeadm refuses for an integer
/// field. The output is a format string like its input, read after Sprintf.
fn int_verbs_bare(yaml: String) -> String {
    if !yaml.contains("%") {
        return yaml;
    }
    let bare = |line: &str| -> Option<String> {
        let (head, value) = line.split_once(": ")?;
        let inner = value.strip_prefix(['"', '\''])?.strip_suffix(['"', '\''])?;
        let digits = inner.strip_prefix('%')?.strip_suffix('d')?;
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| format!("{head}: {inner}"))
    };
    yaml.split_inclusive('\n')
        .map(|l| match bare(l.trim_end_matches('\n')) {
            Some(b) => format!("{b}{}", if l.ends_with('\n') { "\n" } else { "" }),
            None => l.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodeconfig::types::LocalStorageStrategy;
    use crate::userdata::Limits;
    use disks::{static_device, volume_id};
    use residual::{Cut, residual};

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
        assert!(
            script.contains("touch /run/eks-userdata/reached-bootstrap || exit 1")
                && script.contains("echo configured"),
            "{script}"
        );
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
        assert!(p.entries.iter().any(|d| d.code == "CV435" && d.message.contains("--containerd-config-file")));
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
            p.entries.iter().any(|d| d.code == "CV439" && d.message.contains("labels")),
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
        let script = "#!/bin/bash -x\nset -e\nNAME=web\nyum install -y jq\n/etc/eks/bootstrap.sh c || exit 1\nkubectl label node \"$(hostname)\" app=$NAME\ncat <<X\nEKS_USERDATA_POST\nX\n";
        let p = run(script, &Options { target: Target::Mng, ..Default::default() });
        let out = String::from_utf8(p.parts[0].body.clone()).unwrap();
        let install = out.find("cat > /etc/eks-userdata/post-bootstrap.sh").unwrap();
        assert!(install < out.find("yum install").unwrap(), "installed before anything that can fail: {out}");
        assert!(out.contains("touch /run/eks-userdata/reached-bootstrap || exit 1"), "{out}");
        assert!(out.contains("ConditionPathExists=/run/eks-userdata/reached-bootstrap"), "{out}");
        assert!(out.contains("Requires=nodeadm-run.service"), "set -e: only after a successful join: {out}");
        assert!(!out.contains("systemctl enable"), "once per instance: {out}");
        assert!(out.contains("systemctl start --no-block"), "{out}");
        assert!(out.contains("<<'EKS_USERDATA_POST_'"), "the heredoc delimiter avoids the script's own lines: {out}");
        assert!(
            out.contains("#!/bin/bash\nset -x\nset -e\nNAME=web\n"),
            "the prelude keeps shebang options, variables and options: {out}"
        );
        crate::al2::shell::parse(&out, Syntax::None).unwrap();
        assert!(p.entries.iter().any(|d| d.code == "CV410" && d.message.contains("move into")));
        let no_e = run(
            "#!/bin/bash\n/etc/eks/bootstrap.sh c\ncfn-signal -e $? --stack s\n",
            &Options { target: Target::Mng, ..Default::default() },
        );
        let out = String::from_utf8(no_e.parts[0].body.clone()).unwrap();
        assert!(out.contains("Wants=nodeadm-run.service"), "{out}");
        assert!(out.contains("= success ]\ncfn-signal -e $?"), "`$?` reads the join's result: {out}");
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
        let d = p.entries.iter().find(|d| d.code == "CV406" && d.message.contains("mounted over")).unwrap();
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
        let r = residual(text, &[Cut::new(s1, s1 + 23, "why"), Cut::new(s2, s2 + 23, "moved")]);
        assert_eq!(r, "a\ntrue || exit 1\nb\ntrue  # eks-userdata: moved\n");
        let text = "echo \"x\" >> /etc/fstab\nmount a b 2>/dev/null && echo ok\n";
        let r = residual(text, &[Cut::new(0, 8, "gone"), Cut::new(23, 32, "gone")]);
        assert_eq!(r, "true  # eks-userdata: gone\ntrue 2>/dev/null && echo ok\n");
    }
}
