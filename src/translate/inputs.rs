//! Inputs that are not a script with `#!`: an eksctl node group (`preBootstrapCommands`,
//! `overrideBootstrapCommand`), a pasted snippet, a bare bootstrap.sh argument string
//! (CloudFormation `BootstrapArguments`).

use crate::al2::shell;
use crate::al2::template;
use serde_json::Value;

/// eksctl's node group YAML (`preBootstrapCommands`, `overrideBootstrapCommand`) as one script,
/// and the offset of the first of those keys.
pub(super) fn eksctl_script(text: &str) -> Option<(String, usize)> {
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
pub(super) fn looks_like_shell(text: &str) -> bool {
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
pub(super) fn looks_like_bare_args(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && !t.starts_with('#')
        && t.lines().count() <= 3
        && (t.starts_with('-') || t.contains(" --"))
        && !t.contains(": ")
}
