//! The user-data envelope, read the way nodeadm reads EC2 user data (docs §2.1,
//! `nodeadm/internal/configprovider/{userdata,mime,encoding}.go`):
//! 1. whole payload: base64 if it decodes (Go `StdEncoding`), then gunzip if it starts `1f 8b`;
//! 2. if the top-level `Content-Type` is `multipart/*`, parts in document order, non-recursive;
//!    each `application/node.eks.aws` part again best-effort base64, then gzip by magic;
//! 3. otherwise the whole payload is one NodeConfig document.
//!
//! Parsing never fails: what a consumer would choke on becomes a [`Defect`] and parsing goes
//! on as leniently as possible, so one run reports every problem. Every header, part and body
//! keeps its byte offset so findings point into the user's own file.

pub mod consumer;
pub mod decode;
pub mod embedded;
pub mod json_spans;
pub mod kind;
pub mod media_type;
pub mod mime_read;
pub mod mime_write;

pub use kind::{NODECONFIG_MEDIA_TYPE, PartKind};

use crate::diagnostic::{Layer, Span};
use decode::GunzipError;
use mime_read::{BlockEnd, HeaderBlock};
use std::collections::BTreeMap;

/// EC2's limit on user data, in raw (not base64) form.
pub const EC2_USER_DATA_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body kept after base64/gzip decoding.
    pub max_decoded: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_decoded: decode::DEFAULT_MAX_DECODED }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    /// Unfolded value, surrounding blanks trimmed.
    pub value: String,
    /// Payload offsets of the header's line(s), line ending excluded.
    pub start: usize,
    pub end: usize,
}

impl Header {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Lower-cased `type/subtype`, as Go's `mime.ParseMediaType` returns it.
    pub media: String,
    pub params: BTreeMap<String, String>,
}

impl ContentType {
    pub fn parse(value: &str) -> ContentType {
        let parsed = mailparse::parse_content_type(value);
        ContentType { media: parsed.mimetype.to_ascii_lowercase(), params: parsed.params }
    }
}

/// Which decodings were undone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Encoding {
    pub quoted_printable: bool,
    pub base64: bool,
    pub gzip: bool,
}

impl Encoding {
    pub fn is_identity(self) -> bool {
        !(self.quoted_printable || self.base64 || self.gzip)
    }
    pub fn describe(self) -> String {
        let mut v = Vec::new();
        if self.quoted_printable {
            v.push("quoted-printable");
        }
        if self.base64 {
            v.push("base64");
        }
        if self.gzip {
            v.push("gzip");
        }
        v.join("+")
    }
}

#[derive(Debug, Clone)]
pub struct Part {
    /// 0-based position in the document (rendered 1-based).
    pub index: usize,
    pub headers: Vec<Header>,
    /// From the first `Content-Type` header (Go's `Header.Get` takes the first).
    pub content_type: Option<ContentType>,
    pub kind: PartKind,
    /// Payload offsets of the whole part (headers and body).
    pub start: usize,
    pub end: usize,
    /// Payload offset where the raw (still encoded) body starts.
    pub body_start: usize,
    pub body: Vec<u8>,
    pub encoding: Encoding,
}

impl Part {
    pub fn raw_body<'a>(&self, payload: &'a [u8]) -> &'a [u8] {
        payload.get(self.body_start.min(self.end)..self.end).unwrap_or_default()
    }
    pub fn media(&self) -> Option<&str> {
        self.content_type.as_ref().map(|c| c.media.as_str())
    }
    pub fn header(&self, name: &str) -> Option<&Header> {
        self.headers.iter().find(|h| h.is(name))
    }
    /// A one-line label such as `part 2 (application/node.eks.aws)`.
    pub fn label(&self) -> String {
        match self.media() {
            Some(m) => format!("part {} ({m})", self.index + 1),
            None => format!("part {} (no Content-Type)", self.index + 1),
        }
    }
}

/// Things a consumer would choke on or silently ignore, found while reading the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    /// Top-level MIME headers whose type is not `multipart/*` (or that do not start the
    /// payload): nodeadm decodes the whole payload as one NodeConfig document.
    NotMultipart {
        media: Option<String>,
        not_at_start: bool,
        span: Span,
    },
    /// No empty line between a header block and its body.
    MissingBlankLine {
        part: Option<usize>,
        suspect_header: bool,
        span: Span,
    },
    MissingBoundary {
        span: Span,
    },
    /// The boundary never appears, or the close delimiter is missing.
    MissingCloseDelimiter {
        boundary: String,
        delimiter_seen: bool,
        span: Span,
    },
    Epilogue {
        span: Span,
    },
    DuplicateContentType {
        part: Option<usize>,
        span: Span,
    },
    MissingContentType {
        part: usize,
        span: Span,
    },
    InvalidBase64 {
        part: usize,
        detail: String,
        span: Span,
    },
    InvalidGzip {
        part: Option<usize>,
        error: GunzipError,
        span: Span,
    },
    NestedMultipart {
        part: usize,
        span: Span,
    },
    /// A multipart body whose only delimiter is the close delimiter: no parts at all (a template
    /// branch that renders none). `fatal`: Go's reader fails on it (`multipart: NextPart: EOF`),
    /// which it does when that line ends in a bare LF; otherwise nodeadm fails a step later,
    /// finding no NodeConfig.
    NoParts {
        fatal: bool,
        span: Span,
    },
    /// A Content-Type that Go's `mime.ParseMediaType` rejects (`part: None` = top level).
    MalformedContentType {
        part: Option<usize>,
        detail: String,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub struct MimeInfo {
    pub headers: Vec<Header>,
    pub content_type: Option<ContentType>,
    pub boundary: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Envelope {
    /// The bytes as given.
    pub input_len: usize,
    /// The size EC2 counts: after whole-payload base64 decoding, before gunzip.
    pub raw_size: usize,
    /// Whole-payload decodings undone.
    pub encoding: Encoding,
    /// What nodeadm parses after whole-payload decoding.
    pub payload: Vec<u8>,
    /// Top-level MIME headers when the payload is (or tries to be) a MIME message.
    pub mime: Option<MimeInfo>,
    pub parts: Vec<Part>,
    pub defects: Vec<Defect>,
}

impl Envelope {
    /// Reads user data as EC2, cloud-init and nodeadm receive it. `convert` reads its own output
    /// twice (the equivalence check, then lint), so the last readings are memoised
    /// (`crate::memo`).
    pub fn parse(input: &[u8], limits: &Limits) -> Envelope {
        thread_local! {
            static MEMO: crate::memo::Slot<(Vec<u8>, Limits), Envelope> = Default::default();
        }
        if input.len() < 256 {
            return Self::parse_uncached(input, limits);
        }
        crate::memo::get_or(&MEMO, (input.to_vec(), *limits), |(input, limits)| Self::parse_uncached(input, limits))
    }

    fn parse_uncached(input: &[u8], limits: &Limits) -> Envelope {
        let mut env = Envelope {
            input_len: input.len(),
            raw_size: input.len(),
            encoding: Encoding::default(),
            payload: Vec::new(),
            mime: None,
            parts: Vec::new(),
            defects: Vec::new(),
        };
        let mut payload = match decode::try_base64(input) {
            Some(decoded) => {
                env.encoding.base64 = true;
                env.raw_size = decoded.len();
                decoded
            }
            None => input.to_vec(),
        };
        if decode::is_gzip(&payload) {
            match decode::gunzip(&payload, limits.max_decoded) {
                Ok(inflated) => {
                    env.encoding.gzip = true;
                    payload = inflated;
                }
                Err(error) => {
                    env.defects.push(Defect::InvalidGzip { part: None, error, span: Span::payload(0, 0) });
                    return env;
                }
            }
        }
        env.payload = payload;
        env.read_structure(limits);
        env
    }

    /// Whether the input is MIME multipart (possibly broken).
    pub fn is_multipart(&self) -> bool {
        self.mime.as_ref().and_then(|m| m.boundary.as_ref()).is_some()
    }

    /// Parts nodeadm decodes as NodeConfig, in merge order.
    pub fn nodeconfig_parts(&self) -> impl Iterator<Item = &Part> {
        self.parts.iter().filter(|p| p.kind == PartKind::NodeConfig)
    }

    /// Translates a span in a part's decoded body to payload offsets, when the body was not
    /// transformed (so the bytes are the user's own).
    pub fn to_payload_span(&self, span: Span) -> Option<Span> {
        match span.layer {
            Layer::Payload => Some(span),
            Layer::PartBody(i) => {
                let part = self.parts.get(i)?;
                part.encoding
                    .is_identity()
                    .then(|| Span::payload(part.body_start + span.start, part.body_start + span.end))
            }
        }
    }

    fn read_structure(&mut self, limits: &Limits) {
        let payload = std::mem::take(&mut self.payload);
        let mut top = mime_read::header_block(&payload, 0, payload.len(), false);
        let mut not_at_start = false;
        if !declares_mime(&top) {
            match find_late_mime(&payload) {
                Some(off) => {
                    top = mime_read::header_block(&payload, off, payload.len(), false);
                    not_at_start = true;
                }
                None => {
                    self.single_part(&payload, 0, None, limits);
                    self.payload = payload;
                    return;
                }
            }
        }
        let header_start = top.headers.first().map_or(0, |h| h.start);
        self.check_block_end(&top, None);
        let content_type = self.first_content_type(&top.headers, None);
        let multipart = content_type.as_ref().is_some_and(|c| c.media.starts_with("multipart/"));
        let boundary = content_type.as_ref().and_then(|c| c.params.get("boundary")).cloned();
        let block_span = Span::payload(header_start, top.body_start);
        if !multipart || not_at_start {
            self.defects.push(Defect::NotMultipart {
                media: content_type.as_ref().map(|c| c.media.clone()),
                not_at_start,
                span: block_span,
            });
        }
        self.mime = Some(MimeInfo {
            headers: top.headers.clone(),
            content_type: content_type.clone(),
            boundary: boundary.clone(),
        });
        if !multipart {
            self.single_part(&payload, top.body_start, content_type, limits);
            self.payload = payload;
            return;
        }
        let Some(boundary) = boundary.filter(|b| !b.is_empty()) else {
            self.defects.push(Defect::MissingBoundary { span: block_span });
            if let Some(m) = self.mime.as_mut() {
                m.boundary = None;
            }
            self.payload = payload;
            return;
        };
        let scan = mime_read::scan_multipart(&payload, top.body_start, &boundary);
        if scan.close.is_none() && !scan.open_end {
            self.defects.push(Defect::MissingCloseDelimiter {
                boundary: boundary.clone(),
                delimiter_seen: scan.first_delimiter.is_some(),
                span: Span::payload(payload.len(), payload.len()),
            });
        }
        if scan.parts.is_empty()
            && let Some((ls, le)) = scan.close
        {
            // Go's reader expects CRLF line ends until a delimiter line shows LF; with no part
            // before it, an LF close delimiter is not seen as one and the input ends in error.
            let lf = payload.get(le) == Some(&b'\n');
            self.defects.push(Defect::NoParts { fatal: lf, span: Span::payload(ls, le) });
        }
        if let Some((s, e)) = scan.epilogue {
            self.defects.push(Defect::Epilogue { span: Span::payload(s, e) });
        }
        for (index, raw) in scan.parts.iter().enumerate() {
            let block = mime_read::header_block(&payload, raw.start, raw.end, true);
            self.check_block_end(&block, Some(index));
            let content_type = self.first_content_type(&block.headers, Some(index));
            if content_type.is_none() {
                self.defects
                    .push(Defect::MissingContentType { part: index, span: Span::payload(raw.start, raw.start) });
            }
            let mut part = Part {
                index,
                headers: block.headers,
                content_type,
                kind: PartKind::Other,
                start: raw.start,
                end: raw.end,
                body_start: block.body_start.min(raw.end),
                body: Vec::new(),
                encoding: Encoding::default(),
            };
            self.decode_part(&payload, &mut part, limits);
            if part.kind == PartKind::Multipart {
                self.defects.push(Defect::NestedMultipart { part: index, span: Span::payload(raw.start, raw.start) });
            }
            self.parts.push(part);
        }
        self.payload = payload;
    }

    fn single_part(&mut self, payload: &[u8], body_start: usize, content_type: Option<ContentType>, limits: &Limits) {
        let mut part = Part {
            index: 0,
            headers: Vec::new(),
            content_type,
            kind: PartKind::Other,
            start: 0,
            end: payload.len(),
            body_start,
            body: Vec::new(),
            encoding: Encoding::default(),
        };
        self.decode_part(payload, &mut part, limits);
        if part.content_type.is_none() {
            // Not MIME: nodeadm decodes the whole payload as NodeConfig; cloud-init still runs
            // it if the first line marks a script or cloud-config.
            part.kind = PartKind::from_content(&part.body).unwrap_or(PartKind::NodeConfig);
        }
        self.parts.push(part);
    }

    /// Undoes transfer encodings the way the part's consumer would, then classifies it.
    fn decode_part(&mut self, payload: &[u8], part: &mut Part, limits: &Limits) {
        let raw = part.raw_body(payload);
        let cte = part.header("content-transfer-encoding").map(|h| h.value.to_ascii_lowercase());
        let media_kind = part.media().and_then(PartKind::from_media_type);
        let body_span = Span::payload(part.body_start, part.end);
        let mut body = raw.to_vec();
        match cte.as_deref() {
            Some("base64") => match decode::base64_declared(raw) {
                Ok(decoded) => {
                    body = decoded;
                    part.encoding.base64 = true;
                }
                Err(detail) => self.defects.push(Defect::InvalidBase64 { part: part.index, detail, span: body_span }),
            },
            Some("quoted-printable") => {
                body = decode::quoted_printable(raw);
                part.encoding.quoted_printable = true;
            }
            _ => {
                // nodeadm tries base64 on every NodeConfig part whatever the headers say.
                if media_kind == Some(PartKind::NodeConfig)
                    && let Some(decoded) = decode::try_base64(raw)
                {
                    body = decoded;
                    part.encoding.base64 = true;
                }
            }
        }
        if decode::is_gzip(&body) {
            match decode::gunzip(&body, limits.max_decoded) {
                Ok(inflated) => {
                    body = inflated;
                    part.encoding.gzip = true;
                }
                Err(error) => {
                    let idx = self.mime.is_some().then_some(part.index);
                    self.defects.push(Defect::InvalidGzip { part: idx, error, span: body_span });
                }
            }
        }
        part.kind = PartKind::of_part(part.media(), &body);
        part.body = body;
    }

    fn check_block_end(&mut self, block: &HeaderBlock, part: Option<usize>) {
        match block.end {
            BlockEnd::BlankLine => {}
            BlockEnd::Eof => {
                // Headers with nothing after them: only a defect if there were headers.
                if !block.headers.is_empty() && part.is_none() {
                    let end = block.headers.last().map_or(0, |h| h.end);
                    self.defects.push(Defect::MissingBlankLine {
                        part,
                        suspect_header: false,
                        span: Span::payload(end, end),
                    });
                }
            }
            BlockEnd::NotAHeader { start, end } => self.defects.push(Defect::MissingBlankLine {
                part,
                suspect_header: false,
                span: Span::payload(start, end),
            }),
            BlockEnd::SuspectHeader { start, end } => self.defects.push(Defect::MissingBlankLine {
                part,
                suspect_header: true,
                span: Span::payload(start, end),
            }),
        }
    }

    fn first_content_type(&mut self, headers: &[Header], part: Option<usize>) -> Option<ContentType> {
        let mut cts = headers.iter().filter(|h| h.is("content-type"));
        let first = cts.next()?;
        for dup in cts {
            self.defects.push(Defect::DuplicateContentType { part, span: Span::payload(dup.start, dup.end) });
        }
        if let Some(detail) = media_type::go_parse_error(&first.value) {
            self.defects.push(Defect::MalformedContentType {
                part,
                detail,
                span: Span::payload(first.start, first.end),
            });
        }
        Some(ContentType::parse(&first.value))
    }
}

fn declares_mime(block: &HeaderBlock) -> bool {
    block.headers.iter().any(|h| h.is("content-type") || h.is("mime-version"))
}

/// A `MIME-Version:` or `Content-Type: multipart/…` line near the top but not at offset 0
/// (a leading blank line or comment): nodeadm will not see a MIME message.
fn find_late_mime(payload: &[u8]) -> Option<usize> {
    mime_read::lines(payload, 0, payload.len()).take(10).find_map(|(ls, le, _)| {
        let line = String::from_utf8_lossy(payload.get(ls..le).unwrap_or_default()).to_ascii_lowercase();
        (line.starts_with("mime-version:") || (line.starts_with("content-type:") && line.contains("multipart/")))
            .then_some(ls)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIME: &str = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho hi\n\n--//\nContent-Type: application/node.eks.aws\n\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n\n--//--\n";

    #[test]
    fn parses_well_formed_multipart() {
        let env = Envelope::parse(MIME.as_bytes(), &Limits::default());
        assert!(env.defects.is_empty(), "{:?}", env.defects);
        assert!(env.is_multipart());
        assert_eq!(env.parts.len(), 2);
        assert_eq!(env.parts[0].kind, PartKind::ShellScript);
        assert_eq!(env.parts[0].body, b"#!/bin/bash\necho hi\n");
        assert_eq!(env.parts[1].kind, PartKind::NodeConfig);
        let p = &env.parts[1];
        assert_eq!(&MIME.as_bytes()[p.body_start..p.body_start + 10], b"apiVersion");
    }

    #[test]
    fn whole_payload_base64_and_gzip() {
        use base64::Engine as _;
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(MIME.as_bytes()).unwrap();
        let gz = e.finish().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
        let env = Envelope::parse(b64.as_bytes(), &Limits::default());
        assert!(env.encoding.base64 && env.encoding.gzip);
        assert_eq!(env.raw_size, gz.len());
        assert_eq!(env.parts.len(), 2);
        assert_eq!(
            env.to_payload_span(Span::part(1, 0, 1)),
            Some(Span::payload(env.parts[1].body_start, env.parts[1].body_start + 1))
        );
    }

    #[test]
    fn bare_documents_are_single_parts() {
        let env = Envelope::parse(b"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n", &Limits::default());
        assert!(env.mime.is_none() && env.defects.is_empty());
        assert_eq!(env.parts[0].kind, PartKind::NodeConfig);
        let env = Envelope::parse(b"#!/bin/bash\n/etc/eks/bootstrap.sh c\n", &Limits::default());
        assert_eq!(env.parts[0].kind, PartKind::ShellScript);
    }

    #[test]
    fn records_defects() {
        let text = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/x-shellscript\nContent-Type: text/plain\n#!/bin/bash\n--B\n\nno type\n";
        let env = Envelope::parse(text.as_bytes(), &Limits::default());
        let kinds: Vec<_> =
            env.defects.iter().map(|d| format!("{d:?}").split([' ', '{']).next().unwrap().to_string()).collect();
        assert_eq!(kinds, ["MissingCloseDelimiter", "MissingBlankLine", "DuplicateContentType", "MissingContentType"]);
        assert_eq!(env.parts[0].kind, PartKind::ShellScript);
        assert_eq!(env.parts[1].kind, PartKind::Other);
    }

    #[test]
    fn not_multipart_and_late_mime() {
        let env = Envelope::parse(
            b"MIME-Version: 1.0\nContent-Type: application/node.eks.aws\n\nkind: NodeConfig\n",
            &Limits::default(),
        );
        assert!(matches!(env.defects[0], Defect::NotMultipart { not_at_start: false, .. }));
        assert_eq!(env.parts[0].kind, PartKind::NodeConfig);
        let env = Envelope::parse(b"\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/node.eks.aws\n\nkind: NodeConfig\n--B--\n", &Limits::default());
        assert!(matches!(env.defects[0], Defect::NotMultipart { not_at_start: true, .. }));
        assert_eq!(env.parts.len(), 1);
    }

    #[test]
    fn gzip_bomb_is_a_defect_not_an_allocation() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![b'a'; 4 * 1024 * 1024]).unwrap();
        let bomb = e.finish().unwrap();
        let env = Envelope::parse(&bomb, &Limits { max_decoded: 1024 * 1024 });
        assert!(matches!(env.defects[0], Defect::InvalidGzip { part: None, error: GunzipError::TooLarge { .. }, .. }));
        assert!(env.parts.is_empty());
    }
}
