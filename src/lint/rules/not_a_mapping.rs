use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
use serde_json::Value;

pub const META: RuleMeta = RuleMeta {
    code: "NC202",
    name: "not-a-mapping",
    severity: Severity::Error,
    summary: "a NodeConfig document is empty or not a mapping",
    explanation: "A NodeConfig is a YAML mapping with apiVersion, kind and spec. An empty part, a \
bare string (often a whole script typed as application/node.eks.aws), or a list fails nodeadm's \
decode, which discards all user-data NodeConfig (docs §2.4).\n\nFix: put a NodeConfig mapping in \
the part, or give the part the Content-Type that matches what it holds.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for doc in &cx.docs {
        let Some(v) = doc.value() else { continue };
        let what = match v {
            Value::Object(_) => continue,
            Value::Null => "is empty".to_string(),
            Value::Array(_) => "is a list, not a NodeConfig mapping".to_string(),
            Value::String(_) => "is plain text, not a NodeConfig mapping".to_string(),
            _ => "is a scalar, not a NodeConfig mapping".to_string(),
        };
        out.push(
            Diagnostic::new(&META, format!("{} {what}: nodeadm cannot decode it as a NodeConfig", cx.where_(doc.part)))
                .with_help("write `apiVersion: node.eks.aws/v1alpha1`, `kind: NodeConfig` and a `spec` mapping, or change the part's Content-Type")
                .with_span(doc.span_or_start("", false))
                .with_part(cx.part_index(doc.part)),
        );
    }
}
