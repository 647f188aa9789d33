//! Text output of `push` and `rollback`: the plan a reviewer reads (Terraform's shape: what
//! changes, then the diff), then a summary table. JSON is the serde form of the same reports.

use super::AwsError;
use super::plan::Action;
use super::push::PushReport;
use super::rollback::RollbackResult;
use std::fmt::Write as _;

pub fn push_text(r: &PushReport) -> String {
    let mut out = String::new();
    for res in &r.items {
        let i = &res.item;
        let head = format!("{} {} ({}) version {}", i.region, i.template_id, i.template_name, i.source_version);
        match i.action {
            Action::Create => {
                let _ = writeln!(out, "~ {head}: {}", i.reason);
                for c in &i.changes {
                    let _ = writeln!(
                        out,
                        "    {}: {} → {}",
                        c.field,
                        c.old.as_deref().unwrap_or("(none)"),
                        c.new.as_deref().unwrap_or("(none)")
                    );
                }
                for f in &i.findings {
                    let _ = writeln!(out, "    {f}");
                }
                for line in i.diff.lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            Action::Error => {
                let _ = writeln!(out, "! {head}: {}", i.reason);
                for f in i.findings.iter().filter(|f| f.starts_with("error")) {
                    let _ = writeln!(out, "    {f}");
                }
            }
            Action::Unchanged | Action::Skip => {
                let _ = writeln!(out, "= {head}: {}", i.reason);
            }
        }
        if let Some(o) = &res.outcome {
            if let Some(e) = &o.error {
                let _ = writeln!(out, "    failed: {e}");
            }
            for d in &o.differences {
                let _ = writeln!(out, "    verify: {d}");
            }
        }
    }
    for e in &r.errors {
        let _ = writeln!(out, "! {e}");
    }

    let rows: Vec<[String; 6]> = r
        .items
        .iter()
        .map(|res| {
            let i = &res.item;
            let action = match i.action {
                Action::Create => "create",
                Action::Unchanged => "unchanged",
                Action::Skip => "skip",
                Action::Error => "error",
            };
            let result = match (&res.outcome, i.action) {
                (Some(o), _) if o.error.is_some() => "FAILED".to_string(),
                (Some(o), _) => {
                    let mut s = o.new_version.map_or(String::new(), |v| format!("version {v}"));
                    s.push_str(if o.verified { ", verified" } else { ", NOT VERIFIED" });
                    if o.default_set {
                        s.push_str(", default");
                    }
                    s
                }
                (None, Action::Create) => "planned".into(),
                (None, _) => "-".into(),
            };
            [
                i.region.clone(),
                i.template_id.clone(),
                i.template_name.clone(),
                i.source_version.to_string(),
                action.into(),
                result,
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push('\n');
        out.push_str(&table(&["REGION", "TEMPLATE", "NAME", "FROM", "ACTION", "RESULT"], &rows));
    }
    for n in &r.nodegroups {
        let _ =
            writeln!(out, "node group {}/{} ({}): {}: {}", n.cluster, n.nodegroup, n.template_id, n.action, n.detail);
    }
    let count = |a: Action| r.items.iter().filter(|i| i.item.action == a).count();
    let created = r.items.iter().filter(|i| i.outcome.as_ref().is_some_and(|o| o.verified)).count();
    let _ = write!(
        out,
        "\n{} to create, {} unchanged, {} skipped, {} errors",
        count(Action::Create),
        count(Action::Unchanged),
        count(Action::Skip),
        count(Action::Error) + r.errors.len()
    );
    let failed =
        r.items.iter().filter(|i| i.outcome.as_ref().is_some_and(|o| o.error.is_some() || !o.verified)).count();
    if r.applied && failed > 0 {
        let _ = writeln!(out, "; {created} created and verified, {failed} failed (listed above).");
    } else if r.applied {
        let _ = writeln!(out, "; {created} created and verified.");
    } else {
        let _ = writeln!(out, ". Nothing was written; run again with --apply.");
    }
    out
}

pub fn rollback_text(results: &[RollbackResult], errors: &[AwsError]) -> String {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            let v = |x: Option<i64>| x.map_or("-".to_string(), |v| v.to_string());
            [
                r.region.clone(),
                r.template_id.clone(),
                r.template_name.clone(),
                v(r.from),
                v(r.to),
                format!("{}: {}", r.action, r.detail),
            ]
        })
        .collect();
    let mut out = table(&["REGION", "TEMPLATE", "NAME", "DEFAULT", "TO", "RESULT"], &rows);
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
