//! `lint --fix`: a fix is applied once (fixing the fixed file changes nothing), and the fixed
//! file has no error code the original lacked. One exception, by design: the blank line UD102
//! adds after a part's headers turns lines nodeadm read as headers back into the body, and the
//! body's own findings (a NodeConfig with no cluster, say) appear; the fix reveals them, it does
//! not make them.
#![no_main]
use eks_userdata::lint::{LintOptions, fix::fix, lint};
use eks_userdata::{Severity, Source};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fn errors(name: &str, bytes: &[u8], opts: &LintOptions) -> BTreeSet<&'static str> {
    lint(&Source::new(name, bytes), opts)
        .findings
        .iter()
        .filter(|f| f.diagnostic.severity == Severity::Error)
        .map(|f| f.diagnostic.code)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let opts = LintOptions::default();
    let Some(fixed) = fix(&Source::new("fuzz.yaml", data), &opts) else { return };
    assert!(!fixed.applied.is_empty(), "bytes changed with no fix applied");
    let again = fix(&Source::new("fuzz.yaml", fixed.bytes.as_slice()), &opts);
    assert!(again.is_none(), "a second --fix changed the file again: {:?}", again.map(|a| a.applied));
    if fixed.applied.contains(&"UD102") {
        return;
    }
    let before = errors("fuzz.yaml", data, &opts);
    let after = errors("fuzz.yaml", &fixed.bytes, &opts);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(new.is_empty(), "--fix ({:?}) introduced errors {new:?}", fixed.applied);
});
