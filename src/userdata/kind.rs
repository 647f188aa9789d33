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

    /// cloud-init's first-line detection (`handlers.type_from_starts_with`): leading
    /// whitespace is skipped (Python's `str.lstrip`) and case is ignored; the longest prefix
    /// wins. Bytes that are not UTF-8 do not stop it: the parts it types are `text/*`, which
    /// cloud-init decodes with `surrogateescape` (`util.fully_decoded_payload`).
    pub fn from_content(body: &[u8]) -> Option<PartKind> {
        Self::typed_by_content(body, true)
    }

    /// [`PartKind::from_content`] for a part of a MIME document. Python's `email` hands
    /// cloud-init a part body without a transfer encoding through `raw-unicode-escape`, so a
    /// non-ASCII character is no longer whitespace there (U+00A0 becomes a lone byte, U+2028
    /// the text `\u2028`): only ASCII whitespace is skipped.
    fn from_mime_content(body: &[u8]) -> Option<PartKind> {
        Self::typed_by_content(body, false)
    }

    fn typed_by_content(body: &[u8], unicode_whitespace: bool) -> Option<PartKind> {
        let text = crate::source::lossy(body);
        // Python's `isspace` is Unicode White_Space plus the four ASCII separators.
        let space =
            |c: char| (unicode_whitespace || c.is_ascii()) && (c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
        let text = text.trim_start_matches(space);
        let starts = |p: &str| text.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p));
        Some(if starts("#include") {
            PartKind::Include
        } else if starts("#!") || starts("text/x-shellscript-per-") {
            PartKind::ShellScript
        } else if starts("#cloud-config") {
            PartKind::CloudConfig
        } else if starts("#cloud-boothook") {
            PartKind::Boothook
        } else if starts("#part-handler") {
            PartKind::PartHandler
        } else if starts("## template: jinja") {
            PartKind::JinjaTemplate
        } else {
            return None;
        })
    }

    /// The kind of a part with media type `media` (lower-cased) and `body`, as cloud-init
    /// settles it: `text/plain` and no type are typed by content, and so is `text/x-shellscript`
    /// (cloud-init re-types one whose body starts `#cloud-config`, since a script must start
    /// `#!`; `user_data.py` `_process_msg`); every other type stands.
    pub fn of_part(media: Option<&str>, body: &[u8]) -> PartKind {
        match media.map(|m| (m, PartKind::from_media_type(m))) {
            Some(("text/x-shellscript", _)) => PartKind::from_mime_content(body).unwrap_or(PartKind::ShellScript),
            Some((_, Some(kind))) => kind,
            _ => PartKind::from_mime_content(body).unwrap_or(PartKind::Other),
        }
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

    #[test]
    fn types_parts_as_cloud_init_settles_them() {
        // Each case checked against cloud-init's UserDataProcessor (tests/it/cloudinit.rs runs
        // the real one over many more).
        assert_eq!(PartKind::from_content(b"  \n\t#!/bin/bash\n"), Some(PartKind::ShellScript));
        assert_eq!(PartKind::from_content(b"\x1c#cloud-config\n"), Some(PartKind::CloudConfig));
        assert_eq!(PartKind::from_content(b"#!/bin/bash\n\xff\n"), Some(PartKind::ShellScript));
        assert_eq!(PartKind::from_content(b"\xff#!/bin/bash\n"), None);
        assert_eq!(PartKind::from_content(b"#INCLUDE-once\nhttp://x\n"), Some(PartKind::Include));
        assert_eq!(PartKind::of_part(Some("text/x-shellscript"), b"#cloud-config\n"), PartKind::CloudConfig);
        assert_eq!(PartKind::of_part(Some("text/x-shellscript"), b"echo no shebang\n"), PartKind::ShellScript);
        assert_eq!(PartKind::of_part(Some("text/x-shellscript-per-boot"), b"#cloud-config\n"), PartKind::ShellScript);
        assert_eq!(PartKind::of_part(Some("text/cloud-config"), b"#!/bin/bash\n"), PartKind::CloudConfig);
        assert_eq!(PartKind::of_part(None, b"#cloud-boothook\n"), PartKind::Boothook);
        assert_eq!(PartKind::of_part(Some("text/plain"), b"hello\n"), PartKind::Other);
        assert_eq!(PartKind::from_content("\u{a0}#!/bin/sh\n".as_bytes()), Some(PartKind::ShellScript));
        assert_eq!(PartKind::of_part(None, "\u{a0}#!/bin/sh\n".as_bytes()), PartKind::Other, "mangled in MIME");
    }
}
