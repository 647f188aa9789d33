//! User data embedded in infrastructure code, so `lint` checks it where it is written:
//! - Terraform heredocs in `.tf` files. `<<EOT` keeps the body as written; `<<-EOT` strips the
//!   smallest indentation of its lines (Terraform language docs, "Strings and Templates"). The
//!   closing marker stands alone on its line.
//! - CloudFormation `UserData` block scalars in YAML templates (`UserData: Fn::Base64: !Sub |`,
//!   `UserData: !Base64 |`): YAML strips the content indentation of a block scalar.
//! - Karpenter `EC2NodeClass` manifests (`spec.userData: |`). Karpenter appends its own
//!   NodeConfig with the cluster section (docs/peers.md), so these pieces are linted with the
//!   `karpenter` target whatever `--target` says.
//!
//! Only pieces that look like user data are taken (a NodeConfig, MIME, a script, cloud-config,
//! or anything assigned to a `*user_data*` attribute); IAM policies and other heredocs are not.
//! Each piece keeps where it sits in the host file, so findings point at the host's lines.

/// One piece of user data inside a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// The user data as the template engine will see it (indentation stripped).
    pub text: String,
    /// 0-based host line of the piece's first line.
    pub line: usize,
    /// Columns stripped from every line.
    pub indent: usize,
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

/// Joins `lines`, removing `strip` leading columns from each (blank lines may be shorter).
fn dedent(lines: &[&str], strip: usize) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(l.get(strip.min(indent_of(l))..).unwrap_or(""));
        out.push('\n');
    }
    out
}

fn terraform(text: &str) -> Vec<Embedded> {
    let lines: Vec<&str> = text.lines().collect();
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
        let indent = if strip {
            body.iter().filter(|l| !l.trim().is_empty()).map(|l| indent_of(l)).min().unwrap_or(0)
        } else {
            0
        };
        let piece = dedent(body, indent);
        if looks_like_user_data(&label, &piece) {
            out.push(Embedded { text: piece, line: i, indent, label, target: None });
        }
        i += len + 1;
    }
    out
}

fn block_scalars(text: &str, key: &str, target: Option<crate::target::Target>) -> Vec<Embedded> {
    let lines: Vec<&str> = text.lines().collect();
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
        let piece = dedent(&lines[first..first + len], content_indent);
        let label = key.trim_end_matches(':');
        if looks_like_user_data(label, &piece) {
            out.push(Embedded { text: piece, line: first, indent: content_indent, label: label.into(), target });
        }
        i = first + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_heredocs_keep_their_position() {
        let tf = "resource \"aws_launch_template\" \"x\" {\n  user_data = base64encode(<<-EOT\n    MIME-Version: 1.0\n      indented\n    EOT\n  )\n  policy = <<EOF\n{\"Version\": \"2012-10-17\"}\nEOF\n}\n";
        let got = extract("main.tf", tf).unwrap();
        assert_eq!(got.len(), 1, "the IAM policy heredoc is not user data");
        assert_eq!(
            got[0],
            Embedded {
                text: "MIME-Version: 1.0\n  indented\n".into(),
                line: 2,
                indent: 4,
                label: "user_data".into(),
                target: None
            }
        );
    }

    #[test]
    fn cloudformation_user_data_block() {
        let cfn = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        UserData:\n          Fn::Base64: !Sub |\n            #!/bin/bash\n            /etc/eks/bootstrap.sh ${ClusterName}\n\n            echo done\n        ImageId: ami-1\n";
        let got = extract("stack.yaml", cfn).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName}\n\necho done\n");
        assert_eq!((got[0].line, got[0].indent), (8, 12));
    }

    #[test]
    fn ec2nodeclass_user_data_is_karpenter_s() {
        let m = "apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n  amiSelectorTerms:\n    - alias: al2023@latest\n  userData: |\n    apiVersion: node.eks.aws/v1alpha1\n    kind: NodeConfig\n";
        let got = extract("nodeclass.yaml", m).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].line, got[0].indent, got[0].target), (8, 4, Some(crate::target::Target::Karpenter)));
        assert_eq!(got[0].text, "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n");
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
