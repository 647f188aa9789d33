//! The checker: stricter than nodeadm, and precise about where. nodeadm accepts typos, unknown
//! fields, wrong enums and broken MIME silently (docs §1.3, §2.1, §2.4); every rule here names one
//! such case. Rules live one per file under `rules/`, each with its metadata (code, name,
//! severity, summary, explanation) beside its check; `registry.rs` lists them (cargo-deny, ruff).
//! Findings are data: a rule returns [`Diagnostic`]s, never an error.

pub mod fix;
pub mod registry;
pub mod rules;
pub mod suppress;
mod template;
pub mod walk;

pub use registry::{RULES, Rule, find_rule};

pub use crate::diagnostic::RuleMeta;
use crate::diagnostic::{Diagnostic, Layer, Span};
use crate::nodeconfig::yaml::{self, YamlDoc, YamlError};
use crate::report::{FileReport, Finding, Location, PartRef};
use crate::source::{LineIndex, Source};
use crate::target::Target;
use crate::userdata::{Envelope, Limits, Part, PartKind};

#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    pub target: Target,
    /// `target` came from `--target` or `.eks-userdata.toml`, not the default: what a host file
    /// implies (`userdata::consumer`) does not override it.
    pub target_given: bool,
    pub limits: Limits,
    /// Codes turned off or re-graded (from `.eks-userdata.toml`).
    pub rules: crate::config::RuleSettings,
    /// The AMI release the user data will boot on (`20251007` for `v20251007`), if known.
    pub ami_release: Option<u32>,
    /// The node group's Kubernetes minor version (`29` for 1.29), if known.
    pub kubernetes_version: Option<u32>,
    /// Values for a Terraform template's variables (`--var`, `--var-file`): what they decide is
    /// rendered concretely, the rest stays both ways.
    pub template_vars: crate::template::vars::Vars,
    /// Another part of the same user data, not in this input, supplies `spec.cluster` (the EKS
    /// Terraform module's own part for a self-managed group).
    pub cluster_supplied: bool,
}

/// The minor version in `1.29` (or `v1.29`, `1.29.3`); only Kubernetes 1.x exists.
pub fn parse_kubernetes_version(s: &str) -> Option<u32> {
    let mut it = s.trim().trim_start_matches('v').split('.');
    let (major, minor) = (it.next()?, it.next()?);
    let patch_ok = it.next().is_none_or(|p| p.parse::<u32>().is_ok()) && it.next().is_none();
    (major == "1" && patch_ok).then(|| minor.parse().ok()).flatten().filter(|m| (1..100).contains(m))
}

/// The release date in an AMI release (`v20251007`) or AMI name
/// (`amazon-eks-node-al2023-x86_64-standard-1.33-v20251007`).
pub fn parse_ami_release(s: &str) -> Option<u32> {
    let at = s.rfind('v')?;
    let digits = s.get(at + 1..)?;
    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) && digits.starts_with("20"))
        .then(|| digits.parse().ok())?
}

/// One NodeConfig document as nodeadm will decode it.
#[derive(Debug)]
pub struct Doc<'a> {
    pub part: &'a Part,
    /// The body as text, or the offset of the first byte that is not UTF-8.
    pub text: Result<&'a str, usize>,
    /// `None` when the body is not text.
    pub yaml: Option<Result<YamlDoc, YamlError>>,
}

impl Doc<'_> {
    pub fn value(&self) -> Option<&serde_json::Value> {
        match &self.yaml {
            Some(Ok(d)) => Some(&d.value),
            _ => None,
        }
    }

    /// The span of the value (or, with `key`, of the key) at a JSON Pointer, or of its nearest
    /// ancestor present in the text.
    pub fn span_of(&self, pointer: &str, key: bool) -> Option<Span> {
        let Some(Ok(d)) = &self.yaml else { return None };
        let (_, ns) = d.spans.lookup(pointer)?;
        let (s, e) = if key { ns.key.unwrap_or(ns.value) } else { ns.value };
        Some(Span::part(self.part.index, s, e))
    }

    /// [`Doc::span_of`], falling back to the start of the part.
    pub fn span_or_start(&self, pointer: &str, key: bool) -> Span {
        self.span_of(pointer, key).unwrap_or(Span::part(self.part.index, 0, 0))
    }

    /// The first occurrence of `needle` inside the value at `pointer` (a block scalar keeps
    /// each line verbatim after its indentation), else the whole value.
    pub fn span_within(&self, pointer: &str, needle: &str) -> Span {
        let value = self.span_or_start(pointer, false);
        (!needle.is_empty())
            .then(|| self.text.ok()?.get(value.start..)?.find(needle))
            .flatten()
            .map_or(value, |at| Span::part(self.part.index, value.start + at, value.start + at + needle.len()))
    }
}

pub struct Context<'a> {
    pub source: &'a Source,
    pub env: &'a Envelope,
    pub target: Target,
    /// Another part, not in this input, supplies `spec.cluster` (`LintOptions::cluster_supplied`).
    pub cluster_supplied: bool,
    pub ami_release: Option<u32>,
    pub kubernetes_version: Option<u32>,
    pub docs: Vec<Doc<'a>>,
    #[cfg(feature = "schema")]
    pub schema: Vec<(usize, crate::nodeconfig::schema::SchemaFinding)>,
    /// Shell parts that parse, analysed (commands, disk operations).
    pub scripts: Vec<(&'a Part, crate::al2::analysis::Analysis)>,
}

impl<'a> Context<'a> {
    /// Whether this user data must carry the cluster section itself.
    pub fn needs_cluster(&self) -> bool {
        self.target.user_data_supplies_cluster() && !self.cluster_supplied
    }

    pub fn new(source: &'a Source, env: &'a Envelope, opts: &LintOptions) -> Self {
        let docs: Vec<Doc<'a>> = env
            .nodeconfig_parts()
            // A body that failed to decode has its own finding; its bytes mean nothing.
            .filter(|part| !env.defects.iter().any(|d| decode_failed(d, part.index)))
            .map(|part| {
                let text = std::str::from_utf8(&part.body).map_err(|e| e.valid_up_to());
                // Terraform directives become comments of the same length, so spans stay true.
                let yaml = text.ok().map(|t| yaml::parse_indexed(&crate::al2::template::mask_for_yaml(t)));
                Doc { part, text, yaml }
            })
            .collect();
        #[cfg(feature = "schema")]
        let schema = docs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.value().filter(|v| v.is_object()).map(|v| (i, v)))
            .flat_map(|(i, v)| {
                crate::nodeconfig::schema::validate(v).unwrap_or_default().into_iter().map(move |f| (i, f))
            })
            .collect();
        let scripts = env
            .parts
            .iter()
            .filter(|p| is_script(p.kind))
            .filter_map(|p| {
                let text = std::str::from_utf8(&p.body).ok()?;
                let script = crate::al2::shell::parse(text, crate::al2::template::detect(text)).ok()?;
                Some((p, crate::al2::analysis::analyze(script)))
            })
            .collect();
        Context {
            source,
            env,
            target: opts.target,
            cluster_supplied: opts.cluster_supplied,
            ami_release: opts.ami_release,
            kubernetes_version: opts.kubernetes_version,
            docs,
            #[cfg(feature = "schema")]
            schema,
            scripts,
        }
    }

    /// `part 2 (application/node.eks.aws)`, or `the user data` when it is not multipart.
    pub fn where_(&self, part: &Part) -> String {
        if self.env.is_multipart() { part.label() } else { "the user data".into() }
    }

    pub fn part_index(&self, part: &Part) -> Option<usize> {
        self.env.is_multipart().then_some(part.index)
    }
}

/// Lints one input.
pub fn lint(source: &Source, opts: &LintOptions) -> FileReport {
    template::lint_renderings(source, opts)
        .or_else(|| template::lint_go_format(source, opts))
        .unwrap_or_else(|| lint_text(source, opts))
}

/// Lints the text as it is (a Terraform template's renderings each come through here).
fn lint_text(source: &Source, opts: &LintOptions) -> FileReport {
    lint_with_envelope(source, opts).1
}

/// [`lint`], also returning the envelope it read (for `fix`, which maps spans through it).
pub(crate) fn lint_with_envelope(source: &Source, opts: &LintOptions) -> (Envelope, FileReport) {
    let env = Envelope::parse(&source.bytes, &opts.limits);
    let cx = Context::new(source, &env, opts);
    let mut diags = Vec::new();
    for rule in RULES {
        (rule.check)(&cx, &mut diags);
    }
    suppress::apply(&env, &mut diags);
    opts.rules.apply(&mut diags);
    let report = resolve(source, &env, diags);
    (env, report)
}

/// Lints a file the way the CLI does: user data embedded in a Terraform or CloudFormation file
/// (`userdata::embedded`) is linted piece by piece, with findings placed on the host file's
/// lines; any other file is user data itself.
pub fn lint_file(source: &Source, opts: &LintOptions) -> FileReport {
    let Ok(text) = std::str::from_utf8(&source.bytes) else { return lint(source, opts) };
    let Some(pieces) = crate::userdata::embedded::extract_with(&source.name, text, &opts.template_vars) else {
        return lint(source, opts);
    };
    let host = LineIndex::new(&source.bytes);
    let mut findings = Vec::new();
    for piece in pieces {
        let (target, inferred) = match (piece.target, &piece.inferred) {
            (Some(t), _) => (t, None),
            (None, Some((t, why))) if !opts.target_given && *t != opts.target => (*t, Some(why.as_str())),
            _ => (opts.target, None),
        };
        let piece_opts = LintOptions { target, ..opts.clone() };
        // Every finding says when the target was inferred, since it decides what is required.
        let context = match inferred {
            Some(why) => {
                format!("in {} at line {}, linted as --target {target} because {why}", piece.label, piece.line + 1)
            }
            None => format!("in {} at line {}", piece.label, piece.line + 1),
        };
        // A CloudFormation value with `Fn::If` has a rendering per way through its conditions.
        let mut merged = template::Merged::default();
        for (k, variant) in piece.variants.iter().enumerate() {
            let report = lint(&Source::new(&source.name, variant.text.as_bytes()), &piece_opts);
            for mut f in report.findings {
                let at = |b: usize| variant.offsets.get(b).or(variant.offsets.last()).copied().unwrap_or(0);
                template::relocate(&mut f, &at, &source.bytes, &host);
                f.diagnostic.message = format!("{} ({context})", f.diagnostic.message);
                merged.add(k, f);
            }
        }
        let describe = |k: usize| piece.variants.get(k).map(|v| v.when.clone()).unwrap_or_default();
        findings.extend(merged.finish("CloudFormation", piece.variants.len(), piece.sampled, &describe));
    }
    FileReport { path: source.name.clone(), findings, equivalence: None }
}

/// Turns spans into the lines and columns a user sees.
pub struct Locator<'a> {
    source: &'a Source,
    env: &'a Envelope,
    input_index: LineIndex,
    payload_index: Option<LineIndex>,
}

impl<'a> Locator<'a> {
    pub fn new(source: &'a Source, env: &'a Envelope) -> Self {
        Locator {
            source,
            env,
            input_index: LineIndex::new(&source.bytes),
            payload_index: (!env.encoding.is_identity()).then(|| LineIndex::new(&env.payload)),
        }
    }

    pub fn finding(&self, d: Diagnostic) -> Finding {
        let part = d.part.and_then(|i| self.env.parts.get(i)).map(|p| PartRef {
            index: p.index + 1,
            content_type: p.media().map(str::to_string),
            kind: p.kind,
        });
        let (location, source_line) = match d.span {
            None => (None, None),
            Some(span) => locate(self.source, self.env, &self.input_index, self.payload_index.as_ref(), span),
        };
        Finding { diagnostic: d, location, part, source_line }
    }
}

/// Resolves and sorts findings by position (then code), so output is stable.
pub fn resolve(source: &Source, env: &Envelope, diags: Vec<Diagnostic>) -> FileReport {
    let locator = Locator::new(source, env);
    let mut findings: Vec<Finding> = diags.into_iter().map(|d| locator.finding(d)).collect();
    findings.sort_by(|a, b| order(a).cmp(&order(b)));
    FileReport { path: source.name.clone(), findings, equivalence: None }
}

/// Report order: lead findings first, then input before decoded layers, by position, code and
/// message.
fn order(f: &Finding) -> (bool, usize, usize, &'static str, &str) {
    (
        !f.diagnostic.lead,
        f.location.as_ref().map_or(0, |l| usize::from(l.within.is_some())),
        f.location.as_ref().map_or(usize::MAX, |l| l.byte_start),
        f.diagnostic.code,
        &f.diagnostic.message,
    )
}

fn locate(
    source: &Source,
    env: &Envelope,
    input_index: &LineIndex,
    payload_index: Option<&LineIndex>,
    span: Span,
) -> (Option<Location>, Option<String>) {
    let build = |bytes: &[u8], idx: &LineIndex, s: Span, within: Option<String>| {
        let (line, column) = idx.locate(bytes, s.start);
        let (end_line, end_column) = idx.locate(bytes, s.end);
        let text = crate::source::lossy(idx.line_text(bytes, line)).into_owned();
        (
            Some(Location { line, column, end_line, end_column, byte_start: s.start, byte_end: s.end, within }),
            Some(text),
        )
    };
    match env.to_payload_span(span) {
        Some(p) => match payload_index {
            None => build(&source.bytes, input_index, p, None),
            Some(idx) => build(&env.payload, idx, p, Some(format!("{}-decoded user data", env.encoding.describe()))),
        },
        None => {
            let Layer::PartBody(i) = span.layer else { return (None, None) };
            let Some(part) = env.parts.get(i) else { return (None, None) };
            let idx = LineIndex::new(&part.body);
            build(&part.body, &idx, span, Some(format!("{}-decoded body of part {}", part.encoding.describe(), i + 1)))
        }
    }
}

fn decode_failed(d: &crate::userdata::Defect, index: usize) -> bool {
    use crate::userdata::Defect;
    matches!(d, Defect::InvalidBase64 { part, .. } if *part == index)
        || matches!(d, Defect::InvalidGzip { part: Some(p), .. } if *p == index)
}

/// A payload span covering a whole part's header line or start, for part-level findings.
pub fn part_start_span(part: &Part) -> Span {
    Span::payload(part.start, part.start)
}

/// Whether the part is one of the script kinds cloud-init runs.
pub fn is_script(kind: PartKind) -> bool {
    matches!(kind, PartKind::ShellScript | PartKind::Boothook)
}
