//! `.eks-userdata.toml`: project settings for `lint`, found by walking up from each linted file
//! (the nearest file wins, nothing is merged across files), as ruff and cargo-deny find theirs.
//! Command-line flags win over the file. Unknown keys, unknown rule codes and bad values are
//! errors with a position: a typo in a linter's config must not silently turn a rule off.
//!
//! ```toml
//! target = "mng"                       # default for --target
//! ami-release = "v20251007"            # default for --ami-release
//! kubernetes-version = "1.29"          # default for --kubernetes-version
//! ignore = ["UD116"]                   # codes or rule names, never reported
//! [severity]
//! kubelet-flag-not-config = "error"    # error | warning | info | off
//! [[paths]]
//! glob = "karpenter/**"                # relative to this file; no `/` = any file name
//! target = "karpenter"
//! ignore = ["NC214"]
//! [push]
//! terraform-tags = ["Stack=platform"]  # more tags that mark a launch template as Terraform's
//! ```

use crate::diagnostic::{Diagnostic, Severity};
use crate::target::Target;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

pub const FILE_NAME: &str = ".eks-userdata.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: String, line: usize, column: usize, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    target: Option<Spanned<String>>,
    #[serde(rename = "ami-release")]
    ami_release: Option<Spanned<String>>,
    #[serde(rename = "kubernetes-version")]
    kubernetes_version: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    paths: Vec<RawPath>,
    push: Option<RawPush>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    #[serde(rename = "terraform-tags", default)]
    terraform_tags: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPath {
    glob: Spanned<String>,
    target: Option<Spanned<String>>,
    #[serde(rename = "ami-release")]
    ami_release: Option<Spanned<String>>,
    #[serde(rename = "kubernetes-version")]
    kubernetes_version: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// Which codes to drop and which severities to change, applied after the rules run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSettings {
    /// Rule codes (canonical, e.g. `NC210`) and their new severity; `None` turns a rule off.
    pub severity: BTreeMap<&'static str, Option<Severity>>,
}

impl RuleSettings {
    pub fn apply(&self, diags: &mut Vec<Diagnostic>) {
        if self.severity.is_empty() {
            return;
        }
        diags.retain_mut(|d| match self.severity.get(d.code) {
            None => true,
            Some(None) => false,
            Some(Some(s)) => {
                d.severity = *s;
                true
            }
        });
    }

    fn merge(&mut self, other: &RuleSettings) {
        self.severity.extend(other.severity.iter().map(|(k, v)| (*k, *v)));
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub target: Option<Target>,
    /// `20251007` for `v20251007`.
    pub ami_release: Option<u32>,
    /// The Kubernetes minor version, `29` for `1.29`.
    pub kubernetes_version: Option<u32>,
    pub rules: RuleSettings,
}

#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    dir: PathBuf,
    base: Settings,
    paths: Vec<(String, Settings)>,
    /// `[push] terraform-tags`: `KEY` or `KEY=VALUE`, tags that mark a launch template as owned
    /// by Terraform (provider `default_tags` a team always sets).
    pub terraform_tags: Vec<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: name.clone(), source })?;
        Config::parse(&name, &text, path)
    }

    pub fn parse(name: &str, text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |span: std::ops::Range<usize>, message: String| {
            let upto = text.as_bytes().get(..span.start.min(text.len())).unwrap_or_default();
            let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
            let column = upto.len() - upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
            ConfigError::Invalid { path: name.to_owned(), line, column, message }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| invalid(e.span().unwrap_or(0..0), e.message().to_owned()))?;
        let settings = |target: &Option<Spanned<String>>,
                        ami: &Option<Spanned<String>>,
                        k8s: &Option<Spanned<String>>,
                        ignore: &[Spanned<String>],
                        severity: &BTreeMap<Spanned<String>, Spanned<String>>|
         -> Result<Settings, ConfigError> {
            let target = match target {
                None => None,
                Some(t) => Some(Target::ALL.into_iter().find(|x| x.as_str() == t.get_ref()).ok_or_else(|| {
                    let names: Vec<&str> = Target::ALL.iter().map(|x| x.as_str()).collect();
                    invalid(t.span(), format!("unknown target `{}`; targets are {}", t.get_ref(), names.join(", ")))
                })?),
            };
            let ami_release = match ami {
                None => None,
                Some(a) => Some(crate::lint::parse_ami_release(a.get_ref()).ok_or_else(|| {
                    invalid(a.span(), format!("`{}` is not an AMI release; write it as `v20251007`", a.get_ref()))
                })?),
            };
            let kubernetes_version = match k8s {
                None => None,
                Some(k) => Some(crate::lint::parse_kubernetes_version(k.get_ref()).ok_or_else(|| {
                    invalid(k.span(), format!("`{}` is not a Kubernetes version; write it as `1.29`", k.get_ref()))
                })?),
            };
            let code = |s: &Spanned<String>| {
                crate::catalogue::find(s.get_ref()).map(|m| m.code).ok_or_else(|| {
                    let hint = crate::suggest::did_you_mean(
                        s.get_ref(),
                        crate::catalogue::all().iter().flat_map(|m| [m.code, m.name]),
                    )
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                    invalid(s.span(), format!("no rule `{}`{hint}; `eks-userdata explain` lists them", s.get_ref()))
                })
            };
            let mut rules = RuleSettings::default();
            for s in ignore {
                rules.severity.insert(code(s)?, None);
            }
            for (k, v) in severity {
                let level = match v.get_ref().as_str() {
                    "error" => Some(Severity::Error),
                    "warning" => Some(Severity::Warning),
                    "info" => Some(Severity::Info),
                    "off" => None,
                    other => {
                        return Err(invalid(
                            v.span(),
                            format!("unknown severity `{other}`; use error, warning, info or off"),
                        ));
                    }
                };
                rules.severity.insert(code(k)?, level);
            }
            Ok(Settings { target, ami_release, kubernetes_version, rules })
        };
        let base = settings(&raw.target, &raw.ami_release, &raw.kubernetes_version, &raw.ignore, &raw.severity)?;
        let paths = raw
            .paths
            .iter()
            .map(|p| {
                Ok((
                    p.glob.get_ref().clone(),
                    settings(&p.target, &p.ami_release, &p.kubernetes_version, &p.ignore, &p.severity)?,
                ))
            })
            .collect::<Result<_, ConfigError>>()?;
        let mut terraform_tags = Vec::new();
        for t in raw.push.iter().flat_map(|p| &p.terraform_tags) {
            if t.get_ref().split('=').next().is_none_or(|k| k.trim().is_empty()) {
                return Err(invalid(t.span(), format!("`{}` is not a tag: write KEY or KEY=VALUE", t.get_ref())));
            }
            terraform_tags.push(t.get_ref().clone());
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Config { path: path.to_path_buf(), dir, base, paths, terraform_tags })
    }

    /// The settings for one file: the base, then every matching `[[paths]]` entry in order.
    pub fn settings_for(&self, file: &Path) -> Settings {
        let mut out = self.base.clone();
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let rel = abs.strip_prefix(&self.dir).unwrap_or(&abs).to_string_lossy().replace('\\', "/");
        let name = abs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for (glob, s) in &self.paths {
            let subject = if glob.contains('/') { rel.as_str() } else { name.as_str() };
            if glob_match(glob.trim_start_matches("./"), subject) {
                if s.target.is_some() {
                    out.target = s.target;
                }
                if s.ami_release.is_some() {
                    out.ami_release = s.ami_release;
                }
                if s.kubernetes_version.is_some() {
                    out.kubernetes_version = s.kubernetes_version;
                }
                out.rules.merge(&s.rules);
            }
        }
        out
    }
}

/// Finds and caches the nearest config for each directory.
#[derive(Default)]
pub struct Discovery {
    cache: HashMap<PathBuf, Option<Arc<Config>>>,
}

impl Discovery {
    /// The config that governs `file` (for stdin, pass the current directory's `-`).
    pub fn for_file(&mut self, file: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let Some(dir) = abs.parent() else { return Ok(None) };
        self.for_dir(dir)
    }

    fn for_dir(&mut self, dir: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(hit) = self.cache.get(dir) {
            return Ok(hit.clone());
        }
        let candidate = dir.join(FILE_NAME);
        let found = if candidate.is_file() {
            Some(Arc::new(Config::load(&candidate)?))
        } else {
            match dir.parent() {
                Some(up) => self.for_dir(up)?,
                None => None,
            }
        };
        self.cache.insert(dir.to_path_buf(), found.clone());
        Ok(found)
    }
}

/// `*` matches any run of characters, `?` one character, everything else is literal, within one
/// string (template names, instance types, and each segment of a path glob).
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative wildcard matching with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while let Some(&tc) = t.get(ti) {
        let pc = p.get(pi).copied();
        if pc.is_some_and(|c| c == '?' || c == tc) {
            pi += 1;
            ti += 1;
        } else if pc == Some('*') {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p.iter().skip(pi).all(|c| *c == '*')
}

/// `*` and `?` within one path segment, `**` across segments (gitignore-style).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn segs(pat: &[&str], txt: &[&str]) -> bool {
        match pat.split_first() {
            None => txt.is_empty(),
            Some((&"**", rest)) => (0..=txt.len()).filter_map(|i| txt.get(i..)).any(|t| segs(rest, t)),
            Some((p, rest)) => txt.split_first().is_some_and(|(t, trest)| wildcard(p, t) && segs(rest, trest)),
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let t: Vec<&str> = text.split('/').collect();
    segs(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("eks-*", "eks-web"));
        assert!(wildcard("*-nodes-?", "prod-nodes-a"));
        assert!(!wildcard("*-nodes-?", "prod-nodes-ab"));
        assert!(wildcard("exact", "exact") && !wildcard("exact", "exact2"));
        assert!(wildcard("*", "") && wildcard("**a**", "xxaxx"));
        assert!(!wildcard(&"*a".repeat(30), &"a".repeat(29)), "no exponential blow-up");
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse("cfg.toml", text, Path::new("/repo/.eks-userdata.toml"))
    }

    #[test]
    fn globs() {
        assert!(glob_match("karpenter/**", "karpenter/a/b.yaml"));
        assert!(glob_match("**/*.tpl", "modules/x/user-data.tpl"));
        assert!(glob_match("**/*.tpl", "user-data.tpl"));
        assert!(glob_match("*.tpl", "user-data.tpl"));
        assert!(!glob_match("*.tpl", "dir/user-data.tpl"));
        assert!(glob_match("nodes/??.yaml", "nodes/a1.yaml"));
        assert!(!glob_match("nodes/*.yaml", "nodes/a/b.yaml"));
    }

    #[test]
    fn settings_resolve_in_order() {
        let c = parse(
            "target = \"mng\"\nignore = [\"UD116\"]\n[severity]\nkubelet-flag-not-config = \"error\"\n\
             [[paths]]\nglob = \"karpenter/**\"\ntarget = \"karpenter\"\nseverity = { NC210 = \"off\" }\n",
        )
        .unwrap();
        let base = c.settings_for(Path::new("/repo/nodes/a.yaml"));
        assert_eq!(base.target, Some(Target::Mng));
        assert_eq!(base.rules.severity.get("UD116"), Some(&None));
        assert_eq!(base.rules.severity.get("NC210"), Some(&Some(Severity::Error)));
        let k = c.settings_for(Path::new("/repo/karpenter/x/b.yaml"));
        assert_eq!(k.target, Some(Target::Karpenter));
        assert_eq!(k.rules.severity.get("NC210"), Some(&None));
        let v =
            parse("kubernetes-version = \"1.29\"\n[[paths]]\nglob = \"new/**\"\nkubernetes-version = \"v1.33.2\"\n")
                .unwrap();
        assert_eq!(v.settings_for(Path::new("/repo/old/a.yaml")).kubernetes_version, Some(29));
        assert_eq!(v.settings_for(Path::new("/repo/new/a.yaml")).kubernetes_version, Some(33));
    }

    #[test]
    fn errors_name_the_position_and_a_fix() {
        let e = parse("target = \"mng\"\nignor = [\"UD116\"]\n").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:2:1: unknown field `ignor`"), "{e}");
        let e = parse("ignore = [\"NC21O\"]\n").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:1:11: no rule `NC21O` (did you mean"), "{e}");
        let e = parse("target = \"managed\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown target `managed`; targets are self-managed, mng"), "{e}");
        let e = parse("ami-release = \"latest\"\n").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:1:15: `latest` is not an AMI release"), "{e}");
        let e = parse("[[paths]]\nglob = \"*\"\nkubernetes-version = \"2.1\"\n").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:3:22: `2.1` is not a Kubernetes version"), "{e}");
        let e = parse("[severity]\nNC210 = \"fatal\"\n").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:2:9: unknown severity `fatal`"), "{e}");
    }
}
