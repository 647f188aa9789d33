//! `data "cloudinit_config"` (and the older `data "template_cloudinit_config"`) in Terraform: the
//! hashicorp/cloudinit provider renders its `part` blocks as one MIME multipart document, in
//! order, each with its `content_type` (default `text/plain`, which cloud-init sniffs: a part
//! starting `#!` runs as a script; cloud-init's `user_data.py`, `TYPE_NEEDED`). nodeadm reads the
//! same document and takes its `application/node.eks.aws` parts (docs §1.2), so an AL2 script
//! part becomes the converted script part plus NodeConfig part blocks beside it, in the same
//! data source.
//!
//! A part's content may be a heredoc (converted in place), `templatefile(...)` or `file(...)`
//! (the file keeps the script, the NodeConfig goes in a heredoc part block after it; a NodeConfig
//! that needs the template's variables is left for a person, as a heredoc in the `.tf` file
//! cannot see them). `dynamic "part"` blocks are generated from data this tool cannot evaluate.

use super::edit::{Edit, line_of};
use super::userdata::{self, Converted};
use super::{Change, ChangeKind, FileMigration};
use crate::al2::template::Syntax;
use crate::translate;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block};
use std::path::Path;

/// Whether a `data` block type is a cloud-init document.
pub fn is_cloudinit(kind: &str) -> bool {
    kind == "cloudinit_config" || kind == "template_cloudinit_config"
}

/// What migrating one data source gives.
#[derive(Debug, Default)]
pub struct Migrated {
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
    pub files: Vec<FileMigration>,
}

/// Where a part's content comes from.
enum Content<'a> {
    Heredoc(userdata::Heredoc),
    /// `templatefile` (with the variables it passes that are plain references, by name) or
    /// `file` (no variables).
    File {
        path: std::path::PathBuf,
        syntax: Syntax,
        shown: &'a str,
        vars: Vec<(String, String)>,
        call_vars: Option<&'a hcl_edit::expr::Object>,
    },
}

/// The `part` blocks of one `data "cloudinit_config" "NAME"` block.
pub fn migrate(path: &Path, text: &str, block: &Block, what: &str, opts: &translate::Options) -> Migrated {
    let mut out = Migrated::default();
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut index = 0;
    for b in block.body.iter().filter_map(|s| s.as_block()) {
        let at = b.span().map_or(0, |s| s.start);
        let what = format!("{what}.part[{index}]");
        match b.ident.as_str() {
            "part" => {
                index += 1;
                part(&mut out, path, dir, text, b, &what, opts);
            }
            "dynamic" if b.labels.first().is_some_and(|l| l.as_str() == "part") => {
                index += 1;
                let body = text.get(b.span().unwrap_or(0..0)).unwrap_or_default();
                if body.contains("bootstrap") || body.contains("templatefile") || body.contains("file(") {
                    out.changes.push(Change::new(
                        path,
                        line_of(text, at),
                        &what,
                        ChangeKind::Manual,
                        "a `dynamic \"part\"` block: its parts come from values only Terraform knows; convert the user data it renders (`terraform console`, then `eks-userdata convert`) and write the parts it needs".into(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

fn attr<'b>(b: &'b Block, name: &str) -> Option<&'b Attribute> {
    b.body.iter().filter_map(|s| s.as_attribute()).find(|a| a.key.as_str() == name)
}

fn part(out: &mut Migrated, path: &Path, dir: &Path, text: &str, b: &Block, what: &str, opts: &translate::Options) {
    let at = b.span().map_or(0, |s| s.start);
    let change = |kind, detail: String| Change::new(path, line_of(text, at), what, kind, detail);
    let Some(content) = attr(b, "content") else { return };
    let media = match attr(b, "content_type").map(|a| &a.value) {
        Some(Expression::String(s)) => Some(s.value().to_string()),
        Some(_) => return,
        None => None,
    };
    let media_base = media.as_deref().map(|m| m.split(';').next().unwrap_or(m).trim().to_ascii_lowercase());
    if !matches!(media_base.as_deref(), None | Some("text/plain" | "text/x-shellscript")) {
        return;
    }
    let source = match &content.value {
        Expression::HeredocTemplate(h) => match h.span().and_then(|s| userdata::heredoc(text, s)) {
            Some(h) => Content::Heredoc(h),
            None => return,
        },
        Expression::FuncCall(f) => {
            let syntax = match f.name.name.as_str() {
                "templatefile" => Syntax::Terraform,
                "file" => Syntax::None,
                _ => return,
            };
            let raw = f.args.get(0).and_then(|a| text.get(a.span()?)).unwrap_or_default().trim();
            let Some(rel) = super::terraform::resolve_path(raw) else {
                out.changes.push(change(
                    ChangeKind::Manual,
                    format!("content `{raw}`: the path depends on values only Terraform knows; migrate that file with `eks-userdata migrate FILE`"),
                ));
                return;
            };
            let call_vars = match f.args.get(1) {
                Some(Expression::Object(o)) => Some(o),
                _ => None,
            };
            Content::File {
                path: dir.join(rel),
                syntax,
                shown: raw,
                vars: reference_vars(text, f.args.get(1)),
                call_vars,
            }
        }
        _ => return,
    };
    let (body, syntax) = match &source {
        Content::Heredoc(h) => {
            (userdata::dedent(text.get(h.body.clone()).unwrap_or_default(), h.indent), Syntax::Terraform)
        }
        Content::File { path: p, syntax, .. } => match std::fs::read_to_string(p) {
            Ok(t) => (t, *syntax),
            Err(e) => {
                out.changes.push(change(ChangeKind::Manual, format!("{}: cannot read: {e}", p.display())));
                return;
            }
        },
    };
    // A `text/plain` part runs only if cloud-init sniffs it as a script.
    if media_base.as_deref() != Some("text/x-shellscript") && !body.starts_with("#!") {
        return;
    }
    let name = match &source {
        Content::Heredoc(_) => path.display().to_string(),
        Content::File { path: p, .. } => p.display().to_string(),
    };
    // The NodeConfig part goes in the .tf file, where a template's `${name}` is the expression
    // the templatefile call passed as `name`. A `--service-cidr` given as a Terraform
    // expression reaches the template's conversion as such a variable too.
    let mut opts = opts.clone();
    let mut added_var: Option<(String, String)> = None;
    let mut to_tf: Vec<(String, String)> = match &source {
        Content::File { vars, syntax: Syntax::Terraform, .. } => vars.clone(),
        _ => Vec::new(),
    };
    if let (Content::File { syntax: Syntax::Terraform, .. }, Some(expr)) = (
        &source,
        opts.cluster.cidr.as_deref().and_then(|c| c.strip_prefix("${")?.strip_suffix('}')).map(str::to_string),
    ) {
        let var = match to_tf.iter().find(|(_, e)| *e == expr) {
            Some((n, _)) => n.clone(),
            None => {
                // Named as terraform.rs names it for a launch template's templatefile call.
                let last = expr.rsplit('.').next().unwrap_or_default().to_string();
                let n = if last.is_empty() || to_tf.iter().any(|(n, _)| *n == last) {
                    "eks_userdata_service_cidr".to_string()
                } else {
                    last
                };
                added_var = Some((n.clone(), expr.clone()));
                to_tf.push((n.clone(), expr));
                n
            }
        };
        opts.cluster.cidr = Some(format!("${{{var}}}"));
    }
    let opts = &opts;
    let (converted, findings) = match userdata::convert(&name, &body, syntax, opts) {
        Converted::Done { text, findings } => (text, findings),
        Converted::Unchanged(_) => return,
        // Nothing for nodeadm from it (for a managed node group, EKS's part makes the call):
        // the part block goes, line and all.
        Converted::Empty { findings } => {
            let Some(span) = b.span() else { return };
            let start = text.get(..span.start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
            let mut end = text.get(span.end..).and_then(|t| t.find('\n')).map_or(span.end, |i| span.end + i + 1);
            // Between two blank lines, one of them goes too.
            let blank_before = text.get(..start).is_some_and(|t| t.ends_with("\n\n"));
            if blank_before && text.get(end..).is_some_and(|t| t.starts_with('\n')) {
                end += 1;
            }
            out.edits.push(Edit { range: start..end, with: String::new() });
            let mut c = change(ChangeKind::Migrated, "removed: this part only called bootstrap.sh, which the target's own part does on AL2023; the node needs nothing from it".into());
            c.findings = findings;
            out.changes.push(c);
            return;
        }
        Converted::Refused { reason, findings } => {
            let mut c = change(ChangeKind::Manual, reason);
            c.findings = findings;
            out.changes.push(c);
            return;
        }
    };
    let env = crate::userdata::Envelope::parse(converted.as_bytes(), &crate::userdata::Limits::default());
    let parts: Vec<(String, String)> = env
        .parts
        .iter()
        .filter_map(|p| Some((p.media()?.to_string(), String::from_utf8(p.body.clone()).ok()?)))
        .collect();
    let (scripts, others): (Vec<_>, Vec<_>) = parts.into_iter().partition(|(m, _)| m == "text/x-shellscript");
    let mut scripts = scripts.into_iter();
    let (script, extra) = (scripts.next(), scripts.next());
    if extra.is_some() {
        out.changes.push(change(
            ChangeKind::Manual,
            "the conversion gives more than one script part; run `eks-userdata convert` on it and write the parts by hand".into(),
        ));
        return;
    }
    let indent = line_indent(text, at);
    let file_literal = matches!(source, Content::File { syntax: Syntax::None, .. });
    let mut new_blocks = String::new();
    let mut others = others.into_iter();
    // With no script left (it only called bootstrap.sh), this block carries the first other part.
    let (this_media, this_body) = match script {
        Some((m, s)) => (m, s),
        None => match others.next() {
            Some(p) => p,
            None => return,
        },
    };
    // The part blocks are in the .tf file: a `--service-cidr` given as a Terraform expression
    // means the same there, anything else from a file must not read as a template.
    let cidr_expr = opts.cluster.cidr.as_deref().filter(|c| c.starts_with("${"));
    for (m, body) in others {
        let body = to_tf.iter().fold(body, |b, (n, e)| b.replace(&format!("${{{n}}}"), &format!("${{{e}}}")));
        let rest = to_tf.iter().fold(body.clone(), |b, (_, e)| b.replace(&format!("${{{e}}}"), ""));
        if matches!(source, Content::File { syntax: Syntax::Terraform, .. })
            && (rest.contains("${") || rest.contains("%{"))
        {
            out.changes.push(change(
                ChangeKind::Manual,
                format!("the converted {m} part uses the template's variables, which a heredoc in the .tf file cannot see; run `eks-userdata convert` on the template and give the part its own templatefile call"),
            ));
            return;
        }
        let body = if file_literal { escape_template(&body, cidr_expr) } else { body };
        new_blocks.push_str(&part_block(&m, &body, indent));
    }
    let mut edits = Vec::new();
    if Some(this_media.as_str()) != media_base.as_deref() {
        match attr(b, "content_type").and_then(|a| a.value.span()) {
            Some(span) => edits.push(Edit { range: span, with: format!("\"{this_media}\"") }),
            None => {
                let start = content.span().map_or(at, |s| s.start);
                edits.push(Edit {
                    range: start..start,
                    with: format!("content_type = \"{this_media}\"\n{}", " ".repeat(indent + 2)),
                });
            }
        }
    }
    match &source {
        Content::Heredoc(h) => {
            edits.push(Edit { range: h.body.clone(), with: userdata::indent(&this_body, h.indent) });
        }
        Content::File { path: p, shown, call_vars, .. } => {
            // What the template now holds may need the variable added for the service CIDR.
            if let Some((n, e)) = added_var.as_ref().filter(|(n, _)| this_body.contains(&format!("${{{n}}}"))) {
                match call_vars.and_then(|o| super::terraform::add_var(text, o, n, e)) {
                    Some((edit, _)) => edits.push(edit),
                    None => {
                        out.changes.push(change(
                            ChangeKind::Manual,
                            format!("the converted template needs the variable `{n} = {e}`, which this templatefile call cannot be given here (its variables are not an object literal): add it, or convert by hand"),
                        ));
                        return;
                    }
                }
            }
            let detail = if this_media == "text/x-shellscript" {
                format!("{shown}: the script part's content, converted (the NodeConfig is a part block beside it)")
            } else {
                format!("{shown}: converted; it held only the bootstrap.sh call, so it now holds the {this_media} part")
            };
            let mut c = Change::new(p, 1, "user data", ChangeKind::Migrated, detail);
            c.findings = findings.clone();
            out.files.push(FileMigration {
                path: p.clone(),
                original: body.clone(),
                migrated: this_body,
                changes: vec![c],
            });
        }
    }
    if !new_blocks.is_empty() {
        let end = b.span().map_or(at, |s| s.end);
        edits.push(Edit { range: end..end, with: format!("\n{}", new_blocks.trim_end_matches('\n')) });
    }
    let added = new_blocks.matches("part {").count();
    let mut c = change(
        ChangeKind::Migrated,
        format!(
            "converted: this part is now {this_media}{}",
            if added > 0 {
                format!(", with {added} part block{} added after it", if added == 1 { "" } else { "s" })
            } else {
                String::new()
            }
        ),
    );
    c.findings = findings;
    out.changes.push(c);
    out.edits.extend(edits);
}

/// The variables a `templatefile` call passes as plain references (`name = var.x`), by name.
fn reference_vars(text: &str, vars: Option<&Expression>) -> Vec<(String, String)> {
    let Some(Expression::Object(o)) = vars else { return Vec::new() };
    o.iter()
        .filter_map(|(k, v)| {
            let name = super::eks_module::key_name(k)?;
            let e = text.get(v.expr().span()?)?.trim();
            let plain = e.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && e.contains('.')
                && e.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']' | '"'));
            plain.then(|| (name, e.to_string()))
        })
        .collect()
}

/// The indentation of the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> usize {
    let start = text.get(..at).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    text.get(start..at).map_or(0, |l| l.len() - l.trim_start().len())
}

/// Literal text made safe inside a Terraform heredoc (`${` and `%{` start templates), except
/// `keep`, a Terraform expression meant as one.
fn escape_template(s: &str, keep: Option<&str>) -> String {
    let esc = |t: &str| t.replace("${", "$${").replace("%{", "%%{");
    match keep {
        Some(k) => s.split(k).map(esc).collect::<Vec<_>>().join(k),
        None => esc(s),
    }
}

/// A `part` block at `indent`, its content an indented heredoc. It follows the previous block
/// on the same line as its closing brace's newline, so it starts indented.
fn part_block(media: &str, body: &str, indent: usize) -> String {
    let pad = |n: usize| " ".repeat(n);
    let mut s = format!("\n{}part {{\n", pad(indent));
    s.push_str(&format!("{}content_type = \"{media}\"\n", pad(indent + 2)));
    s.push_str(&format!("{}content      = <<-EOT\n", pad(indent + 2)));
    s.push_str(&userdata::indent(body.trim_end_matches('\n'), Some(indent + 4)));
    s.push_str(&format!("{}EOT\n", pad(indent + 2)));
    s.push_str(&format!("{}}}\n", pad(indent)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(tf: &str, opts: &translate::Options) -> (String, Vec<String>) {
        let m = super::super::terraform::migrate(Path::new("main.tf"), tf, opts);
        let out = super::super::edit::apply(tf, &m.edits).unwrap();
        (out, m.changes.iter().map(|c| format!("{:?}: {}", c.kind, c.detail)).collect())
    }

    #[test]
    fn a_sniffed_script_part_is_converted_and_other_parts_are_left() {
        let opts = translate::Options { target: crate::target::Target::Mng, ..Default::default() };
        // No content_type: text/plain, which cloud-init runs as a script when it starts `#!`.
        let tf = "data \"cloudinit_config\" \"x\" {\n  part {\n    content = <<-EOT\n      #!/bin/bash\n      echo hi\n      /etc/eks/bootstrap.sh c --kubelet-extra-args '--max-pods=20'\n    EOT\n  }\n  part {\n    content = <<-EOT\n      /etc/eks/bootstrap.sh is only mentioned here\n    EOT\n  }\n}\n";
        let (out, changes) = migrated(tf, &opts);
        assert!(
            out.contains(
                "    content_type = \"text/x-shellscript\"\n    content = <<-EOT\n      #!/bin/bash\n      echo hi\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("  part {\n    content_type = \"application/node.eks.aws\"") && out.contains("maxPods: 20"),
            "{out}"
        );
        assert!(
            out.contains("      /etc/eks/bootstrap.sh is only mentioned here\n"),
            "not a script: left as it is\n{out}"
        );
        assert_eq!(changes.len(), 1, "{changes:?}");
    }

    #[test]
    fn dynamic_parts_are_left_for_a_person() {
        let tf = "data \"cloudinit_config\" \"x\" {\n  dynamic \"part\" {\n    for_each = var.scripts\n    content {\n      content = templatefile(part.value, {})\n    }\n  }\n}\n";
        let (out, changes) = migrated(tf, &translate::Options::default());
        assert_eq!(out, tf);
        assert!(
            changes.len() == 1 && changes[0].starts_with("Manual") && changes[0].contains("dynamic"),
            "{changes:?}"
        );
    }

    #[test]
    fn template_references_and_escapes() {
        assert_eq!(escape_template("a ${b} %{c} ${var.x}", Some("${var.x}")), "a $${b} %%{c} ${var.x}");
        let tf = "x = templatefile(\"t\", { a = var.a, b = \"lit\", c = local.c[0] })";
        let body = hcl_edit::parser::parse_body(tf).unwrap();
        let Some(Expression::FuncCall(f)) = body.iter().filter_map(|s| s.as_attribute()).next().map(|a| &a.value)
        else {
            panic!()
        };
        let got = reference_vars(tf, f.args.get(1));
        assert_eq!(got, vec![("a".into(), "var.a".into()), ("c".into(), "local.c[0]".into())]);
    }
}
