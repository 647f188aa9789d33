//! `--kubelet-extra-args` (or `KUBELET_EXTRA_ARGS`) → `kubelet.config` keys and `kubelet.flags`
//! (docs §6): each flag through the derived flag table (`al2::kubelet_flags`), shaped by the
//! target (peers §8 lesson 3: what EKS or Karpenter supplies is left out), with
//! max-pods-calculator.sh turned into a CEL `maxPodsExpression` (docs §5.2).

use super::codes;
use super::context::{Ctx, translated};
use crate::al2::bootstrap::{Call, Flag};
use crate::al2::kubelet_flags::{self, DropReason, Outcome as KOutcome};
use crate::al2::maxpods;
use crate::al2::template;
use crate::al2::words::Value as WValue;
use crate::nodeconfig::types::NodeConfig;
use crate::target::Target;
use serde_json::Value;

/// Takes a `--max-pods` computed by max-pods-calculator.sh out of a kubelet argument string:
/// inline (`--max-pods=$(…max-pods-calculator.sh …)`) or through a variable assigned from it.
pub(super) fn take_calculator(
    args: &str,
    calculators: &[(String, maxpods::Calculator)],
) -> (String, Option<maxpods::Calculator>) {
    if let Some((head, after)) = args.split_once("--max-pods") {
        let value = after.trim_start_matches(['=', ' ']);
        let skipped = after.len() - value.len();
        if value.starts_with("$(") && value.contains("max-pods-calculator.sh") {
            let end = value.find(')').map_or(value.len(), |e| e + 1);
            let (call, tail) = value.split_at_checked(end).unwrap_or((value, ""));
            let calc = maxpods::parse(call);
            let rest = format!("{head}{tail}");
            return (rest, calc);
        }
        let name = value.trim_start_matches(['"', '\'']).trim_start_matches('$').trim_start_matches('{');
        let name_end = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(name.len());
        if let Some((_, calc)) = calculators.iter().find(|(v, _)| name.get(..name_end) == Some(v.as_str())) {
            let token_end = value.find(char::is_whitespace).unwrap_or(value.len());
            let rest = format!("{head}{}", value.get(token_end..).unwrap_or_default());
            let _ = skipped;
            return (rest, Some(calc.clone()));
        }
    }
    (args.to_string(), None)
}

/// Settings the target supplies itself, so the user data must not (peers §8 lesson 3).
pub(super) fn omitted_by(target: Target, what: &str) -> Option<&'static str> {
    match (target, what) {
        (Target::Mng, "nodeLabels") => Some(
            "a managed node group takes labels from its `labels` setting (EKS puts them in its own NodeConfig); set them there",
        ),
        (Target::Mng, "registerWithTaints") => {
            Some("a managed node group takes taints from its `taints` setting; set them there")
        }
        (Target::Karpenter, "nodeLabels") => {
            Some("Karpenter sets node labels from the NodePool; put them in its template labels")
        }
        (Target::Karpenter, "registerWithTaints") => {
            Some("Karpenter registers taints from the NodePool; put them in its template taints")
        }
        (Target::Karpenter, "maxPods") => Some("Karpenter sets maxPods (EC2NodeClass spec.kubelet.maxPods)"),
        (Target::Karpenter, "clusterDNS") => Some("Karpenter sets clusterDNS (EC2NodeClass spec.kubelet.clusterDNS)"),
        _ => None,
    }
}

/// Whether `word` sat in bash double quotes in the argument at `span` (an odd number of `"`
/// before it).
fn double_quoted(text: &str, span: (usize, usize), word: &str) -> bool {
    text.get(span.0..span.1)
        .and_then(|raw| raw.split_once(word).map(|(head, _)| head.matches('"').count() % 2 == 1))
        .unwrap_or(false)
}

/// Applies the call's kubelet arguments and `--use-max-pods`.
pub(super) fn apply(cx: &mut Ctx, pi: usize, call: &Call, nc: &mut NodeConfig) {
    let target = cx.opts.target;
    let use_max_pods = call.get(Flag::UseMaxPods).map(|a| (a.value.text() == "false", a.span, a.value.clone()));
    let mut saw_max_pods = false;
    // The --max-pods value did not translate (a boot-time or invalid value).
    let mut max_pods_lost = false;
    if let Some(a) = call.get(Flag::KubeletExtraArgs) {
        let (args_text, calc) = take_calculator(a.value.text(), &cx.calculators);
        if let Some(calc) = calc {
            saw_max_pods = true;
            match calc.expression() {
                Some(expr) => {
                    let calc_caveat = calc.caveat().map(|c| format!("; {c}")).unwrap_or_default();
                    cx.push(&codes::MAX_PODS_EXPR, pi, a.span, format!("`--max-pods` from max-pods-calculator.sh → spec.kubelet.maxPodsExpression: `{expr}` (needs AMI v20251007 or later); nodeadm computes kubeReserved.memory from its result, where AL2 used the instance's ENI-table value{}", calc_caveat), None);
                    nc.spec.kubelet.max_pods_expression = expr;
                }
                None => cx.push(
                    &codes::MAX_PODS_EXPR,
                    pi,
                    a.span,
                    "`--max-pods` from max-pods-calculator.sh with only --show-max-allowed is nodeadm's own default (the ENI value); nothing to write".into(),
                    None,
                ),
            }
        }
        let runtime_note = match &a.value {
            WValue::Runtime { why, text } if args_text.contains(['$', '`']) => Some((why.clone(), text.clone())),
            _ => None,
        };
        let before = cx.entries.len();
        let flags_before = nc.spec.kubelet.flags.len();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut search_from = a.span.0;
        let words = kubelet_flags::split_args(&args_text);
        let whole_placeholder = |w: &str| {
            (w.starts_with("${") && w.ends_with('}') && w.matches("${").count() == 1) || w == "%s" || w == "%v"
        };
        let placeholder_words: Vec<String> =
            words.iter().map(|w| w.0.clone()).filter(|w| whole_placeholder(w)).collect();
        for w in &placeholder_words {
            nc.spec.kubelet.flags.push(w.clone());
            cx.push(
                &codes::TEMPLATE_ARGS,
                pi,
                a.span,
                if double_quoted(&cx.text, a.span, w) && !cx.printf_placeholders.iter().any(|p| p == w) {
                    format!("`{w}` is a template placeholder for kubelet arguments → kept in spec.kubelet.flags as is; on AL2 what it renders to sat in bash double quotes (so `$`, backticks and `\\` in it were expanded) and in bootstrap.sh's single-quoted `Environment=` line (a `'` in it made systemd drop all the extra arguments); nodeadm passes the rendered text unchanged")
                } else if cx.printf_placeholders.iter().any(|p| p == w) {
                    format!("`{w}` is a template placeholder for kubelet arguments → kept in spec.kubelet.flags as is; on AL2 it reached bootstrap.sh through a printf format string, which turned `%%` into `%` (and `\\n` into a newline) in what it renders to, so a value written for printf (`10%%`) is wrong here: write it as the kubelet should see it")
                } else {
                    format!("`{w}` is a template placeholder for kubelet arguments → kept in spec.kubelet.flags as is")
                },
                Some("after rendering it must hold only kubelet flags, unquoted; deprecated flags belong in spec.kubelet.config".into()),
            );
        }
        let order: Vec<String> = words.iter().map(|w| w.0.clone()).collect();
        let rest: Vec<String> = words.into_iter().map(|w| w.0).filter(|w| !placeholder_words.contains(w)).collect();
        for t in kubelet_flags::translate(&rest.join(" ")) {
            // Point at the flag itself when it appears literally inside the argument.
            // The whole word first (a flag can appear twice, as in a sed's pattern and its
            // replacement), after the previous flag first, anywhere in the argument second.
            let find = |from: usize| {
                let region = cx.text.get(from..a.span.1).unwrap_or_default();
                region.find(t.text.as_str()).or_else(|| region.find(t.flag.as_str())).map(|off| from + off)
            };
            let span = match find(search_from).or_else(|| find(a.span.0)) {
                Some(start) => {
                    let len = cx
                        .text
                        .get(start..a.span.1)
                        .unwrap_or_default()
                        .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
                        .unwrap_or(a.span.1 - start);
                    search_from = start + len;
                    (start, start + len)
                }
                None => a.span,
            };
            let structured_placeholder = kubelet_flags::placeholder_for_structured(&t);
            match t.outcome {
                KOutcome::Config { path, value } => {
                    saw_max_pods |= path == "maxPods";
                    if let Some(why) = omitted_by(target, &path) {
                        cx.push(&codes::SET_ON_TARGET, pi, span, format!("`{}` left out: {why}", t.text), None);
                        continue;
                    }
                    if t.replaces && cx.opts.keep_map_semantics {
                        nc.spec.kubelet.flags.push(t.text.clone());
                        cx.push(
                            &codes::KEPT_FLAG,
                            pi,
                            span,
                            format!(
                                "`{}` kept in spec.kubelet.flags (--keep-map-semantics: it replaces the whole {path})",
                                t.text
                            ),
                            None,
                        );
                        continue;
                    }
                    // A placeholder for a whole list or map renders to the flag's own syntax
                    // (`k=v:NoSchedule,…`), which is not the YAML the config field needs: the
                    // flag stays a flag, which reads that syntax as AL2's kubelet did.
                    if structured_placeholder {
                        nc.spec.kubelet.flags.push(t.text.clone());
                        cx.push(
                            &codes::TEMPLATE_ARGS,
                            pi,
                            span,
                            format!("`{}`: the template value renders to the flag's own syntax, not to the YAML list or map spec.kubelet.config.{path} needs, so the flag is kept in spec.kubelet.flags as is (the kubelet reads it as on AL2)", t.text),
                            Some(format!("to use spec.kubelet.config.{path} instead, render the value as YAML in the template")),
                        );
                        continue;
                    }
                    let repeat = !seen.insert(path.clone());
                    if let Value::String(v) = &value
                        && template::has_placeholder(v)
                        && !matches!(
                            kubelet_flags::table().get(t.flag.trim_start_matches('-')).map(|s| s.codec),
                            Some(
                                kubelet_flags::Codec::String
                                    | kubelet_flags::Codec::Quantity
                                    | kubelet_flags::Codec::Duration
                                    | kubelet_flags::Codec::Ip
                            )
                        )
                    {
                        cx.push(
                            &codes::TEMPLATE_ARGS,
                            pi,
                            span,
                            format!("`{}`: the template value is written as is into spec.kubelet.config.{path}; it must render to the field's type (not a quoted string)", t.text),
                            None,
                        );
                    }
                    kubelet_flags::apply(&mut nc.spec.kubelet.config, &path, value, repeat);
                    translated(cx, pi, span, &t.text, &format!("spec.kubelet.config.{path}"));
                    if t.replaces
                        && path != "featureGates"
                        && matches!(
                            kubelet_flags::table().get(t.flag.trim_start_matches('-')).map(|s| s.codec),
                            Some(kubelet_flags::Codec::Map | kubelet_flags::Codec::MapLangle)
                        )
                    {
                        cx.push(
                            &codes::MAP_SEMANTICS,
                            pi,
                            span,
                            format!("`{}` replaced the whole {path} map on AL2; as a drop-in it is merged with nodeadm's defaults, so keys it left out keep their default values", t.text),
                            Some("use --keep-map-semantics to keep the AL2 behaviour (the flag stays a flag)".into()),
                        );
                    }
                    if path == "reservedSystemCPUs" {
                        for key in ["kubeReservedCgroup", "systemReservedCgroup"] {
                            nc.spec.kubelet.config.insert(key.into(), Value::String(String::new()));
                        }
                        cx.push(&codes::TRANSLATED, pi, span, "`--reserved-cpus` also clears kubeReservedCgroup and systemReservedCgroup, as bootstrap.sh did".into(), None);
                    }
                }
                KOutcome::Flag(f) => {
                    let is_label = f.starts_with("--node-labels");
                    if let Some(why) = is_label.then(|| omitted_by(target, "nodeLabels")).flatten() {
                        let why = super::labels::advice(target, &f).unwrap_or_else(|| why.to_string());
                        cx.push(&codes::SET_ON_TARGET, pi, span, format!("`{f}` left out: {why}"), None);
                        continue;
                    }
                    nc.spec.kubelet.flags.push(f.clone());
                    cx.push(&codes::KEPT_FLAG, pi, span, format!("`{f}` → spec.kubelet.flags"), None);
                }
                KOutcome::Dropped(DropReason::NodeadmOwned) => cx.push(
                    &codes::NODEADM_OWNED,
                    pi,
                    span,
                    format!("`{}` dropped: nodeadm sets {} itself", t.text, t.flag),
                    None,
                ),
                KOutcome::Dropped(DropReason::Unregistered) => cx.push(
                    &codes::NODEADM_OWNED,
                    pi,
                    span,
                    format!("`{}` dropped: the kubelet no longer has {} and would refuse to start", t.text, t.flag),
                    None,
                ),
                // A value only known at boot was reported once already (CV406).
                KOutcome::Invalid(_) if a.value.is_runtime() && t.text.contains(['$', '`', '<']) => {
                    saw_max_pods |= t.flag == "--max-pods";
                    max_pods_lost |= t.flag == "--max-pods";
                }
                KOutcome::Invalid(why) => {
                    // A --max-pods the AL2 node got (even one that does not parse) means the
                    // kubelet default did not apply.
                    saw_max_pods |= t.flag == "--max-pods";
                    max_pods_lost |= t.flag == "--max-pods";
                    cx.push(&codes::INVALID_VALUE, pi, span, format!("`{}`: {why}; not translated", t.text), None)
                }
                KOutcome::Unknown => cx.push(
                    &codes::UNKNOWN,
                    pi,
                    span,
                    format!("`{}` is not a kubelet flag; not translated", t.text),
                    None,
                ),
            }
        }
        // Flags in the order they were given (a placeholder's flags were taken out first): for
        // a flag given twice, such as --register-with-taints, the kubelet keeps the last.
        let key = |f: &String| {
            order
                .iter()
                .position(|w| f.strip_prefix(w.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('=')))
                .unwrap_or(usize::MAX)
        };
        if let Some(added) = nc.spec.kubelet.flags.get_mut(flags_before..) {
            added.sort_by_key(key);
        }
        if let Some((why, text)) = runtime_note {
            let some = cx
                .entries
                .iter()
                .skip(before)
                .any(|d| d.code == codes::TRANSLATED.code || d.code == codes::KEPT_FLAG.code);
            let rest = if some {
                "the parts with no boot-time value are translated (see the entries below), the rest needs review"
            } else {
                "none of it could be translated; it needs review"
            };
            cx.push(
                &codes::RUNTIME_VALUE,
                pi,
                a.span,
                format!("--kubelet-extra-args is `{text}`, only known at boot ({why}); {rest}"),
                None,
            );
        }
    }
    if let Some((false_, span, value)) = use_max_pods {
        if !matches!(value, WValue::Static(_)) {
            // Only `true` enabled it on AL2 (a string compare); a template or boot-time value
            // decides which node this is.
            cx.push(
                &codes::TEMPLATE_ARGS,
                pi,
                span,
                format!(
                    "`--use-max-pods {}` is decided when the template is rendered (or at boot): with `false` {}, with `true` with the instance's ENI value; nothing is written for it, so the AL2023 node gets {}",
                    value.text(),
                    if cx.kcj_max_pods { "bootstrap.sh kept the maxPods the script wrote into kubelet-config.json" } else { "and no --max-pods the AL2 node ran with the kubelet's default maxPods, 110" },
                    if cx.kcj_max_pods { "what that edit translates to" } else { "the ENI value as maxPods" },
                ),
                Some(if cx.kcj_max_pods {
                    "check that the translated maxPods setting is what every rendering should get".into()
                } else {
                    "if it renders to false, set spec.kubelet.config.maxPods: 110 (or the value you want)".into()
                }),
            );
        } else if false_ && cx.kcj_max_pods {
            cx.push(&codes::TRANSLATED, pi, span, "`--use-max-pods false`: bootstrap.sh kept the maxPods the script wrote into kubelet-config.json, translated with that edit".into(), None);
        } else if false_ && !saw_max_pods && target != Target::Karpenter {
            nc.spec.kubelet.config.insert("maxPods".into(), Value::Number(110.into()));
            cx.push(&codes::TRANSLATED, pi, span, "`--use-max-pods false` without --max-pods: AL2 left the kubelet default → spec.kubelet.config.maxPods: 110".into(), None);
        } else {
            cx.push(
                &codes::TRANSLATED,
                pi,
                span,
                format!(
                    "`--use-max-pods {}`: nodeadm always sets maxPods; {}",
                    if false_ { "false" } else { "true" },
                    if saw_max_pods && max_pods_lost {
                        "the --max-pods value did not translate (see above), so the instance-type default applies"
                    } else if saw_max_pods {
                        "the --max-pods value is used"
                    } else {
                        "the instance-type default applies, as on AL2"
                    }
                ),
                None,
            );
        }
    }
}
