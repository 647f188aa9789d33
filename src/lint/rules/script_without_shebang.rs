//! UD121: cloud-init writes a shell-script part to a file as it is and executes it
//! (`subp.runparts`); without `#!` as its first two bytes the kernel refuses it and cloud-init
//! logs "Exec format error. Missing #! in script?" (`subp.py`), so none of it runs. cloud-init
//! types a part by its first line after skipping whitespace, but the file keeps that whitespace.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;
use crate::userdata::PartKind;

pub const META: RuleMeta = RuleMeta {
    code: "UD121",
    name: "script-without-shebang",
    severity: Severity::Error,
    summary: "a shell-script part does not start with `#!`, so cloud-init cannot execute it",
    explanation: "cloud-init saves each `text/x-shellscript` part as a file and executes it. The \
kernel runs a script only when its first two bytes are `#!`; otherwise cloud-init logs \
\"Exec format error. Missing #! in script?\" and the script does not run at all (cloud-init \
`subp.py`, `runparts`). A part typed as a script by its Content-Type but starting with a comment, \
a blank line, spaces or a byte-order mark is such a script.\n\nFix: make `#!/bin/bash` the \
very first line of the part.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for part in cx.env.parts.iter().filter(|p| p.kind == PartKind::ShellScript) {
        // A template value in first place (`${pre_script}`) may render to the shebang itself.
        let placeholder = [&b"${"[..], b"{{", b"%s", b"%v"].iter().any(|p| part.body.trim_ascii_start().starts_with(p));
        if part.body.starts_with(b"#!") || placeholder {
            continue;
        }
        let first: String = String::from_utf8_lossy(part.body.split(|b| *b == b'\n').next().unwrap_or_default())
            .chars()
            .take(40)
            .collect();
        let what = if first.trim().is_empty() {
            "starts with a blank line or spaces".to_string()
        } else if first.trim_start().starts_with("#!") {
            "has whitespace before its `#!`".to_string()
        } else {
            format!("starts with `{}`", first.trim_end())
        };
        out.push(
            Diagnostic::new(&META, format!("this shell script {what}, not `#!`: cloud-init cannot execute it (\"Exec format error\") and none of it runs"))
                .with_help("make `#!/bin/bash` the very first line of the part")
                .with_span(Span::part(part.index, 0, 0))
                .with_part(cx.part_index(part)),
        );
    }
}
