//! The state one script's translation carries: the options, where its text sits in the user's
//! file (part, shift for bare argument strings, anchor for assembled eksctl scripts), the report
//! entries so far, and what earlier commands wrote. Entries point at the user's own bytes.

use super::{Options, codes, datavol};
use crate::al2::bootstrap::Arg;
use crate::al2::maxpods;
use crate::al2::words::Value as WValue;
use crate::diagnostic::{Diagnostic, RuleMeta, Span};

pub(super) struct Ctx<'a> {
    pub opts: &'a Options,
    pub part: Option<usize>,
    /// Offset of the script text inside the part body (non-zero for a bare argument string).
    pub shift: isize,
    pub entries: Vec<Diagnostic>,
    /// Files the script writes before each command: (path, command index, content).
    pub files: Vec<(String, usize, String)>,
    /// The script text spans refer to (with the bare-argument prefix, if any).
    pub text: String,
    /// When the script was assembled from another document (eksctl's config), every entry
    /// points at this offset of the original instead.
    pub anchor: Option<usize>,
    /// Variables assigned from max-pods-calculator.sh.
    pub calculators: Vec<(String, maxpods::Calculator)>,
    /// Data volumes found (for `karpenter`, which also needs their block device mappings).
    pub data_volumes: Vec<datavol::DataVolume>,
    /// Why the AL2 node never joined, when that is known before boot (CV432).
    pub never_joined: Option<String>,
    /// Byte spans of the script's commands, by index (for entries about file writes).
    pub command_spans: Vec<(usize, usize)>,
    /// Where carriage returns were removed from the script text (positions in the converted
    /// text), so spans map back to the user's bytes.
    pub crs: Vec<usize>,
    /// The AL2 node's commands from this script and when they ran (for the equivalence).
    pub commands: Vec<crate::effective::Command>,
    /// This script sets maxPods in kubelet-config.json before the call, which
    /// `--use-max-pods false` then keeps.
    pub kcj_max_pods: bool,
    /// cloud-init ran none of the user data on AL2 (its MIME headers were not at the start):
    /// what a call would have done is moot.
    pub unread: bool,
    /// Template placeholders that sat in a `printf` format string: printf rewrote what they
    /// render to (`%%` → `%`, `\n` → newline) before anything read it.
    pub printf_placeholders: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(opts: &'a Options, part: Option<usize>) -> Self {
        Ctx {
            opts,
            part,
            shift: 0,
            entries: Vec::new(),
            files: Vec::new(),
            text: String::new(),
            anchor: None,
            calculators: Vec::new(),
            data_volumes: Vec::new(),
            never_joined: None,
            command_spans: Vec::new(),
            crs: Vec::new(),
            commands: Vec::new(),
            kcj_max_pods: false,
            unread: false,
            printf_placeholders: Vec::new(),
        }
    }
    /// A context for the same script text whose entries are collected separately.
    pub fn scratch(&self) -> Self {
        Ctx {
            entries: Vec::new(),
            files: self.files.clone(),
            text: self.text.clone(),
            calculators: self.calculators.clone(),
            data_volumes: Vec::new(),
            never_joined: None,
            command_spans: self.command_spans.clone(),
            crs: self.crs.clone(),
            commands: Vec::new(),
            kcj_max_pods: self.kcj_max_pods,
            unread: self.unread,
            printf_placeholders: self.printf_placeholders.clone(),
            ..Ctx::new(self.opts, self.part)
        }
        .at(self.shift, self.anchor)
    }
    /// Every entry points at `offset` of the original (a script assembled from another document).
    pub fn anchored(mut self, offset: usize) -> Self {
        self.anchor = Some(offset);
        self
    }
    fn at(mut self, shift: isize, anchor: Option<usize>) -> Self {
        self.shift = shift;
        self.anchor = anchor;
        self
    }
    pub fn span(&self, part_index: usize, span: (usize, usize)) -> Span {
        if let Some(at) = self.anchor {
            return Span::part(part_index, at, at);
        }
        let f = |x: usize| {
            let x = (x as isize - self.shift).max(0) as usize;
            x + self.crs.partition_point(|p| *p <= x)
        };
        Span::part(part_index, f(span.0), f(span.1))
    }
    pub fn push(
        &mut self,
        meta: &RuleMeta,
        part_index: usize,
        span: (usize, usize),
        msg: String,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::new(meta, msg).with_span(self.span(part_index, span)).with_part(self.part);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.entries.push(d);
    }
}

/// An argument as the report shows it (shortened; `VAR=… (environment)` when from the environment).
pub(super) fn shown(arg: &Arg) -> String {
    let t = arg.value.text();
    let t: String = t.chars().take(70).collect();
    match (&arg.from_env, &arg.via) {
        (_, Some(via)) => format!("{t} ({via})"),
        (Some(var), None) => format!("{var}={t} (environment)"),
        (None, None) => t,
    }
}

/// The value as NodeConfig text, with an entry when it is only known at boot.
pub(super) fn value_of(cx: &mut Ctx, pi: usize, arg: &Arg, what: &str) -> String {
    if let WValue::Runtime { why, text } = &arg.value {
        cx.push(
            &codes::RUNTIME_VALUE,
            pi,
            arg.span,
            format!("{what} is `{text}`, only known at boot ({why}); it is written as is and needs review"),
            Some("give a static value (a literal, or --cluster-info for cluster values), or set it at boot with a drop-in".into()),
        );
    }
    arg.value.text().to_string()
}

/// A CV401 entry: `construct` became `field`.
pub(super) fn translated(cx: &mut Ctx, pi: usize, span: (usize, usize), construct: &str, field: &str) {
    cx.push(&codes::TRANSLATED, pi, span, format!("`{construct}` → `{field}`"), None);
}
