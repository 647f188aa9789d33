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
//! A managed node group on an EKS AMI (no `ami_id`), in the root module's maps or as the
//! `//modules/eks-managed-node-group` submodule, is migrated here: the three inputs become
//! one synthetic AL2 script (`pre`, the bootstrap.sh call with the extra arguments, `post`),
//! `convert` translates it for a managed node group, and its parts become
//! `cloudinit_pre_nodeadm` elements (commands that followed bootstrap.sh already run from a unit
//! after nodeadm, so they are safe to give as pre parts). Other groups are reported with the way
//! out.

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

/// One node group, from its inputs (an object's items, or a node group submodule's arguments).
/// `managed`: an EKS managed node group.
pub fn group(
    path: &Path,
    text: &str,
    what: &str,
    inputs: &[Input<'_>],
    managed: bool,
    version: Option<(u32, u32, u32)>,
    opts: &translate::Options,
) -> Group {
    let major = version.map(|v| v.0);
    let mut g = Group::default();
    let get = |name: &str| inputs.iter().find(|i| i.name == name).copied();
    let found: Vec<(&str, Input<'_>)> = INPUTS.iter().filter_map(|n| get(n).map(|i| (*n, i))).collect();
    let Some((_, first)) = found.first() else { return g };
    let at = first.key_start;
    // These inputs are this module's business: nothing else reports or edits them.
    g.consumed = found.iter().filter_map(|(_, i)| Some(i.key_start..i.value.span()?.end)).collect();
    let string = |name: &str| match get(name).map(|i| i.value) {
        Some(Expression::String(s)) => Some(s.value().to_string()),
        _ => None,
    };
    // Bottlerocket and Windows groups read these inputs their own way: not AL2, not ours.
    let os = string("ami_type").or_else(|| string("platform")).unwrap_or_default().to_ascii_lowercase();
    if os.starts_with("bottlerocket") || os.starts_with("windows") {
        return g;
    }
    let change = |kind, detail: String| Change::new(path, line_of(text, at), what, kind, detail);
    // A group left for a person keeps its AL2 ami_type: an AL2023 type with AL2 inputs the
    // module ignores would be a node group that silently loses them.
    let hold = |g: &mut Group, detail: String| {
        if let Some(span) = get("ami_type").and_then(|i| i.value.span()) {
            g.consumed.push(span);
        }
        g.changes.push(change(ChangeKind::Manual, format!("{detail}; ami_type is left as it is until then")));
    };
    if let Some(m) = major.filter(|m| *m < 20) {
        hold(
            &mut g,
            format!(
                "module v{m} has no AL2023 user data template: upgrade the module to v20.9 or later (v21 defaults to AL2023), then run migrate again"
            ),
        );
        return g;
    }
    if !managed || get("ami_id").is_some() {
        let kind = if managed { "a managed node group with a custom AMI" } else { "a self-managed node group" };
        hold(
            &mut g,
            format!(
                "{kind}: the module ignores {} under AL2023; move them into cloudinit_pre_nodeadm parts (`eks-userdata convert` gives the NodeConfig)",
                found.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        );
        return g;
    }
    // The inputs' texts, as Terraform template source.
    let mut pieces: Vec<(&str, String)> = Vec::new();
    for (name, input) in &found {
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
    let mut script = String::from("#!/bin/bash\n");
    if let Some(pre) = piece("pre_bootstrap_user_data") {
        script.push_str(pre.strip_prefix("#!/bin/bash").unwrap_or(&pre).trim_start_matches('\n'));
        script.push('\n');
    }
    // The module's AL2 template calls bootstrap.sh with the cluster name and these arguments.
    script.push_str(&format!("/etc/eks/bootstrap.sh CLUSTER {}\n", piece("bootstrap_extra_args").unwrap_or_default()));
    if let Some(post) = piece("post_bootstrap_user_data") {
        script.push_str(&post);
        script.push('\n');
    }
    let opts = translate::Options { target: Target::Mng, ..opts.clone() };
    let (out, findings) = match super::userdata::convert(&path.display().to_string(), &script, Syntax::Terraform, &opts)
    {
        Converted::Done { text, findings } => (text, findings),
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
    };
    let env = crate::userdata::Envelope::parse(out.as_bytes(), &crate::userdata::Limits::default());
    let parts: Vec<(String, String)> = env
        .parts
        .iter()
        .filter_map(|p| Some((p.media()?.to_string(), String::from_utf8(p.body.clone()).ok()?)))
        .collect();

    // The new input goes where the first old one was; the others are removed, line and all.
    let lines: Vec<(std::ops::Range<usize>, Option<&str>)> =
        found.iter().filter_map(|(_, i)| item_lines(text, i.key_start, i.value)).collect();
    let (Some((first, _)), true) = (lines.first(), lines.len() == found.len()) else {
        hold(&mut g, "the inputs could not be located in the file".into());
        return g;
    };
    let indent = text.get(first.clone()).map_or(0, |l| l.len() - l.trim_start().len());
    // A comment at the end of a removed line stays, on a line of its own.
    let comment = |c: &Option<&str>| c.map_or(String::new(), |c| format!("{}{c}\n", " ".repeat(indent)));
    for (n, (r, c)) in lines.iter().enumerate() {
        let with = if n == 0 { comment(c) + &cloudinit_pre_nodeadm(&parts, indent) } else { comment(c) };
        g.edits.push(Edit { range: r.clone(), with });
    }
    g.consumed.extend(lines.into_iter().map(|(r, _)| r));
    let names: Vec<&str> = found.iter().map(|(n, _)| *n).collect();
    let mut c = change(
        ChangeKind::Migrated,
        format!(
            "{} → cloudinit_pre_nodeadm ({} part{}; the module ignores the old inputs under AL2023)",
            names.join(", "),
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ),
    );
    c.findings = findings;
    if version.is_some_and(|v| v.0 == 20 && v < (20, 9, 0)) {
        c.notes.push(
            "the version constraint allows module releases before v20.9.0: cloudinit_pre_nodeadm needs v20.8.4 and ami_type selects AL2023 from v20.9.0; raise it to \"~> 20.9\" or later".into(),
        );
    }
    g.changes.push(c);
    g
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
}
