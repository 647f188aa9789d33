//! User data that arrives inside the document that delivers it, read the way that tool reads it:
//! - eksctl: a node group mapping, or a `ClusterConfig` with `nodeGroups`/`managedNodeGroups`
//!   lists; `preBootstrapCommands` then `overrideBootstrapCommand` are the script (eksctl
//!   schema). A managed group with `ami:` runs a custom AMI, so EKS merges no NodeConfig.
//! - CloudFormation: a `UserData` value (or a template whose resources have one) built from
//!   `Fn::Base64`, `Fn::Sub` (string or `[string, variables]`), `Fn::Join`, with `Ref` and
//!   `Fn::GetAtt` as `${…}` placeholders (CloudFormation intrinsic function reference). YAML
//!   short-form tags (`!Sub`) are dropped by the YAML reader, which leaves the same structure.
//! - Terraform code (`module`, `resource` blocks) is not user data: it is refused with what to do.

use crate::target::Target;
use serde_json::Value;

/// A script found in a host document.
#[derive(Debug, Clone)]
pub(super) struct Hosted {
    pub script: String,
    /// Where the user data sits in the host (every report entry points there).
    pub anchor: usize,
    /// What the host says, for the report.
    pub notes: Vec<String>,
    /// CloudFormation `Fn::If` values read with their true branch (a branch of the output, CV449).
    pub conditions: Vec<String>,
    /// The host says who consumes the user data.
    pub target: Option<Target>,
    pub cloudformation: bool,
}

fn at(doc: &crate::nodeconfig::yaml::YamlDoc, pointer: &str) -> Option<usize> {
    doc.spans.lookup(pointer).filter(|(p, _)| *p == pointer).map(|(_, s)| s.key.unwrap_or(s.value).0)
}

fn group_script(g: &serde_json::Map<String, Value>) -> Option<String> {
    let pre: Vec<&str> = g
        .get("preBootstrapCommands")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let over = g.get("overrideBootstrapCommand").and_then(Value::as_str);
    if pre.is_empty() && over.is_none() {
        return None;
    }
    let mut script = String::from("#!/bin/bash\n");
    for c in pre {
        script.push_str(c);
        if !c.ends_with('\n') {
            script.push('\n');
        }
    }
    if let Some(o) = over {
        script.push_str(o.strip_prefix("#!").map_or(o, |rest| rest.split_once('\n').map_or("", |(_, body)| body)));
    }
    Some(script)
}

/// eksctl's node group(s).
pub(super) fn eksctl(text: &str) -> Option<Hosted> {
    if !text.contains("overrideBootstrapCommand") && !text.contains("preBootstrapCommands") {
        return None;
    }
    let doc = crate::nodeconfig::yaml::parse(text).ok()?;
    let obj = doc.value.as_object()?;
    if let Some(script) = group_script(obj) {
        let anchor = ["/preBootstrapCommands", "/overrideBootstrapCommand"]
            .iter()
            .filter_map(|p| at(&doc, p))
            .min()
            .unwrap_or(0);
        let notes = vec!["an eksctl node group config: preBootstrapCommands and overrideBootstrapCommand are read as the user-data script".to_string()];
        return Some(Hosted { script, anchor, notes, conditions: Vec::new(), target: None, cloudformation: false });
    }
    let mut groups: Vec<(String, bool, usize, &serde_json::Map<String, Value>)> = Vec::new();
    for (key, managed) in [("managedNodeGroups", true), ("nodeGroups", false)] {
        for (i, g) in obj.get(key).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(m) = g.as_object() {
                groups.push((format!("/{key}/{i}"), managed, i, m));
            }
        }
    }
    let with: Vec<&(String, bool, usize, &serde_json::Map<String, Value>)> =
        groups.iter().filter(|(_, _, _, g)| group_script(g).is_some()).collect();
    let (pointer, managed, _, g) = *with.first()?;
    let name = g.get("name").and_then(Value::as_str).unwrap_or("?");
    let mut notes = vec![format!(
        "an eksctl {} `{name}`: its preBootstrapCommands and overrideBootstrapCommand are read as the user-data script",
        if *managed { "managed node group" } else { "self-managed node group" }
    )];
    if with.len() > 1 {
        let others: Vec<&str> =
            with.iter().skip(1).map(|(_, _, _, g)| g.get("name").and_then(Value::as_str).unwrap_or("?")).collect();
        notes.push(format!("the file has more node groups with commands ({}); convert each on its own, this output is for `{name}` only", others.join(", ")));
    }
    let custom_ami = g.get("ami").is_some_and(|a| a.as_str().is_some_and(|s| s.starts_with("ami-")));
    let target = match (managed, custom_ami) {
        (true, true) => Target::MngCustomAmi,
        (true, false) => Target::Mng,
        (false, _) => Target::SelfManaged,
    };
    let anchor = ["preBootstrapCommands", "overrideBootstrapCommand"]
        .iter()
        .filter_map(|k| at(&doc, &format!("{pointer}/{k}")))
        .min()
        .unwrap_or(0);
    Some(Hosted {
        script: group_script(g)?,
        anchor,
        notes,
        conditions: Vec::new(),
        target: Some(target),
        cloudformation: false,
    })
}

/// A CloudFormation `UserData` in YAML or JSON, built as CloudFormation builds it
/// (`template::cloudformation`): `Ref`/`Fn::GetAtt` and pseudo-parameters stay `${…}`
/// placeholders, and each `Fn::If` is read with its condition true, noted (CV449), since the
/// stack decides it.
pub(super) fn cloudformation(text: &str) -> Option<Hosted> {
    if !text.contains("UserData") {
        return None;
    }
    let stack = crate::template::cloudformation::read(text, &Default::default())?;
    let (pointer, value) = stack.user_data_at().into_iter().next()?;
    let (script, open) = stack.conditions_true(value)?;
    let anchor = script.offsets.first().copied().unwrap_or_else(|| value.start());
    let notes = vec![format!(
        "a CloudFormation `UserData` ({pointer}): its intrinsic functions are evaluated (`Ref`/`Fn::GetAtt` and pseudo-parameters stay `${{…}}` references) and the result is read as the user data; the output is an `Fn::Sub` body (literal `${{` written `${{!`): use it as `UserData: Fn::Base64: !Sub |`"
    )];
    let conditions = open
        .iter()
        .map(|c| format!("`Fn::If [{c}, …]`: read with the branch the stack takes when {c} is true; if it can be false, convert that case too (or give the stack's parameters with --var-file)"))
        .collect();
    Some(Hosted { script: script.text, anchor, notes, conditions, target: None, cloudformation: true })
}

/// Terraform code rather than user data.
pub(super) fn terraform_code(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        (l.starts_with("module \"") || l.starts_with("resource \"") || l.starts_with("data \""))
            && l.trim_end().ends_with('{')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eksctl_cluster_config_groups() {
        let t = "managedNodeGroups:\n  - name: a\n    ami: ami-0123\n    overrideBootstrapCommand: |\n      #!/bin/bash\n      /etc/eks/bootstrap.sh c\n  - name: b\n    preBootstrapCommands:\n      - echo b\n";
        let h = eksctl(t).unwrap();
        assert_eq!(h.script, "#!/bin/bash\n/etc/eks/bootstrap.sh c\n");
        assert_eq!(h.target, Some(Target::MngCustomAmi));
        assert!(h.notes[1].contains("(b)"));
        assert!(h.anchor > 0);
    }

    #[test]
    fn cloudformation_intrinsics() {
        let json = r##"{"UserData": {"Fn::Base64": {"Fn::Join": ["", ["#!/bin/bash\n/etc/eks/bootstrap.sh ", {"Ref": "Cluster"}, " --kubelet-extra-args '--node-labels=a=b'\n"]]}}}"##;
        let h = cloudformation(json).unwrap();
        assert_eq!(
            h.script,
            "#!/bin/bash\n/etc/eks/bootstrap.sh ${Cluster} --kubelet-extra-args '--node-labels=a=b'\n"
        );
        let yaml = "UserData:\n  Fn::Base64:\n    !Sub\n    - |\n      #!/bin/bash\n      ${Boot}\n    - Boot: /etc/eks/bootstrap.sh c\n";
        assert_eq!(cloudformation(yaml).unwrap().script, "#!/bin/bash\n/etc/eks/bootstrap.sh c\n");
        assert!(terraform_code("module \"eks\" {\n  source = \"x\"\n}\n"));
    }
}
