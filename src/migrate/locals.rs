//! What a Terraform module's files share, read before any is migrated: Terraform reads a
//! module's `.tf` files as one, so `local.NAME` in one file may be defined in another (a
//! heredoc of user data, a node group object), and one file selecting a non-Amazon-Linux EKS
//! AMI says what the module's user data is for.

use super::edit::line_of;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use std::path::{Path, PathBuf};

/// The `locals` of each module directory (heredocs and objects), and which module directories
/// select a non-Amazon-Linux EKS AMI.
#[derive(Debug, Default)]
pub struct Locals {
    /// (directory, name) → (file, the heredoc's span in it).
    defs: std::collections::HashMap<(PathBuf, String), (PathBuf, std::ops::Range<usize>)>,
    /// (directory, name) → (file, the object's span in it): node groups written as locals.
    objects: std::collections::HashMap<(PathBuf, String), (PathBuf, std::ops::Range<usize>)>,
    /// Directory → where one of its files selects a non-Amazon-Linux EKS AMI (file:line, what).
    other_os: std::collections::HashMap<PathBuf, String>,
    texts: std::collections::HashMap<PathBuf, String>,
}

impl Locals {
    /// Records what one `.tf` file defines: its heredoc- and object-valued locals, and whether
    /// it selects a non-Amazon-Linux EKS AMI.
    pub fn add(&mut self, path: &Path, text: &str) {
        let Ok(body) = hcl_edit::parser::parse_body(text) else { return };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for block in body.iter().filter_map(|s| s.as_block()).filter(|b| b.ident.as_str() == "locals") {
            for attr in block.body.iter().filter_map(|s| s.as_attribute()) {
                let key = (dir.clone(), attr.key.as_str().to_string());
                match (&attr.value, attr.value.span()) {
                    (Expression::HeredocTemplate(_), Some(span)) => {
                        self.defs.insert(key, (path.to_path_buf(), span));
                    }
                    (Expression::Object(_), Some(span)) => {
                        self.objects.insert(key, (path.to_path_buf(), span));
                    }
                    _ => {}
                }
            }
        }
        if let Some((at, what)) = other_os_ami(text) {
            let shown = format!("{}:{} ({what})", path.display(), line_of(text, at));
            self.other_os.entry(dir).or_insert(shown);
        }
        self.texts.insert(path.to_path_buf(), text.to_string());
    }

    /// Where the module in `dir` selects a non-Amazon-Linux EKS AMI, if it does.
    pub(super) fn other_os(&self, dir: &Path) -> Option<&str> {
        self.other_os.get(dir).map(String::as_str)
    }

    /// The object-valued local `name` of the module in `dir`: its file, that file's text, and
    /// the object's span.
    pub(super) fn object(&self, dir: &Path, name: &str) -> Option<(&Path, &str, std::ops::Range<usize>)> {
        let (file, span) = self.objects.get(&(dir.to_path_buf(), name.to_string()))?;
        Some((file.as_path(), self.texts.get(file)?.as_str(), span.clone()))
    }

    pub(super) fn get(&self, dir: &Path, name: &str) -> Option<(&Path, &str, std::ops::Range<usize>)> {
        let (file, span) = self.defs.get(&(dir.to_path_buf(), name.to_string()))?;
        Some((file.as_path(), self.texts.get(file)?.as_str(), span.clone()))
    }
}

/// Where a `.tf` text selects an EKS AMI that is not Amazon Linux but runs bootstrap.sh too
/// (Canonical's Ubuntu EKS AMIs: their SSM parameters, AMI names, Karpenter's `Ubuntu` family,
/// Canonical's owner ID): such nodes have no nodeadm, so their user data must keep its call.
fn other_os_ami(text: &str) -> Option<(usize, &'static str)> {
    const MARKERS: [(&str, &str); 5] = [
        ("/aws/service/canonical/ubuntu/eks", "Canonical's Ubuntu EKS SSM parameter"),
        ("ubuntu-eks/", "an Ubuntu EKS AMI name"),
        ("ubuntu-eks-pro/", "an Ubuntu Pro EKS AMI name"),
        ("099720109477", "Canonical's AMI owner ID"),
        ("amiFamily: Ubuntu", "Karpenter's Ubuntu AMI family"),
    ];
    MARKERS.iter().find_map(|(m, what)| text.find(m).map(|at| (at, *what)))
}
