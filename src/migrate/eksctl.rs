//! eksctl `ClusterConfig` files (`eksctl.io/v1alpha5`), migrated by replacing only the bytes
//! that change, located with the project's YAML span index. The rules are eksctl's own, read
//! from its source (eksctl-io/eksctl at 99984adb, `pkg/apis/eksctl.io/v1alpha5/validation.go`,
//! `pkg/nodebootstrap/al2023.go`):
//! - `amiFamily: AmazonLinux2` → `AmazonLinux2023` (matched without regard to case, as eksctl
//!   does); a node group without `amiFamily` gets one, as eksctl before 0.219 picked AL2 for it;
//! - `overrideBootstrapCommand` must be a NodeConfig under AL2023 (eksctl appends it as an
//!   `application/node.eks.aws` part): a bootstrap.sh script there is converted, for a node group
//!   whose cluster section eksctl (or EKS) writes;
//! - `containerRuntime` is removed: eksctl rejects it beside `overrideBootstrapCommand`, and
//!   AL2023 runs only containerd;
//! - a custom `ami`, and `preBootstrapCommands` that still call bootstrap.sh or set
//!   `KUBELET_EXTRA_ARGS`, are listed for a person.
//!
//! `kubeletExtraConfig`, `maxPodsPerNode`, `labels` and `taints` stay: eksctl writes them into
//! the NodeConfig it generates for AL2023 (`al2023.go`).
//!
//! AL2023 options in a ClusterConfig need eksctl 0.199.0 or later (overrideBootstrapCommand,
//! preBootstrapCommands); the report says so on each group that has them. A group with anything
//! a person must deal with keeps its AL2 family, so a half-migrated group never reaches eksctl.

use super::edit::{Edit, line_of};
use super::{Change, ChangeKind};
use crate::al2::template::Syntax;
use crate::nodeconfig::yaml;
use crate::target::Target;
use crate::translate;
use serde_json::Value;
use std::path::Path;

/// Whether a YAML text is an eksctl ClusterConfig.
pub fn looks_like(text: &str) -> bool {
    text.contains("eksctl.io/v1alpha5") && text.contains("ClusterConfig")
}

pub use super::Found as Migration;

pub fn migrate(path: &Path, text: &str, opts: &translate::Options) -> Migration {
    let mut m = Migration::default();
    let doc = match yaml::parse_indexed(text) {
        Ok(d) => d,
        Err(e) => {
            m.changes.push(Change::new(
                path,
                1,
                "file",
                ChangeKind::Manual,
                format!("not YAML this tool can read: {e}"),
            ));
            return m;
        }
    };
    for kind in ["nodeGroups", "managedNodeGroups"] {
        let Some(groups) = doc.value.get(kind).and_then(Value::as_array) else { continue };
        for (i, g) in groups.iter().enumerate() {
            let name = g.get("name").and_then(Value::as_str).unwrap_or("?");
            let what = format!("{kind}.{name}");
            let at = |field: &str| {
                let pointer = format!("/{kind}/{i}/{field}");
                doc.spans.lookup(&pointer).filter(|(p, _)| *p == pointer).map(|(_, s)| s)
            };
            let group = Group { path, text, what: &what, opts, at: &at };
            group.migrate(g, &mut m);
        }
    }
    m
}

struct Group<'a> {
    path: &'a Path,
    text: &'a str,
    what: &'a str,
    opts: &'a translate::Options,
    at: &'a dyn Fn(&str) -> Option<crate::nodeconfig::yaml::NodeSpan>,
}

impl Group<'_> {
    fn change(&self, offset: usize, kind: ChangeKind, detail: String) -> Change {
        Change::new(self.path, line_of(self.text, offset), self.what, kind, detail)
    }

    fn migrate(&self, g: &Value, m: &mut Migration) {
        let family = g.get("amiFamily").and_then(Value::as_str);
        let al2023 = match family {
            Some(f) if f.eq_ignore_ascii_case("AmazonLinux2023") => true,
            Some(f) if f.eq_ignore_ascii_case("AmazonLinux2") => false,
            None => false,
            // Bottlerocket, Ubuntu, Windows: not ours.
            Some(_) => return,
        };
        // Everything else the group needs, before its family changes.
        let mut own = Migration::default();
        self.rest(g, &mut own);
        let blocked = own.changes.iter().any(|c| c.kind == ChangeKind::Manual);
        if blocked && !al2023 {
            // An AL2023 family with what only AL2 runs would be a node group that cannot join:
            // the group stays AL2 until a person has dealt with it.
            for mut c in own.changes.into_iter().filter(|c| c.kind == ChangeKind::Manual) {
                c.detail.push_str("; amiFamily is left as it is until then");
                m.changes.push(c);
            }
            return;
        }
        if !al2023 && let Some(c) = self.family(family, m) {
            let mut c = c;
            if g.get("overrideBootstrapCommand").is_some() || g.get("preBootstrapCommands").is_some() {
                c.notes.push("AL2023 node groups with overrideBootstrapCommand or preBootstrapCommands need eksctl 0.199.0 or later".into());
            }
            m.changes.push(c);
        }
        m.edits.extend(own.edits);
        m.changes.extend(own.changes);
    }

    /// `amiFamily` set to AmazonLinux2023 (or added after `name:`): the edit, and its change.
    fn family(&self, family: Option<&str>, m: &mut Migration) -> Option<Change> {
        if let Some(f) = family {
            let (start, end) = (self.at)("amiFamily")?.value;
            m.edits.push(Edit { range: start..end, with: "AmazonLinux2023".into() });
            return Some(self.change(start, ChangeKind::Migrated, format!("amiFamily: {f} → AmazonLinux2023")));
        }
        // A new line after `name:`, indented as it is.
        let (key_start, _) = (self.at)("name")?.key?;
        let line_start = self.text.get(..key_start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
        let col = key_start - line_start;
        let eol = self.text.get(key_start..).and_then(|t| t.find('\n')).map(|i| key_start + i + 1)?;
        m.edits.push(Edit { range: eol..eol, with: format!("{}amiFamily: AmazonLinux2023\n", " ".repeat(col)) });
        Some(self.change(
            key_start,
            ChangeKind::Migrated,
            "amiFamily: (not set: AmazonLinux2 before eksctl 0.219 below Kubernetes 1.33) → AmazonLinux2023".into(),
        ))
    }

    /// What the group needs besides its family: a custom AMI, containerRuntime, AL2-only
    /// preBootstrapCommands, and an overrideBootstrapCommand script.
    fn rest(&self, g: &Value, m: &mut Migration) {
        if let (Some(ami), Some(s)) = (g.get("ami").and_then(Value::as_str), (self.at)("ami"))
            && ami.starts_with("ami-")
        {
            m.changes.push(self.change(
                s.value.0,
                ChangeKind::Manual,
                format!("ami: {ami} is a custom AMI: replace it with an AL2023 AMI (or `auto-ssm`)"),
            ));
        }
        if let Some(s) = (self.at)("containerRuntime")
            && let Some(range) = whole_line(self.text, s)
        {
            m.edits.push(Edit { range, with: String::new() });
            m.changes.push(self.change(
                s.value.0,
                ChangeKind::Migrated,
                "containerRuntime removed: AL2023 runs only containerd, and eksctl rejects it beside overrideBootstrapCommand".into(),
            ));
        }
        if let Some(cmds) = g.get("preBootstrapCommands").and_then(Value::as_array) {
            if cmds.iter().filter_map(Value::as_str).any(|c| c.contains("docker")) {
                let at = (self.at)("preBootstrapCommands").map_or(0, |s| s.value.0);
                m.changes.push(self.change(
                    at,
                    ChangeKind::Manual,
                    "preBootstrapCommands use Docker, which AL2023 nodes do not have (containerd only): configure containerd instead (NodeConfig spec.containerd.config)".into(),
                ));
            }
            let al2 = cmds
                .iter()
                .filter_map(Value::as_str)
                .any(|c| c.contains("/etc/eks/bootstrap.sh") || c.contains("KUBELET_EXTRA_ARGS"));
            if al2 {
                let at = (self.at)("preBootstrapCommands").map_or(0, |s| s.value.0);
                m.changes.push(self.change(
                    at,
                    ChangeKind::Manual,
                    "preBootstrapCommands call bootstrap.sh or set KUBELET_EXTRA_ARGS, which AL2023 has not: move those settings into kubeletExtraConfig or overrideBootstrapCommand (a NodeConfig)".into(),
                ));
            }
        }
        if let (Some(script), Some(s)) =
            (g.get("overrideBootstrapCommand").and_then(Value::as_str), (self.at)("overrideBootstrapCommand"))
        {
            self.override_command(script, s, m);
        }
    }

    /// `overrideBootstrapCommand: |` with a bootstrap.sh script → the NodeConfig it amounts to.
    fn override_command(&self, script: &str, s: crate::nodeconfig::yaml::NodeSpan, m: &mut Migration) {
        let at = s.value.0;
        let opts = translate::Options { target: Target::Mng, ..self.opts.clone() };
        let (out, findings) =
            match super::userdata::convert(&self.path.display().to_string(), script, Syntax::None, &opts) {
                // Already a NodeConfig, or no bootstrap.sh call: nothing AL2 to convert.
                super::userdata::Converted::Unchanged(_) => return,
                super::userdata::Converted::Empty { findings } => (None, findings),
                super::userdata::Converted::Done { text, findings } => (Some(text), findings),
                super::userdata::Converted::Refused { findings, .. } => (None, findings),
            };
        let env =
            out.as_deref().map(|o| crate::userdata::Envelope::parse(o.as_bytes(), &crate::userdata::Limits::default()));
        let nodeconfig = env.as_ref().and_then(|e| match e.parts.as_slice() {
            [only] if only.media() == Some("application/node.eks.aws") => String::from_utf8(only.body.clone()).ok(),
            _ => None,
        });
        let (Some(nodeconfig), Some(range)) =
            (nodeconfig, super::userdata::yaml_block(self.text, s.value.0, s.value.1))
        else {
            let mut c = self.change(
                at,
                ChangeKind::Manual,
                "overrideBootstrapCommand must be a NodeConfig under AL2023; this script does more than bootstrap.sh (or is not a `|` block): move its other commands into preBootstrapCommands and convert the call with `eks-userdata convert --target mng`".into(),
            );
            c.findings = findings;
            m.changes.push(c);
            return;
        };
        let with = super::userdata::reindent_block(self.text, &range, &nodeconfig);
        m.edits.push(Edit { range, with });
        let mut c =
            self.change(at, ChangeKind::Migrated, "overrideBootstrapCommand: bootstrap.sh script → NodeConfig".into());
        if findings.iter().any(|f| f.contains("CV439")) {
            c.notes.push("eksctl applies a node group's `labels` and `taints` fields for both node group kinds: set what was left out there".into());
        }
        c.findings = findings;
        m.changes.push(c);
    }
}

/// The line of a `key: scalar` entry, newline included, when nothing else is on it.
fn whole_line(text: &str, s: crate::nodeconfig::yaml::NodeSpan) -> Option<std::ops::Range<usize>> {
    let (key_start, _) = s.key?;
    let start = text.get(..key_start)?.rfind('\n').map_or(0, |i| i + 1);
    if !text.get(start..key_start)?.trim().is_empty() {
        return None;
    }
    let end = text.get(s.value.1..)?.find('\n').map_or(text.len(), |i| s.value.1 + i + 1);
    Some(start..end)
}
