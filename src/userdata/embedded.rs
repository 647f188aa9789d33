//! User data embedded in infrastructure code, so `lint` checks it where it is written:
//! - Terraform heredocs in `.tf` files. `<<EOT` keeps the body as written; `<<-EOT` cuts the
//!   smallest indentation from the lines that start a line once strip markers are applied, the
//!   rule hclsyntax implements (`template::terraform::flush_cuts`; the documentation's "smallest
//!   indentation of its lines" is not what terraform does around `~` and `${`). The closing
//!   marker stands alone on its line.
//! - CloudFormation `UserData` block scalars in YAML templates (`UserData: Fn::Base64: !Sub |`,
//!   `UserData: !Base64 |`): YAML strips the content indentation of a block scalar.
//! - CloudFormation JSON templates: `"UserData"` as `Fn::Base64` of a string, of `Fn::Sub` (a
//!   string, or `[string, variables]`), or of `Fn::Join` with its delimiter; other intrinsic
//!   functions inside a join (`Ref`, `Fn::GetAtt`, …) are opaque `${…}` values, like the
//!   `${…}` a `Fn::Sub` string already holds (CloudFormation intrinsic function reference).
//! - Karpenter `EC2NodeClass` manifests (`spec.userData: |`). Karpenter appends its own
//!   NodeConfig with the cluster section (docs/peers.md), so these pieces are linted with the
//!   `karpenter` target whatever `--target` says.
//!
//! Only pieces that look like user data are taken (a NodeConfig, MIME, a script, cloud-config,
//! or anything assigned to a `*user_data*` attribute); IAM policies and other heredocs are not.
//! Each piece keeps, for every byte, where it sits in the host file, so findings point at the
//! host's lines and columns, through indentation that was stripped and escapes that were decoded.

use super::json_spans::{self, Node, Str};
use crate::source::LineIndex;

/// One piece of user data inside a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// The user data as the template engine will see it (indentation stripped).
    pub text: String,
    /// 0-based host line of the piece's first line.
    pub line: usize,
    /// Host byte offset of each byte of `text`, and one past its end.
    pub offsets: Vec<usize>,
    /// What holds it: the Terraform attribute, `UserData` or `userData`.
    pub label: String,
    /// Who consumes it, when the host says (an EC2NodeClass: Karpenter).
    pub target: Option<crate::target::Target>,
}

/// The pieces of user data in a host file, or `None` when the file is not a Terraform or
/// CloudFormation file (it is then user data itself).
pub fn extract(name: &str, text: &str) -> Option<Vec<Embedded>> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tf") {
        return Some(terraform(text));
    }
    let cfn_markers = text.contains("AWSTemplateFormatVersion") || text.contains("\"AWS::");
    if [".json", ".template"].iter().any(|e| lower.ends_with(e)) && text.trim_start().starts_with('{') && cfn_markers {
        return Some(cfn_json(text));
    }
    let yamlish = [".yaml", ".yml", ".template"].iter().any(|e| lower.ends_with(e));
    if yamlish
        && (text.contains("AWSTemplateFormatVersion") || (text.contains("Resources:") && text.contains("Type: AWS::")))
    {
        return Some(block_scalars(text, "UserData:", None));
    }
    if yamlish && text.lines().any(|l| l.trim() == "kind: EC2NodeClass") {
        return Some(block_scalars(text, "userData:", Some(crate::target::Target::Karpenter)));
    }
    None
}

/// Whether a file found while walking a directory is worth linting: user data by name
/// (`user-data*`, `nodeconfig*`, `*.userdata`, `*.mime`), or by content (`head`: the file's
/// first bytes) a NodeConfig, MIME archive, bootstrap or nodeadm script, Terraform heredoc,
/// CloudFormation user data or EC2NodeClass. Files named on the command line are always linted.
pub fn worth_linting(name: &str, head: &[u8]) -> bool {
    let lower = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let named = ["user-data", "userdata", "user_data", "nodeconfig", "node-config"].iter().any(|k| lower.contains(k))
        || lower.ends_with(".userdata")
        || lower.ends_with(".mime");
    if named {
        return true;
    }
    let text = String::from_utf8_lossy(head);
    let has = |s: &str| text.contains(s);
    if lower.ends_with(".tf") {
        return has("<<") && (has("user_data") || has("node.eks.aws") || has("MIME-Version"));
    }
    let ext_ok = [".yaml", ".yml", ".json", ".template", ".tpl", ".tftpl", ".txt", ".sh", ".cfg"]
        .iter()
        .any(|e| lower.ends_with(e));
    ext_ok
        && (has("node.eks.aws/v1")
            || has("MIME-Version:")
            || has("/etc/eks/bootstrap.sh")
            || (has("AWSTemplateFormatVersion") && has("UserData"))
            || has("kind: EC2NodeClass"))
}

fn looks_like_user_data(label: &str, body: &str) -> bool {
    let head = body.trim_start();
    label.to_ascii_lowercase().contains("user_data")
        || body.contains("node.eks.aws")
        || head.starts_with("MIME-Version")
        || head.starts_with("#!")
        || head.starts_with("#cloud-config")
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// Joins `lines` (host lines from 0-based `first`), removing `cut(k)` leading bytes from line
/// `k` (never more than its indentation), and records where each kept byte came from.
fn dedent(starts: &LineIndex, first: usize, lines: &[&str], cut: &dyn Fn(usize) -> usize) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut offsets = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let cut = cut(k).min(indent_of(l));
        let kept = l.get(cut..).unwrap_or("");
        let at = starts.line_start(first + k + 1) + cut;
        out.push_str(kept);
        out.push('\n');
        offsets.extend(at..=at + kept.len());
    }
    offsets.push(offsets.last().copied().unwrap_or(0));
    (out, offsets)
}

fn terraform(text: &str) -> Vec<Embedded> {
    let lines: Vec<&str> = text.lines().collect();
    let starts = LineIndex::new(text.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let Some(at) = line.rfind("<<") else { continue };
        let marker = &line[at + 2..];
        let (strip, id) = match marker.strip_prefix('-') {
            Some(id) => (true, id.trim_end()),
            None => (false, marker.trim_end()),
        };
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let label = line[..at]
            .split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
            .to_owned();
        let Some(len) = lines[i..].iter().position(|l| l.trim() == id) else { continue };
        let body = &lines[i..i + len];
        // `<<-` cuts what terraform's flush rule says, which depends on where template
        // sequences and strip markers sit; a body the template reader refuses falls back to the
        // smallest indentation of its non-blank lines.
        let raw: String = body.iter().map(|l| format!("{l}\n")).collect();
        let cuts: Vec<usize> = if strip {
            crate::template::terraform::flush_cuts(&raw).unwrap_or_else(|_| {
                let least = body.iter().filter(|l| !l.trim().is_empty()).map(|l| indent_of(l)).min().unwrap_or(0);
                vec![least; body.len()]
            })
        } else {
            Vec::new()
        };
        let (piece, offsets) = dedent(&starts, i, body, &|k| cuts.get(k).copied().unwrap_or(0));
        if looks_like_user_data(&label, &piece) {
            out.push(Embedded { text: piece, line: i, offsets, label, target: None });
        }
        i += len + 1;
    }
    out
}

fn block_scalars(text: &str, key: &str, target: Option<crate::target::Target>) -> Vec<Embedded> {
    let lines: Vec<&str> = text.lines().collect();
    let starts = LineIndex::new(text.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        i += 1;
        if !lines[start].trim_start().starts_with(key) {
            continue;
        }
        // The block scalar indicator is on the `UserData:` line or within the next few lines
        // (`Fn::Base64: !Sub |`, or `!Sub` with a list: `- |`).
        let Some(open) = (start..lines.len().min(start + 4)).find(|&j| {
            let t = lines[j].trim_end();
            t.ends_with('|') || t.ends_with("|-") || t.ends_with("|+")
        }) else {
            continue;
        };
        let open_indent = indent_of(lines[open]);
        let first = open + 1;
        let Some(content_indent) = lines[first..].iter().find(|l| !l.trim().is_empty()).map(|l| indent_of(l)) else {
            continue;
        };
        if content_indent <= open_indent {
            continue;
        }
        let len = lines[first..]
            .iter()
            .position(|l| !l.trim().is_empty() && indent_of(l) < content_indent)
            .unwrap_or(lines.len() - first);
        let (piece, offsets) = dedent(&starts, first, &lines[first..first + len], &|_| content_indent);
        let label = key.trim_end_matches(':');
        if looks_like_user_data(label, &piece) {
            out.push(Embedded { text: piece, line: first, offsets, label: label.into(), target });
        }
        i = first + len;
    }
    out
}

fn cfn_json(text: &str) -> Vec<Embedded> {
    let mut out = Vec::new();
    let Some(root) = json_spans::parse(text) else { return out };
    let starts = LineIndex::new(text.as_bytes());
    let mut stack = vec![&root];
    while let Some(node) = stack.pop() {
        match node {
            Node::Obj(members, _) => {
                for (k, v) in members.iter().rev() {
                    match (k.as_str(), intrinsic(v, 0)) {
                        ("UserData", Some(piece)) if looks_like_user_data("UserData", &piece.text) => {
                            let first = piece.offsets.first().copied().unwrap_or(0);
                            let line = starts.locate(text.as_bytes(), first).0 - 1;
                            out.push(Embedded {
                                text: piece.text,
                                line,
                                offsets: piece.offsets,
                                label: "UserData".into(),
                                target: None,
                            });
                        }
                        _ => stack.push(v),
                    }
                }
            }
            Node::Arr(items, _) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out.sort_by_key(|e| e.offsets.first().copied());
    out
}

/// The text CloudFormation builds from a `UserData` value, with other functions opaque.
fn intrinsic(node: &Node, depth: usize) -> Option<Str> {
    if depth > json_spans::MAX_DEPTH {
        return None;
    }
    let Node::Obj(members, at) = node else {
        return match node {
            Node::Str(s) => Some(s.clone()),
            _ => None,
        };
    };
    let [(name, arg)] = members.as_slice() else { return None };
    match (name.as_str(), arg) {
        ("Fn::Base64", v) => intrinsic(v, depth + 1),
        ("Fn::Sub", Node::Str(s)) => Some(s.clone()),
        ("Fn::Sub", Node::Arr(items, _)) => match items.first() {
            Some(Node::Str(s)) => Some(s.clone()),
            _ => None,
        },
        ("Fn::Join", Node::Arr(args, _)) => {
            let [Node::Str(delim), Node::Arr(parts, _)] = args.as_slice() else { return None };
            let mut out = Str { text: String::new(), offsets: vec![*at] };
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(delim);
                }
                match intrinsic(p, depth + 1) {
                    Some(s) => out.push(&s),
                    None => out.push_at(&opaque(p), p.start()),
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// `${Name}` for `{"Ref": "Name"}`, `${Fn::GetAtt}` for other functions: a value only
/// CloudFormation knows, which lint treats as opaque.
fn opaque(node: &Node) -> String {
    match node {
        Node::Obj(m, _) => match m.as_slice() {
            [(k, Node::Str(s))] if k == "Ref" => format!("${{{}}}", s.text),
            [(k, _)] => format!("${{{k}}}"),
            _ => "${value}".into(),
        },
        _ => "${value}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_heredocs_keep_their_position() {
        let tf = "resource \"aws_launch_template\" \"x\" {\n  user_data = base64encode(<<-EOT\n    MIME-Version: 1.0\n      indented\n    EOT\n  )\n  policy = <<EOF\n{\"Version\": \"2012-10-17\"}\nEOF\n}\n";
        let got = extract("main.tf", tf).unwrap();
        assert_eq!(got.len(), 1, "the IAM policy heredoc is not user data");
        assert_eq!(got[0].text, "MIME-Version: 1.0\n  indented\n");
        assert_eq!((got[0].line, got[0].label.as_str(), got[0].target), (2, "user_data", None));
        assert_placed(tf, &got[0]);
    }

    #[test]
    fn cloudformation_user_data_block() {
        let cfn = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        UserData:\n          Fn::Base64: !Sub |\n            #!/bin/bash\n            /etc/eks/bootstrap.sh ${ClusterName}\n\n            echo done\n        ImageId: ami-1\n";
        let got = extract("stack.yaml", cfn).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName}\n\necho done\n");
        assert_eq!(got[0].line, 8);
        assert_placed(cfn, &got[0]);
    }

    #[test]
    fn ec2nodeclass_user_data_is_karpenter_s() {
        let m = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n  amiSelectorTerms:\n    - alias: al2023@latest\n  userData: |\n    apiVersion: node.eks.aws/v1alpha1\n    kind: NodeConfig\n";
        let got = extract("nodeclass.yaml", m).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].line, got[0].target), (8, Some(crate::target::Target::Karpenter)));
        assert_placed(m, &got[0]);
        assert_eq!(got[0].text, "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n");
    }

    /// Every byte of the piece sits where the host has the same byte (newlines, which dedent
    /// and escapes rewrite, excepted).
    fn assert_placed(host: &str, e: &Embedded) {
        assert_eq!(e.offsets.len(), e.text.len() + 1);
        for (i, b) in e.text.bytes().enumerate().filter(|(_, b)| *b != b'\n') {
            assert_eq!(host.as_bytes()[e.offsets[i]], b, "byte {i} of {:?}", e.text);
        }
    }

    #[test]
    fn cloudformation_json_user_data() {
        let cfn = r##"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "LT": {
      "Type": "AWS::EC2::LaunchTemplate",
      "Properties": {"LaunchTemplateData": {
        "UserData": {"Fn::Base64": {"Fn::Join": ["", [
          "#!/bin/bash\n",
          "/etc/eks/bootstrap.sh ", {"Ref": "ClusterName"}, " --kubelet-extra-args '--max-pods=58'\n"
        ]]}},
        "ImageId": "ami-1"
      }}
    },
    "LT2": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
      "UserData": {"Fn::Base64": {"Fn::Sub": ["apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: ${Name}\n", {"Name": {"Ref": "ClusterName"}}]}}
    }}},
    "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Version": "2012-10-17"}}}
  }
}"##;
        let got = extract("stack.json", cfn).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].text,
            "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args '--max-pods=58'\n"
        );
        assert_eq!(got[0].line, 7);
        assert_eq!(&cfn[got[0].offsets[12]..got[0].offsets[12] + 4], "/etc");
        assert_eq!(
            &cfn[got[0].offsets[34]..got[0].offsets[34] + 6],
            "{\"Ref\"",
            "an opaque value points at its function"
        );
        assert!(got[1].text.starts_with("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"));
        assert_eq!(got[1].line, 14);
        assert_eq!(
            extract("stack.json", "{\"AWSTemplateFormatVersion\": ["),
            Some(vec![]),
            "broken JSON: nothing to lint, no panic"
        );
        assert_eq!(extract("package.json", "{\"name\": \"x\"}"), None);
    }

    #[test]
    fn picks_user_data_out_of_a_repository() {
        assert!(worth_linting("envs/prod/user-data.sh", b"echo"));
        assert!(worth_linting("nodes.yaml", b"apiVersion: node.eks.aws/v1alpha1\n"));
        assert!(worth_linting("main.tf", b"user_data = <<-EOT\n"));
        assert!(worth_linting("stack.yaml", b"AWSTemplateFormatVersion: x\n UserData:\n"));
        assert!(!worth_linting("deployment.yaml", b"apiVersion: apps/v1\nkind: Deployment\n"));
        assert!(!worth_linting("variables.tf", b"variable \"x\" {}\n"));
        assert!(!worth_linting("README.md", b"node.eks.aws/v1alpha1"));
    }

    #[test]
    fn plain_user_data_is_not_a_host() {
        assert_eq!(extract("nodeconfig.yaml", "apiVersion: node.eks.aws/v1alpha1\n"), None);
        assert_eq!(extract("user-data.txt", "MIME-Version: 1.0\n"), None);
    }
}
