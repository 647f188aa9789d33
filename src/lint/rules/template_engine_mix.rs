//! UD119: CloudFormation's `${AWS::Region}` (a pseudo-parameter, or any `${A::B}`) inside a
//! template Terraform renders. Terraform reads `A::B` as a provider-function selector and stops
//! with "Missing open parenthesis; Function selector must be followed by an open parenthesis"
//! (confirmed with `terraform` 1.x `templatefile()`), so the launch template is never created.
//! Which texts are Terraform templates: `template::terraform::is_template`.

use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::lint::Context;

pub const META: RuleMeta = RuleMeta {
    code: "UD119",
    name: "cloudformation-syntax-in-terraform",
    severity: Severity::Error,
    summary: "a Terraform template holds CloudFormation's `${AWS::…}` syntax, which terraform cannot render",
    explanation: "User data moved from a CloudFormation stack into Terraform often keeps \
`${AWS::Region}`, `${AWS::StackName}` or `${AWS::AccountId}`. In a Terraform template \
(`templatefile()`, a heredoc) `${ … }` is a Terraform expression and `AWS::Region` reads as the \
start of a provider function call (`provider::name::function(…)`), so `terraform plan` fails \
with \"Function selector must be followed by an open parenthesis\" and nothing is deployed.\n\n\
Fix: pass the value in as a template variable (`region = data.aws_region.current.name`, \
`account_id = data.aws_caller_identity.current.account_id`) and write `${region}`; or, if the \
text is meant literally (a script that fills it in itself), escape it as `$${AWS::Region}`.",
};

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Ok(text) = std::str::from_utf8(&cx.env.payload) else { return };
    if !text.contains("::") || !crate::template::terraform::is_template(&cx.source.name, text) {
        return;
    }
    for (start, inner) in crate::template::terraform::interpolations(text) {
        if !is_selector(inner) {
            continue;
        }
        let end = start + inner.len() + 3;
        out.push(
            Diagnostic::new(
                &META,
                format!(
                    "`${{{inner}}}` is CloudFormation syntax in a Terraform template: terraform stops with \"Function selector must be followed by an open parenthesis\" and renders nothing"
                ),
            )
            .with_help(format!(
                "pass the value in as a template variable, or write `$${{{inner}}}` if the text is meant literally"
            ))
            .with_span(Span::payload(start, end)),
        );
    }
}

/// `AWS::Region`, `A::B::C`: names joined by `::`, with no call after them.
fn is_selector(inner: &str) -> bool {
    let t = inner.trim_matches(|c: char| c == '~' || c.is_whitespace());
    t.contains("::") && t.split("::").all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_selectors_only_in_terraform_templates() {
        let tf = "#!/bin/bash\n/etc/eks/bootstrap.sh ${cluster_name} --kubelet-extra-args '--node-labels=r=${AWS::Region}'\n";
        assert!(crate::template::terraform::is_template("user-data.sh", tf));
        assert!(!crate::template::terraform::is_template("stack.yaml", "echo ${AWS::Region} ${ClusterName}\n"));
        assert!(crate::template::terraform::is_template("t.tftpl", "echo ${AWS::Region}\n"));
        let found: Vec<&str> =
            crate::template::terraform::interpolations(tf).map(|(_, i)| i).filter(|i| is_selector(i)).collect();
        assert_eq!(found, ["AWS::Region"]);
        assert!(!is_selector("provider::aws::arn_parse(x)") && !is_selector("var.x"));
        assert_eq!(
            crate::template::terraform::interpolations("$${AWS::Region} ${a").count(),
            0,
            "an escape and an unclosed one"
        );
    }
}
