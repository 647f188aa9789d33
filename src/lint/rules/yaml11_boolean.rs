//! NC218: nodeadm decodes YAML 1.1 (yaml.v2), where `yes`/`no`/`on`/`off`/`y`/`n` are booleans
//! (docs §1.3); YAML 1.2 tools (yq v4, most editors, Helm's newer paths) read them as strings. A
//! value whose meaning depends on the reader is reported; `true`/`false` mean the same to both.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC218",
    name: "yaml11-boolean",
    severity: Severity::Warning,
    summary: "a YAML 1.1 boolean (`yes`, `on`, `off`) that YAML 1.2 reads as a string",
    explanation: "nodeadm reads NodeConfig with a YAML 1.1 decoder, so `on`, `off`, `yes`, `no`, \
`y` and `n` (any case) are booleans to it (docs §1.3). Tools that follow YAML 1.2 (yq v4, \
editors' YAML servers, many linters and templating steps) read the same words as strings, so a \
value can change meaning on its way to the node, and a string field that happens to hold `no` \
becomes `false`.\n\nFix: write `true` or `false`; quote the word if a string was meant.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let (Some(v), Ok(text)) = (doc.value(), doc.text) else { continue };
        for (pointer, _) in crate::lint::walk::leaves(v, "").into_iter().filter(|(_, v)| v.is_boolean()) {
            let Some(span) = doc.span_of(&pointer, false) else { continue };
            let Some(word) = text.get(span.start..span.end) else { continue };
            if word.eq_ignore_ascii_case("true") || word.eq_ignore_ascii_case("false") {
                continue;
            }
            let meaning = !matches!(word.to_ascii_lowercase().as_str(), "off" | "no" | "n");
            out.push(
                Diagnostic::new(
                    &META,
                    format!(
                        "`{word}` is `{meaning}` to nodeadm (YAML 1.1) but the string \"{word}\" to YAML 1.2 tools"
                    ),
                )
                .with_help(format!("write `{meaning}`, or quote it if a string was meant"))
                .with_fix(span, word, meaning.to_string())
                .with_span(span)
                .with_part(cx.part_index(doc.part))
                .with_pointer(pointer.clone()),
            );
        }
    }
}
