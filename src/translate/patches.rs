//! The bootstrap.sh call as the AL2 node really ran it, from the node model (`al2::node`):
//! a patched `/etc/eks/bootstrap.sh` changes the variables it passed on (al2-node §2.1: code
//! before option parsing acts like the environment, code after it overrides flags, code after
//! `systemctl start kubelet` changes nothing), and kubelet drop-ins change what reached the
//! kubelet's command line (al2-node §3.2–3.3). The translator then translates that call, and
//! says where each value really came from.

use super::codes;
use super::context::Ctx;
use crate::al2::analysis::Invocation;
use crate::al2::bootstrap::{Arg, Call, Flag};
use crate::al2::bootstrap_script::{self, Phase};
use crate::al2::fs::{Content, Writer};
use crate::al2::node::Node;
use crate::al2::paths::{self, Kind};
use crate::al2::words::Value;

/// The command index of the user write that produced `path` last, in part `pi`.
fn writer_of(node: &Node, path: &str) -> Option<usize> {
    match node.fs.get(path)?.writer {
        Writer::User(i) => Some(i),
        _ => None,
    }
}

fn span_of(cx: &Ctx, command: usize) -> (usize, usize) {
    cx.command_spans.get(command).copied().unwrap_or((0, 0))
}

/// The call with what patches and drop-ins changed folded in; entries say what and where.
/// Returns the commands the translation replaces (the patches themselves).
pub(super) fn effective_call(cx: &mut Ctx, pi: usize, node: &Node, inv: &Invocation) -> (Call, Vec<usize>) {
    let mut call = inv.call.clone();
    let mut replaced = Vec::new();
    let implied = node.run_part == Some(usize::MAX);
    let Some(run) = node.run.as_ref().filter(|r| (node.run_part == Some(pi) || implied) && r.command == inv.command)
    else {
        return (call, replaced);
    };
    // Patches of bootstrap.sh.
    let patch_writes: Vec<&crate::al2::node::Write> =
        node.writes.iter().filter(|w| w.part == pi && paths::kind(&w.op.path) == Kind::BootstrapScript).collect();
    let last_patch = patch_writes.iter().filter(|w| w.before_call).map(|w| w.op.command).max();
    for w in &patch_writes {
        replaced.push(w.op.command);
        let span = span_of(cx, w.op.command);
        if let Some(why) = &w.not_taken {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("this edit of /etc/eks/bootstrap.sh sits in a branch AL2 did not take ({why}); removed"),
                None,
            );
            continue;
        }
        if !w.before_call {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                "this edits /etc/eks/bootstrap.sh after bootstrap.sh ran, so it changed nothing; removed (on AL2023 the file is a stub)".into(),
                None,
            );
            continue;
        }
        if let Some(why) = &w.no_effect {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                format!("this edit of /etc/eks/bootstrap.sh did nothing on AL2: {why}; removed (on AL2023 the file is a stub)"),
                None,
            );
        }
        if let Some(why) = &w.unreplayed {
            cx.push(
                &codes::PATCHED,
                pi,
                span,
                {
                    // The sed's own reason may already say the effect is unknown.
                    let unknown = if why.contains("unknown") { "" } else { "; what it changed is unknown" };
                    format!("this edit of /etc/eks/bootstrap.sh cannot be replayed: {why}{unknown}; removed (on AL2023 the file is a stub)")
                },
                Some("work out which variable it changed and set the NodeConfig field".into()),
            );
        }
    }
    if run.patched {
        let unknown = matches!(node.fs.content(crate::al2::fs::BOOTSTRAP), Some(Content::Unknown(_)));
        if (unknown || run.vars.unmodelled) && patch_writes.iter().all(|w| w.unreplayed.is_none()) {
            let span = last_patch.map_or(inv.span, |c| span_of(cx, c));
            cx.push(
                &codes::PATCHED,
                pi,
                span,
                "this edit of /etc/eks/bootstrap.sh changes lines the node model does not hold, so what it did cannot be replayed; removed (on AL2023 the file is a stub)".into(),
                Some("work out which variable it changed and set the NodeConfig field".into()),
            );
        }
        let env: Vec<(String, Value)> = call
            .options
            .iter()
            .filter_map(|(f, a)| a.from_env.as_ref().map(|_| (f.env_var().to_string(), a.value.clone())))
            .collect();
        let files = node.fs.clone();
        let sourced = move |p: &str| files.content(p).and_then(Content::known).map(str::to_string);
        let base = bootstrap_script::evaluate(&bootstrap_script::skeleton(), &call, &env, &sourced);
        let span = last_patch.map_or(inv.span, |c| span_of(cx, c));
        let mut changed = Vec::new();
        for flag in Flag::ALL {
            let var = flag.env_var();
            let (Some(new), old) = (run.vars.env.get(var), base.env.get(var)) else { continue };
            if old.is_some_and(|o| o.value == new.value) {
                continue;
            }
            let value = new.value.clone();
            // EKS's appended call has values only EKS knows.
            let shown = value
                .text()
                .replace("--node-labels=<set-by-eks>=", "<EKS's node-group labels>")
                .replace("--max-pods=<set-by-eks>", "<EKS's --max-pods>")
                .replace("<set-by-eks>", "<EKS's value>");
            changed.push(format!("{var}={shown}"));
            let arg = (!value.text().is_empty()).then(|| Arg {
                value,
                span,
                from_env: None,
                split: false,
                via: Some("set by the patch of bootstrap.sh".into()),
            });
            call.set(flag, arg);
        }
        for inj in &run.vars.injections {
            let what = inj.text.trim().lines().next().unwrap_or_default().chars().take(70).collect::<String>();
            match inj.phase {
                Phase::AfterStart => cx.push(
                    &codes::DEAD_ON_AL2,
                    pi,
                    span,
                    format!("the patch puts `{what}` after bootstrap.sh's `systemctl start kubelet`, so it changed nothing the kubelet read; not carried over"),
                    None,
                ),
                phase => {
                    let when = if phase == Phase::BeforeParsing {
                        "before bootstrap.sh reads its options, so like the environment it loses to flags"
                    } else {
                        "after bootstrap.sh reads its options, so it overrides them"
                    };
                    cx.push(
                        &codes::FILE_TRANSLATED,
                        pi,
                        span,
                        format!("the patch runs `{what}` inside bootstrap.sh (line {}), {when}; what that changed follows", inj.after),
                        None,
                    );
                }
            }
        }
        // bootstrap.sh's own kubelet arguments: what a patch added reaches the kubelet before
        // the extra args (which still win), what it removed AL2's kubelet ran without.
        let words = |v: Option<&crate::al2::words::Var>| -> Vec<String> {
            v.map(|v| crate::al2::kubelet_flags::split_args(v.value.text()).into_iter().map(|w| w.0).collect())
                .unwrap_or_default()
        };
        let (new_args, old_args) = (words(run.vars.env.get("KUBELET_ARGS")), words(base.env.get("KUBELET_ARGS")));
        if new_args != old_args {
            let added: Vec<String> = new_args.iter().filter(|w| !old_args.contains(w)).cloned().collect();
            let gone: Vec<String> = old_args.iter().filter(|w| !new_args.contains(w)).cloned().collect();
            if !gone.is_empty() {
                changed.push(format!(
                    "`{}` removed from its own kubelet arguments (KUBELET_ARGS), so AL2's kubelet ran without {}; nodeadm builds the AL2023 kubelet's own arguments itself (`eks-userdata render` shows them)",
                    gone.join(" "),
                    if gone.len() == 1 { "it" } else { "them" }
                ));
            }
            if !added.is_empty() {
                changed.push(format!(
                    "`{}` added to its own kubelet arguments (KUBELET_ARGS), translated as kubelet arguments",
                    added.join(" ")
                ));
                // Appended after the extra args, which came later on the command line and win:
                // a flag they also set is left out.
                let old = call.get(Flag::KubeletExtraArgs).cloned();
                let extra = old.as_ref().map(|a| a.value.text().to_string()).unwrap_or_default();
                let later: Vec<String> = crate::al2::kubelet_flags::split_args(&extra)
                    .into_iter()
                    .map(|e| e.0.split('=').next().unwrap_or_default().to_string())
                    .collect();
                let set_later = |w: &String| later.iter().any(|n| Some(n.as_str()) == w.split('=').next());
                let mut words = vec![extra.clone()];
                words.extend(added.iter().filter(|w| !set_later(w)).cloned());
                let value = words.join(" ").trim().to_string();
                // The value's words are found where they are written: the patches and the call.
                let first = patch_writes.iter().filter(|w| w.before_call).map(|w| span_of(cx, w.op.command).0).min();
                let whole = old.as_ref().map_or(span, |a| a.span);
                let span = (first.unwrap_or(whole.0).min(whole.0), whole.1.max(span.1).max(inv.span.1));
                call.set(
                    Flag::KubeletExtraArgs,
                    Some(Arg {
                        value: Value::Static(value),
                        span,
                        from_env: None,
                        split: false,
                        via: Some(old.and_then(|a| a.via).unwrap_or_else(|| "set by the patch of bootstrap.sh".into())),
                    }),
                );
            }
        }
        if changed.is_empty() && !unknown && !run.vars.unmodelled {
            cx.push(
                &codes::DEAD_ON_AL2,
                pi,
                span,
                "the patches of /etc/eks/bootstrap.sh change nothing bootstrap.sh passed on for this call; not carried over".into(),
                None,
            );
        } else if !changed.is_empty() {
            cx.push(
                &codes::FILE_TRANSLATED,
                pi,
                span,
                format!("with the patches, bootstrap.sh ran with {}", changed.join(", ")),
                None,
            );
        }
    }
    // What the kubelet's command line really carried, after drop-ins.
    drop_ins(cx, pi, node, &mut call);
    (call, replaced)
}

/// User data with no bootstrap.sh call of its own (the call came from EKS or a later part):
/// what its patches of bootstrap.sh and its kubelet drop-ins changed about that call, as a call
/// holding only those settings. Only the part with the last such write answers.
pub(super) fn implied_call(cx: &mut Ctx, pi: usize, node: &Node) -> Option<(Call, Vec<usize>)> {
    let relevant =
        |w: &crate::al2::node::Write| matches!(paths::kind(&w.op.path), Kind::KubeletDropIn | Kind::BootstrapScript);
    if node.run_part != Some(usize::MAX) || node.writes.iter().rev().find(|w| relevant(w)).is_none_or(|w| w.part != pi)
    {
        return None;
    }
    let script =
        crate::al2::shell::parse(super::implied_call(cx.opts.target), crate::al2::template::Syntax::None).ok()?;
    let a = crate::al2::analysis::analyze(script);
    let inv = a.invocations.first()?;
    let (mut call, replaced) = effective_call(cx, pi, node, inv);
    call.cluster_name = None;
    call.options.retain(|(_, arg)| arg.via.is_some());
    // What EKS's own call carried is EKS's (its NodeConfig sets it on AL2023): only what the
    // patches added is the user's.
    let eks = crate::al2::effective::EKS_VALUE;
    call.options.retain_mut(|(flag, arg)| {
        if !arg.value.text().contains(eks) {
            return true;
        }
        if *flag != Flag::KubeletExtraArgs {
            return false;
        }
        let own: Vec<String> = crate::al2::kubelet_flags::split_args(arg.value.text())
            .into_iter()
            .map(|w| w.0)
            .filter(|w| !w.contains(eks))
            .collect();
        arg.value = Value::Static(own.join(" "));
        !own.is_empty()
    });
    Some((call, replaced))
}

/// Folds user kubelet drop-ins (and systemd's quoting) into `--kubelet-extra-args`.
fn drop_ins(cx: &mut Ctx, pi: usize, node: &Node, call: &mut Call) {
    let user_drop_in =
        node.writes.iter().any(|w| matches!(paths::kind(&w.op.path), Kind::KubeletDropIn | Kind::KubeletUnit));
    let user = crate::al2::effective::user_kubelet_args(node);
    if !user_drop_in && user.ignored.is_empty() {
        return;
    }
    let given: Vec<String> = call
        .get(Flag::KubeletExtraArgs)
        .map(|a| crate::al2::kubelet_flags::split_args(a.value.text()).into_iter().map(|w| w.0).collect())
        .unwrap_or_default();
    if user.args == given {
        return;
    }
    let from = user.extra_args_from.clone().unwrap_or_default();
    let by_user = writer_of(node, &from);
    let span = by_user.map_or(call.get(Flag::KubeletExtraArgs).map_or((0, 0), |a| a.span), |c| span_of(cx, c));
    for (line, why) in &user.ignored {
        cx.push(
            &codes::DEAD_ON_AL2,
            pi,
            span,
            format!(
                "systemd ignored `{}`: {why}, so AL2's kubelet never got these arguments; not carried over",
                line.chars().take(90).collect::<String>()
            ),
            Some("if they were meant to apply, set them in the NodeConfig yourself".into()),
        );
    }
    if let Some(a) = call.get(Flag::KubeletExtraArgs)
        && by_user.is_some()
    {
        cx.push(
            &codes::DEAD_ON_AL2,
            pi,
            a.span,
            format!("`--kubelet-extra-args` was replaced by KUBELET_EXTRA_ARGS from {from}, which sorts after bootstrap.sh's drop-in; the flag's value never reached the kubelet"),
            None,
        );
    }
    let value = user.args.join(" ");
    let arg = (!value.is_empty()).then(|| Arg {
        value: Value::Static(value),
        span,
        from_env: None,
        split: false,
        via: Some(if by_user.is_some() { format!("from {from}") } else { "as the kubelet received it".into() }),
    });
    call.set(Flag::KubeletExtraArgs, arg);
}
