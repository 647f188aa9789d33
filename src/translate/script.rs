//! One shell script (a part, an eksctl command list, a bare argument string): parsed with a
//! real shell parser, analysed (`al2::analysis`), every bootstrap.sh call translated, and the rest
//! kept as a shell part with the calls replaced by `true`.

use super::branches;
use super::codes;
use super::context::Ctx;
use super::disks::disks;
use super::lifecycle::{post_bootstrap_tail, post_bootstrap_unit};
use super::residual::{residual, text_of, trivial};
use crate::al2::analysis;
use crate::al2::kubelet_flags;
use crate::al2::maxpods;
use crate::al2::node::Node;
use crate::al2::shell;
use crate::al2::template;
use crate::diagnostic::Severity;
use crate::nodeconfig::types::NodeConfig;
use crate::userdata::Part;
use crate::userdata::mime_write::OutPart;

/// Parses and analyses a script as the shell would read it.
pub(super) fn analyse(script_text: &str, opts: &super::Options) -> Result<analysis::Analysis, shell::ParseError> {
    let syntax = opts.template.unwrap_or_else(|| template::detect(script_text));
    shell::parse(script_text, syntax).map(analysis::analyze)
}

/// Translates one script: its calls into `nc`, its disk commands, file edits and moved tail,
/// and the rest into a kept shell part in `out`. `node` is the AL2 node all parts built, when
/// this script is part of it.
#[allow(clippy::too_many_arguments)]
pub(super) fn translate_script(
    cx: &mut Ctx,
    part: &Part,
    text: &str,
    script_text: &str,
    parsed: Result<analysis::Analysis, shell::ParseError>,
    node: Option<&Node>,
    nc: &mut NodeConfig,
    out: &mut Vec<OutPart>,
    headers: Vec<(String, String)>,
) {
    let pi = part.index;
    cx.text = script_text.to_string();
    let a = match parsed {
        Ok(a) => a,
        Err(e) => {
            let at = e.offset.unwrap_or(0);
            cx.push(
                &codes::PARSE_ERROR,
                pi,
                (at, at),
                format!("{e}; the script is kept unchanged and not translated"),
                Some("correct the syntax, or pass --template if it is a template".into()),
            );
            out.push(OutPart { headers, body: text.as_bytes().to_vec() });
            return;
        }
    };
    let _ = node;
    cx.calculators = a
        .script
        .commands
        .iter()
        .flat_map(|c| {
            let exported = c
                .words
                .iter()
                .skip(1)
                .filter_map(|w| w.raw.split_once('=').map(|(n, v)| (n.to_string(), v.to_string())));
            c.assignments.iter().map(|(n, w)| (n.clone(), w.raw.clone())).chain(exported)
        })
        .filter_map(|(n, v)| maxpods::parse(&v).map(|c| (n, c)))
        .collect();
    cx.files = a
        .files
        .iter()
        .filter(|fw| !fw.content.is_runtime())
        .map(|fw| (fw.path.clone(), fw.command, fw.content.text().to_string()))
        .collect();
    for idx in &a.patches {
        let cmd = &a.script.commands[*idx];
        cx.push(
            &codes::PATCHED,
            pi,
            cmd.span,
            "this command edits /etc/eks/bootstrap.sh; on AL2023 that file is a stub, so the edit does nothing".into(),
            Some("express what the edit did as a NodeConfig field".into()),
        );
    }
    for (idx, path, vars) in &a.env_files {
        let cmd = &a.script.commands[*idx];
        cx.push(
            &codes::ENV_FILE,
            pi,
            cmd.span,
            format!("writes {} to {path}, which nothing sources: bootstrap.sh never read it, and nothing on AL2023 does; not translated", vars.join(", ")),
            Some("pass the setting as a bootstrap.sh flag and convert again, or set the NodeConfig field".into()),
        );
    }
    for (i, cmd) in a.script.commands.iter().enumerate() {
        if let Some(l) = crate::al2::legacy::classify(i, cmd) {
            cx.push(&codes::AL2_ONLY, pi, cmd.span, format!("{}: {}; kept", l.what, l.instead), None);
        }
    }
    if a.invocations.is_empty() {
        let exported: Vec<&str> = crate::al2::bootstrap::Flag::ALL
            .iter()
            .map(|f| f.env_var())
            .filter(|v| {
                a.script.commands.iter().any(|c| {
                    c.name() == Some("export")
                        && c.words.iter().any(|w| w.parsed.starts_with(&format!("{v}=")) || w.parsed == *v)
                })
            })
            .collect();
        if !exported.is_empty() {
            cx.push(
                &codes::ORPHAN_ENV,
                pi,
                (0, 0),
                format!(
                    "exports {} but never calls bootstrap.sh; nothing on AL2023 reads it, so the setting is lost",
                    exported.join(", ")
                ),
                Some("convert together with the part that called bootstrap.sh, or set the NodeConfig field".into()),
            );
        }
    }
    let first_nc = branches::combine(cx, pi, &a, out);
    if let Some(first) = first_nc {
        let _ = crate::nodeconfig::merge::merge_into(nc, &first);
    }
    let later: Vec<&shell::Command> =
        a.after_bootstrap.iter().map(|i| &a.script.commands[*i]).filter(|c| !trivial(c)).collect();
    if let Some(first) = later.first() {
        let list: Vec<String> = later
            .iter()
            .take(5)
            .map(|c| {
                format!(
                    "`{}`",
                    c.words
                        .iter()
                        .map(|w| w.raw.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .chars()
                        .take(50)
                        .collect::<String>()
                )
            })
            .collect();
        let more = if later.len() > 5 { format!(" and {} more", later.len() - 5) } else { String::new() };
        let span = (first.span.0, later.last().map_or(first.span.1, |c| c.span.1));
        cx.push(
            &codes::AFTER_BOOTSTRAP,
            pi,
            span,
            format!("{} command(s) ran after bootstrap.sh, with kubelet running: {}{more}; on AL2023 they run before kubelet starts", later.len(), list.join(", ")),
            Some("anything that needs a running kubelet belongs in a systemd unit ordered After=nodeadm-run.service".into()),
        );
    }
    // Disk commands: data volumes over node state become a safe script; wipes go.
    let mut replaced: Vec<usize> = disks(cx, pi, &a, out, nc);
    // jq edits of the AL2 kubelet config file become kubelet.config keys.
    for (i, cmd) in a.script.commands.iter().enumerate() {
        let Some(filter) = crate::al2::jq::find(&text_of(text, cmd.span, cx.shift)) else { continue };
        match crate::al2::jq::assignments(&filter) {
            Ok(keys) => {
                let names: Vec<String> = keys.iter().map(|(k, _)| format!("spec.kubelet.config.{k}")).collect();
                for (k, v) in keys {
                    kubelet_flags::apply(&mut nc.spec.kubelet.config, &k, v, false);
                }
                cx.push(&codes::JQ_EDIT, pi, cmd.span, format!("the jq edit `{filter}` of the kubelet config → {}; the command is removed", names.join(", ")), None);
                if let Some(last) = cx.entries.last_mut() {
                    last.severity = Severity::Info;
                }
                replaced.push(i);
            }
            Err(why) => cx.push(
                &codes::JQ_EDIT,
                pi,
                cmd.span,
                format!("the jq edit `{filter}` of the kubelet config is not translated ({why}); on AL2023 nodeadm rewrites that file, so the edit is lost; kept"),
                Some("write the resulting keys into spec.kubelet.config".into()),
            ),
        }
    }
    // max-pods-calculator.sh does not exist on AL2023: its assignment would fail the script.
    replaced.extend(
        a.script
            .commands
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.words.is_empty() && c.assignments.iter().any(|(_, w)| w.raw.contains("max-pods-calculator.sh"))
            })
            .map(|(i, _)| i),
    );
    // The rest of the script.
    let calls: Vec<(usize, usize, &str)> = replaced
        .iter()
        .map(|c| (*c, "replaced by the data-volume script part (or removed as unsafe on AL2023)"))
        .chain(a.invocations.iter().map(|i| (i.command, "bootstrap.sh call translated into the NodeConfig part")))
        .map(|(c, why)| {
            let (s_, e) = a.script.commands[c].span;
            ((s_ as isize - cx.shift).max(0) as usize, (e as isize - cx.shift).max(0) as usize, why)
        })
        .collect();
    replaced.extend(a.invocations.iter().map(|i| i.command));
    let meaningful = a.script.commands.iter().enumerate().any(|(i, c)| !trivial(c) && !replaced.contains(&i));
    // Commands after the call move into a unit ordered after nodeadm-run (docs §3).
    let moved = if cx.opts.keep_post_bootstrap_inline || cx.shift != 0 || cx.anchor.is_some() {
        None
    } else {
        post_bootstrap_tail(text, &a, &replaced)
    };
    if let Some(tail_start) = moved {
        cx.entries.retain(|d| !(d.code == codes::AFTER_BOOTSTRAP.code && d.message.contains("with kubelet running")));
        let n = a.after_bootstrap.iter().filter(|i| !trivial(&a.script.commands[**i])).count();
        cx.push(
            &codes::AFTER_BOOTSTRAP,
            pi,
            (tail_start, text.len()),
            format!("the {n} command(s) after bootstrap.sh are moved into eks-userdata-post-bootstrap.service, ordered After=nodeadm-run.service, so they still run once the node is up"),
            Some("use --keep-post-bootstrap-inline to leave them in the script (they then run before kubelet starts)".into()),
        );
    }
    if cx.shift == 0 && (meaningful || (a.invocations.is_empty() && replaced.is_empty())) {
        let mut body = residual(text, &calls);
        if let Some(tail_start) = moved {
            let kept_len =
                residual(&text[..tail_start], &calls.iter().copied().filter(|c| c.1 <= tail_start).collect::<Vec<_>>())
                    .len();
            body.truncate(kept_len);
            body.push_str(&post_bootstrap_unit(text, &a, tail_start));
        }
        if !body.starts_with("#!") {
            // cloud-init executes a text/x-shellscript part: without `#!` that fails.
            body.insert_str(0, "#!/bin/bash\n");
        }
        out.push(OutPart { headers, body: body.into_bytes() });
        let msg = if a.invocations.is_empty() && calls.is_empty() {
            "the script is kept unchanged as a text/x-shellscript part"
        } else if a.invocations.is_empty() {
            "the script is kept as a text/x-shellscript part, with the commands named above replaced by `true`"
        } else {
            "the rest of the script is kept as a text/x-shellscript part, with the bootstrap.sh call replaced by `true`"
        };
        cx.push(&codes::SCRIPT_KEPT, pi, (0, 0), msg.into(), None);
    }
}
