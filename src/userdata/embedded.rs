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

use crate::source::LineIndex;
use crate::template::vars::Vars;

/// One piece of user data inside a host file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// The ways the piece renders: one, or one per way through a CloudFormation value's
    /// `Fn::If` conditions (a spread of them when `sampled`).
    pub variants: Vec<Variant>,
    pub sampled: bool,
    /// 0-based host line of the piece's first line.
    pub line: usize,
    /// What holds it: the Terraform attribute, `UserData` or `userData`.
    pub label: String,
    /// Who consumes it, when the host says (an EC2NodeClass: Karpenter), whatever `--target` is.
    pub target: Option<crate::target::Target>,
    /// Who the rest of the file implies consumes it, and why (`userdata::consumer`): used when
    /// `--target` is not given.
    pub inferred: Option<(crate::target::Target, String)>,
}

/// One rendering of an embedded piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The user data as the template engine will see it (indentation stripped).
    pub text: String,
    /// Host byte offset of each byte of `text`, and one past its end.
    pub offsets: Vec<usize>,
    /// The conditions this rendering took (`` `IsSpot` true ``), empty when there is one way.
    pub when: String,
}

impl Embedded {
    fn single(
        text: String,
        offsets: Vec<usize>,
        line: usize,
        label: String,
        target: Option<crate::target::Target>,
    ) -> Self {
        Embedded {
            variants: vec![Variant { text, offsets, when: String::new() }],
            sampled: false,
            line,
            label,
            target,
            inferred: None,
        }
    }

    /// The first rendering's text.
    pub fn text(&self) -> &str {
        self.variants.first().map_or("", |v| v.text.as_str())
    }
}

/// The pieces of user data in a host file, or `None` when the file is not a Terraform or
/// CloudFormation file (it is then user data itself).
pub fn extract(name: &str, text: &str) -> Option<Vec<Embedded>> {
    extract_with(name, text, &Vars::new())
}

/// [`extract`] with parameter values for CloudFormation templates (`--var`, `--var-file`): the
/// conditions and references they decide are rendered.
pub fn extract_with(name: &str, text: &str, params: &Vars) -> Option<Vec<Embedded>> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tf") {
        return Some(terraform(text));
    }
    let cfn_markers = text.contains("AWSTemplateFormatVersion") || text.contains("\"AWS::");
    if [".json", ".template"].iter().any(|e| lower.ends_with(e)) && text.trim_start().starts_with('{') && cfn_markers {
        return Some(cloudformation(text, params).unwrap_or_default());
    }
    let yamlish = [".yaml", ".yml", ".template"].iter().any(|e| lower.ends_with(e));
    if yamlish
        && (text.contains("AWSTemplateFormatVersion") || (text.contains("Resources:") && text.contains("Type: AWS::")))
    {
        return Some(cloudformation(text, params).unwrap_or_else(|| block_scalars(text, "UserData:", None)));
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
    while let Some(&line) = lines.get(i) {
        i += 1;
        let Some(at) = line.rfind("<<") else { continue };
        let marker = line.get(at + 2..).unwrap_or_default();
        let (strip, id) = match marker.strip_prefix('-') {
            Some(id) => (true, id.trim_end()),
            None => (false, marker.trim_end()),
        };
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let label = line
            .get(..at)
            .unwrap_or_default()
            .split('=')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_')
            .to_owned();
        let rest = lines.get(i..).unwrap_or_default();
        let Some(len) = rest.iter().position(|l| l.trim() == id) else { continue };
        let body = rest.get(..len).unwrap_or_default();
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
            let mut e = Embedded::single(piece, offsets, i, label, None);
            e.inferred = super::consumer::terraform(text, i);
            out.push(e);
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
        if !lines.get(start).is_some_and(|l| l.trim_start().starts_with(key)) {
            continue;
        }
        // The block scalar indicator is on the `UserData:` line or within the next few lines
        // (`Fn::Base64: !Sub |`, or `!Sub` with a list: `- |`).
        let Some(open) = (start..lines.len().min(start + 4)).find(|&j| {
            lines.get(j).is_some_and(|l| {
                let t = l.trim_end();
                t.ends_with('|') || t.ends_with("|-") || t.ends_with("|+")
            })
        }) else {
            continue;
        };
        let open_indent = lines.get(open).map_or(0, |l| indent_of(l));
        let first = open + 1;
        let following = lines.get(first..).unwrap_or_default();
        let Some(content_indent) = following.iter().find(|l| !l.trim().is_empty()).map(|l| indent_of(l)) else {
            continue;
        };
        if content_indent <= open_indent {
            continue;
        }
        let len = following
            .iter()
            .position(|l| !l.trim().is_empty() && indent_of(l) < content_indent)
            .unwrap_or(lines.len() - first);
        let (piece, offsets) = dedent(&starts, first, following.get(..len).unwrap_or_default(), &|_| content_indent);
        let label = key.trim_end_matches(':');
        if looks_like_user_data(label, &piece) {
            out.push(Embedded::single(piece, offsets, first, label.into(), target));
        }
        i = first + len;
    }
    out
}

/// Ways through a value's `Fn::If` conditions linted at most.
const BOUND: usize = 16;

/// Every `UserData` value of a CloudFormation template (JSON, or YAML in long or short form),
/// rendered the way CloudFormation builds it (`template::cloudformation`), or `None` when the
/// template cannot be read.
fn cloudformation(text: &str, params: &Vars) -> Option<Vec<Embedded>> {
    let stack = crate::template::cloudformation::read(text, params)?;
    let starts = LineIndex::new(text.as_bytes());
    let mut out = Vec::new();
    for value in stack.user_data() {
        let Some(r) = stack.renderings(value, BOUND) else { continue };
        let mut variants: Vec<Variant> = Vec::new();
        for v in r.list {
            if !variants.iter().any(|seen| seen.text == v.text.text) {
                let when = v.describe();
                variants.push(Variant { text: v.text.text, offsets: v.text.offsets, when });
            }
        }
        if !variants.iter().any(|v| looks_like_user_data("UserData", &v.text)) {
            continue;
        }
        let first = variants.first().and_then(|v| v.offsets.first().copied()).unwrap_or(0);
        let line = starts.locate(text.as_bytes(), first).0.saturating_sub(1);
        out.push(Embedded {
            variants,
            sampled: r.sampled,
            line,
            label: "UserData".into(),
            target: None,
            inferred: None,
        });
    }
    out.sort_by_key(|e| e.variants.first().and_then(|v| v.offsets.first().copied()));
    Some(out)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn terraform_heredocs_keep_their_position() {
        let tf = "resource \"aws_launch_template\" \"x\" {\n  user_data = base64encode(<<-EOT\n    MIME-Version: 1.0\n      indented\n    EOT\n  )\n  policy = <<EOF\n{\"Version\": \"2012-10-17\"}\nEOF\n}\n";
        let got = extract("main.tf", tf).unwrap();
        assert_eq!(got.len(), 1, "the IAM policy heredoc is not user data");
        assert_eq!(got[0].text(), "MIME-Version: 1.0\n  indented\n");
        assert_eq!((got[0].line, got[0].label.as_str(), got[0].target), (2, "user_data", None));
        assert_placed(tf, &got[0]);
    }

    #[test]
    fn cloudformation_user_data_block() {
        let cfn = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  LT:\n    Type: AWS::EC2::LaunchTemplate\n    Properties:\n      LaunchTemplateData:\n        UserData:\n          Fn::Base64: !Sub |\n            #!/bin/bash\n            /etc/eks/bootstrap.sh ${ClusterName}\n\n            echo done\n        ImageId: ami-1\n";
        let got = extract("stack.yaml", cfn).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text(), "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName}\n\necho done\n");
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
        assert_eq!(got[0].text(), "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n");
    }

    /// Every byte of the piece sits where the host has the same byte (newlines, which dedent
    /// and escapes rewrite, excepted).
    fn assert_placed(host: &str, e: &Embedded) {
        let e = &e.variants[0];
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
            got[0].text(),
            "#!/bin/bash\n/etc/eks/bootstrap.sh ${ClusterName} --kubelet-extra-args '--max-pods=58'\n"
        );
        assert_eq!(got[0].line, 7);
        assert_eq!(&cfn[got[0].variants[0].offsets[12]..got[0].variants[0].offsets[12] + 4], "/etc");
        assert_eq!(
            &cfn[got[0].variants[0].offsets[34]..got[0].variants[0].offsets[34] + 6],
            "{\"Ref\"",
            "an opaque value points at its function"
        );
        assert!(got[1].text().starts_with("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"));
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
