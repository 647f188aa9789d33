//! One shell script (a part, an eksctl command list, a bare argument string): parsed with a
//! real shell parser, analysed (`al2::analysis`), every bootstrap.sh call translated, and the rest
//! kept as a shell part with the calls replaced by `true`.

use super::branches;
use super::codes;
use super::context::Ctx;
use super::disks::disks;
use super::lifecycle::{MARK_CALL, install_unit, post_bootstrap_tail, reads_status};

/// Why a patch of bootstrap.sh is cut from the kept script (the report says what it did).
const PATCH_CUT: &str = "edit of bootstrap.sh (a stub on AL2023); what it changed is in the report";
use super::residual::{Cut, residual, trivial};
use crate::al2::analysis;
use crate::al2::bash;
use crate::al2::maxpods;
use crate::al2::node::Node;
use crate::al2::shell;
use crate::al2::template;
use crate::nodeconfig::types::NodeConfig;
use crate::userdata::Part;
use crate::userdata::mime_write::OutPart;

/// The AL2 node's commands from this script and when each ran relative to the join: a boothook
/// at every boot, a command after the bootstrap.sh call with the kubelet up, every other one
/// before it (a part before the call's part too), after it when the call was in an earlier part.
fn record_commands(cx: &mut Ctx, pi: usize, part: &Part, a: &analysis::Analysis, node: Option<&Node>) {
    use crate::effective::{Command, When};
    let (call, later_part) = match node {
        Some(n) => {
            (n.run.as_ref().filter(|_| n.run_part == Some(pi)).map(|r| r.command), n.run_part.is_none_or(|p| p > pi))
        }
        None => (a.invocations.first().map(|i| i.command), true),
    };
    // With no call, a script that starts the kubelet itself joins there (CV452).
    let call = call.or_else(|| {
        (a.invocations.is_empty() && cx.opts.supplies_cluster()).then_some(())?;
        a.units
            .iter()
            .find(|(_, verb, unit)| unit == "kubelet" && matches!(verb.as_str(), "start" | "restart"))
            .map(|(i, _, _)| *i)
    });
    for (i, c) in a.script.commands.iter().enumerate() {
        if !super::timing::counts(c) || a.invocations.iter().any(|inv| inv.command == i) {
            continue;
        }
        let when = if part.kind == crate::userdata::PartKind::Boothook {
            When::EveryBoot
        } else {
            match call {
                Some(k) if i > k => When::AfterJoin,
                Some(_) => When::BeforeJoin,
                None if later_part => When::BeforeJoin,
                None => When::AfterJoin,
            }
        };
        let span = cx.span(pi, c.span);
        cx.commands.push(Command { text: super::timing::same_text(&c.text()), when, span: Some(span), removed: None });
    }
}

/// `bootstrap.sh … || cmd` / `&& cmd`: the command ran on the join's failure (or success); the
/// call is now a NodeConfig, so `||` never runs it and `&&` runs it before any join.
fn call_chained(cx: &mut Ctx, pi: usize, a: &analysis::Analysis, text: &str) {
    for inv in &a.invocations {
        let Some(next) = a.script.commands.get(inv.command + 1).filter(|n| n.conditional) else { continue };
        if matches!(next.name(), Some("exit")) {
            continue;
        }
        let between =
            a.script.commands.get(inv.command).and_then(|c| text.get(c.span.1..next.span.0)).unwrap_or_default();
        let line = words_of(next);
        let msg = if between.contains("||") {
            format!(
                "`{line}` ran when bootstrap.sh failed (`||`); the join now happens in nodeadm-run after every user script, so it never runs: a failed join is not reported this way"
            )
        } else if between.contains("&&") {
            format!(
                "`{line}` ran once bootstrap.sh had succeeded (`&&`); kept after the call's place, it now runs before nodeadm-run joins the node, whatever the join's result"
            )
        } else {
            continue;
        };
        cx.push(
            &codes::JOIN_STATUS,
            pi,
            next.span,
            msg,
            Some("report the join from a unit ordered after nodeadm-run.service (its Result is the join's)".into()),
        );
    }
}

/// CV449 for translated commands inside template `%{ if }` branches: the NodeConfig part has
/// no such condition.
fn template_branches(cx: &mut Ctx, pi: usize, a: &analysis::Analysis, replaced: &[(usize, &str)]) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, why) in replaced {
        if a.invocations.iter().any(|inv| inv.command == *i) || why.starts_with("service restart") {
            continue;
        }
        let Some(c) = a.script.commands.get(*i) else { continue };
        for b in c.branch.iter().filter_map(|b| b.strip_prefix("template ")) {
            if seen.contains(&b) {
                continue;
            }
            seen.push(b);
            cx.push(
                &codes::TEMPLATE_BRANCH,
                pi,
                c.span,
                format!("`{b}`: what the commands in this template branch set is translated into the NodeConfig part, which every rendering gets; AL2 nodes whose template left the branch out did not have it"),
                Some(format!("if the condition can be false, wrap those NodeConfig fields in the same `{b}` in the output")),
            );
        }
    }
}

/// `systemctl restart|start|stop kubelet|containerd`: on AL2023 nodeadm-run starts both after
/// user scripts, so a restart in a script would start them before they are configured.
fn restarts(cx: &mut Ctx, pi: usize, a: &analysis::Analysis) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for (idx, verb, unit) in &a.units {
        if matches!(unit.as_str(), "kubelet" | "containerd")
            && matches!(verb.as_str(), "restart" | "start" | "stop" | "reload-or-restart" | "try-restart")
            && !out.iter().any(|(c, _)| c == idx)
        {
            let Some(span) = a.script.commands.get(*idx).map(|c| c.span) else { continue };
            let before = a.invocations.first().is_none_or(|i| i.command > *idx);
            // For a managed node group or Karpenter, their own bootstrap.sh call followed this
            // user data on AL2 and configured the kubelet after it.
            let by_itself =
                a.invocations.is_empty() && unit == "kubelet" && verb != "stop" && cx.opts.supplies_cluster();
            if by_itself {
                let after = a.script.commands.iter().skip(idx + 1).any(super::timing::counts);
                let tail = if after {
                    "; the commands after it ran with the kubelet up on AL2 and now run before nodeadm-run starts it"
                } else {
                    ""
                };
                cx.push(
                    &codes::STARTS_KUBELET,
                    pi,
                    span,
                    format!("`systemctl {verb} kubelet` with no bootstrap.sh call: this user data started the kubelet itself, configured through files the conversion does not model, so the settings in them are not carried over{tail}"),
                    Some("set what those files held (labels, taints, max pods) in the NodeConfig yourself".into()),
                );
            }
            let on_al2 = match (before, unit.as_str(), verb.as_str()) {
                _ if by_itself => "started the kubelet on AL2 (this user data has no bootstrap.sh call)".to_string(),
                (true, "kubelet", "stop") => "ran before bootstrap.sh started the kubelet, so on AL2 it did nothing".to_string(),
                (true, "kubelet", _) => "ran before bootstrap.sh configured the kubelet, which restarted it with its configuration; on AL2 it changed nothing that lasted".to_string(),
                (true, _, _) => "ran before bootstrap.sh, which restarted containerd with its own configuration; on AL2 it changed nothing that lasted".to_string(),
                (false, _, "stop") => format!("after bootstrap.sh stopped {unit} on AL2"),
                (false, _, "start") => format!("after bootstrap.sh started {unit} on AL2 (if it was not running) with its files as they then were"),
                (false, _, _) => format!("after bootstrap.sh restarted {unit} on AL2 with its files as they then were"),
            };
            cx.push(
                &codes::FILE_TRANSLATED,
                pi,
                span,
                format!("`systemctl {verb} {unit}` {on_al2}; on AL2023 nodeadm-run starts {unit} after user scripts with the NodeConfig, and starting it earlier would run it unconfigured; removed"),
                None,
            );
            out.push((*idx, "service restart; nodeadm-run starts it on AL2023"));
        }
    }
    out
}

/// What analysing a script gives: the analysis of what bash ran, and where bash's reading
/// differed from a clean parse.
pub(super) type Analysed = Result<(analysis::Analysis, Vec<bash::Note>), shell::ParseError>;

/// Parses and analyses a script as bash runs it.
pub(super) fn analyse(script_text: &str, opts: &super::Options, syntax: Option<template::Syntax>) -> Analysed {
    let syntax = opts.template.or(syntax).unwrap_or_else(|| template::detect(script_text));
    bash::parse(script_text, syntax).map(|(s, notes)| (analysis::analyze(s), notes))
}

/// Reports where bash read the script differently from a clean parse.
fn bash_notes(cx: &mut Ctx, pi: usize, text: &str, notes: &[bash::Note]) {
    for n in notes {
        match n {
            bash::Note::Stopped { offset, message } => {
                let line = text.bytes().take(*offset).filter(|&b| b == b'\n').count() + 1;
                let rest = text.get(*offset..).unwrap_or_default();
                let call_lost = !crate::al2::find_bootstrap_calls(rest).is_empty();
                let msg = format!(
                    "bash stops at line {line} ({message}): the commands before it ran on AL2, nothing from line {line} on did{}; what ran is translated, the rest is kept as it is and stops bash the same way on AL2023",
                    if call_lost { ", including the bootstrap.sh call, so the AL2 node never joined" } else { "" }
                );
                let help = if message.contains("errexit") {
                    "install what it needs with dnf or drop it; until then the node runs only what precedes it"
                } else {
                    "fix the syntax error; until then the node runs only what precedes it"
                };
                cx.push(&codes::BASH_STOPPED, pi, (*offset, *offset), msg, Some(help.into()));
                if call_lost {
                    if let Some(last) = cx.entries.pop() {
                        cx.entries.push(last.leading());
                    }
                    cx.never_joined.get_or_insert_with(|| format!("bash stopped at line {line} before the bootstrap.sh call"));
                }
            }
            bash::Note::OpenHeredoc { tag } => cx.push(
                &codes::OPEN_HEREDOC,
                pi,
                (0, 0),
                format!("a heredoc's `{tag}` delimiter line never comes: bash only warns and takes the rest of the script as the heredoc's body, so nothing after it ran as commands on AL2 (or will on AL2023)"),
                Some(format!("end the heredoc with a line holding only `{tag}`")),
            ),
        }
    }
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
    parsed: Analysed,
    node: Option<&Node>,
    nc: &mut NodeConfig,
    out: &mut Vec<OutPart>,
    headers: Vec<(String, String)>,
) {
    let pi = part.index;
    cx.text = script_text.to_string();
    let a = match parsed {
        Ok((a, notes)) => {
            bash_notes(cx, pi, script_text, &notes);
            a
        }
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
    let mut a = a;
    cx.command_spans = a.script.commands.iter().map(|c| c.span).collect();
    record_commands(cx, pi, part, &a, node);
    cx.printf_placeholders = a
        .script
        .commands
        .iter()
        .filter(|c| c.name() == Some("printf"))
        .filter_map(|c| c.words.get(1))
        .flat_map(|w| crate::al2::template::placeholders(&w.raw))
        .collect();
    cx.kcj_max_pods = node.is_some_and(|n| {
        n.writes.iter().any(|w| {
            w.part == pi
                && w.before_call
                && crate::al2::paths::kind(&w.op.path) == crate::al2::paths::Kind::KubeletConfig
                && a.script.commands.get(w.op.command).is_some_and(|c| c.text().contains("maxPods"))
        })
    });
    // The call as the node really ran it (patched bootstrap.sh, kubelet drop-ins).
    let mut removed: Vec<(usize, &'static str)> = Vec::new();
    if let Some(node) = node
        && let Some(inv) = a.invocations.iter_mut().find(|i| node.run.as_ref().is_some_and(|r| r.command == i.command))
    {
        let (call, patches) = super::patches::effective_call(cx, pi, node, inv);
        inv.call = call;
        removed.extend(patches.into_iter().map(|c| (c, PATCH_CUT)));
    }
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
    if node.is_none() {
        for cmd in a.patches.iter().filter_map(|idx| a.script.commands.get(*idx)) {
            cx.push(
                &codes::PATCHED,
                pi,
                cmd.span,
                "this command edits /etc/eks/bootstrap.sh, which cannot be replayed here; on AL2023 that file is a stub, so the edit does nothing".into(),
                Some("express what the edit did as a NodeConfig field".into()),
            );
        }
    }
    // Files a patch of bootstrap.sh sources were read by bootstrap.sh (patches.rs says how).
    let patch_sourced: Vec<String> = node
        .and_then(|n| n.run.as_ref())
        .map(|r| {
            r.vars
                .injections
                .iter()
                .flat_map(|i| i.text.split(['\n', ';', '&']))
                .filter_map(|l| {
                    let l = l.trim();
                    l.strip_prefix("source ")
                        .or_else(|| l.strip_prefix(". "))
                        .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    for (idx, path, vars) in &a.env_files {
        if patch_sourced.iter().any(|p| p == path) {
            continue;
        }
        let Some(cmd) = a.script.commands.get(*idx) else { continue };
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
                if cx.opts.target == crate::target::Target::Mng {
                    format!(
                        "exports {} but never calls bootstrap.sh; EKS's bootstrap.sh call runs in its own part, a separate process, so it never read them on AL2 either: nothing is lost",
                        exported.join(", ")
                    )
                } else {
                    format!(
                        "exports {} but never calls bootstrap.sh: a call in another part (a separate process) never read them; a call this text was inlined before in one script (as terraform-aws-eks's self-managed template does with pre_bootstrap_user_data) did, and that setting is lost on AL2023 unless the whole script is converted",
                        exported.join(", ")
                    )
                },
                Some(if cx.opts.target == crate::target::Target::Mng {
                    "if the node group should have the setting, set the NodeConfig field".into()
                } else {
                    "convert the whole script the call was in, or set the NodeConfig field".into()
                }),
            );
        }
    }
    let first_nc = branches::combine(cx, pi, &a, out);
    if let Some(first) = first_nc {
        let _ = crate::nodeconfig::merge::merge_into(nc, &first);
    }
    // Disk commands: data volumes over node state become a safe script; wipes go.
    let replaced: Vec<usize> = disks(cx, pi, &a, out, nc);
    let mut replaced: Vec<(usize, &'static str)> = replaced
        .into_iter()
        .map(|c| (c, "replaced by the data-volume script part (or removed as unsafe on AL2023)"))
        .collect();
    replaced.append(&mut removed);
    // Edits of the kubelet's and containerd's AL2 files become NodeConfig fields.
    if let Some(node) = node {
        // First: a script that starts the kubelet itself (CV452) changes how its file edits read.
        replaced.extend(restarts(cx, pi, &a));
        if let Some((call, patches)) = super::patches::implied_call(cx, pi, node) {
            super::call::apply_settings(cx, pi, &call, usize::MAX, nc);
            replaced.extend(patches.into_iter().map(|c| (c, PATCH_CUT)));
        }
        replaced.extend(super::kubelet_files::apply(cx, pi, node, nc));
        replaced.extend(super::containerd_files::apply(cx, pi, node, nc));
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
            .map(|(i, _)| (i, "max-pods-calculator.sh is not on AL2023; translated into maxPodsExpression")),
    );
    // The rest of the script.
    replaced.extend(a.invocations.iter().map(|i| {
        (i.command, "bootstrap.sh call, replaced by the NodeConfig part (the report says how each argument went)")
    }));
    replaced.sort_by_key(|(c, _)| *c);
    replaced.dedup_by_key(|(c, _)| *c);
    let ids: Vec<usize> = replaced.iter().map(|(c, _)| *c).collect();
    super::timing::removed(cx, pi, &a, &replaced);
    template_branches(cx, pi, &a, &replaced);
    call_chained(cx, pi, &a, text);
    // A cloud-config command (anchored, outside the node model) stays where it is.
    let pinned = cx.shift != 0 || (cx.anchor.is_some() && node.is_none());
    let moves = !(cx.opts.keep_post_bootstrap_inline || pinned);
    after_bootstrap(cx, pi, &a, &ids, moves);
    let meaningful = a.script.commands.iter().enumerate().any(|(i, c)| !trivial(c) && !ids.contains(&i));
    // Commands after the call move into a unit ordered after nodeadm-run (docs §3).
    let moved = if !moves { None } else { post_bootstrap_tail(text, &a, &ids) };
    let call = a.invocations.first().map(|i| i.command);
    let mut cuts: Vec<Cut> = replaced
        .iter()
        .filter_map(|(c, why)| {
            let mut cut = Cut::command(a.script.commands.get(*c)?, cx.shift, why);
            if moved.is_some() && Some(*c) == call {
                cut.with = MARK_CALL;
                cut.why =
                    "bootstrap.sh call, replaced by the NodeConfig part (the report says how each argument went); the marker lets the moved commands run";
            }
            Some(cut)
        })
        .collect();
    if cx.shift == 0 {
        let spans: Vec<(usize, usize)> = cuts.iter().map(|c| (c.start, c.end)).collect();
        cuts.extend(super::imds::rewrite(cx, pi, text, &spans));
    }
    if cx.shift == 0 && (meaningful || (a.invocations.is_empty() && ids.is_empty())) {
        let mut body = residual(text, &cuts);
        if let Some((tail_start, tail_end)) = moved
            && let (Some(moving), Some(before), Some(after)) =
                (text.get(tail_start..tail_end), text.get(..tail_start), text.get(tail_end..))
        {
            let head: Vec<Cut> = cuts.iter().copied().filter(|c| c.end <= tail_start).collect();
            let tail: Vec<Cut> = cuts
                .iter()
                .filter(|c| c.start >= tail_start && c.end <= tail_end)
                .map(|c| Cut { start: c.start - tail_start, end: c.end - tail_start, ..*c })
                .collect();
            let tail_text = residual(moving, &tail);
            let (install, errexit) = install_unit(text, &a, &tail_text);
            body = residual(before, &head);
            // What closes the call's template branch stays where it was.
            body.push_str(after);
            // The install block goes first, after the shebang.
            let at = if body.starts_with("#!") { body.find('\n').map_or(body.len(), |i| i + 1) } else { 0 };
            body.insert_str(at, &install);
            cx.entries
                .retain(|d| !(d.code == codes::AFTER_BOOTSTRAP.code && d.message.contains("with kubelet running")));
            let n = a
                .after_bootstrap
                .iter()
                .filter(|i| a.script.commands.get(**i).is_some_and(|c| !trivial(c)) && !ids.contains(i))
                .count();
            let status = if reads_status(&tail_text) {
                " `$?` after the call now reads nodeadm-run's result, as it read bootstrap.sh's on AL2."
            } else {
                ""
            };
            cx.push(
                &codes::AFTER_BOOTSTRAP,
                pi,
                (tail_start, tail_end),
                format!(
                    "the {n} command(s) after bootstrap.sh move into eks-userdata-post-bootstrap.service, after nodeadm-run{}, once per instance and only if the script reaches the call's place, with its shell options and variables.{status}",
                    if errexit { " and only when it succeeds (the script stopped on a failed join on AL2)" } else { ", whatever its result (the script went on after a failed join on AL2)" }
                ),
                Some("use --keep-post-bootstrap-inline to leave them in the script (they then run before kubelet starts)".into()),
            );
        }
        let added = !body.starts_with("#!");
        if added {
            // cloud-init executes a text/x-shellscript part: without `#!` that fails.
            body.insert_str(0, "#!/bin/bash\n");
            let hosted = cx.anchor.is_some();
            if !hosted {
                let msg = if part.headers.is_empty() {
                    "the input has no `#!` at byte 0: as complete user data cloud-init would not have run it (it runs non-MIME user data as a script only from `#!`), as a fragment of a larger script it ran there; the output adds `#!/bin/bash`, so on AL2023 it runs"
                } else {
                    "this part has no `#!` at byte 0: upstream cloud-init cannot execute such a part (Exec format error) and AL2023's does not; AL2's cloud-init reportedly ran it (unverified); the output adds `#!/bin/bash`, so on AL2023 it runs"
                };
                cx.push(&codes::NO_SHEBANG, pi, (0, 0), msg.into(), Some("check that the part should run".into()));
            }
        }
        out.push(OutPart { headers, body: body.into_bytes() });
        let blanked = cuts.iter().filter(|c| c.with == "true").count();
        let rewritten = cuts.len() - blanked;
        let mut changes = Vec::new();
        if added {
            changes.push("`#!/bin/bash` added".to_string());
        }
        if a.invocations.is_empty() && blanked > 0 {
            changes.push(format!("the {blanked} command(s) this report names replaced by `true`"));
        }
        if rewritten > 0 {
            changes.push(format!("{rewritten} command(s) rewritten as this report says"));
        }
        let msg = if !a.invocations.is_empty() && moved.is_some() {
            "the rest of the script is kept as a text/x-shellscript part; the bootstrap.sh call's place touches the marker the moved commands need".to_string()
        } else if !a.invocations.is_empty() {
            "the rest of the script is kept as a text/x-shellscript part, with the bootstrap.sh call replaced by `true`"
                .to_string()
        } else if changes.is_empty() {
            "the script is kept unchanged as a text/x-shellscript part".to_string()
        } else {
            format!("the script is kept as a text/x-shellscript part, with {}", changes.join("; "))
        };
        cx.push(&codes::SCRIPT_KEPT, pi, (0, 0), msg, None);
    }
}

fn words_of(c: &shell::Command) -> String {
    let assigned = c.assignments.iter().map(|(n, w)| format!("{n}={}", w.raw));
    assigned.chain(c.words.iter().map(|w| w.raw.clone())).collect::<Vec<_>>().join(" ")
}

/// CV410 for commands that ran after bootstrap.sh and stay in the script.
fn after_bootstrap(cx: &mut Ctx, pi: usize, a: &analysis::Analysis, replaced: &[usize], moves: bool) {
    let later: Vec<&shell::Command> = a
        .after_bootstrap
        .iter()
        .filter(|i| !replaced.contains(i))
        .filter_map(|i| a.script.commands.get(*i))
        .filter(|c| !trivial(c))
        .collect();
    let Some(first) = later.first() else { return };
    let first_text = words_of(first);
    // Moved into the unit, `$?` reads nodeadm-run's result instead (lifecycle.rs).
    if super::lifecycle::reads_status(&first_text) && (!moves || post_bootstrap_tail(&cx.text, a, replaced).is_none()) {
        cx.push(
            &codes::JOIN_STATUS,
            pi,
            first.span,
            format!("`{}` reads the exit status of the bootstrap.sh call; kept in the script it reads the `true` that replaced the call, so it reports success whether or not the node joins", first_text.chars().take(60).collect::<String>()),
            Some("convert without --keep-post-bootstrap-inline: the moved command then reads nodeadm-run's result".into()),
        );
    }
    let list: Vec<String> =
        later.iter().take(5).map(|c| format!("`{}`", words_of(c).chars().take(50).collect::<String>())).collect();
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
