//! Payload encodings exactly as nodeadm undoes them (docs §2.1,
//! `nodeadm/internal/configprovider/encoding.go`): base64 is tried with Go's `StdEncoding`
//! (padded, standard alphabet, CR and LF ignored) and kept only if it decodes; gzip is detected
//! by its magic bytes `1f 8b`, never by a header. Decoding is capped so a gzip bomb costs at most
//! `cap` bytes of memory.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::io::Read;

/// Go's `base64.StdEncoding` is not strict: it accepts non-zero trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// The largest decoded body kept, in bytes.
pub const DEFAULT_MAX_DECODED: usize = 1024 * 1024;

pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// nodeadm's best-effort step: `Some(decoded)` if the whole buffer is base64, else `None`.
pub fn try_base64(data: &[u8]) -> Option<Vec<u8>> {
    // Almost every input is text with a byte base64 cannot hold: say no before copying it.
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n');
    if !data.iter().all(alphabet) {
        return None;
    }
    let cleaned: Vec<u8> = data.iter().copied().filter(|b| *b != b'\r' && *b != b'\n').collect();
    if cleaned.is_empty() {
        return None;
    }
    GO_STD.decode(&cleaned).ok()
}

/// Strict base64 for parts that declare `Content-Transfer-Encoding: base64` (RFC 2045 §6.8:
/// whitespace between groups is ignored).
pub fn base64_declared(data: &[u8]) -> Result<Vec<u8>, String> {
    let cleaned: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    GO_STD.decode(&cleaned).map_err(|e| e.to_string())
}

pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunzipError {
    Corrupt(String),
    TooLarge { cap: usize },
}

impl std::fmt::Display for GunzipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GunzipError::Corrupt(e) => write!(f, "gzip data is corrupt: {e}"),
            GunzipError::TooLarge { cap } => write!(
                f,
                "gzip data inflates to more than the {} cap (a gzip bomb, or not user data); \
                 decoding stopped there",
                crate::source::human_bytes(*cap)
            ),
        }
    }
}

/// Inflates every gzip member (Go's `gzip.Reader` is multistream too), never past `cap`.
pub fn gunzip(data: &[u8], cap: usize) -> Result<Vec<u8>, GunzipError> {
    // `bufread`: the input is in memory already, so no second buffer; most user data inflates
    // to a few times its size.
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(cap.saturating_add(1)));
    flate2::bufread::MultiGzDecoder::new(data)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Corrupt(e.to_string()))?;
    if out.len() > cap {
        return Err(GunzipError::TooLarge { cap });
    }
    Ok(out)
}

/// RFC 2045 §6.7 quoted-printable, which Go's multipart reader undoes transparently.
pub fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        let rest = data.get(i + 1..).unwrap_or_default();
        if rest.starts_with(b"\r\n") {
            i += 3;
        } else if rest.starts_with(b"\n") {
            i += 2;
        } else if let (Some(h), Some(l)) = (rest.first().and_then(hex), rest.get(1).and_then(hex)) {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn base64_is_best_effort_like_go() {
        assert_eq!(try_base64(b"aGVsbG8=\n").as_deref(), Some(&b"hello"[..]));
        assert_eq!(try_base64(b"aGVs\r\nbG8="), Some(b"hello".to_vec()));
        assert_eq!(try_base64(b"apiVersion: node.eks.aws/v1alpha1"), None);
        assert_eq!(try_base64(b"aGVsbG8"), None, "Go's StdEncoding requires padding");
        assert_eq!(try_base64(b""), None);
    }

    #[test]
    fn gunzip_is_capped() {
        let bomb = gz(&vec![0u8; 10_000]);
        assert_eq!(gunzip(&bomb, 100), Err(GunzipError::TooLarge { cap: 100 }));
        assert_eq!(gunzip(&bomb, 10_000).unwrap().len(), 10_000);
        let mut two = gz(b"a");
        two.extend(gz(b"b"));
        assert_eq!(gunzip(&two, 10).unwrap(), b"ab");
        assert!(matches!(gunzip(&[0x1f, 0x8b, 0], 10), Err(GunzipError::Corrupt(_))));
        assert!(is_gzip(&bomb) && !is_gzip(&[0x1f]));
    }

    #[test]
    fn quoted_printable_decodes_soft_breaks_and_escapes() {
        assert_eq!(quoted_printable(b"a=3Db=\nc=\r\nd=zz"), b"a=bcd=zz");
    }
}
