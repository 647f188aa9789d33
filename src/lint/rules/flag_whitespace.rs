//! NC212: `kubelet.flags` reach the kubelet through `NODEADM_KUBELET_ARGS="…"` in an
//! environment file and systemd's word splitting (`nodeconfig::kubelet_args`, docs §6.2). An
//! item is reported when the kubelet would not get what the item says: whitespace splits it,
//! and a double quote ends the file's own quoting, so the flags after it run together. Quotes
//! alone are fine: systemd removes them (Karpenter writes its one label flag quoted).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use crate::nodeconfig::kubelet_args;

pub const META: RuleMeta = RuleMeta {
    code: "NC212",
    name: "flag-with-whitespace",
    severity: Severity::Warning,
    summary: "a kubelet.flags item does not reach the kubelet as written (whitespace, or a double quote before other flags)",
    explanation: "nodeadm appends `spec.kubelet.flags` to its own flags, joins them with spaces and \
writes `NODEADM_KUBELET_ARGS=\"<flags>\"` into `/etc/eks/kubelet/environment`, escaping nothing; \
`kubelet.service` runs `/usr/bin/kubelet $NODEADM_KUBELET_ARGS`, which systemd splits into words \
at whitespace, pairing and removing quotes (docs §6.2; systemd `env-file.c`, `replace_env_argv`). \
So:\n\n- an item with a space becomes two arguments (`--max-pods 58` happens to work, a value with a \
space does not);\n- an item's `\"` ends the file's own double quotes, and the flags after it \
reach the kubelet run together as one argument (`--node-labels=\"a=b\"` followed by \
`--v=2` gives the kubelet `--node-labels=a=b --v=2`, a label value it refuses);\n- quotes \
by themselves are removed, so `--node-labels=\"a=b\"` as the last flag (as Karpenter writes it) \
is fine and not reported.\n\nFix: one `--flag=value` per item, without double quotes; a value \
that must hold a space can be single-quoted (`--flag='a b'`).",
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
        let received = kubelet_args::received(&texts);
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
            let d = if culprit == Some(k) {
                let got = differs
                    .and_then(|w| received.get(w))
                    .map_or_else(|| "nothing for it".to_string(), |w| format!("`{w}`"));
                let mut d = Diagnostic::new(
                    &META,
                    format!("`{flag}` does not reach the kubelet as written: it gets {got} (nodeadm writes all flags inside one pair of double quotes, which this item's `\"` ends)"),
                )
                .with_help("drop the double quotes (systemd removes them anyway); single-quote a value that must hold a space")
                .with_span(*span)
                .with_part(cx.part_index(doc.part));
                let unquoted = flag.replace('"', "");
                let same = kubelet_args::intended(&[&unquoted]) == per_item.get(k).cloned().unwrap_or_default();
                if !flag.contains("${") && same && !unquoted.contains('\'') {
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
