//! UD122: `${var.x}`, `${local.x}`, `${module.x.y}`, `${data.x.y.z}` are Terraform references,
//! which resolve only in a `.tf` file (a heredoc). In a template file `templatefile()` sees only
//! the variables it is given and stops with "vars map does not contain key \"var\"" (Terraform's
//! `templatefile` function), `file()` passes the text unchanged, and bash itself rejects
//! `${var.x}` as a bad substitution, so the node never gets the value.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "UD122",
    name: "terraform-reference-outside-terraform",
    severity: Severity::Error,
    summary: "a `${var.…}`, `${local.…}`, `${module.…}` or `${data.…}` reference outside a .tf file",
    explanation: "Terraform resolves `var.`, `local.`, `module.` and `data.` references only in its \
own configuration, such as a heredoc in a `.tf` file. A template file rendered with \
`templatefile()` sees nothing but the map it is passed, so `terraform plan` stops with \"vars map \
does not contain key \\\"var\\\"\"; read with `file()` the text reaches the node unchanged, where \
bash rejects `${var.x}` as a bad substitution and nodeadm reads it as a literal string.\n\nFix: \
pass the value in (`templatefile(\"user-data.tftpl\", { cluster_name = var.cluster_name })`) and \
write `${cluster_name}`.",
};

const ROOTS: [&str; 4] = ["var.", "local.", "module.", "data."];

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    // Inside a .tf file these are the configuration's own references.
    if cx.source.name.to_ascii_lowercase().ends_with(".tf") {
        return;
    }
    let Ok(text) = std::str::from_utf8(&cx.env.payload) else { return };
    if !text.contains("${") {
        return;
    }
    for (start, inner) in crate::template::terraform::interpolations(text) {
        let expr = inner.trim_matches(|c: char| c == '~' || c.is_whitespace());
        let Some(root) = ROOTS.iter().find(|r| expr.starts_with(**r)) else { continue };
        let root = root.trim_end_matches('.');
        out.push(
            Diagnostic::new(
                &META,
                format!("`${{{inner}}}` refers to Terraform's `{root}`, which exists only in .tf files: templatefile() stops with \"vars map does not contain key \\\"{root}\\\"\", and file() would pass it to the node unresolved"),
            )
            .with_help("pass the value into templatefile() as a variable and write `${name}`")
            .with_span(Span::payload(start, start + inner.len() + 3)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::{LintOptions, lint_file};
    use crate::source::Source;

    fn codes(name: &str, text: &str) -> Vec<&'static str> {
        lint_file(&Source::new(name, text), &LintOptions::default())
            .findings
            .iter()
            .map(|f| f.diagnostic.code)
            .filter(|c| *c == "UD122")
            .collect()
    }

    #[test]
    fn references_are_errors_in_template_files_only() {
        let body = "#!/bin/bash\n/etc/eks/bootstrap.sh ${var.cluster_name} ${ module.eks.endpoint }\necho ${cluster_name} $${var.x}\n";
        assert_eq!(codes("user-data.tftpl", body), ["UD122", "UD122"]);
        assert_eq!(codes("user-data.sh", body), ["UD122", "UD122"]);
        let heredoc = format!("resource \"aws_launch_template\" \"x\" {{\n  user_data = <<-EOT\n{body}  EOT\n}}\n");
        assert!(codes("main.tf", &heredoc).is_empty(), "a heredoc in a .tf file resolves them");
    }
}
