//! `#cloud-config` user data: `runcmd`/`bootcmd` items that call bootstrap.sh are translated like
//! script lines and removed; the rest of the document is kept byte for byte (cloud-init's module
//! semantics, docs §6.2 of al2-node). Mounts over node state and AL2-only commands are reported.

use super::codes;
use super::context::Ctx;
use super::script::translate_script;
use crate::al2::shell;
use crate::al2::template::Syntax;
use crate::nodeconfig::types::NodeConfig;
use crate::userdata::mime_write::OutPart;
use crate::userdata::{Part, PartKind};
use serde_json::Value;

/// `#cloud-config` with `runcmd`/`bootcmd` items that call bootstrap.sh: each such item is
/// translated like a script line and removed from the cloud-config, which is otherwise kept
/// byte for byte.
pub(super) fn translate_cloud_config(
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
        let (Some(before), Some(after)) = (text.get(..ns.value.0), text.get(ns.value.1..)) else { continue };
        let mut sub = Ctx::new(cx.opts, cx.part).anchored(ns.value.0);
        let mut discard = Vec::new();
        let script = format!("{line}\n");
        let parsed = super::script::analyse(&script, cx.opts, None);
        translate_script(&mut sub, part, &line, &script, parsed, None, nc, &mut discard, headers.clone());
        cx.entries.extend(sub.entries.into_iter().filter(|d| d.code != codes::SCRIPT_KEPT.code));
        cx.data_volumes.append(&mut sub.data_volumes);
        // Remove the item's whole line(s): from the start of its line to the end of its value.
        let start = before.rfind('\n').map_or(0, |p| p + 1);
        let end = after.find('\n').map_or(text.len(), |p| ns.value.1 + p + 1);
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
            body.push_str(text.get(last..s_).unwrap_or_default());
            last = e;
        }
    }
    body.push_str(text.get(last..).unwrap_or_default());
    out.push(OutPart { headers, body: body.into_bytes() });
}

/// Every `bootcmd`/`runcmd` item as a shell command line (a list item is an argv, a string is
/// run by sh), with its key and index.
pub(super) fn cloud_config_commands(doc: &Value) -> Vec<(&'static str, usize, String)> {
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
pub(super) fn is_cloud_config(text: &str) -> bool {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim().to_ascii_lowercase();
    first.starts_with("#cloud-config")
        || (first.starts_with("## template:")
            && lines.next().is_some_and(|l| l.trim().to_ascii_lowercase().starts_with("#cloud-config")))
}

/// A word quoted for sh when it needs quoting.
pub(super) fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
