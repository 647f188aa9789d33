//! Progress on standard error for the long-running commands (`push`, `nodegroup bluegreen`,
//! `karpenter migrate --cluster`): on a terminal, one bar redrawn in place (`\r`, erase line) with
//! messages printed above it; otherwise (CI logs, pipes) plain lines, a bar line only when it
//! says something new, so a poll every two seconds does not flood a log.

use std::io::Write;
use std::sync::Mutex;

const WIDTH: usize = 30;

pub struct Progress<W: Write + Send> {
    tty: bool,
    state: Mutex<State<W>>,
}

struct State<W> {
    out: W,
    /// The bar on screen (terminal), or the last bar line written (plain).
    last: Option<String>,
}

impl<W: Write + Send> Progress<W> {
    pub fn new(out: W, tty: bool) -> Self {
        Progress { tty, state: Mutex::new(State { out, last: None }) }
    }

    /// `done` of `total`, with what is happening.
    pub fn bar(&self, done: usize, total: usize, what: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        if self.tty {
            let filled = (done.min(total) * WIDTH).checked_div(total).unwrap_or(WIDTH);
            let text = format!("[{}{}] {done}/{total} {what}", "#".repeat(filled), " ".repeat(WIDTH - filled));
            let _ = write!(s.out, "\r\x1b[K{text}");
            let _ = s.out.flush();
            s.last = Some(text);
        } else {
            let text = format!("[{done}/{total}] {what}");
            if s.last.as_deref() != Some(text.as_str()) {
                let _ = writeln!(s.out, "{text}");
                s.last = Some(text);
            }
        }
    }

    /// A message: above the bar on a terminal (the bar is drawn again under it).
    pub fn say(&self, message: &str) {
        let Ok(mut s) = self.state.lock() else { return };
        if self.tty && s.last.is_some() {
            let bar = s.last.clone().unwrap_or_default();
            let _ = write!(s.out, "\r\x1b[K{message}\n{bar}");
        } else {
            let _ = writeln!(s.out, "{message}");
        }
        let _ = s.out.flush();
    }

    /// Ends the bar's line on a terminal, so what follows starts on its own.
    pub fn finish(&self) {
        let Ok(mut s) = self.state.lock() else { return };
        if self.tty && s.last.take().is_some() {
            let _ = writeln!(s.out);
        }
    }

    #[cfg(test)]
    fn into_inner(self) -> W {
        match self.state.into_inner() {
            Ok(s) => s.out,
            Err(p) => p.into_inner().out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_one_bar_redrawn_and_messages_above_it() {
        let p = Progress::new(Vec::new(), true);
        p.bar(0, 2, "waiting");
        p.say("evicted default/web-1");
        p.bar(1, 2, "drained a");
        p.finish();
        let out = String::from_utf8(p.into_inner()).unwrap();
        let empty = " ".repeat(30);
        let half = format!("{}{}", "#".repeat(15), " ".repeat(15));
        assert_eq!(
            out,
            format!(
                "\r\x1b[K[{empty}] 0/2 waiting\r\x1b[Kevicted default/web-1\n[{empty}] 0/2 waiting\r\x1b[K[{half}] 1/2 drained a\n"
            )
        );
    }

    #[test]
    fn a_log_gets_plain_lines_and_no_repeats() {
        let p = Progress::new(Vec::new(), false);
        p.bar(0, 2, "1 launching");
        p.bar(0, 2, "1 launching");
        p.say("applied ec2nodeclass/default");
        p.bar(2, 2, "done");
        p.bar(3, 0, "odd counts do not panic");
        p.finish();
        let out = String::from_utf8(p.into_inner()).unwrap();
        assert_eq!(out, "[0/2] 1 launching\napplied ec2nodeclass/default\n[2/2] done\n[3/0] odd counts do not panic\n");
    }
}
