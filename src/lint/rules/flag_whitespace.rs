//! NC212: `kubelet.flags` reach the kubelet through `NODEADM_KUBELET_ARGS` in an environment
//! file and systemd's word splitting (`nodeconfig::kubelet_args`, docs §6.2). An item is
//! reported when the kubelet would not get what the item says: unquoted whitespace splits it,
//! an unclosed quote runs on into the flags after it, a backslash is dropped, and on AMIs before
//! v20240729 (which wrapped the value in double quotes) a `"` ended that wrapping. Balanced
//! quotes are fine: systemd removes them (Karpenter writes its label flag quoted).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::kubelet_args;

pub const META: RuleMeta = RuleMeta {
    code: "NC212",
    name: "flag-with-whitespace",
    severity: Severity::Warning,
    summary: "a kubelet.flags item does not reach the kubelet as written (whitespace, an unclosed quote, a backslash)",
    explanation: "nodeadm appends `spec.kubelet.flags` to its own flags, joins them with spaces and \
writes `NODEADM_KUBELET_ARGS=<flags>` into `/etc/eks/kubelet/environment`, escaping nothing; \
`kubelet.service` runs `/usr/bin/kubelet $NODEADM_KUBELET_ARGS`, which systemd splits into words \
at whitespace, pairing and removing quotes (docs §6.2; systemd `env-file.c`, `replace_env_argv`). \
So:\n\n- an item with an unquoted space becomes two arguments (`--max-pods 58` happens to work, \
`--node-labels=a=b c=d` does not);\n- an unclosed quote runs on into the flags after it, which \
reach the kubelet as one argument;\n- a backslash is dropped;\n- balanced quotes are removed, so \
`--node-labels=\"a=b\"` (as Karpenter writes it) is fine and not reported, and a quoted value may \
hold a space.\n\nAMIs before v20240729 wrapped the value in double quotes \
(awslabs/amazon-eks-ami#1880): there a flag's own `\"` ended that wrapping and the flags after \
it ran together; with `--ami-release` older than that the rule checks that behaviour.\n\nFix: one \
`--flag=value` per item, quotes balanced, no backslashes.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let items = super::flags::items(cx);
    for (di, doc) in cx.docs.iter().enumerate() {
        let mine: Vec<_> = items.iter().filter(|(d, ..)| *d == di).collect();
        // Spaces and quotes inside a template's `${ … }` are its expression, not the value.
        let bare: Vec<String> = mine.iter().map(|(_, _, flag, _)| without_interpolations(flag)).collect();
        let texts: Vec<&str> = bare.iter().map(String::as_str).collect();
        let per_item: Vec<Vec<String>> = texts.iter().map(|t| kubelet_args::intended(&[t])).collect();
        let intended: Vec<&String> = per_item.iter().flatten().collect();
        let wrapped = cx.ami_release.is_some_and(|r| r < kubelet_args::UNWRAPPED_SINCE);
        let received = kubelet_args::received(&texts, wrapped);
        // The first word the kubelet gets differently, and the item it belongs to.
        let first = intended.iter().zip(&received).position(|(a, b)| *a != b);
        let differs = first.or_else(|| (intended.len() != received.len()).then(|| intended.len().min(received.len())));
        let culprit = differs.map(|w| {
            let mut seen = 0;
            per_item
                .iter()
                .position(|words| {
                    seen += words.len();
                    seen > w
                })
                .unwrap_or(per_item.len().saturating_sub(1))
        });
        for (k, (_, _, flag, span)) in mine.iter().enumerate() {
            let words = per_item.get(k).map_or(0, Vec::len);
            let text = texts.get(k).copied().unwrap_or_default();
            let d = if culprit == Some(k) || text.contains('\\') {
                let got = match differs.and_then(|w| received.get(w)).filter(|_| culprit == Some(k)) {
                    Some(w) => format!("`{w}`"),
                    None => format!("`{}`", kubelet_args::received(&[text], wrapped).join(" ")),
                };
                let why = if text.contains('\\') {
                    "systemd drops a backslash"
                } else if wrapped && text.contains('"') {
                    "nodeadm before v20240729 wrote all flags inside one pair of double quotes, which this item's `\"` ends"
                } else if text.matches('"').count() % 2 == 1 || text.matches('\'').count() % 2 == 1 {
                    "its unclosed quote runs on into the flags after it"
                } else {
                    "systemd splits and unquotes the joined flags"
                };
                let mut d = Diagnostic::new(
                    &META,
                    format!("`{flag}` does not reach the kubelet as written: it gets {got} ({why})"),
                )
                .with_help("one `--flag=value` per item, with balanced quotes and no backslash")
                .with_span(*span)
                .with_part(cx.part_index(doc.part));
                let unquoted = flag.replace('"', "");
                let same = kubelet_args::intended(&[&unquoted]) == per_item.get(k).cloned().unwrap_or_default();
                if wrapped && !flag.contains("${") && same && !unquoted.contains(['\'', '\\']) {
                    d = d.with_fix(*span, *flag, unquoted);
                }
                d
            } else if words > 1 {
                let mut d = Diagnostic::new(
                    &META,
                    format!("`{flag}` contains whitespace, so it splits into several kubelet arguments"),
                )
                .with_help("write one `--flag=value` per item")
                .with_span(*span)
                .with_part(cx.part_index(doc.part));
                if let Some(joined) = joined(flag) {
                    d = d.with_fix(*span, *flag, joined);
                }
                d
            } else {
                continue;
            };
            out.push(d);
        }
    }
}

/// The text with each `${ … }` removed.
fn without_interpolations(flag: &str) -> String {
    let mut out = String::with_capacity(flag.len());
    let mut i = 0;
    while let Some(at) = flag.get(i..).and_then(|r| r.find("${")).map(|p| p + i) {
        out.push_str(flag.get(i..at).unwrap_or_default());
        match crate::template::terraform::sequence_end(flag, at) {
            Some(end) => i = end + 1,
            None => {
                i = at;
                break;
            }
        }
    }
    out.push_str(flag.get(i..).unwrap_or_default());
    out
}

/// `--flag value` as `--flag=value`: systemd splits the item into exactly these two arguments,
/// so joining them changes nothing. Quotes or more words are left for the user.
fn joined(flag: &str) -> Option<String> {
    let words: Vec<&str> = flag.split_whitespace().collect();
    let [name, value] = words.as_slice() else { return None };
    let plain = name.starts_with("--") && !name.contains('=') && !value.starts_with('-') && !flag.contains(['"', '\'']);
    plain.then(|| format!("{name}={value}"))
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint};
    use crate::{Source, Target};

    fn nc212(flags: &[&str], ami_release: Option<u32>) -> Vec<String> {
        let items: String = flags.iter().map(|f| format!("      - '{f}'\n")).collect();
        let text =
            format!("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags:\n{items}");
        let opts = LintOptions { target: Target::Karpenter, ami_release, ..Default::default() };
        lint(&Source::new("f.yaml", text), &opts)
            .findings
            .into_iter()
            .filter(|f| f.diagnostic.code == "NC212")
            .map(|f| f.diagnostic.message)
            .collect()
    }

    #[test]
    fn balanced_quotes_are_fine_and_an_unclosed_one_is_not() {
        // Karpenter's e2e user data: two quoted flags; the kubelet gets both, unquoted.
        let quoted = ["--node-labels=\"testing/cluster=unspecified\"", "--register-with-taints=\"k=v:NoExecute\""];
        assert!(nc212(&quoted, None).is_empty());
        assert!(nc212(&quoted, Some(20250101)).is_empty());
        // Before v20240729 nodeadm wrapped the value in double quotes: they ran together.
        let old = nc212(&quoted, Some(20240601));
        assert!(old.len() == 1 && old[0].contains("before v20240729"), "{old:?}");
        let unclosed = nc212(&["--a=\"x", "--v=2"], None);
        assert!(unclosed.len() == 1 && unclosed[0].contains("`--a=x --v=2`"), "{unclosed:?}");
    }
    #[test]
    fn interpolations_are_not_the_value() {
        assert_eq!(super::without_interpolations("--node-labels=${join(\",\", l)} x${a}"), "--node-labels= x");
        assert_eq!(super::without_interpolations("--a=${unclosed"), "--a=${unclosed");
    }

    #[test]
    fn joins_only_a_plain_flag_and_value() {
        assert_eq!(super::joined("--max-pods 58").as_deref(), Some("--max-pods=58"));
        assert_eq!(super::joined("--a \"b c\""), None);
        assert_eq!(super::joined("--a b c"), None);
        assert_eq!(super::joined("--a --b"), None);
        assert_eq!(super::joined("--a=1 b"), None);
    }
}
