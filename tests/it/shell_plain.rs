//! The plain-shell reader (`al2/shell_plain.rs`) against brush-parser: wherever the plain reader
//! accepts a text, brush-parser must accept it too and the walk over its syntax tree must give
//! the same commands (words, spans, assignments, redirections, here-document bodies, `&&`/`||`
//! and pipe flags). Inputs: every fixture and corpus file and each of their parts, every
//! `convert` output of the AL2 fixtures, and generated scripts mixing plain lines with the
//! constructs the plain reader must decline or get exactly right.

use crate::util::{Rng, files_under, root};
use eks_userdata::al2::shell::{Command, readings};
use eks_userdata::al2::template::{Syntax, detect};
use eks_userdata::userdata::{Envelope, Limits};

#[derive(Default)]
struct Tally {
    texts: usize,
    plain: usize,
    differ: Vec<String>,
}

impl Tally {
    fn check(&mut self, name: &str, text: &str) {
        let mut syntaxes = vec![Syntax::None];
        let detected = detect(text);
        if detected != Syntax::None {
            syntaxes.push(detected);
        }
        for syntax in syntaxes {
            self.texts += 1;
            let (plain, brush) = readings(text, syntax);
            let Some(plain) = plain else { continue };
            self.plain += 1;
            match brush {
                Ok(b) if b == plain => {}
                Ok(b) => self.differ.push(format!("{name} ({syntax:?}): {}", first_difference(&plain, &b))),
                Err(e) => self.differ.push(format!("{name} ({syntax:?}): brush-parser refuses it: {}", e.message)),
            }
        }
    }
}

fn first_difference(plain: &[Command], brush: &[Command]) -> String {
    for (i, (p, b)) in plain.iter().zip(brush).enumerate() {
        if p != b {
            return format!("command {i}:\n  plain: {p:?}\n  brush: {b:?}");
        }
    }
    format!("{} commands plain, {} brush-parser", plain.len(), brush.len())
}

fn texts_of(name: &str, bytes: &[u8], out: &mut Vec<(String, String)>) {
    out.push((name.to_string(), String::from_utf8_lossy(bytes).into_owned()));
    let env = Envelope::parse(bytes, &Limits::default());
    for (i, p) in env.parts.iter().enumerate() {
        if let Ok(body) = std::str::from_utf8(&p.body) {
            out.push((format!("{name} part {i}"), body.to_string()));
        }
    }
}

/// Lines and fragments: plain ones, ones the plain reader must decline, and edge cases of
/// quoting, spans and here-documents.
const LINES: &[&str] = &[
    "#!/bin/bash\n",
    "set -ex\n",
    "set -o pipefail\n",
    "yum install -y jq amazon-efs-utils\n",
    "/etc/eks/bootstrap.sh my-cluster --kubelet-extra-args '--node-labels=a=b,c=d --max-pods=20'\n",
    "/etc/eks/bootstrap.sh ${cluster_name} --b64-cluster-ca '${ca}' --apiserver-endpoint \"${endpoint}\"\n",
    "/etc/eks/bootstrap.sh \"$CLUSTER\" \\\n  --kubelet-extra-args \"$ARGS\" \\\n  --use-max-pods false\n",
    "sudo /etc/eks/bootstrap.sh c --container-runtime containerd || exit 1\n",
    "A=1 B=\"two words\" C='x' env\n",
    "export KUBELET_EXTRA_ARGS=\"--node-labels=x=y\"\n",
    "KUBELET_EXTRA_ARGS+=\" --max-pods=58\"\n",
    "echo a=b c+=d e[1]=f\n",
    "a[1]=x\n",
    "declare -a arr\n",
    "echo \"$@\" $* $# $? $$ $! $- $0 $12\n",
    "echo ${HOME} ${A:-default} ${#A} ${A/x/y} ${A%%.*}\n",
    "echo $(hostname) `date`\n",
    "echo \"$(curl -s http://169.254.169.254/latest/meta-data/instance-id)\"\n",
    "echo $((1 + 2))\n",
    "cat > /etc/systemd/system/kubelet.service.d/10-x.conf <<EOF\n[Service]\nEnvironment='KUBELET_EXTRA_ARGS=--max-pods=20'\nEOF\n",
    "cat <<'EOT' > /etc/eks/x.json\n{\"a\": \"$b\"}\nEOT\n",
    "cat <<-\"END\" | sudo tee -a /etc/fstab\n\t/dev/nvme1n1 /data xfs defaults 0 2\n\t\tindented\n\tEND\n",
    "cat <<A <<B\na body\nA\nb body\nB\n",
    "cat <<EOF && echo after\nx\nEOF\n",
    "cat <<EOF\nunterminated\n",
    "cat <<EOF\nlast line without newline\nEOF",
    "cat <<\\EOF\nescaped tag\nEOF\n",
    "echo hi > /tmp/a 2>&1\n",
    "echo hi >> /tmp/a 2>/dev/null >&2 1>&2 <input\n",
    "2>/dev/null echo prefix-redirect\n",
    "echo 2 >x\n",
    "echo x >| clobber <> rw\n",
    "cmd &> both\n",
    "cat <<< \"here string\"\n",
    "diff <(a) <(b)\n",
    "a && b || c\n",
    "a &&\n  b ||\n\n  c\n",
    "a && # comment\n  b\n",
    "a | b | c\n",
    "a |\n  b\n",
    "a |& b\n",
    "sleep 1 &\n",
    "a; b; c;\n",
    ";\n",
    "a ;; b\n",
    "if [ -f /x ]; then echo y; fi\n",
    "for i in 1 2; do echo $i; done\n",
    "while true; do sleep 1; done\n",
    "case $x in a) echo a;; esac\n",
    "f() { echo f; }\n",
    "function g { echo g; }\n",
    "{ echo grouped; }\n",
    "( echo subshell )\n",
    "! false\n",
    "[[ -n $x ]] && echo y\n",
    "[ -n \"$x\" ] && echo y\n",
    "echo if then fi done\n",
    "A=1 if\n",
    "# a comment line\n",
    "   # indented comment\n",
    "echo a#b # trailing comment\n",
    "echo a;#c\n",
    "echo 'single\nquoted across lines'\n",
    "echo \"double \\\"escaped\\\" \\$x \\\\\"\n",
    "echo \"unterminated\n",
    "echo 'unterminated\n",
    "echo trailing backslash \\\n",
    "echo word\\\ncontinued\n",
    "echo \\$escaped \\ space\n",
    "echo ümlaut “quotes” — dash\n",
    "echo caf\u{e9} 'na\u{ef}ve'\n",
    "printf '%s\\n' \"${arr[@]}\"\n",
    "echo {a,b}\n",
    "echo }\n",
    "echo $\n",
    "echo \"$\"\n",
    "echo $'ansi\\n'\n",
    "%{ if enable_spot ~}\n",
    "%{ endif ~}\n",
    "%{ for l in labels ~}\necho ${l}\n%{ endfor ~}\n",
    "echo $${HOME} $${VAR:-x}\n",
    "{{ if .Spot }}echo spot{{ end }}\n",
    "echo {{ .ClusterName }}\n",
    "\n",
    "\t\n",
    "echo tab\there\n",
    "echo cr\r\n",
    "> /tmp/truncate\n",
    "A=1\n",
    "A=\n",
    "A=$B\n",
    "A=(1 2 3)\n",
    "local x=1\n",
    "readonly Y=2 Z\n",
    "echo done\n",
    // A second reader's divergences (each once accepted here and read differently by brush).
    "time echo x\n",
    "a&&time",
    "time{{end}}",
    "time%{}",
    "2147483648>a",
    "9999999999<a",
    "<<E ${a}\nE\n",
    "<<E \"${a}\"\nE\n",
    "<<E;${a}\nE\n",
    "<<E&&${a}\nE\n",
    "<<E 2 >a\nE\n",
    "<<E;2 >a\nE\n",
    "<<E&&0\t>a\nE\n",
    "\"\"<<E&&0 \\\n>=\nE\n",
    "<<\"E\" 0\t<a !\nE\n",
    "<<E {{end}}a\nE\n",
    "<<1 %{}a\n1\n",
    "\\%{}\na",
    "echo a \\%{ if x }\nb\n",
    "\\{{end}}\na",
    "$$'\\'' \\'",
    "\\$'\\'' \\'",
    "$$[ ]",
    "echo $$[a b]\n",
    "\"\"<<'E-F' 1 >a\nE-F\n\"\"",
    "<<\"EOF\" 2 <a\nEOF\n",
];

fn generated(n: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x5EED_1234_ABCD);
    (0..n)
        .map(|i| {
            let len = 1 + rng.next() % 8;
            let text: String = (0..len).map(|_| *rng.pick(LINES)).collect();
            (format!("generated {i}"), text)
        })
        .collect()
}

#[test]
fn the_plain_reader_agrees_with_brush_parser_wherever_it_reads() {
    let mut files = Vec::new();
    files_under(&root().join("fixtures"), &mut files);
    files_under(&root().join("../shared/corpus"), &mut files);
    files.sort();
    let mut texts = Vec::new();
    for f in &files {
        texts_of(&f.display().to_string(), &std::fs::read(f).unwrap(), &mut texts);
    }
    let files_and_parts = texts.len();
    for f in crate::util::fixtures("al2") {
        let source = eks_userdata::Source::new(f.as_str(), std::fs::read(root().join(&f)).unwrap());
        let opts = eks_userdata::translate::Options::default();
        let format = eks_userdata::translate::emit::Format::Mime;
        if let Ok(Some(out)) = eks_userdata::translate::convert(&source, &opts, format, "out").map(|c| c.output) {
            texts_of(&format!("convert of {f}"), &out, &mut texts);
        }
    }
    let mut real = Tally::default();
    for (name, text) in &texts {
        real.check(name, text);
    }
    let mut made = Tally::default();
    for (name, text) in generated(20_000) {
        made.check(&name, &text);
    }
    // Each line alone, so every construct is checked on its own too.
    for (i, line) in LINES.iter().enumerate() {
        made.check(&format!("line {i}"), line);
    }
    println!(
        "plain reader: {} of {} real texts ({files_and_parts} files and parts, the rest convert outputs) read plainly, {} of {} generated",
        real.plain, real.texts, made.plain, made.texts
    );
    let differ: Vec<&String> = real.differ.iter().chain(&made.differ).collect();
    assert!(
        differ.is_empty(),
        "{} differences, first ones:\n{}",
        differ.len(),
        differ.iter().take(8).map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    // Not vacuous: most real scripts and a good share of the generated ones are read plainly.
    assert!(real.plain * 3 > real.texts, "{} of {}", real.plain, real.texts);
    assert!(made.plain > 1_500, "{}", made.plain);
}
