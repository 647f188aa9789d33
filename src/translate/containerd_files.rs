//! Edits of AL2's containerd configuration, judged by what containerd ran with (al2-node §4.1):
//! the template `/etc/eks/containerd/containerd-config.toml` (bootstrap.sh copied it to the live
//! config), `/etc/containerd/config.toml` itself (replaced by bootstrap.sh when written before
//! it), and `config.d` imports (a plugin table there replaced the main one). The difference
//! between the AL2 node's final config and the AMI's becomes `spec.containerd.config`, which
//! nodeadm merges over its own (docs §1.2). None of these paths exist for AL2023's containerd
//! configuration, so the commands leave the script.

use super::codes;
use super::context::Ctx;
use crate::al2::fs::{self, Content};
use crate::al2::node::Node;
use crate::al2::paths::{self, Kind};
use crate::nodeconfig::types::NodeConfig;
use toml::{Table, Value};

/// Keys whose change is not carried: the pause image is the AMI's own on AL2023, and nodeadm's
/// config has no `imports`.
const SKIP: &[&str] = &["sandbox_image", "imports"];

/// A TOML key as written in a dotted path.
fn quote(k: &str) -> String {
    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        format!("\"{k}\"")
    }
}

/// What `new` sets that `base` does not have (or has with another value), and the dotted paths
/// `base` has that `new` lost.
fn delta(base: &Table, new: &Table, path: &str, removed: &mut Vec<String>) -> Table {
    let mut out = Table::new();
    for (k, v) in new {
        if SKIP.contains(&k.as_str()) {
            continue;
        }
        match (base.get(k), v) {
            (Some(Value::Table(b)), Value::Table(n)) => {
                let d = delta(b, n, &format!("{path}{}.", quote(k)), removed);
                if !d.is_empty() {
                    out.insert(k.clone(), Value::Table(d));
                }
            }
            (Some(b), n) if b == n => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in base {
        if !new.contains_key(k) && !SKIP.contains(&k.as_str()) {
            match v {
                Value::Table(t) => {
                    let mut inner = Vec::new();
                    let _ = delta(t, &Table::new(), &format!("{path}{}.", quote(k)), &mut inner);
                    if inner.is_empty() {
                        removed.push(format!("{path}{}", quote(k)));
                    }
                    removed.extend(inner);
                }
                _ => removed.push(format!("{path}{}", quote(k))),
            }
        }
    }
    out
}

/// containerd's final config with its `config.d` imports merged (containerd 1.7's rule).
fn effective(node: &Node) -> Option<Table> {
    let mut main: Table = node.fs.content(fs::CONTAINERD_CONFIG)?.known()?.parse().ok()?;
    for (path, f) in node.fs.dir(fs::CONTAINERD_IMPORTS) {
        let Some(t) = f.content.known().filter(|_| path.ends_with(".toml")) else { continue };
        let Ok(imp) = t.parse::<Table>() else { continue };
        for (k, v) in imp {
            match (k.as_str(), v, main.get_mut("plugins")) {
                ("plugins", Value::Table(plugins), Some(Value::Table(p))) => p.extend(plugins),
                (_, v, _) => {
                    main.insert(k, v);
                }
            }
        }
    }
    Some(main)
}

fn span_of(cx: &Ctx, command: usize) -> (usize, usize) {
    cx.command_spans.get(command).copied().unwrap_or((0, 0))
}

/// Translates this part's containerd file edits; returns the commands to remove, with why.
pub(super) fn apply(cx: &mut Ctx, pi: usize, node: &Node, nc: &mut NodeConfig) -> Vec<(usize, &'static str)> {
    let writes: Vec<&crate::al2::node::Write> = node
        .writes
        .iter()
        .filter(|w| {
            matches!(
                paths::kind(&w.op.path),
                Kind::ContainerdTemplate | Kind::ContainerdConfig | Kind::ContainerdImport
            )
        })
        .collect();
    if !writes.iter().any(|w| w.part == pi) {
        return Vec::new();
    }
    let mine: Vec<&&crate::al2::node::Write> = writes.iter().filter(|w| w.part == pi).collect();
    let removed: Vec<(usize, &'static str)> = mine
        .iter()
        .map(|w| {
            let why = match paths::kind(&w.op.path) {
                Kind::ContainerdTemplate => {
                    "containerd template edit; /etc/eks/containerd does not exist on AL2023 (see the report)"
                }
                Kind::ContainerdImport => {
                    "containerd import edit; nodeadm's containerd config has no imports (see the report)"
                }
                _ => "containerd configuration edit; nodeadm writes this file itself, what became of the edit is in the report",
            };
            (w.op.command, why)
        })
        .collect();
    let first = mine.first().map_or((0, 0), |w| span_of(cx, w.op.command));
    for w in mine.iter().filter(|w| w.not_taken.is_some()) {
        let why = w.not_taken.clone().unwrap_or_default();
        cx.push(
            &codes::DEAD_ON_AL2,
            pi,
            span_of(cx, w.op.command),
            format!("this writes {} in a branch AL2 did not take ({why}); removed", w.op.path),
            None,
        );
    }
    let unknown = writes.iter().filter(|w| w.not_taken.is_none()).find_map(|w| match &w.result {
        Content::Unknown(why) => Some(why.clone()),
        _ => w.unreplayed.clone(),
    });
    if let Some(why) = unknown {
        cx.push(
            &codes::NOT_REPLAYED,
            pi,
            first,
            format!("this containerd configuration edit cannot be replayed ({why}); what containerd ran with is unknown; removed"),
            Some("put the tables it meant in spec.containerd.config".into()),
        );
        return removed;
    }
    // `--containerd-config-file` already inlines the file the call installed (CV414).
    if node
        .run
        .as_ref()
        .is_some_and(|r| r.vars.env.get("CONTAINERD_CONFIG_FILE").is_some_and(|v| !v.value.text().is_empty()))
    {
        return removed;
    }
    if node.run.is_none() {
        cx.push(
            &codes::NOT_REPLAYED,
            pi,
            first,
            "this edits containerd's AL2 configuration, but no bootstrap.sh call in this user data installs it, so what containerd ran with is unknown; removed".into(),
            Some("convert the user data together with the part that called bootstrap.sh".into()),
        );
        return removed;
    }
    // Config writes before bootstrap.sh were replaced by its template.
    for w in &mine {
        if paths::kind(&w.op.path) == Kind::ContainerdConfig && w.before_call {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span_of(cx, w.op.command),
                format!("this writes {} before bootstrap.sh, which then replaced it with its template; containerd never ran with it; removed", w.op.path),
                None,
            );
        }
    }
    let base: Table = fs::ami_containerd_template()
        .replace("SANDBOX_IMAGE", "<pause-image-in-regional-ecr>")
        .parse()
        .unwrap_or_default();
    let Some(now) = effective(node) else {
        cx.push(
            &codes::NOT_REPLAYED,
            pi,
            first,
            "after these edits containerd's config is not valid TOML, so containerd did not start on AL2; removed"
                .into(),
            None,
        );
        return removed;
    };
    let mut lost = Vec::new();
    let d = delta(&base, &now, "", &mut lost);
    if !lost.is_empty() {
        cx.push(
            &codes::MAP_SEMANTICS,
            pi,
            first,
            format!("on AL2 the edits left out {}; spec.containerd.config is merged over nodeadm's config, which keeps its own values there", lost.join(", ")),
            None,
        );
    }
    if d.is_empty() {
        cx.push(
            &codes::DEAD_ON_AL2,
            pi,
            first,
            "these containerd edits change nothing containerd ran with; removed".into(),
            None,
        );
        return removed;
    }
    let text = toml::to_string(&d).unwrap_or_default();
    let tables: Vec<String> = d.keys().cloned().collect();
    if nc.spec.containerd.config.is_empty() {
        nc.spec.containerd.config = text;
    } else {
        let mut merged: Table = nc.spec.containerd.config.parse().unwrap_or_default();
        crate::nodeconfig::merge::merge_toml(&mut merged, &d);
        nc.spec.containerd.config = toml::to_string(&merged).unwrap_or_default();
    }
    cx.push(
        &codes::FILE_TRANSLATED,
        pi,
        first,
        format!("the containerd configuration these edits gave the AL2 node ({}) → spec.containerd.config; removed from the script", tables.join(", ")),
        None,
    );
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_keeps_changed_leaves_and_lists_lost_ones() {
        let base: Table = "a = 1\n[p.x]\nk = true\nj = 2\n".parse().unwrap();
        let new: Table = "a = 1\nm = \"x\"\n[p.x]\nk = false\n".parse().unwrap();
        let mut lost = Vec::new();
        let d = delta(&base, &new, "", &mut lost);
        assert_eq!(toml::to_string(&d).unwrap(), "m = \"x\"\n\n[p.x]\nk = false\n");
        assert_eq!(lost, ["p.x.j"]);
    }
}
