//! The MIME writer against every multipart fixture: parse → write → parse keeps every part,
//! every header and every body, and writing is a fixed point.

use crate::util::{fixtures, root};
use eks_userdata::userdata::mime_write::{WriteOptions, parts_of, write};
use eks_userdata::userdata::{Envelope, Limits};

fn normalise(body: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = String::from_utf8_lossy(body).replace("\r\n", "\n").into_bytes();
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}

#[test]
fn round_trip_keeps_parts_headers_and_bodies() {
    let mut checked = 0;
    for path in fixtures("al2023").into_iter().chain(fixtures("invalid")) {
        let bytes = std::fs::read(root().join(&path)).unwrap();
        let first = Envelope::parse(&bytes, &Limits::default());
        if !first.is_multipart() || first.parts.is_empty() {
            continue;
        }
        let written = write(&parts_of(&first), &WriteOptions::default());
        let second = Envelope::parse(&written, &Limits::default());
        assert_eq!(first.parts.len(), second.parts.len(), "{path}");
        for (a, b) in first.parts.iter().zip(&second.parts) {
            let names = |p: &eks_userdata::userdata::Part| {
                let mut seen_ct = false;
                p.headers
                    .iter()
                    .filter(|h| !(h.is("content-type") && std::mem::replace(&mut seen_ct, true)))
                    .map(|h| (h.name.clone(), h.value.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(a), names(b), "{path} part {}", a.index + 1);
            assert_eq!(a.kind, b.kind, "{path} part {}", a.index + 1);
            assert_eq!(normalise(&a.body), normalise(&b.body), "{path} part {}", a.index + 1);
        }
        // Our own output is a fixed point, and it is clean MIME.
        assert_eq!(write(&parts_of(&second), &WriteOptions::default()), written, "{path}");
        assert!(second.defects.iter().all(|d| !matches!(
            d,
            eks_userdata::userdata::Defect::MissingCloseDelimiter { .. }
                | eks_userdata::userdata::Defect::Epilogue { .. }
                | eks_userdata::userdata::Defect::MissingBoundary { .. }
        )));
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} multipart fixtures");
}
