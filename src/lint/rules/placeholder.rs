//! NC217: a placeholder copied from documentation and never filled in (`XXXX`, `<cluster-name>`,
//! `my-cluster`). nodeadm accepts any string; the node then fails to reach the API server or
//! joins the wrong cluster name. Template syntax (`${endpoint}`) is not reported: a renderer
//! fills it in.

use crate::al2::template::literal_placeholder;
use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use serde_json::Value;

pub const META: RuleMeta = RuleMeta {
    code: "NC217",
    name: "literal-placeholder",
    severity: Severity::Error,
    summary: "a NodeConfig value is a placeholder that was never filled in",
    explanation: "Examples in documentation use `my-cluster`, `XXXXXXXX` endpoints and \
`<base64-encoded-ca>`; copied into user data they pass nodeadm (which checks only that the \
fields are non-empty) and the node fails to authenticate or registers with the wrong cluster. \
Terraform and CloudFormation interpolations (`${cluster_endpoint}`) are template text, not \
placeholders, and are not reported.\n\nFix: fill in the real value (`aws eks describe-cluster`), \
or make it a template variable.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(Value::Object(root)) = doc.value() else { continue };
        let Some(spec) = root.get("spec") else { continue };
        for (pointer, s) in
            crate::lint::walk::leaves(spec, "/spec").into_iter().filter_map(|(p, v)| Some((p, v.as_str()?)))
        {
            // Scripts and TOML inside the config carry their own placeholders legitimately.
            if pointer == "/spec/containerd/config" {
                continue;
            }
            let Some(word) = literal_placeholder(s) else { continue };
            out.push(
                Diagnostic::new(
                    &META,
                    format!(
                        "`{word}` in {} looks like a placeholder that was never filled in",
                        pointer.get(1..).unwrap_or_default().replace('/', ".")
                    ),
                )
                .with_help("put the real value here, or a template variable")
                .with_span(doc.span_or_start(&pointer, false))
                .with_part(cx.part_index(doc.part))
                .with_pointer(pointer.clone()),
            );
        }
    }
}
