//! What a part is, decided the way its consumers decide: nodeadm takes exactly the media type
//! `application/node.eks.aws` (docs §2.1); cloud-init dispatches on the content type and, for
//! `text/plain` or no type, on the first line (`#!`, `#cloud-config`, `#cloud-boothook`,
//! `#include`, `#part-handler`, `## template: jinja`; cloud-init `user_data.py`,
//! `handlers/__init__.py` `type_from_starts_with`).

use serde::Serialize;

pub const NODECONFIG_MEDIA_TYPE: &str = "application/node.eks.aws";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    NodeConfig,
    ShellScript,
    CloudConfig,
    Boothook,
    Include,
    PartHandler,
    JinjaTemplate,
    Multipart,
    /// Anything else (`text/plain` without a recognised first line, `text/x-yaml`, …): neither
    /// nodeadm nor cloud-init acts on it.
    Other,
}

impl PartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::NodeConfig => "nodeconfig",
            PartKind::ShellScript => "shell-script",
            PartKind::CloudConfig => "cloud-config",
            PartKind::Boothook => "boothook",
            PartKind::Include => "include",
            PartKind::PartHandler => "part-handler",
            PartKind::JinjaTemplate => "jinja-template",
            PartKind::Multipart => "multipart",
            PartKind::Other => "other",
        }
    }

    /// Kind from a (lower-cased) media type; `None` means "look at the content".
    pub fn from_media_type(media: &str) -> Option<PartKind> {
        Some(match media {
            NODECONFIG_MEDIA_TYPE => PartKind::NodeConfig,
            "text/x-shellscript"
            | "text/x-shellscript-per-boot"
            | "text/x-shellscript-per-instance"
            | "text/x-shellscript-per-once" => PartKind::ShellScript,
            "text/cloud-config" | "text/cloud-config-archive" | "text/cloud-config-jsonp" => PartKind::CloudConfig,
            "text/cloud-boothook" => PartKind::Boothook,
            "text/x-include-url" | "text/x-include-once-url" => PartKind::Include,
            "text/part-handler" => PartKind::PartHandler,
            "text/jinja2" => PartKind::JinjaTemplate,
            "text/plain" | "text/x-not-multipart" => return None,
            m if m.starts_with("multipart/") => PartKind::Multipart,
            _ => PartKind::Other,
        })
    }

    /// cloud-init's first-line detection.
    pub fn from_content(body: &[u8]) -> Option<PartKind> {
        let starts = |p: &[u8]| body.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p));
        Some(if starts(b"#include") {
            PartKind::Include
        } else if starts(b"#!") {
            PartKind::ShellScript
        } else if starts(b"#cloud-config") {
            PartKind::CloudConfig
        } else if starts(b"#cloud-boothook") {
            PartKind::Boothook
        } else if starts(b"#part-handler") {
            PartKind::PartHandler
        } else if starts(b"## template: jinja") {
            PartKind::JinjaTemplate
        } else {
            return None;
        })
    }
}

/// Whether a body that is not typed as a NodeConfig nevertheless is one: a top-level
/// `apiVersion: node.eks.aws/…` or `kind: NodeConfig` line.
pub fn looks_like_nodeconfig(body: &[u8]) -> bool {
    body.split(|b| *b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let t = text.trim_start_matches(['{', ' ', '"']);
        (t.starts_with("apiVersion") && text.contains("node.eks.aws"))
            || (t.starts_with("kind") && text.contains("NodeConfig") && !text.contains("NodeConfigList"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_like_cloud_init() {
        assert_eq!(PartKind::from_content(b"#!/bin/bash\n"), Some(PartKind::ShellScript));
        assert_eq!(PartKind::from_content(b"#Cloud-Config\n"), Some(PartKind::CloudConfig));
        assert_eq!(PartKind::from_content(b"apiVersion: x"), None);
        assert_eq!(PartKind::from_media_type("application/node.eks.aws"), Some(PartKind::NodeConfig));
        assert_eq!(PartKind::from_media_type("text/plain"), None);
        assert_eq!(PartKind::from_media_type("multipart/mixed"), Some(PartKind::Multipart));
        assert_eq!(PartKind::from_media_type("text/x-yaml"), Some(PartKind::Other));
        assert!(looks_like_nodeconfig(b"---\napiVersion: node.eks.aws/v1alpha1\n"));
        assert!(looks_like_nodeconfig(b"{\"kind\": \"NodeConfig\"}"));
        assert!(!looks_like_nodeconfig(b"#!/bin/bash\necho hi\n"));
    }
}
