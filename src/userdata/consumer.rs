//! Who consumes user data written in a Terraform file, when the file says: a launch template
//! that an `aws_eks_node_group` uses is a managed node group's (EKS merges its own NodeConfig
//! with the cluster section, docs §2.2), with a custom AMI when the launch template sets
//! `image_id` or the node group `ami_type = "CUSTOM"` (then nobody adds the cluster section);
//! user data under terraform-aws-eks's `eks_managed_node_groups` is a managed node group's, and
//! under `self_managed_node_groups` a self-managed one's. `lint` uses it when `--target` is not
//! given, so a partial NodeConfig meant for EKS to complete is not reported as missing fields.
//! The reading is textual (top-level blocks start at column 0, as `terraform fmt` writes them).

use crate::target::Target;

/// The target the file implies for the piece starting on 0-based `line`, and why.
pub fn terraform(text: &str, line: usize) -> Option<(Target, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let (start, kind, name) = enclosing_block(&lines, line)?;
    match kind.as_str() {
        "resource aws_launch_template" => {
            let reference = format!("aws_launch_template.{name}.");
            let own = block_body(&lines, start);
            let custom_ami = own.iter().any(|l| attribute(l) == Some("image_id"));
            blocks(&lines, "resource", "aws_eks_node_group").find_map(|(at, group)| {
                let body = block_body(&lines, at);
                body.iter().any(|l| l.contains(&reference)).then(|| {
                    let custom =
                        custom_ami || body.iter().any(|l| attribute(l) == Some("ami_type") && l.contains("\"CUSTOM\""));
                    let target = if custom { Target::MngCustomAmi } else { Target::Mng };
                    (target, format!("aws_eks_node_group.{group} uses aws_launch_template.{name}"))
                })
            })
        }
        "module" => {
            // The last node-group map opened before the piece and not yet closed.
            let body = lines.get(start + 1..line)?;
            let (at, key) = body.iter().enumerate().rev().find_map(|(k, l)| {
                let key = attribute(l)?;
                key.ends_with("managed_node_groups")
                    .then_some(key)
                    .or_else(|| key.ends_with("managed_node_group_defaults").then_some(key))
                    .map(|key| (k, key))
            })?;
            let depth: i64 = body.get(at..)?.iter().map(|l| braces(l)).sum();
            if depth <= 0 {
                return None;
            }
            let target = if key.starts_with("self_managed") { Target::SelfManaged } else { Target::Mng };
            Some((target, format!("it is in module.{name}'s {key}")))
        }
        _ => None,
    }
}

/// The top-level block holding `line`: (its first line, `resource TYPE` or `module`, name).
fn enclosing_block(lines: &[&str], line: usize) -> Option<(usize, String, String)> {
    let at = (0..=line.min(lines.len().saturating_sub(1)))
        .rev()
        .find(|k| lines.get(*k).is_some_and(|l| header(l).is_some()))?;
    // A closing brace at column 0 between the header and the piece ends that block first.
    if lines.get(at + 1..line)?.iter().any(|l| l.starts_with('}')) {
        return None;
    }
    let (kind, name) = header(lines.get(at)?)?;
    Some((at, kind, name))
}

/// `resource "TYPE" "NAME" {` → (`resource TYPE`, NAME); `module "NAME" {` → (`module`, NAME).
fn header(line: &str) -> Option<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let unquote = |w: &str| w.strip_prefix('"')?.strip_suffix('"').map(str::to_string);
    match words.as_slice() {
        ["resource", t, n, "{"] => Some((format!("resource {}", unquote(t)?), unquote(n)?)),
        ["module", n, "{"] => Some(("module".into(), unquote(n)?)),
        _ => None,
    }
}

fn blocks<'a>(lines: &'a [&'a str], keyword: &'a str, kind: &'a str) -> impl Iterator<Item = (usize, String)> + 'a {
    lines.iter().enumerate().filter_map(move |(k, l)| {
        let (t, n) = header(l)?;
        (t == format!("{keyword} {kind}")).then_some((k, n))
    })
}

/// The lines of the block whose header is on `start`, up to its closing brace at column 0.
fn block_body<'a>(lines: &'a [&'a str], start: usize) -> &'a [&'a str] {
    let rest = lines.get(start + 1..).unwrap_or_default();
    let end = rest.iter().position(|l| l.starts_with('}')).unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// The attribute a line assigns (`  image_id = …` → `image_id`).
fn attribute(line: &str) -> Option<&str> {
    let (name, _) = line.split_once('=')?;
    let name = name.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

fn braces(line: &str) -> i64 {
    line.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_GROUP: &str = r#"resource "aws_launch_template" "workers" {
  name_prefix = "workers-"
  user_data = base64encode(<<-EOT
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
  EOT
  )
}

resource "aws_eks_node_group" "workers" {
  cluster_name = "c"
  launch_template {
    id      = aws_launch_template.workers.id
    version = aws_launch_template.workers.latest_version
  }
}
"#;

    #[test]
    fn a_launch_template_used_by_a_node_group_is_managed() {
        let got = terraform(NODE_GROUP, 3).unwrap();
        assert_eq!(got, (Target::Mng, "aws_eks_node_group.workers uses aws_launch_template.workers".into()));
        let custom = NODE_GROUP.replace("  name_prefix", "  image_id = \"ami-1\"\n  name_prefix");
        assert_eq!(terraform(&custom, 4).unwrap().0, Target::MngCustomAmi);
        let alone = NODE_GROUP
            .replace("aws_launch_template.workers.id", "\"lt-1\"")
            .replace("aws_launch_template.workers.latest_version", "1");
        assert_eq!(terraform(&alone, 3), None, "no node group uses it: the file does not say");
    }

    #[test]
    fn module_node_group_maps_decide() {
        let text = "module \"eks\" {\n  eks_managed_node_groups = {\n    a = {\n      cloudinit_pre_nodeadm = [{\n        content = <<-EOT\n          kind: NodeConfig\n        EOT\n      }]\n    }\n  }\n  self_managed_node_groups = {\n    b = {\n      user_data = <<-EOT\n        x\n      EOT\n    }\n  }\n  tags = {}\n  extra = <<-EOT\n    y\n  EOT\n}\n";
        assert_eq!(terraform(text, 5).map(|t| t.0), Some(Target::Mng));
        assert_eq!(terraform(text, 13).map(|t| t.0), Some(Target::SelfManaged));
        assert_eq!(terraform(text, 19), None, "after both maps closed");
    }
}
