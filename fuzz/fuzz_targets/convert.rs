//! `convert` end to end on any text (the shell reader, the AL2 node model, the plan, the MIME
//! writer, the equivalence check): never a panic; the output is written only when it lints
//! without an error, and the same input gives the same bytes.
#![no_main]
use eks_userdata::lint::{LintOptions, lint};
use eks_userdata::translate::{Options, convert, emit::Format};
use eks_userdata::{Severity, Source, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let target = [Target::SelfManaged, Target::Mng, Target::Karpenter][usize::from(pick % 3)];
    let format = if pick & 4 == 0 { Format::Mime } else { Format::NodeConfig };
    let opts = Options { target, ..Default::default() };
    let source = Source::new("userdata.sh", bytes);
    let Ok(a) = convert(&source, &opts, format, "out") else { return };
    if let Some(out) = &a.output {
        let report = lint(&Source::new("out", out.as_slice()), &LintOptions { target, ..Default::default() });
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.diagnostic.severity == Severity::Error)
            .map(|f| f.diagnostic.code)
            .collect();
        assert!(errors.is_empty(), "written output has errors {errors:?}");
    }
    let b = convert(&source, &opts, format, "out").ok().and_then(|c| c.output);
    assert_eq!(a.output, b, "convert is not deterministic");
});
