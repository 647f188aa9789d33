use crate::diagnostic::RuleMeta;
#[cfg_attr(not(feature = "schema"), allow(unused_imports))]
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "NC205",
    name: "unknown-field",
    severity: Severity::Error,
    summary: "a key that NodeConfig or KubeletConfiguration does not have",
    explanation: "nodeadm decodes NodeConfig with Kubernetes' non-strict, case-sensitive decoder: \
an unknown or misspelt key (`clusterEndpoint`, `apiserverEndpoint`, `maxpods`) is dropped without \
a word, and the setting it was meant to carry never takes effect (docs §1.3). Keys under \
`spec.kubelet.config` are checked against the KubeletConfiguration v1beta1 field list \
(k8s.io/kubelet v0.36.2); nodeadm writes them verbatim into a kubelet drop-in.\n\nFix: use the \
spelling the finding suggests, or remove the key. The schema is in \
`schemas/nodeconfig.v1alpha1.schema.json`; point your editor at it for completion.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    #[cfg(feature = "schema")]
    for (i, f) in &cx.schema {
        let crate::nodeconfig::schema::FindingKind::UnknownField { suggestion, .. } = &f.kind else { continue };
        let Some(doc) = cx.docs.get(*i) else { continue };
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`? nodeadm silently drops unknown fields"),
            None => {
                "nodeadm silently drops unknown fields; remove it or check the spelling (`eks-userdata explain NC205`)"
                    .into()
            }
        };
        out.push(
            Diagnostic::new(&META, f.message.clone())
                .with_help(help)
                .with_span(doc.span_or_start(&f.pointer, true))
                .with_part(cx.part_index(doc.part))
                .with_pointer(f.pointer.clone()),
        );
    }
    #[cfg(not(feature = "schema"))]
    let _ = (cx, out);
}
