//! The `terraform-aws-modules/eks` module's node group inputs (read from its source at v19.21.0,
//! v20.37.2 and v21.19.0, `modules/_user_data`): its AL2023 template renders only the cluster
//! NodeConfig and never reads `pre_bootstrap_user_data`, `bootstrap_extra_args` or
//! `post_bootstrap_user_data`, so under AL2023 those are silently ignored. The AL2023 ways in
//! are `cloudinit_pre_nodeadm` (parts before nodeadm; for a managed node group on an EKS AMI,
//! the only parts it emits) and `cloudinit_post_nodeadm` (dropped unless the module writes the
//! bootstrap user data itself), available from v20.8.4; `ami_type` picks the AL2023 template
//! from v20.9.0 (before that, `platform = "al2023"`), and v21 makes AL2023 the default. v19 has
//! no AL2023 template at all.
//!
//! What reached an AL2 node decides what the AL2023 one gets. The module's AL2 template writes
//! the whole bootstrap script (`set -e`, `pre_bootstrap_user_data`, the bootstrap.sh call with
//! `bootstrap_extra_args`, `post_bootstrap_user_data`) for a self-managed group, and for a
//! managed one only with `enable_bootstrap_user_data = true`; otherwise a managed group's user
//! data is `pre_bootstrap_user_data` alone, EKS's own call follows it, and the other two inputs
//! reach no node (the module's `_user_data/main.tf`, the `linux_eks_managed_node_group` /
//! `al2_eks_managed_node_group` parts). So the inputs that ran become one synthetic AL2 script,
//! `convert` translates it (`--target mng` for a managed group; self-managed, with the cluster
//! section left to the NodeConfig the module writes after the parts), and its parts become
//! `cloudinit_pre_nodeadm` elements (commands that followed bootstrap.sh already run from a unit
//! after nodeadm, so they are safe as pre parts); inputs that reached no node are removed and
//! reported. A group naming no `ami_type` before v21 gets the module's default, AL2 on x86_64,
//! so the AL2023 type is named. Groups with a custom AMI (`ami_id`) or their own template
//! (`user_data_template_path`) are reported with the way out.

use super::edit::{Edit, line_of};
use super::userdata::Converted;
use super::{Change, ChangeKind};
use crate::al2::template::Syntax;
use crate::target::Target;
use crate::translate;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, Object, ObjectKey};
use std::path::Path;

const INPUTS: [&str; 3] = ["pre_bootstrap_user_data", "bootstrap_extra_args", "post_bootstrap_user_data"];

/// The lowest version a `version` constraint allows, as `(major, minor, patch)`: the first
/// version written (`"~> 20.9"` → 20.9.0, `">= 19.0, < 20.0"` → 19.0.0).
pub fn lowest(constraint: &str) -> Option<(u32, u32, u32)> {
    let start = constraint.find(|c: char| c.is_ascii_digit())?;
    let v: String = constraint.get(start..)?.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let mut it = v.split('.').map(|n| n.parse::<u32>().ok());
    Some((it.next()??, it.next().flatten().unwrap_or(0), it.next().flatten().unwrap_or(0)))
}

/// Whether an input is one of the AL2 user data inputs the module ignores under AL2023.
pub fn is_al2_input(name: &str) -> bool {
    INPUTS.contains(&name)
}

/// The module's major version from a `version` constraint.
pub fn major(constraint: &str) -> Option<u32> {
    lowest(constraint).map(|v| v.0)
}

/// Whether a module `source` is the EKS module or one of its node group submodules.
pub fn is_eks_module(source: &str) -> bool {
    source.starts_with("terraform-aws-modules/eks/aws")
        || source.contains("github.com/terraform-aws-modules/terraform-aws-eks")
}

/// What migrating one node group gives.
#[derive(Debug, Default)]
pub struct Group {
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
    /// Source ranges this migration replaced, which nothing else may edit.
    pub consumed: Vec<std::ops::Range<usize>>,
}

/// One input of a node group: its name, where its key starts, its value.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub name: &'a str,
    pub key_start: usize,
    pub value: &'a Expression,
}

/// The inputs of a node group object (`eks_managed_node_groups.<name>`, a `*_defaults` object).
pub fn object_inputs(o: &Object) -> Vec<(String, usize, &Expression)> {
    o.iter().filter_map(|(k, v)| Some((key_name(k)?, k.span()?.start, v.expr()))).collect()
}

/// Where a node group sits in the module and what it inherits.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// An EKS managed node group (else self-managed).
    pub managed: bool,
    /// The lowest module version the `version` constraint allows.
    pub version: Option<(u32, u32, u32)>,
    /// The `*_node_group_defaults` object's `ami_type`, which a group without its own inherits.
    pub default_ami_type: Option<&'a Expression>,
    /// This is the `*_node_group_defaults` object itself, not a group.
    pub is_defaults: bool,
}

/// Who writes the cluster section for a self-managed group (the module's AL2023 template).
const MODULE_CLUSTER: &str = "terraform-aws-modules/eks (it writes a NodeConfig with the cluster section after a self-managed group's cloudinit_pre_nodeadm parts)";

/// The AL2023 type a group gets when it names none and the module's default is AL2 on x86_64.
const DEFAULT_AL2023: &str = "AL2023_x86_64_STANDARD";

/// One node group where it is written: its file, its address for the report, its inputs (an
/// object's items, or a node group submodule's arguments) and its span (the object's braces,
/// or the module block).
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub what: &'a str,
    pub inputs: &'a [Input<'a>],
    pub span: (usize, usize),
}

/// One node group, migrated.
pub fn group(at_: At<'_>, cx: Context<'_>, opts: &translate::Options) -> Group {
    let At { path, text, what, inputs, span } = at_;
    let span = span.0..span.1;
    let Context { managed, version, default_ami_type, .. } = cx;
    let major = version.map(|v| v.0);
    let mut g = Group::default();
    let get = |name: &str| inputs.iter().find(|i| i.name == name).copied();
    let found: Vec<(&str, Input<'_>)> = INPUTS.iter().filter_map(|n| get(n).map(|i| (*n, i))).collect();
    let at = found.first().map_or(span.start, |(_, i)| i.key_start);
    // These inputs are this module's business: nothing else reports or edits them.
    g.consumed = found.iter().filter_map(|(_, i)| Some(i.key_start..i.value.span()?.end)).collect();
    let string = |e: Option<&Expression>| match e {
        Some(Expression::String(s)) => Some(s.value().to_string()),
        _ => None,
    };
    let own_ami_type = get("ami_type").map(|i| i.value);
    let ami_type = own_ami_type.or(default_ami_type);
    let platform = string(get("platform").map(|i| i.value)).map(|p| p.to_ascii_lowercase());
    // Bottlerocket and Windows groups read these inputs their own way: not AL2, not ours.
    let os = string(ami_type).or_else(|| platform.clone()).unwrap_or_default().to_ascii_lowercase();
    if os.starts_with("bottlerocket") || os.starts_with("windows") {
        return g;
    }
    let change = |kind, detail: String| Change::new(path, line_of(text, at), what, kind, detail);
    // A group left for a person keeps its AL2 ami_type (its own or the defaults'): an AL2023
    // type with AL2 inputs the module ignores would be a node group that silently loses them.
    let hold = |g: &mut Group, detail: String| {
        if let Some(span) = ami_type.and_then(|e| e.span()) {
            g.consumed.push(span);
        }
        g.changes.push(change(ChangeKind::Manual, format!("{detail}; ami_type is left as it is until then")));
    };
    if found.is_empty() {
        type_only(&mut g, at_, cx);
        return g;
    }
    if let Some(m) = major.filter(|m| *m < 20) {
        hold(
            &mut g,
            format!(
                "module v{m} has no AL2023 user data template: upgrade the module to v20.9 or later (v21 defaults to AL2023), then run migrate again"
            ),
        );
        return g;
    }
    let names = || found.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    if get("user_data_template_path").is_some() {
        hold(
            &mut g,
            format!(
                "user_data_template_path: the module renders that template instead of its own, and it reads {} only if the template does; convert the template (`eks-userdata convert --template terraform`) and give the result as cloudinit_pre_nodeadm parts",
                names()
            ),
        );
        return g;
    }
    if get("ami_id").is_some() {
        let kind = if managed { "a managed node group" } else { "a self-managed node group" };
        hold(
            &mut g,
            format!(
                "{kind} with a custom AMI (ami_id): point ami_id at an AL2023 AMI, then move {} into cloudinit_pre_nodeadm parts (`eks-userdata convert --target {}` gives the NodeConfig)",
                names(),
                if managed { "mng-custom-ami" } else { "self-managed" }
            ),
        );
        return g;
    }
    // What reached the AL2 node. The module's AL2 template calls bootstrap.sh (with the extra
    // arguments, then the post commands) only when it writes the bootstrap user data itself:
    // always for a self-managed group, for a managed one only with `enable_bootstrap_user_data`.
    // Otherwise EKS's own call followed `pre_bootstrap_user_data`, and the other two inputs
    // reached no node.
    let bootstraps = !managed
        || matches!(get("enable_bootstrap_user_data").map(|i| i.value), Some(Expression::Bool(b)) if *b.value());
    let (live, dead): (Vec<_>, Vec<_>) = found.iter().partition(|(n, _)| bootstraps || *n == "pre_bootstrap_user_data");
    // The inputs' texts, as Terraform template source.
    let mut pieces: Vec<(&str, String)> = Vec::new();
    for (name, input) in &live {
        match template_text(text, input.value) {
            Some(t) => pieces.push((name, t)),
            None => {
                hold(
                    &mut g,
                    format!(
                        "{name} is not a string or heredoc this tool can read; move it into cloudinit_pre_nodeadm by hand"
                    ),
                );
                return g;
            }
        }
    }
    let piece = |n: &str| pieces.iter().find(|(k, _)| *k == n).map(|(_, t)| t.trim_end().to_string());
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut findings = Vec::new();
    if !live.is_empty() {
        // The AL2 template's shape: `set -e` when the module writes the script, the pre
        // commands, the bootstrap.sh call (the cluster name stands in for the module's), post.
        let mut script = String::from(if bootstraps { "#!/bin/bash\nset -e\n" } else { "" });
        if let Some(pre) = piece("pre_bootstrap_user_data") {
            script.push_str(if bootstraps {
                pre.strip_prefix("#!/bin/bash").unwrap_or(&pre).trim_start_matches('\n')
            } else {
                &pre
            });
            script.push('\n');
        }
        if bootstraps {
            let extra = piece("bootstrap_extra_args").unwrap_or_default();
            script.push_str(format!("/etc/eks/bootstrap.sh CLUSTER {extra}").trim_end());
            script.push('\n');
        }
        if let Some(post) = piece("post_bootstrap_user_data") {
            script.push_str(&post);
            script.push('\n');
        }
        let opts = if managed {
            translate::Options { target: Target::Mng, ..opts.clone() }
        } else {
            translate::Options {
                target: Target::SelfManaged,
                cluster_from: Some(MODULE_CLUSTER.into()),
                ..opts.clone()
            }
        };
        let name = path.display().to_string();
        let converted = if bootstraps {
            super::userdata::convert(&name, &script, Syntax::Terraform, &opts)
        } else {
            super::userdata::convert_prefix(&name, &script, Syntax::Terraform, &opts)
        };
        let out = match converted {
            Converted::Done { text, findings: f } => {
                findings = f;
                text
            }
            Converted::Refused { reason, findings } => {
                hold(&mut g, reason);
                if let Some(c) = g.changes.last_mut() {
                    c.findings = findings;
                }
                return g;
            }
            Converted::Unchanged(reason) => {
                hold(&mut g, reason);
                return g;
            }
            // Nothing for the AL2023 node: the inputs go, and no part replaces them.
            Converted::Empty { findings: f } => {
                findings = f;
                String::new()
            }
        };
        let env = crate::userdata::Envelope::parse(out.as_bytes(), &crate::userdata::Limits::default());
        parts = env
            .parts
            .iter()
            .filter_map(|p| Some((p.media()?.to_string(), String::from_utf8(p.body.clone()).ok()?)))
            .collect();
    }

    // The new input goes where the first old one was; the others are removed, line and all.
    let lines: Vec<(std::ops::Range<usize>, Option<&str>)> =
        found.iter().filter_map(|(_, i)| item_lines(text, i.key_start, i.value)).collect();
    let (Some((first, _)), true) = (lines.first(), lines.len() == found.len()) else {
        hold(&mut g, "the inputs could not be located in the file".into());
        return g;
    };
    let indent = text.get(first.clone()).map_or(0, |l| l.len() - l.trim_start().len());
    // A group that names no ami_type gets the module's default, AL2 on x86_64 before v21: the
    // AL2023 template (and so cloudinit_pre_nodeadm) needs an AL2023 type named.
    let add_ami_type = needs_ami_type(ami_type, major, platform.as_deref());
    let mut new_text = String::new();
    if add_ami_type {
        new_text.push_str(&format!("{}ami_type = \"{DEFAULT_AL2023}\"\n", " ".repeat(indent)));
    }
    if !parts.is_empty() {
        new_text.push_str(&cloudinit_pre_nodeadm(&parts, indent));
    }
    // A comment at the end of a removed line stays, on a line of its own.
    let comment = |c: &Option<&str>| c.map_or(String::new(), |c| format!("{}{c}\n", " ".repeat(indent)));
    for (n, (r, c)) in lines.iter().enumerate() {
        let with = if n == 0 { comment(c) + &new_text } else { comment(c) };
        g.edits.push(Edit { range: r.clone(), with });
    }
    g.consumed.extend(lines.into_iter().map(|(r, _)| r));
    if !live.is_empty() {
        let names: Vec<&str> = live.iter().map(|(n, _)| *n).collect();
        let mut c = change(
            ChangeKind::Migrated,
            if parts.is_empty() {
                format!(
                    "{} removed: the AL2023 node needs nothing from {} (what {} did, EKS's own part does)",
                    names.join(", "),
                    if names.len() == 1 { "it" } else { "them" },
                    if names.len() == 1 { "it" } else { "they" }
                )
            } else {
                format!(
                    "{} → cloudinit_pre_nodeadm ({} part{}; the module ignores the old input{} under AL2023)",
                    names.join(", "),
                    parts.len(),
                    if parts.len() == 1 { "" } else { "s" },
                    if names.len() == 1 { "" } else { "s" }
                )
            },
        );
        c.findings = findings;
        if version.is_some_and(|v| v.0 == 20 && v < (20, 9, 0)) {
            c.notes.push(
                "the version constraint allows module releases before v20.9.0: cloudinit_pre_nodeadm needs v20.8.4 and ami_type selects AL2023 from v20.9.0; raise it to \"~> 20.9\" or later".into(),
            );
        }
        if !managed {
            c.notes.push("the module still writes the cluster section for this self-managed group; the NodeConfig here carries only the group's own settings".into());
        }
        g.changes.push(c);
    }
    for (name, input) in &dead {
        let value = text.get(input.value.span().unwrap_or_default()).unwrap_or_default().trim();
        let first = value.lines().next().unwrap_or_default();
        let shown: String = first.chars().take(80).collect();
        let more = if value.chars().count() > shown.chars().count() { "…" } else { "" };
        g.changes.push(Change::new(
            path,
            line_of(text, input.key_start),
            what,
            ChangeKind::Migrated,
            format!(
                "{name} removed: the module passes it to no node of a managed group unless enable_bootstrap_user_data = true or ami_id is set, so the AL2 node never had it (it was `{shown}{more}`); if it was meant to apply, give it as a NodeConfig in cloudinit_pre_nodeadm (`eks-userdata convert --target mng`)"
            ),
        ));
    }
    if add_ami_type {
        g.changes.push(ami_type_added(path, text, what, at, managed, major));
    } else if platform.as_deref() == Some("linux") && string(ami_type).is_some_and(|t| t.starts_with("AL2_")) {
        // The walker rewrites the ami_type; platform only mattered without one.
        if let Some(c) = g.changes.iter_mut().rev().find(|c| c.kind == ChangeKind::Migrated) {
            c.notes.push("`platform = \"linux\"` is ignored once ami_type names a type (and deprecated in v20, gone in v21); remove it".into());
        }
    }
    g
}

/// Whether a group must be given an AL2023 `ami_type`: it names none (nor do its defaults),
/// and the module's default is AL2 (before v21; with no version constraint the latest release,
/// v21, is used, where naming the type is harmless) and `platform` does not pick AL2023.
fn needs_ami_type(ami_type: Option<&Expression>, major: Option<u32>, platform: Option<&str>) -> bool {
    ami_type.is_none() && major.is_none_or(|m| m < 21) && platform != Some("al2023")
}

/// The report line for an `ami_type` the migration added.
fn ami_type_added(path: &Path, text: &str, what: &str, at: usize, managed: bool, major: Option<u32>) -> Change {
    let default = if managed {
        "none, so EKS's default: AL2_x86_64 for a node group created before Kubernetes 1.30 (AL2023 for one created later, which this names explicitly)"
    } else {
        "AL2_x86_64"
    };
    let mut c = Change::new(
        path,
        line_of(text, at),
        what,
        ChangeKind::Migrated,
        format!(
            "ami_type = \"{DEFAULT_AL2023}\" added: the group names none, and the module's default before v21 is {default}"
        ),
    );
    c.notes.push("x86_64 without GPU, as the default was; use AL2023_ARM_64_STANDARD, AL2023_x86_64_NVIDIA or AL2023_x86_64_NEURON for Graviton, NVIDIA or Neuron instance types".into());
    if major.is_none() {
        c.notes.push("the module has no version constraint, so `terraform init` takes its latest release: pin one (`version = \"~> 21.0\"`)".into());
    }
    c
}

/// A group with none of the AL2 user data inputs: only its AMI type decides what it runs.
fn type_only(g: &mut Group, at_: At<'_>, cx: Context<'_>) {
    let At { path, text, what, inputs, span } = at_;
    let span = span.0..span.1;
    let get = |name: &str| inputs.iter().find(|i| i.name == name).map(|i| i.value);
    let ami_type = get("ami_type").or(cx.default_ami_type);
    let string = |e: Option<&Expression>| match e {
        Some(Expression::String(s)) => Some(s.value().to_ascii_lowercase()),
        _ => None,
    };
    let platform = string(get("platform"));
    let major = cx.version.map(|v| v.0);
    let al2 = match (ami_type, string(ami_type)) {
        (_, Some(t)) => t.starts_with("al2_"),
        // An expression: what it names is not known here.
        (Some(_), None) => false,
        (None, None) => platform.as_deref().is_none_or(|p| p == "linux"),
    };
    // The defaults object is no group: each group without a type is given one.
    if !al2 || cx.is_defaults {
        return;
    }
    let change = |kind, detail: String| Change::new(path, line_of(text, span.start), what, kind, detail);
    let hold = |g: &mut Group, detail: String| {
        if let Some(s) = ami_type.and_then(|e| e.span()) {
            g.consumed.push(s);
        }
        g.changes.push(change(ChangeKind::Manual, detail));
    };
    // A custom AMI keeps the module on the template its ami_type names: an AL2023 type over an
    // AL2 image would write a NodeConfig that nothing reads.
    if get("ami_id").is_some() {
        hold(g, "a node group with a custom AMI (ami_id) and an AL2 AMI type: point ami_id at an AL2023 AMI and set ami_type to the AL2023 type together; ami_type is left as it is until then".into());
        return;
    }
    if let (Some(m), false) = (major.filter(|m| *m < 20), cx.managed) {
        hold(
            g,
            format!(
                "module v{m} writes AL2 user data (bootstrap.sh) for self-managed groups and has no AL2023 template: upgrade the module to v20.9 or later, then run migrate again; ami_type is left as it is until then"
            ),
        );
        return;
    }
    if !needs_ami_type(ami_type, major, platform.as_deref()) {
        return;
    }
    // The new line goes before the closing brace, indented as an item.
    let close = span.end.saturating_sub(1);
    let line_start = text.get(..close).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let multi_line =
        text.get(close..span.end) == Some("}") && text.get(line_start..close).is_some_and(|l| l.trim().is_empty());
    if !multi_line {
        g.changes.push(change(
            ChangeKind::Manual,
            format!("the group names no ami_type, so it runs the module's AL2 default: add `ami_type = \"{DEFAULT_AL2023}\"` (or the ARM, NVIDIA or Neuron type)"),
        ));
        return;
    }
    let indent = close - line_start + 2;
    g.edits.push(Edit {
        range: line_start..line_start,
        with: format!("{}ami_type = \"{DEFAULT_AL2023}\"\n", " ".repeat(indent)),
    });
    g.changes.push(ami_type_added(path, text, what, span.start, cx.managed, major));
}

/// An object key's name.
pub fn key_name(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

/// A string or heredoc value's template source (escapes other than `\"` refused).
fn template_text(text: &str, value: &Expression) -> Option<String> {
    match value {
        Expression::String(_) | Expression::StringTemplate(_) => {
            let raw = text.get(value.span()?)?.trim();
            let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
            let unescaped = inner.replace("\\\"", "\"");
            (!unescaped.contains('\\')).then_some(unescaped)
        }
        Expression::HeredocTemplate(h) => {
            let d = super::userdata::heredoc(text, h.span()?)?;
            Some(super::userdata::dedent(text.get(d.body)?, d.indent))
        }
        _ => None,
    }
}

/// The whole lines an object item occupies (its key's line start to the end of its value's
/// last line, newline included), when nothing else shares them, and a comment ending them.
fn item_lines<'t>(text: &'t str, start: usize, v: &Expression) -> Option<(std::ops::Range<usize>, Option<&'t str>)> {
    let end = v.span()?.end;
    let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
    if !text.get(line_start..start)?.trim().is_empty() {
        return None;
    }
    let rest = text.get(end..)?;
    let eol = rest.find('\n').map_or(text.len(), |i| end + i + 1);
    // A trailing comma or comment on the value's line goes with it; anything else shares the line.
    let tail = text.get(end..eol)?.trim();
    let tail = tail.strip_prefix(',').map_or(tail, str::trim_start);
    let comment = (tail.starts_with('#') || tail.starts_with("//")).then_some(tail);
    (tail.is_empty() || comment.is_some()).then_some((line_start..eol, comment))
}

/// `cloudinit_pre_nodeadm = [ { content_type, content = <<-EOT … EOT }, … ]` at `indent`.
fn cloudinit_pre_nodeadm(parts: &[(String, String)], indent: usize) -> String {
    let pad = |n: usize| " ".repeat(n);
    let mut out = format!("{}cloudinit_pre_nodeadm = [\n", pad(indent));
    for (media, body) in parts {
        out.push_str(&format!("{}{{\n", pad(indent + 2)));
        out.push_str(&format!("{}content_type = \"{media}\"\n", pad(indent + 4)));
        out.push_str(&format!("{}content      = <<-EOT\n", pad(indent + 4)));
        out.push_str(&super::userdata::indent(body.trim_end_matches('\n'), Some(indent + 6)));
        out.push_str(&format!("{}EOT\n", pad(indent + 4)));
        out.push_str(&format!("{}}},\n", pad(indent + 2)));
    }
    out.push_str(&format!("{}]\n", pad(indent)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_sources() {
        assert_eq!(major("~> 20.9"), Some(20));
        assert_eq!(major(">= 19.0, < 20.0"), Some(19));
        assert_eq!(major("21.1.0"), Some(21));
        assert_eq!(major("latest"), None);
        assert_eq!(lowest("~> 20.8.4"), Some((20, 8, 4)));
        assert_eq!(lowest("~> 20"), Some((20, 0, 0)));
        assert!(is_eks_module("terraform-aws-modules/eks/aws"));
        assert!(is_eks_module("terraform-aws-modules/eks/aws//modules/eks-managed-node-group"));
        assert!(!is_eks_module("terraform-aws-modules/vpc/aws"));
    }

    fn migrated(tf: &str) -> (String, Vec<String>) {
        let m = super::super::terraform::migrate(Path::new("main.tf"), tf, &translate::Options::default());
        let out = super::super::edit::apply(tf, &m.edits).unwrap();
        (out, m.changes.iter().map(|c| format!("{:?}: {}", c.kind, c.detail).replacen("Manual", "MANUAL", 1)).collect())
    }

    const HEAD: &str = "module \"eks\" {\n  source  = \"terraform-aws-modules/eks/aws\"\n";

    #[test]
    fn a_managed_group_keeps_only_what_reached_its_nodes() {
        // Without enable_bootstrap_user_data EKS's own call follows pre_bootstrap_user_data; the
        // extra arguments reached nothing, so the AL2023 node does not get them either.
        let tf = format!(
            "{HEAD}  version = \"~> 20.9\"\n  eks_managed_node_groups = {{\n    a = {{\n      ami_type = \"AL2_x86_64\"\n      pre_bootstrap_user_data = \"echo hi\"\n      bootstrap_extra_args = \"--kubelet-extra-args '--max-pods=20'\"\n    }}\n  }}\n}}\n"
        );
        let (out, changes) = migrated(&tf);
        assert!(
            out.contains("content_type = \"text/x-shellscript\"") && out.contains("            echo hi\n"),
            "{out}"
        );
        assert!(
            !out.contains("max-pods") && !out.contains("maxPods") && !out.contains("application/node.eks.aws"),
            "{out}"
        );
        assert!(
            changes.iter().any(|c| c.contains("bootstrap_extra_args removed") && c.contains("never had it")),
            "{changes:?}"
        );
        // With it, the module wrote the whole script: the extra arguments did reach the node.
        let tf = tf.replace("      pre_bootstrap", "      enable_bootstrap_user_data = true\n      pre_bootstrap");
        let (out, _) = migrated(&tf);
        assert!(out.contains("maxPods: 20") && out.contains("set -e"), "{out}");
    }

    #[test]
    fn a_group_without_ami_type_is_given_the_al2023_one_before_v21_only() {
        let group = "  self_managed_node_groups = {\n    b = {\n      bootstrap_extra_args = \"--kubelet-extra-args '--node-labels=x=y'\"\n    }\n  }\n}\n";
        let (out, changes) = migrated(&format!("{HEAD}  version = \"~> 20.9\"\n{group}"));
        assert!(out.contains("      ami_type = \"AL2023_x86_64_STANDARD\"\n      cloudinit_pre_nodeadm = ["), "{out}");
        assert!(changes.iter().any(|c| c.contains("added")), "{changes:?}");
        // The cluster section comes from the module, so the part carries only the group's own.
        assert!(out.contains("- --node-labels=x=y") && !out.contains("cluster:"), "{out}");
        let (out, _) = migrated(&format!("{HEAD}  version = \"~> 21.0\"\n{group}"));
        assert!(!out.contains("ami_type") && out.contains("cloudinit_pre_nodeadm"), "v21 defaults to AL2023:\n{out}");
        // A defaults object's ami_type counts, and a held group holds it too.
        let tf = format!(
            "{HEAD}  version = \"~> 20.9\"\n  self_managed_node_group_defaults = {{\n    ami_type = \"AL2_x86_64\"\n  }}\n  self_managed_node_groups = {{\n    b = {{\n      ami_id = \"ami-1\"\n      pre_bootstrap_user_data = \"echo\"\n    }}\n  }}\n}}\n"
        );
        let (out, changes) = migrated(&tf);
        assert!(
            out.contains("\"AL2_x86_64\"")
                && changes.iter().any(|c| c.starts_with("MANUAL") && c.contains("custom AMI")),
            "{out}\n{changes:?}"
        );
    }
}
