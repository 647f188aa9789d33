//! GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::message`), so findings
//! appear as annotations on the pull request without code scanning. Values are escaped as the
//! runner requires (`%`, CR, LF everywhere; also `:` and `,` in properties).

use super::FileReport;
use crate::diagnostic::Severity;
use std::fmt::Write as _;

fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            let d = &f.diagnostic;
            let cmd = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut props = vec![format!("file={}", property(&r.path))];
            if let Some(l) = f.location.as_ref().filter(|l| l.within.is_none()) {
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.column));
                if l.end_line == l.line {
                    props.push(format!("endColumn={}", l.end_column));
                }
            }
            props.push(format!("title={}", property(&format!("{} {}", d.code, d.name))));
            let mut msg = d.message.clone();
            if let Some(h) = &d.help {
                msg.push_str("\nhelp: ");
                msg.push_str(h);
            }
            let _ = writeln!(out, "::{cmd} {}::{}", props.join(","), data(&msg));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_the_runner_expects() {
        assert_eq!(super::data("50%\nx"), "50%25%0Ax");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
