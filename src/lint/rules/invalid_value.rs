use crate::diagnostic::RuleMeta;
#[cfg_attr(not(feature = "schema"), allow(unused_imports))]
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Context;
#[cfg_attr(not(feature = "schema"), allow(unused_imports))]
use crate::nodeconfig::pointer::Pointer as _;

pub const META: RuleMeta = RuleMeta {
    code: "NC206",
    name: "invalid-value",
    severity: Severity::Error,
    summary: "a value of the wrong type, outside its enum, or malformed",
    explanation: "nodeadm does not enforce the NodeConfig CRD: a `localStorage.strategy` of \
`raid0` is passed on and fails `setup-local-disks` at boot, an unknown `disabledMounts` entry is \
ignored, a CIDR that does not parse fails only while the kubelet config is built, and a kubelet \
config value of the wrong type fails the kubelet (docs §1.3). This rule applies the strict schema: \
types, enums (case-sensitive), `apiServerEndpoint` an https URL, `certificateAuthority` base64, \
`cidr` an IPv4 or IPv6 CIDR (the *service* CIDR), durations in Go syntax.\n\nFix: use a value \
of the type and form the message names.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    #[cfg(feature = "schema")]
    for (i, f) in &cx.schema {
        let crate::nodeconfig::schema::FindingKind::InvalidValue { suggestion } = &f.kind else { continue };
        let Some(doc) = cx.docs.get(*i) else { continue };
        // Template text (`${endpoint}`, `%s`) is checked once rendered, not here; a literal
        // placeholder (`<ca>`) has its own finding (NC217).
        if doc.value().and_then(|v| v.at(&f.pointer)).and_then(|v| v.as_str()).is_some_and(|v| {
            crate::al2::template::has_placeholder(v) || crate::al2::template::literal_placeholder(v).is_some()
        }) {
            continue;
        }
        let mut d = Diagnostic::new(&META, f.message.clone())
            .with_span(doc.span_or_start(&f.pointer, false))
            .with_part(cx.part_index(doc.part))
            .with_pointer(f.pointer.clone());
        if let Some(s) = suggestion {
            d = d.with_help(format!("did you mean `{s}`? values are case-sensitive"));
        }
        out.push(d);
    }
    #[cfg(not(feature = "schema"))]
    let _ = (cx, out);
}
