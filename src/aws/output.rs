//! Text output of `push` and `rollback`: the plan a reviewer reads (Terraform's shape: what
//! changes, then the diff), then a summary table. JSON is the serde form of the same reports.

use super::AwsError;
use super::plan::Action;
use super::push::{ItemResult, PushReport};
use super::rollback::RollbackResult;
use std::fmt::Write as _;

pub fn push_text(r: &PushReport) -> String {
    let mut out = String::new();
    for res in &r.items {
        item_text(&mut out, res);
    }
    for e in &r.errors {
        let _ = writeln!(out, "! {e}");
    }

    let rows: Vec<[String; 7]> = r
        .items
        .iter()
        .map(|res| {
            let i = &res.item;
            [
                i.account.clone(),
                i.region.clone(),
                i.template_id.clone(),
                i.template_name.clone(),
                i.source_version.to_string(),
                action_name(i.action).into(),
                result(res),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(&["ACCOUNT", "REGION", "TEMPLATE", "NAME", "FROM", "ACTION", "RESULT"], &rows));
    }
    for n in &r.nodegroups {
        let _ =
            writeln!(out, "node group {}/{} ({}): {}: {}", n.cluster, n.nodegroup, n.template_id, n.action, n.detail);
    }
    let count = |a: Action| r.items.iter().filter(|i| i.item.action == a).count();
    let _ = write!(
        out,
        "\n{} to create, {} to update, {} unchanged, {} skipped, {} owned, {} errors",
        count(Action::Create),
        count(Action::Update),
        count(Action::Unchanged),
        count(Action::Skip),
        count(Action::Owned),
        count(Action::Error) + r.errors.len()
    );
    let outcomes = || r.items.iter().filter_map(|i| i.outcome.as_ref());
    let created = outcomes().filter(|o| o.verified).count();
    let updated = r
        .items
        .iter()
        .filter(|i| i.item.action == Action::Update && i.outcome.as_ref().is_some_and(|o| !o.failed()))
        .count();
    let failed = outcomes().filter(|o| o.failed()).count();
    if r.applied && failed > 0 {
        let _ = writeln!(out, "; {created} created and verified, {updated} updated, {failed} failed (listed above).");
    } else if r.applied {
        let _ = writeln!(out, "; {created} created and verified, {updated} updated.");
    } else {
        let _ = writeln!(out, ". Nothing was written; run again with --apply.");
    }
    out
}

fn item_text(out: &mut String, res: &ItemResult) {
    let i = &res.item;
    let head =
        format!("{} {} {} ({}) version {}", i.account, i.region, i.template_id, i.template_name, i.source_version);
    let mark = match i.action {
        Action::Create | Action::Update => '~',
        Action::Error => '!',
        Action::Unchanged | Action::Skip | Action::Owned => '=',
    };
    let _ = writeln!(out, "{mark} {head}: {}", i.reason);
    for c in &i.changes {
        let _ = writeln!(
            out,
            "    {}: {} → {}",
            c.field,
            c.old.as_deref().unwrap_or("(none)"),
            c.new.as_deref().unwrap_or("(none)")
        );
    }
    for s in &i.steps {
        let _ = writeln!(out, "    + {}", s.describe());
    }
    for n in &i.notes {
        let _ = writeln!(out, "    {n}");
    }
    // What the conversion reported matters where a version is made, or refused.
    let findings = i.findings.iter().filter(|f| match i.action {
        Action::Create => true,
        Action::Error => f.starts_with("error"),
        _ => false,
    });
    for f in findings {
        let _ = writeln!(out, "    {f}");
    }
    if i.action == Action::Create {
        for line in i.diff.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    if let Some(o) = &res.outcome {
        if let Some(e) = &o.error {
            let _ = writeln!(out, "    failed: {e}");
        }
        for d in &o.differences {
            let _ = writeln!(out, "    verify: {d}");
        }
        for v in &o.deleted {
            let _ = writeln!(out, "    deleted version {v}");
        }
        if let Some(l) = &o.left_behind {
            let _ = writeln!(out, "    left behind: version {} did not verify; delete it: {}", l.version, l.command);
        }
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Skip => "skip",
        Action::Owned => "owned",
        Action::Error => "error",
    }
}

fn result(res: &ItemResult) -> String {
    let Some(o) = &res.outcome else {
        return if res.item.steps.is_empty() { "-".into() } else { "planned".into() };
    };
    let mut parts: Vec<String> = Vec::new();
    if o.failed() {
        parts.push("FAILED".into());
    }
    if let Some(v) = o.new_version {
        parts.push(format!("version {v}"));
        if o.verified {
            parts.push("verified".into());
        } else {
            parts.push("NOT VERIFIED".into());
        }
    }
    if !o.deleted.is_empty() {
        let v: Vec<String> = o.deleted.iter().map(i64::to_string).collect();
        parts.push(format!("deleted {}", v.join(" ")));
    }
    if o.default_set {
        parts.push("default".into());
    }
    let started = o.nodegroups.iter().filter(|n| n.action == "started").count();
    if started > 0 {
        parts.push(format!("{started} node group{} updating", if started == 1 { "" } else { "s" }));
    }
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

pub fn rollback_text(results: &[RollbackResult], errors: &[AwsError]) -> String {
    let rows: Vec<[String; 7]> = results
        .iter()
        .map(|r| {
            let v = |x: Option<i64>| x.map_or("-".to_string(), |v| v.to_string());
            [
                r.account.clone(),
                r.region.clone(),
                r.template_id.clone(),
                r.template_name.clone(),
                v(r.from),
                v(r.to),
                format!("{}: {}", r.action, r.detail),
            ]
        })
        .collect();
    let mut out = table(&["ACCOUNT", "REGION", "TEMPLATE", "NAME", "DEFAULT", "TO", "RESULT"], &rows);
    for n in results.iter().flat_map(|r| &r.notes) {
        let _ = writeln!(out, "{n}");
    }
    for e in errors {
        let _ = writeln!(out, "! {e}");
    }
    out
}

fn table<const N: usize>(head: &[&str; N], rows: &[[String; N]]) -> String {
    let mut width = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let text: Vec<String> = cells
            .iter()
            .enumerate()
            .map(
                |(k, c)| {
                    if k == last { c.to_string() } else { format!("{c:<w$}", w = width.get(k).copied().unwrap_or(0)) }
                },
            )
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(head.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::apply::{LeftBehind, Outcome};
    use crate::aws::plan::{self, Step};

    #[test]
    fn a_version_left_behind_is_named_with_the_command_that_removes_it() {
        let mut item = plan::sample_item();
        item.steps = vec![Step::CreateVersion, Step::SetDefault { from: 1, to: None }];
        item.action = Action::Create;
        item.reason = "new version from version 1: UserData".into();
        let outcome = Outcome {
            new_version: Some(2),
            differences: vec!["key_name: planned Some(\"ops\"), EC2 has None".into()],
            left_behind: Some(LeftBehind {
                version: 2,
                command: "aws ec2 delete-launch-template-versions --region r --launch-template-id lt-1 --versions 2"
                    .into(),
            }),
            error: Some(AwsError::new("verify", "VerificationFailed", "version 2 does not match the plan")),
            ..Default::default()
        };
        let report = PushReport {
            applied: true,
            items: vec![ItemResult { item, outcome: Some(outcome) }],
            ..Default::default()
        };
        let text = push_text(&report);
        assert!(
            text.contains("    left behind: version 2 did not verify; delete it: aws ec2 delete-launch-template-versions --region r --launch-template-id lt-1 --versions 2"),
            "{text}"
        );
        assert!(text.contains("    verify: key_name: planned Some(\"ops\"), EC2 has None"), "{text}");
        assert!(text.contains("create  FAILED, version 2, NOT VERIFIED"), "{text}");
        assert!(!text.contains("default\n"), "the default was not moved: {text}");
        assert!(text.ends_with("0 created and verified, 0 updated, 1 failed (listed above).\n"), "{text}");
        assert!(report.failed());
    }
}
