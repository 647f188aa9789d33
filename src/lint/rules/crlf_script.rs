//! UD118: cloud-init writes a script part to disk byte for byte and executes it, so CRLF line
//! endings reach the kernel and bash: `#!/bin/bash\r` names an interpreter that does not exist,
//! and every command's last word ends in `\r`. MIME itself (docs §2.1) and YAML accept CRLF, so
//! only script parts are concerned.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Edit, Severity, Span};
use crate::lint::{Context, is_script};

pub const META: RuleMeta = RuleMeta {
    code: "UD118",
    name: "crlf-in-script",
    severity: Severity::Error,
    summary: "a shell script part has Windows (CRLF) line endings",
    explanation: "cloud-init saves a `text/x-shellscript` or boothook part as a file and runs \
it as it is. With CRLF line endings the shebang reads `#!/bin/bash\\r`, which fails with `bad \
interpreter: No such file or directory`; if the script runs anyway (through `sh file`), every \
line's last word carries a `\\r`, so paths, flags and values are all subtly wrong. Editors on \
Windows and some templating steps produce such files. MIME headers and NodeConfig YAML may use \
CRLF; only the scripts break.\n\nFix: save the script with LF line endings \
(`lint --fix` rewrites them inside the script parts, and leaves the rest of the file alone).",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for part in cx.env.parts.iter().filter(|p| is_script(p.kind)) {
        let crs: Vec<usize> = part.body.windows(2).enumerate().filter(|(_, w)| *w == b"\r\n").map(|(i, _)| i).collect();
        let Some(&first) = crs.first() else { continue };
        // Every `\r` before the line feed goes (`\r\r\n` from a file converted twice), so one
        // `--fix` leaves none (the `fix` fuzz target found one pass per `\r` otherwise).
        let edits = crs
            .iter()
            .map(|&i| {
                let run = part.body.get(..=i).map_or(1, |b| b.iter().rev().take_while(|c| **c == b'\r').count());
                let start = i + 1 - run;
                Edit {
                    span: Span::part(part.index, start, i + 1),
                    expect: "\r".repeat(run),
                    replacement: String::new(),
                }
            })
            .collect();
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "{} has CRLF line endings ({} lines): the shebang and every line's last word end in `\\r`",
                    cx.where_(part),
                    crs.len()
                ),
            )
            .with_help("save it with LF line endings (`eks-userdata lint --fix` does it)")
            .with_span(Span::part(part.index, first, first + 1))
            .with_part(cx.part_index(part))
            .with_edits(edits),
        );
    }
}
