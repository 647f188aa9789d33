//! The walker's reading of `module` blocks: `terraform-aws-modules/eks` node group maps and
//! submodules, written inline or as `local.NAME` objects in any `.tf` file of the module, each
//! migrated by `eks_module::group`; and the AL2 user data inputs of node group modules this tool
//! does not read (a fork, a local copy), listed for a person.

use super::edit::line_of;
use super::eks_module;
use super::terraform::Walker;
use super::{Change, ChangeKind};
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;
use std::path::Path;

impl Walker<'_> {
    /// An AL2 user data input of a node group module this tool does not read (a local copy of
    /// the EKS module, a fork): listed for a person, as the EKS module ignores it under AL2023.
    pub(super) fn module_input(&mut self, name: &str, at: usize) {
        let in_module = matches!(&self.resource, Some((t, _)) if t == "module");
        if in_module && eks_module::is_al2_input(name) && !self.is_consumed(at) {
            let what = self.address(name);
            let detail = format!(
                "`{name}`: terraform-aws-modules/eks (v20 and later) ignores it for AL2023 node groups; move it into cloudinit_pre_nodeadm (this module's source is not one this tool reads)"
            );
            self.change(at, what, ChangeKind::Manual, detail);
        }
    }

    /// A `terraform-aws-modules/eks` module block: its node group maps (`eks_module.rs`).
    pub(super) fn eks_module(&mut self, node: &Block) {
        let attr = |name: &str| node.body.iter().filter_map(|s| s.as_attribute()).find(|a| a.key.as_str() == name);
        let source = match attr("source").map(|a| &a.value) {
            Some(Expression::String(s)) => s.value().to_string(),
            _ => return,
        };
        if !eks_module::is_eks_module(&source) {
            return;
        }
        let version = match attr("version").map(|a| &a.value) {
            Some(Expression::String(s)) => eks_module::lowest(s.value()),
            _ => None,
        };
        let module = node.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
        // A node group submodule: its own arguments are the group's inputs.
        if let Some((_, sub)) = source.split_once("//modules/") {
            let managed = match sub.trim_end_matches('/') {
                "eks-managed-node-group" => true,
                "self-managed-node-group" => false,
                _ => return,
            };
            let args: Vec<(String, usize, &Expression)> = node
                .body
                .iter()
                .filter_map(|s| s.as_attribute())
                .filter_map(|a| Some((a.key.as_str().to_string(), a.key.span()?.start, &a.value)))
                .collect();
            let cx = eks_module::Context { managed, version, default_ami_type: None, is_defaults: false };
            let (path, text) = (self.path, self.text);
            self.node_group(format!("module.{module}"), path, text, &args, node.span().unwrap_or(0..0), cx);
            return;
        }
        // A group without its own ami_type takes the defaults object's.
        let default_ami_type = |defaults: &str| match attr(defaults).map(|a| &a.value) {
            Some(Expression::Object(o)) => {
                o.iter().find(|(k, _)| eks_module::key_name(k).as_deref() == Some("ami_type")).map(|(_, v)| v.expr())
            }
            _ => None,
        };
        for (input, managed, map) in [
            ("eks_managed_node_groups", true, true),
            ("eks_managed_node_group_defaults", true, false),
            ("self_managed_node_groups", false, true),
            ("self_managed_node_group_defaults", false, false),
        ] {
            let Some(value) = attr(input).map(|a| &a.value) else { continue };
            let defaults = if managed { "eks_managed_node_group_defaults" } else { "self_managed_node_group_defaults" };
            let cx = eks_module::Context {
                managed,
                version,
                default_ami_type: if map { default_ami_type(defaults) } else { None },
                is_defaults: !map,
            };
            let what = format!("module.{module}.{input}");
            let (path, text) = (self.path, self.text);
            self.group_value(&what, path, text, value, map, cx);
        }
    }

    /// A node group map (`map`) or one group, written inline or as `local.NAME` (followed to
    /// the object in whichever `.tf` file of the module defines it).
    pub(super) fn group_value(
        &mut self,
        what: &str,
        path: &Path,
        text: &str,
        value: &Expression,
        map: bool,
        cx: eks_module::Context<'_>,
    ) {
        match value {
            Expression::Object(o) if map => {
                for (k, v) in o.iter() {
                    let Some(name) = eks_module::key_name(k) else { continue };
                    self.group_value(&format!("{what}.{name}"), path, text, v.expr(), false, cx);
                }
            }
            Expression::Object(g) => {
                self.node_group(
                    what.to_string(),
                    path,
                    text,
                    &eks_module::object_inputs(g),
                    g.span().unwrap_or(0..0),
                    cx,
                );
            }
            other => {
                let raw = text.get(other.span().unwrap_or(0..0)).unwrap_or_default().trim();
                let local = raw
                    .strip_prefix("local.")
                    .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let found = local.and_then(|n| self.locals.object(&dir, n));
                let Some((file, ftext, span)) = found else {
                    self.unfollowed(what, path, text, other, raw);
                    return;
                };
                let (file, ftext) = (file.to_path_buf(), ftext.to_string());
                let Ok(body) = hcl_edit::parser::parse_body(&ftext) else { return };
                let object = body
                    .iter()
                    .filter_map(|s| s.as_block())
                    .filter(|b| b.ident.as_str() == "locals")
                    .flat_map(|b| b.body.iter().filter_map(|s| s.as_attribute()))
                    .find(|a| a.value.span() == Some(span.clone()))
                    .map(|a| &a.value);
                if let Some(object) = object {
                    self.group_value(what, &file, &ftext, object, map, cx);
                }
            }
        }
    }

    /// A group (or map) built by an expression this tool does not evaluate (`var.x`,
    /// `merge(…)`): a person looks when it names AL2 settings itself; otherwise it is said.
    pub(super) fn unfollowed(&mut self, what: &str, path: &Path, text: &str, value: &Expression, raw: &str) {
        let at = value.span().map_or(0, |s| s.start);
        let al2 = ["AL2_", "bootstrap_extra_args", "pre_bootstrap_user_data", "post_bootstrap_user_data"]
            .iter()
            .any(|k| raw.contains(k));
        let shown: String = raw.lines().next().unwrap_or_default().chars().take(60).collect();
        let (kind, detail) = if al2 {
            (
                ChangeKind::Manual,
                format!(
                    "built by `{shown}…`, which this tool does not evaluate, and it names AL2 settings: migrate them where the values are written"
                ),
            )
        } else {
            (
                ChangeKind::Unchanged,
                format!(
                    "built by `{shown}`, which this tool does not evaluate: where its values name no ami_type, the module's default applies (AL2 before v21)"
                ),
            )
        };
        self.m.changes.push(Change::new(path, line_of(text, at), what, kind, detail));
    }

    /// One node group, in this file or (a local) in another file of the module.
    pub(super) fn node_group(
        &mut self,
        what: String,
        path: &Path,
        text: &str,
        args: &[(String, usize, &Expression)],
        span: std::ops::Range<usize>,
        cx: eks_module::Context<'_>,
    ) {
        let inputs: Vec<eks_module::Input<'_>> = args
            .iter()
            .map(|(name, key_start, value)| eks_module::Input { name: name.as_str(), key_start: *key_start, value })
            .collect();
        let at = eks_module::At { path, text, what: &what, inputs: &inputs, span: (span.start, span.end) };
        let done = eks_module::group(at, cx, self.opts);
        self.m.changes.extend(done.changes);
        if path == self.path {
            self.m.edits.extend(done.edits);
            self.consumed.extend(done.consumed);
        } else {
            self.m.remote.extend(done.edits.into_iter().map(|e| (path.to_path_buf(), e)));
            self.m.held.extend(done.consumed.into_iter().map(|r| (path.to_path_buf(), r)));
        }
    }
}
