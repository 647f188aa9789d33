//! A JSON reader (RFC 8259) that keeps, for every string, where each of its bytes came from in
//! the host file, so user data written as a JSON string (CloudFormation JSON templates, with
//! `\n` escapes) can be linted and its findings placed on the template's own lines.
//! serde_json keeps no positions inside strings, hence this small reader. It refuses
//! malformed input and nesting deeper than [`MAX_DEPTH`] rather than guessing.

/// Deeper than any CloudFormation template; stops a hostile file from exhausting the stack.
pub const MAX_DEPTH: usize = 128;

/// A decoded string and, for each of its bytes (plus one past the end), the host offset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str {
    pub text: String,
    pub offsets: Vec<usize>,
}

impl Str {
    /// Appends `other`.
    pub fn push(&mut self, other: &Str) {
        self.offsets.pop();
        self.text.push_str(&other.text);
        self.offsets.extend_from_slice(&other.offsets);
    }

    /// Appends `text`, every byte of it placed at `at` (a value that is not a string).
    pub fn push_at(&mut self, text: &str, at: usize) {
        let end = self.offsets.pop().unwrap_or(at);
        self.text.push_str(text);
        self.offsets.extend(std::iter::repeat_n(at, text.len()));
        self.offsets.push(if text.is_empty() { end } else { at });
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Str(Str),
    /// Members in order, and the offset of `{`.
    Obj(Vec<(String, Node)>, usize),
    Arr(Vec<Node>, usize),
    /// A number, `true`, `false` or `null`, at this offset.
    Scalar(usize),
}

impl Node {
    pub fn start(&self) -> usize {
        match self {
            Node::Str(s) => s.offsets.first().copied().unwrap_or(0),
            Node::Obj(_, at) | Node::Arr(_, at) | Node::Scalar(at) => *at,
        }
    }
}

/// The document, or `None` when it is not JSON.
pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser { b: text.as_bytes(), i: 0 };
    let node = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(node)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let ok = self.b.get(self.i) == Some(&c);
        self.i += usize::from(ok);
        ok
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let at = self.i;
        match *self.b.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let key = self.string()?.text;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Node::Obj(members, at))
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Node::Arr(items, at))
            }
            b'"' => Some(Node::Str(self.string()?)),
            _ => {
                let rest = self.b.get(at..).unwrap_or_default();
                let len = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c)).count();
                let word = rest.get(..len).unwrap_or_default();
                let number = word.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-');
                if len == 0 || !(number || matches!(word, b"true" | b"false" | b"null")) {
                    return None;
                }
                self.i += len;
                Some(Node::Scalar(at))
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.i += 4;
        Some(v)
    }

    /// A string starting at `"`; escapes decode, each decoded byte placed at its escape.
    fn string(&mut self) -> Option<Str> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Str::default();
        loop {
            let at = self.i;
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    out.offsets.push(at);
                    return Some(out);
                }
                b'\\' => {
                    self.i += 1;
                    let c = match *self.b.get(self.i)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let code =
                                if (0xD800..0xDC00).contains(&hi) && self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    0x10000 + ((hi - 0xD800) << 10) + lo.wrapping_sub(0xDC00)
                                } else {
                                    hi
                                };
                            self.i -= 1;
                            char::from_u32(code).unwrap_or('\u{FFFD}')
                        }
                        _ => return None,
                    };
                    self.i += 1;
                    let mut buf = [0; 4];
                    let s = c.encode_utf8(&mut buf);
                    out.text.push_str(s);
                    out.offsets.extend(std::iter::repeat_n(at, s.len()));
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy a run of plain bytes (UTF-8 stays whole: the input is a &str).
                    let rest = self.b.get(at..).unwrap_or_default();
                    let len = rest.iter().take_while(|c| **c != b'"' && **c != b'\\' && **c >= 0x20).count();
                    out.text.push_str(std::str::from_utf8(rest.get(..len).unwrap_or_default()).ok()?);
                    out.offsets.extend(at..at + len);
                    self.i += len;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_the_offset_of_every_byte() {
        let text = r#"{"a": ["x\ny", "é\u00e9\ud83d\ude00"], "b": {"c": 1.5e3, "d": null}}"#;
        let Node::Obj(m, 0) = parse(text).unwrap() else { panic!() };
        let Node::Arr(items, _) = &m[0].1 else { panic!() };
        let Node::Str(s) = &items[0] else { panic!() };
        assert_eq!(s.text, "x\ny");
        assert_eq!(s.offsets, [8, 9, 11, 12]);
        assert_eq!(&text[s.offsets[2]..s.offsets[3]], "y");
        let Node::Str(u) = &items[1] else { panic!() };
        assert_eq!(u.text, "éé😀");
        assert_eq!(u.offsets.len(), u.text.len() + 1);
    }

    #[test]
    fn refuses_malformed_and_too_deep_input() {
        for bad in ["{", r#"{"a" 1}"#, "[1,]", r#""\x""#, "[1] x", "tru", "\"a\nb\""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(parse(&deep), None);
    }
}
