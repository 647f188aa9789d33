//! Terraform (`.tf`) read with `hcl-edit`, the HCL parser that keeps every byte's position, and
//! migrated by replacing only the bytes of the constructs that change (`edit.rs`):
//! - `user_data` (and `user_data_base64`) of `aws_launch_template`, `aws_launch_configuration`
//!   and `aws_instance`: a heredoc, `base64encode(<<-EOT … EOT)`,
//!   `templatefile(path, vars)` (the template file is migrated too), `file`/`filebase64(path)`
//!   (the file is migrated); paths relative to `path.module`, `path.root` or `path.cwd`.
//! - `data "cloudinit_config"` part blocks (`cloudinit.rs`), and the EKS module's node group
//!   inputs (`eks_module.rs`).
//! - AMI selection: `ami_type = "AL2_…"` anywhere (an attribute or an object key, as
//!   `aws_eks_node_group` and module node group maps write it), and every string that names an
//!   EKS AL2 SSM parameter or AMI name (`migrate/ami.rs`).
//!
//! Why `hcl-edit` and byte splicing: HCL has heredocs, nested templates and comments in three
//! styles, so finding a construct needs a real parser, and `hcl-edit` is the one that records
//! spans; re-serialising its tree would also be lossless, but splicing makes "bytes outside the
//! migrated constructs are unchanged" true by construction rather than by trust.

use super::ami;
use super::cloudinit;
use super::edit::{Edit, line_of};
use super::eks_module;
pub use super::locals::Locals;
use super::userdata::{self, Converted};
use super::{Change, ChangeKind, FileMigration};
use crate::al2::template::Syntax;
use crate::translate;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, FuncCall, Object, ObjectKey, ObjectValue};
use hcl_edit::structure::{Attribute, Block};
use hcl_edit::visit::{self, Visit};
use std::path::{Path, PathBuf};

/// What migrating one `.tf` file gives: edits to it, changes to report, and the user data files
/// it reads, migrated.
#[derive(Debug, Default)]
pub struct Migration {
    pub edits: Vec<Edit>,
    pub changes: Vec<Change>,
    pub files: Vec<FileMigration>,
    /// Edits to other `.tf` files of the module (a `locals` heredoc the user data names, a node
    /// group written as a local).
    pub remote: Vec<(PathBuf, Edit)>,
    /// Ranges of other `.tf` files that must stay as they are (the AL2 `ami_type` of a node
    /// group left for a person, written as a local there): that file's own edits there are
    /// dropped.
    pub held: Vec<(PathBuf, std::ops::Range<usize>)>,
}

/// Migrates `text`, the `.tf` file at `path`. A file HCL cannot parse is one `Manual` change.
pub fn migrate(path: &Path, text: &str, opts: &translate::Options) -> Migration {
    migrate_with(path, text, opts, &Locals::default())
}

/// [`migrate`] with the module's `locals` heredocs, which user data may name.
pub fn migrate_with(path: &Path, text: &str, opts: &translate::Options, locals: &Locals) -> Migration {
    let mut m = Migration::default();
    let body = match hcl_edit::parser::parse_body(text) {
        Ok(b) => b,
        Err(e) => {
            let (line, column) = (e.location().line(), e.location().column());
            let detail = format!("not valid HCL at line {line}, column {column}: {}", e.message());
            m.changes.push(Change::new(path, line, "file", ChangeKind::Manual, detail));
            return m;
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut v = Walker {
        path,
        dir,
        text,
        opts,
        locals,
        resource: None,
        consumed: Vec::new(),
        instance_types: Vec::new(),
        keys: Vec::new(),
        m: &mut m,
    };
    v.visit_body(&body);
    m
}

pub(super) struct Walker<'a> {
    pub(super) path: &'a Path,
    pub(super) dir: PathBuf,
    pub(super) text: &'a str,
    pub(super) opts: &'a translate::Options,
    pub(super) locals: &'a Locals,
    /// `(type, name)` of the resource block being walked.
    pub(super) resource: Option<(String, String)>,
    /// Source ranges a migration replaced whole: nothing inside is edited again.
    pub(super) consumed: Vec<std::ops::Range<usize>>,
    /// The literal instance types of the blocks and objects being walked, innermost last: the
    /// GPU AMI type's AL2023 flavour depends on them.
    pub(super) instance_types: Vec<Option<Vec<String>>>,
    /// The attribute and object keys from the block to the item being walked, for addresses
    /// (`module.eks.eks_managed_node_groups.gpu.ami_type`).
    pub(super) keys: Vec<String>,
    pub(super) m: &'a mut Migration,
}

impl Walker<'_> {
    pub(super) fn address(&self, attr: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some((t, n)) = &self.resource {
            parts.extend([t.as_str(), n.as_str()]);
        }
        parts.extend(self.keys.iter().map(String::as_str));
        parts.push(attr);
        parts.join(".")
    }

    /// A change at byte `at` of the file.
    pub(super) fn make(&self, at: usize, what: String, kind: ChangeKind, detail: String) -> Change {
        Change::new(self.path, line_of(self.text, at), &what, kind, detail)
    }

    pub(super) fn change(&mut self, at: usize, what: String, kind: ChangeKind, detail: String) {
        let c = self.make(at, what, kind, detail);
        self.m.changes.push(c);
    }

    /// A module that selects an Ubuntu EKS AMI: its user data is for nodes that keep
    /// bootstrap.sh, so it is left as it is, and the report says why.
    pub(super) fn other_os(&mut self, at: usize, what: &str) -> bool {
        let Some(where_) = self.locals.other_os(&self.dir).map(str::to_string) else { return false };
        let detail = format!(
            "not converted: this module selects an EKS AMI that is not Amazon Linux ({where_}), whose nodes keep bootstrap.sh and have no nodeadm. If this user data is for Amazon Linux nodes, convert it with `eks-userdata convert`"
        );
        self.change(at, what.to_string(), ChangeKind::Unchanged, detail);
        true
    }

    pub(super) fn is_consumed(&self, at: usize) -> bool {
        self.consumed.iter().any(|r| r.contains(&at))
    }

    /// `ami_type = "AL2_…"`: the string literal's value replaced.
    fn ami_type(&mut self, what: String, value: &Expression) {
        let Expression::String(s) = value else { return };
        let (Some(span), Some(mut mapped)) = (s.span(), ami::ami_type(s.value())) else { return };
        if self.is_consumed(span.start) {
            return;
        }
        // AL2's GPU type served NVIDIA and Neuron instances alike; AL2023 has one type each.
        if s.value() == "AL2_x86_64_GPU"
            && let Some(Some(types)) = self.instance_types.last()
        {
            match ami::accelerator(types) {
                Some(ami::Accelerator::Neuron) => {
                    mapped = ami::Mapped { to: "AL2023_x86_64_NEURON".into(), caveat: None }
                }
                Some(ami::Accelerator::Nvidia) => mapped.caveat = None,
                None => {
                    let detail = format!(
                        "AL2_x86_64_GPU with instance types {}: AL2023 has one AMI type for NVIDIA (AL2023_x86_64_NVIDIA) and one for Inferentia and Trainium (AL2023_x86_64_NEURON); split the group by accelerator, then run migrate again",
                        types.join(", ")
                    );
                    self.change(span.start, what, ChangeKind::Manual, detail);
                    return;
                }
            }
        }
        let Some(raw) = self.text.get(span.clone()) else { return };
        let Some(at) = raw.find(s.value().as_str()) else { return };
        let start = span.start + at;
        self.m.edits.push(Edit { range: start..start + s.value().len(), with: mapped.to.clone() });
        let detail = format!("{} → {}", s.value(), mapped.to);
        let mut c = self.make(span.start, what, ChangeKind::Migrated, detail);
        c.notes.extend(mapped.caveat.map(str::to_string));
        self.m.changes.push(c);
    }

    /// A string naming an AL2 SSM parameter or AMI: the AL2 segment replaced in the source.
    fn selector_string(&mut self, span: std::ops::Range<usize>) {
        if self.is_consumed(span.start) {
            return;
        }
        let Some(raw) = self.text.get(span.clone()) else { return };
        let found = ami::ssm_segment(raw)
            .map(|f| ("SSM parameter", f))
            .or_else(|| ami::name_prefix(raw).map(|f| ("AMI name", f)));
        let Some((kind, (range, mapped))) = found else { return };
        let Some(old) = raw.get(range.clone()) else { return };
        if let Some(v) = ami::too_old(raw) {
            let what = self.address("(string)");
            let detail = format!("{kind} for Kubernetes 1.{v}: {}", ami::TOO_OLD);
            self.change(span.start, what, ChangeKind::Manual, detail);
            return;
        }
        let detail = format!("{kind}: `{}` → `{}`", old.trim_matches('/'), mapped.to.trim_matches('/'));
        self.m.edits.push(Edit { range: span.start + range.start..span.start + range.end, with: mapped.to.clone() });
        let what = self.address("(string)");
        let mut c = self.make(span.start, what, ChangeKind::Migrated, detail);
        c.notes.extend(mapped.caveat.map(str::to_string));
        self.m.changes.push(c);
    }

    fn user_data(&mut self, attr: &Attribute) {
        let what = self.address(attr.key.as_str());
        let at = attr.span().map_or(0, |s| s.start);
        if self.other_os(at, &what) {
            return;
        }
        match &attr.value {
            Expression::HeredocTemplate(h) => self.heredoc(what, h.span()),
            Expression::FuncCall(f) => self.user_data_call(what, at, f),
            other if self.local(what.clone(), at, other) => {}
            other if self.cloudinit_rendered(what.clone(), at, other) => {}
            other => {
                let detail = format!(
                    "`{}` is not a heredoc, `templatefile` or `file` call this tool can follow: convert the user data it produces with `eks-userdata convert`",
                    self.text.get(other.span().unwrap_or(0..0)).unwrap_or("?").trim()
                );
                self.change(at, what, ChangeKind::Manual, detail);
            }
        }
    }

    fn user_data_call(&mut self, what: String, at: usize, f: &FuncCall) {
        let name = f.name.name.as_str();
        let first = f.args.get(0);
        match (name, first) {
            ("base64encode" | "base64gzip" | "trimspace" | "chomp", Some(Expression::HeredocTemplate(h))) => {
                self.heredoc(what, h.span())
            }
            ("base64encode" | "base64gzip", Some(Expression::FuncCall(inner))) => self.user_data_call(what, at, inner),
            ("templatefile", Some(p)) => self.file(what, at, p, f.args.get(1), Syntax::Terraform),
            ("file" | "filebase64", Some(p)) => self.file(what, at, p, None, Syntax::None),
            ("base64encode" | "base64gzip", Some(arg)) if self.local(what.clone(), at, arg) => {}
            ("base64encode" | "base64gzip", Some(arg)) if self.cloudinit_rendered(what.clone(), at, arg) => {}
            _ => {
                let detail = format!(
                    "`{name}(…)` is not a form this tool follows (heredoc, templatefile, file, filebase64): convert the user data it produces with `eks-userdata convert`"
                );
                self.change(at, what, ChangeKind::Manual, detail);
            }
        }
    }

    /// `data.cloudinit_config.NAME.rendered`: its parts are migrated in the data source.
    fn cloudinit_rendered(&mut self, what: String, at: usize, expr: &Expression) -> bool {
        let t = self.text.get(expr.span().unwrap_or(0..0)).unwrap_or_default().trim();
        let is = matches!(expr, Expression::Traversal(_))
            && (t.starts_with("data.cloudinit_config.") || t.starts_with("data.template_cloudinit_config."))
            && t.ends_with(".rendered");
        if is {
            let detail =
                format!("{}: its parts are migrated where the data source is defined", t.trim_end_matches(".rendered"));
            self.change(at, what, ChangeKind::Followed, detail);
        }
        is
    }

    fn heredoc(&mut self, what: String, span: Option<std::ops::Range<usize>>) {
        let Some(span) = span else { return };
        let (path, text) = (self.path.to_path_buf(), self.text);
        self.heredoc_in(what, span.start, &path, text, span, "heredoc");
    }

    /// `local.NAME` whose value is a heredoc of this module: converted where it is defined.
    fn local(&mut self, what: String, at: usize, expr: &Expression) -> bool {
        let raw = self.text.get(expr.span().unwrap_or(0..0)).unwrap_or_default().trim();
        let Some(name) = raw.strip_prefix("local.") else { return false };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return false;
        }
        let locals = self.locals;
        let Some((file, text, span)) = locals.get(&self.dir, name) else { return false };
        let file = file.to_path_buf();
        let how = format!("local.{name} (a heredoc at {}:{})", file.display(), line_of(text, span.start));
        self.heredoc_in(what, at, &file, text, span, &how);
        true
    }

    /// Converts the heredoc at `span` of `file` (this file, or another of the module); the
    /// change is reported at `at` of this file.
    fn heredoc_in(
        &mut self,
        what: String,
        at: usize,
        file: &Path,
        text: &str,
        span: std::ops::Range<usize>,
        how: &str,
    ) {
        let Some(h) = userdata::heredoc(text, span.clone()) else {
            self.change(at, what, ChangeKind::Manual, format!("{how}: the heredoc could not be read"));
            return;
        };
        let body = text.get(h.body.clone()).unwrap_or_default();
        let flat = userdata::dedent(body, h.indent);
        // Named as the `.tf` file: `${var.…}` references are the configuration's own there.
        let name = file.display().to_string();
        match userdata::convert(&name, &flat, Syntax::Terraform, self.opts) {
            Converted::Done { text: new, findings } => {
                let edit = Edit { range: h.body.clone(), with: userdata::indent(&new, h.indent) };
                if file == self.path {
                    self.m.edits.push(edit);
                } else {
                    self.m.remote.push((file.to_path_buf(), edit));
                }
                let mut c = self.make(at, what, ChangeKind::Migrated, format!("{how} converted to AL2023 user data"));
                c.findings = findings;
                self.m.changes.push(c);
            }
            Converted::Unchanged(reason) => {
                self.change(at, what, ChangeKind::Unchanged, format!("{how}: {reason}"));
            }
            Converted::Empty { findings } => {
                let mut c = self.make(at, what, ChangeKind::Manual, format!("{how}: {}", Converted::empty_reason()));
                c.findings = findings;
                self.m.changes.push(c);
            }
            Converted::Refused { reason, findings } => {
                let mut c = self.make(at, what, ChangeKind::Manual, format!("{how}: {reason}"));
                c.findings = findings;
                self.m.changes.push(c);
            }
        }
    }

    /// A file the user data is read from: its path resolved against the module directory, the
    /// file migrated as a whole. A `--service-cidr` given as a Terraform expression reaches a
    /// `templatefile` template as a variable added to the call; `file()` text is literal, so
    /// there it must be a CIDR.
    fn file(&mut self, what: String, at: usize, path_expr: &Expression, vars: Option<&Expression>, syntax: Syntax) {
        let via = if syntax == Syntax::Terraform { "templatefile" } else { "file" };
        let raw = self.text.get(path_expr.span().unwrap_or(0..0)).unwrap_or_default().trim();
        let Some(rel) = resolve_path(raw) else {
            let detail = format!(
                "{via}({raw}): the path depends on values only Terraform knows; migrate that file with `eks-userdata migrate FILE`"
            );
            self.change(at, what, ChangeKind::Manual, detail);
            return;
        };
        let file = self.dir.join(&rel);
        let by = format!("{}:{}", self.path.display(), line_of(self.text, at));
        let mut opts = self.opts.clone();
        let mut var_edit = None;
        if let Some(expr) = opts.cluster.cidr.clone().and_then(|c| terraform_expression(&c)) {
            match (syntax, vars) {
                (Syntax::Terraform, Some(Expression::Object(o))) => {
                    let name = expr.rsplit('.').next().unwrap_or("service_cidr").to_string();
                    opts.cluster.cidr = Some(format!("${{{name}}}"));
                    var_edit = add_var(self.text, o, &name, &expr);
                }
                _ => opts.cluster.cidr = None,
            }
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                let detail = format!("{via}: {}: cannot read: {e}", file.display());
                self.change(at, what, ChangeKind::Manual, detail);
                return;
            }
        };
        let migrated = super::whole_file(&file, text, syntax, &by, &opts);
        let converted = migrated.changes.iter().any(|c| c.kind == ChangeKind::Migrated);
        let mut detail = format!("{via}: {}", file.display());
        if let (true, Some((edit, line))) = (converted, var_edit) {
            self.m.edits.push(edit);
            detail.push_str(&format!("; template variable `{line}` added for spec.cluster.cidr"));
        }
        self.change(at, what, ChangeKind::Followed, detail);
        self.m.files.push(migrated);
    }
}

/// An edit adding `name = expr` to a `templatefile` variables object (before its closing
/// brace, indented as its last item), unless it has the key already.
pub(super) fn add_var(text: &str, o: &Object, name: &str, expr: &str) -> Option<(Edit, String)> {
    let has = o.iter().any(|(k, _)| eks_module::key_name(k).as_deref() == Some(name));
    let line = format!("{name} = {expr}");
    if has {
        return None;
    }
    let span = o.span()?;
    let close = span.end.checked_sub(1)?;
    let before = text.get(span.start..close)?;
    // The indentation of the object's items (or two spaces), and whether it is written on
    // several lines.
    let last_line_start = before.rfind('\n').map(|i| i + 1);
    let item_indent =
        before.lines().rev().find(|l| l.contains('=')).map(|l| l.len() - l.trim_start().len()).unwrap_or(2);
    // After a blank line: `terraform fmt` aligns the `=` of consecutive lines only, so the
    // new line needs no change to the user's lines to stay formatted.
    let with = match last_line_start {
        Some(_) => format!("\n{}{line}\n", " ".repeat(item_indent)),
        None => format!(", {line} "),
    };
    // Insert at the start of the closing brace's line (multi-line) or before the brace.
    let at = match last_line_start {
        Some(l) if before.get(l..).is_some_and(|rest| rest.trim().is_empty()) => span.start + l,
        Some(_) => close,
        None => close,
    };
    Some((Edit { range: at..at, with }, line))
}

/// The literal instance types an object or block names (`instance_types = ["…"]`,
/// `instance_type = "…"`); `None` when it names none or not as literals.
fn instance_types<'e>(items: impl Iterator<Item = (&'e str, &'e Expression)>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for (k, v) in items {
        match (k, v) {
            ("instance_type", Expression::String(s)) => out.push(s.value().to_string()),
            ("instance_types", Expression::Array(a)) => {
                for e in a.iter() {
                    match e {
                        Expression::String(s) => out.push(s.value().to_string()),
                        _ => return None,
                    }
                }
            }
            ("instance_type" | "instance_types", _) => return None,
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `${var.name}` (one interpolation of a reference, nothing else): the reference.
fn terraform_expression(s: &str) -> Option<String> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?.trim();
    let ok = !inner.is_empty()
        && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        && inner.contains('.');
    ok.then(|| inner.to_string())
}

/// A path written as a string literal, or one starting `${path.module}/` (or `path.root`,
/// `path.cwd`): relative to the `.tf` file's directory, where `terraform` runs the module.
pub(super) fn resolve_path(raw: &str) -> Option<PathBuf> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let rest = ["${path.module}/", "${path.root}/", "${path.cwd}/"]
        .iter()
        .find_map(|p| inner.strip_prefix(p))
        .unwrap_or(inner);
    (!rest.contains("${") && !rest.contains("%{") && !rest.is_empty()).then(|| PathBuf::from(rest))
}

impl Visit for Walker<'_> {
    fn visit_block(&mut self, node: &Block) {
        let outer = self.resource.clone();
        if node.ident.as_str() == "resource" || node.ident.as_str() == "data" || node.ident.as_str() == "module" {
            let labels: Vec<&str> = node.labels.iter().map(|l| l.as_str()).collect();
            self.resource = match (node.ident.as_str(), labels.as_slice()) {
                ("resource", [t, n]) => Some(((*t).to_string(), (*n).to_string())),
                ("data", [t, n]) => Some((format!("data.{t}"), (*n).to_string())),
                ("module", [n]) => Some(("module".to_string(), (*n).to_string())),
                _ => None,
            };
        }
        self.instance_types.push(instance_types(
            node.body.iter().filter_map(|s| s.as_attribute()).map(|a| (a.key.as_str(), &a.value)),
        ));
        if node.ident.as_str() == "module" {
            self.eks_module(node);
        }
        let labels: Vec<&str> = node.labels.iter().map(|l| l.as_str()).collect();
        if node.ident.as_str() == "data"
            && let [kind, name] = labels.as_slice()
            && cloudinit::is_cloudinit(kind)
        {
            let what = format!("data.{kind}.{name}");
            if !self.other_os(node.span().map_or(0, |s| s.start), &what) {
                let done = cloudinit::migrate(self.path, self.text, node, &what, self.opts);
                self.m.edits.extend(done.edits);
                self.m.changes.extend(done.changes);
                self.m.files.extend(done.files);
            }
            self.consumed.extend(node.span());
        }
        visit::visit_block(self, node);
        self.instance_types.pop();
        self.resource = outer;
    }

    fn visit_object(&mut self, node: &Object) {
        let keyed: Vec<(String, &Expression)> =
            node.iter().filter_map(|(k, v)| Some((eks_module::key_name(k)?, v.expr()))).collect();
        self.instance_types.push(instance_types(keyed.iter().map(|(k, v)| (k.as_str(), *v))));
        visit::visit_object(self, node);
        self.instance_types.pop();
    }

    fn visit_attr(&mut self, node: &Attribute) {
        let key = node.key.as_str();
        let in_template = matches!(&self.resource, Some((t, _))
            if t == "aws_launch_template" || t == "aws_launch_configuration" || t == "aws_instance");
        if (key == "user_data" || key == "user_data_base64") && in_template {
            // The user data is converted whole; nothing inside it is edited twice.
            self.user_data(node);
            return;
        }
        if key == "ami_type" {
            self.ami_type(self.address("ami_type"), &node.value);
            return;
        }
        self.module_input(key, node.key.span().map_or(0, |s| s.start));
        self.keys.push(key.to_string());
        visit::visit_attr(self, node);
        self.keys.pop();
    }

    fn visit_object_item(&mut self, key: &ObjectKey, value: &ObjectValue) {
        let name = eks_module::key_name(key);
        if name.as_deref() == Some("ami_type") {
            self.ami_type(self.address("ami_type"), value.expr());
            return;
        }
        if let Some(n) = name.as_deref() {
            self.module_input(n, key.span().map_or(0, |s| s.start));
        }
        self.keys.push(name.unwrap_or_else(|| "*".into()));
        visit::visit_object_item(self, key, value);
        self.keys.pop();
    }

    fn visit_expr(&mut self, node: &Expression) {
        match node {
            Expression::String(s) => {
                if let Some(span) = s.span() {
                    self.selector_string(span);
                }
            }
            Expression::StringTemplate(t) => {
                if let Some(span) = t.span() {
                    self.selector_string(span);
                }
            }
            _ => visit::visit_expr(self, node),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_module() {
        assert_eq!(resolve_path("\"${path.module}/tpl/ud.sh\""), Some(PathBuf::from("tpl/ud.sh")));
        assert_eq!(resolve_path("\"ud.tpl\""), Some(PathBuf::from("ud.tpl")));
        assert_eq!(resolve_path("\"${var.dir}/ud.tpl\""), None);
        assert_eq!(resolve_path("local.path"), None);
        assert_eq!(terraform_expression("${var.service_ipv4_cidr}").as_deref(), Some("var.service_ipv4_cidr"));
        assert_eq!(terraform_expression("10.100.0.0/16"), None);
        assert_eq!(terraform_expression("${cidrsubnet(var.x, 4, 1)}"), None);
    }
}
