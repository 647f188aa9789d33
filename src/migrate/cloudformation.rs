//! CloudFormation templates (YAML with short-form tags, and JSON), read by the project's
//! CloudFormation reader (`template/cloudformation.rs`: one tree, every string byte mapped to its
//! offset in the file) and migrated by replacing only the bytes of what changes:
//! - a `UserData` built as `Fn::Base64` of `Fn::Sub` (a string, or the list form's string, its
//!   variable map kept) or of a plain string: converted with CloudFormation `${Param}` syntax and
//!   written back in the same style, a YAML block scalar (`|`) indented as it was or a JSON
//!   string escaped; a `UserData` built with `Fn::Join` or `Fn::If` is listed for a person;
//! - every EKS AL2 SSM parameter name (a parameter's `Default` of type
//!   `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>`, or `{{resolve:ssm:…}}`), by `ami.rs`.

use super::ami;
use super::edit::{Edit, line_of};
use super::userdata::{self, Converted};
use super::{Change, ChangeKind};
use crate::al2::template::Syntax;
use crate::template::cloudformation;
use crate::template::vars::Vars;
use crate::translate;
use crate::userdata::json_spans::{Node, Str};
use std::path::Path;

/// Whether a YAML or JSON text is a CloudFormation template (not a Kubernetes manifest or an
/// eksctl config): it says its format version, or has resources of AWS types.
pub fn looks_like(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion") || (text.contains("Resources") && text.contains("AWS::"))
}

pub use super::Found as Migration;

pub fn migrate(path: &Path, text: &str, opts: &translate::Options) -> Migration {
    let mut m = Migration::default();
    let Some(stack) = cloudformation::read(text, &Vars::default()) else {
        m.changes.push(Change::new(
            path,
            1,
            "file",
            ChangeKind::Manual,
            "not a YAML or JSON template this tool can read".into(),
        ));
        return m;
    };
    let json = text.trim_start().starts_with('{');
    let mut consumed: Vec<std::ops::Range<usize>> = Vec::new();
    for (pointer, value) in stack.user_data_at() {
        let what = pointer.trim_start_matches('/').replace('/', ".");
        let at = value.start();
        let change = |kind, detail: String| Change::new(path, line_of(text, at), &what, kind, detail);
        let Some((s, syntax)) = script(value) else {
            m.changes.push(change(
                ChangeKind::Manual,
                "UserData is built with Fn::Join, Fn::If or another function, not one Fn::Sub string: convert its text with `eks-userdata convert` and write it back by hand".into(),
            ));
            continue;
        };
        let Some(range) = source_range(text, s, json) else {
            m.changes.push(change(
                ChangeKind::Manual,
                "the UserData string is not a YAML block scalar (`|`) or a JSON string this tool rewrites".into(),
            ));
            continue;
        };
        match userdata::convert(&path.display().to_string(), &s.text, syntax, opts) {
            Converted::Done { text: new, findings } => {
                let with = if json { json_escaped(&new) } else { userdata::reindent_block(text, &range, &new) };
                m.edits.push(Edit { range: range.clone(), with });
                consumed.push(range);
                let mut c = change(ChangeKind::Migrated, "UserData converted to AL2023 user data".into());
                c.findings = findings;
                m.changes.push(c);
            }
            Converted::Unchanged(reason) => m.changes.push(change(ChangeKind::Unchanged, reason)),
            Converted::Empty { findings } => {
                let mut c = change(ChangeKind::Manual, Converted::empty_reason());
                c.findings = findings;
                m.changes.push(c);
            }
            Converted::Refused { reason, findings } => {
                let mut c = change(ChangeKind::Manual, reason);
                c.findings = findings;
                m.changes.push(c);
            }
        }
    }
    // EKS AL2 SSM parameter names anywhere else in the text.
    for (at, _) in text.match_indices("/aws/service/eks/optimized-ami/") {
        if consumed.iter().any(|r| r.contains(&at)) {
            continue;
        }
        let end =
            text.get(at..).and_then(|r| r.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '}' | ',')));
        let Some(token) = text.get(at..at + end.unwrap_or(text.len() - at)) else { continue };
        let Some((r, mapped)) = ami::ssm_segment(token) else { continue };
        if let Some(v) = ami::too_old(token) {
            let detail = format!("`{token}` is for Kubernetes 1.{v}: {}", ami::TOO_OLD);
            m.changes.push(Change::new(path, line_of(text, at), "SSM parameter", ChangeKind::Manual, detail));
            continue;
        }
        m.edits.push(Edit { range: at + r.start..at + r.end, with: mapped.to.clone() });
        let mut c = Change::new(
            path,
            line_of(text, at),
            "SSM parameter",
            ChangeKind::Migrated,
            format!("`{}` → `{}`", token.get(r).unwrap_or_default().trim_matches('/'), mapped.to.trim_matches('/')),
        );
        c.notes.extend(mapped.caveat.map(str::to_string));
        m.changes.push(c);
    }
    m
}

/// The script of a `UserData` value and its template syntax: `Fn::Base64` of an `Fn::Sub`
/// string (or the list form's first item), or of a plain string.
fn script(value: &Node) -> Option<(&Str, Syntax)> {
    let Node::Obj(m, _) = value else { return None };
    let [(k, inner)] = m.as_slice() else { return None };
    if k != "Fn::Base64" {
        return None;
    }
    match inner {
        Node::Str(s) => Some((s, Syntax::None)),
        Node::Obj(m, _) => match m.as_slice() {
            [(k, Node::Str(s))] if k == "Fn::Sub" => Some((s, Syntax::CloudFormation)),
            [(k, Node::Arr(items, _))] if k == "Fn::Sub" => match items.first() {
                Some(Node::Str(s)) => Some((s, Syntax::CloudFormation)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The bytes of the string in the file: a JSON string's inside (between its quotes), or a YAML
/// block scalar's lines (from the first line's start, indentation included, to the end of the
/// last line). `None` for other YAML styles.
fn source_range(text: &str, s: &Str, json: bool) -> Option<std::ops::Range<usize>> {
    let start = *s.offsets.first()?;
    let end = *s.offsets.last()?;
    if end <= start || s.offsets.windows(2).any(|w| w.first() > w.get(1)) {
        return None;
    }
    if json {
        return (text.as_bytes().get(start.checked_sub(1)?) == Some(&b'"')).then_some(start..end);
    }
    userdata::yaml_block(text, start, end)
}

/// `new` as the inside of a JSON string.
fn json_escaped(new: &str) -> String {
    let quoted = serde_json::to_string(new).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_told_from_other_yaml() {
        assert!(looks_like("AWSTemplateFormatVersion: \"2010-09-09\"\n"));
        assert!(looks_like("Resources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n"));
        assert!(!looks_like("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\n"));
        assert_eq!(json_escaped("a\"b\nc"), "a\\\"b\\nc");
    }
}
