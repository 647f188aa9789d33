//! NC212: `kubelet.flags` become `NODEADM_KUBELET_ARGS`, which systemd splits at whitespace
//! without shell quoting (docs §6.2).

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC212",
    name: "flag-with-whitespace",
    severity: Severity::Warning,
    summary: "a kubelet.flags item contains whitespace or quotes",
    explanation: "nodeadm joins `spec.kubelet.flags` with spaces into `NODEADM_KUBELET_ARGS`, \
which systemd splits at whitespace (docs §6.2): an item with a space becomes two arguments, and \
quotes reach the kubelet literally. `--flag value` in one item happens to work; a value with a \
space cannot be passed at all.\n\nFix: one `--flag=value` per item, no quotes, no spaces in values.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (di, _, flag, span) in super::flags::items(cx) {
        let Some(doc) = cx.docs.get(di) else { continue };
        // Spaces and quotes inside a template's `${ … }` are its expression, not the value.
        let bare = without_interpolations(flag);
        let quoted = bare.contains(['"', '\'']);
        if !bare.trim().contains(char::is_whitespace) && !quoted {
            continue;
        }
        let what = if quoted {
            "contains quotes, which reach the kubelet literally"
        } else {
            "contains whitespace, so it splits into several kubelet arguments"
        };
        let mut d = Diagnostic::new(&META, format!("`{flag}` {what}"))
            .with_help("write one `--flag=value` per item, without quotes")
            .with_span(span)
            .with_part(cx.part_index(doc.part));
        if let Some(joined) = joined(flag) {
            d = d.with_fix(span, flag, joined);
        }
        out.push(d);
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
