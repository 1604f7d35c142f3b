//! Tidy checks over the repository's own files, run by `cargo test` as ordinary tests.
//!
//! They keep house rules from rotting: every Rust file starts with a `//!` module doc, no
//! test is switched off with an ignore attribute, no file leaks absolute paths of the
//! machine it was written on, the README keeps its "Two commands" section, and the modules
//! of `scoring` use each other in no cycle. Each failure names the file and line. The strings these checks look for are assembled at run time, so
//! this file passes its own checks without being excluded.
//!
//! This module only reads files; it must never modify the repository.

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::repo_root;

/// One broken rule, reported as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    path: PathBuf,
    line: usize,
    message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}:{}: {}",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

/// Directories whose files are generated or downloaded, never written by hand.
const GENERATED_DIRS: &[&str] = &["target", "node_modules", "dist", ".git"];

fn is_generated(relative: &Path) -> bool {
    relative
        .components()
        .next()
        .is_some_and(|first| GENERATED_DIRS.iter().any(|dir| first.as_os_str() == *dir))
        || relative
            .components()
            .any(|part| part.as_os_str() == "node_modules")
}

/// The repository's text files (tracked, plus new files git does not ignore), as paths
/// relative to the root, with their contents. Binary files are left out.
fn text_files() -> Vec<(PathBuf, String)> {
    let root = repo_root();
    let listed = Command::new("git")
        .current_dir(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success());
    let relative_paths: Vec<PathBuf> = match listed {
        Some(output) => output
            .stdout
            .split(|byte| *byte == 0)
            .filter(|name| !name.is_empty())
            .map(|name| PathBuf::from(String::from_utf8_lossy(name).into_owned()))
            .collect(),
        // Without git (for example in an unpacked source archive) walk the tree instead.
        None => walk(&root, &root),
    };
    let mut files: Vec<(PathBuf, String)> = relative_paths
        .into_iter()
        .filter(|relative| !is_generated(relative))
        .filter_map(|relative| {
            // A file deleted in the work tree is still listed by git until committed.
            let bytes = std::fs::read(root.join(&relative)).ok()?;
            if bytes.contains(&0) {
                return None;
            }
            Some((relative, String::from_utf8(bytes).ok()?))
        })
        .collect();
    files.sort();
    files
}

fn walk(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .expect("walk stays below the root")
            .to_path_buf();
        if is_generated(&relative) {
            continue;
        }
        if path.is_dir() {
            paths.extend(walk(root, &path));
        } else {
            paths.push(relative);
        }
    }
    paths
}

fn assert_no_violations(rule: &str, violations: Vec<Violation>) {
    if violations.is_empty() {
        return;
    }
    let listing: Vec<String> = violations.iter().map(Violation::to_string).collect();
    panic!(
        "{rule}: {} violation(s):\n{}\n",
        violations.len(),
        listing.join("\n")
    );
}

fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "rs")
}

fn check_module_doc(path: &Path, text: &str) -> Vec<Violation> {
    if text.starts_with("//!") {
        return Vec::new();
    }
    vec![Violation {
        path: path.to_path_buf(),
        line: 1,
        message: "a Rust file must start with a `//!` comment saying what the module is for".into(),
    }]
}

fn check_no_ignored_tests(path: &Path, text: &str) -> Vec<Violation> {
    let attribute = ["#", "[ignore"].concat();
    let conditional = ["cfg", "_attr"].concat();
    let mut violations = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let conditional_skip = line.contains(&conditional) && line.contains("ignore");
        if line.contains(&attribute) || conditional_skip {
            violations.push(Violation {
                path: path.to_path_buf(),
                line: index + 1,
                message: "tests must not be ignored: fix the test, or delete it".into(),
            });
        }
    }
    violations
}

/// Absolute paths that exist only on the machine a file was written on.
fn machine_path_prefixes() -> Vec<String> {
    ["work", "root", "tmp"]
        .iter()
        .map(|dir| ["/", dir, "/"].concat())
        .collect()
}

/// True if `prefix` at byte `start` of `line` begins a path, rather than continuing a
/// longer one or a URL (as in `https://example.com/tmp/`).
fn starts_a_path(line: &str, start: usize) -> bool {
    match line[..start].chars().next_back() {
        None => true,
        Some(before) => !(before.is_alphanumeric() || "_.-/~:$".contains(before)),
    }
}

fn check_no_machine_paths(path: &Path, text: &str) -> Vec<Violation> {
    let prefixes = machine_path_prefixes();
    let mut violations = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for prefix in &prefixes {
            let found = line
                .match_indices(prefix.as_str())
                .find(|(start, _)| starts_a_path(line, *start));
            if found.is_some() {
                violations.push(Violation {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: format!(
                        "absolute path starting with `{prefix}` only exists on one machine; \
                         use a path relative to the repository or a temporary directory"
                    ),
                });
            }
        }
    }
    violations
}

/// The commands the README's "Two commands" section must show.
const TWO_COMMANDS: &[&str] = &["cargo xtask demo", "cargo xtask test"];

fn check_readme_two_commands(path: &Path, text: &str) -> Vec<Violation> {
    let heading = "## Two commands";
    let lines: Vec<&str> = text.lines().collect();
    let Some(heading_index) = lines.iter().position(|line| line.trim() == heading) else {
        return vec![Violation {
            path: path.to_path_buf(),
            line: 1,
            message: format!("missing the `{heading}` section with {TWO_COMMANDS:?}"),
        }];
    };
    let section_end = lines[heading_index + 1..]
        .iter()
        .position(|line| line.starts_with("## "))
        .map_or(lines.len(), |offset| heading_index + 1 + offset);
    let section = lines[heading_index..section_end].join("\n");
    TWO_COMMANDS
        .iter()
        .filter(|command| !section.contains(*command))
        .map(|command| Violation {
            path: path.to_path_buf(),
            line: heading_index + 1,
            message: format!("the `{heading}` section must show `{command}`"),
        })
        .collect()
}

/// The top-level module a source file of a crate belongs to, from its path below `src`:
/// `score.rs` and `score/inner.rs` are both `score`. The crate root is `None`.
fn top_module(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The modules of `modules` that `text` (a file of module `module`) names through
/// `crate::name`, `crate::{name, ..}` or `super::name`, with the line of each mention.
/// Comment lines are skipped: a doc link is no dependency.
fn module_references(module: &str, modules: &BTreeSet<String>, text: &str) -> Vec<(String, usize)> {
    let code: String = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("//") {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let identifier_at = |at: usize| -> &str {
        let rest = &code[at..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    };
    let mut heads: Vec<usize> = Vec::new();
    for prefix in ["crate::", "super::"] {
        for (start, _) in code.match_indices(prefix) {
            let joined_to_a_name = code[..start]
                .chars()
                .next_back()
                .is_some_and(|before| before.is_alphanumeric() || before == '_');
            if joined_to_a_name {
                continue;
            }
            let after = start + prefix.len();
            if !code[after..].starts_with('{') {
                heads.push(after);
                continue;
            }
            // A group: every path that starts at its top level names a module.
            let mut depth = 0;
            let mut expect_head = false;
            for (offset, ch) in code[after..].char_indices() {
                match ch {
                    '{' => {
                        depth += 1;
                        expect_head = depth == 1;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' => expect_head = depth == 1,
                    ch if ch.is_whitespace() => {}
                    _ => {
                        if expect_head {
                            heads.push(after + offset);
                        }
                        expect_head = false;
                    }
                }
            }
        }
    }
    let mut references: Vec<(String, usize)> = heads
        .into_iter()
        .map(|at| (identifier_at(at), at))
        .filter(|(name, _)| *name != module && modules.contains(*name))
        .map(|(name, at)| (name.to_owned(), code[..at].matches('\n').count() + 1))
        .collect();
    references.sort();
    references.dedup();
    references
}

/// Every use of one module by another that lies on a cycle of the module graph, given each
/// file's path below `src` and its text.
fn check_module_cycles(src: &Path, files: &[(PathBuf, String)]) -> Vec<Violation> {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(relative, _)| top_module(relative))
        .collect();
    let mut uses: BTreeMap<String, Vec<(String, PathBuf, usize)>> = BTreeMap::new();
    for (relative, text) in files {
        let Some(module) = top_module(relative) else {
            continue;
        };
        for (used, line) in module_references(&module, &modules, text) {
            uses.entry(module.clone())
                .or_default()
                .push((used, src.join(relative), line));
        }
    }
    let reachable_from = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut to_visit = vec![start.to_owned()];
        while let Some(module) = to_visit.pop() {
            for (used, _, _) in uses.get(&module).into_iter().flatten() {
                if seen.insert(used.clone()) {
                    to_visit.push(used.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> = modules
        .iter()
        .map(|module| (module, reachable_from(module)))
        .collect();
    let mut violations = Vec::new();
    for (module, used_modules) in &uses {
        for (used, path, line) in used_modules {
            if !reach[used].contains(module) {
                continue;
            }
            let cycle: Vec<&str> = modules
                .iter()
                .filter(|other| reach[module].contains(*other) && reach[*other].contains(module))
                .map(String::as_str)
                .collect();
            violations.push(Violation {
                path: path.clone(),
                line: *line,
                message: format!(
                    "`{module}` uses `{used}`, which leads back to `{module}` (modules in \
                     the cycle: {}); move what both need to a module below them",
                    cycle.join(", ")
                ),
            });
        }
    }
    violations
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let violations = text_files()
        .iter()
        .filter(|(path, _)| is_rust(path))
        .flat_map(|(path, text)| check_module_doc(path, text))
        .collect();
    assert_no_violations("module docs", violations);
}

#[test]
fn no_test_is_ignored() {
    let violations = text_files()
        .iter()
        .filter(|(path, _)| is_rust(path))
        .flat_map(|(path, text)| check_no_ignored_tests(path, text))
        .collect();
    assert_no_violations("ignored tests", violations);
}

#[test]
fn no_file_contains_machine_specific_absolute_paths() {
    let violations = text_files()
        .iter()
        .flat_map(|(path, text)| check_no_machine_paths(path, text))
        .collect();
    assert_no_violations("machine paths", violations);
}

#[test]
fn the_signed_context_guide_shows_the_tested_snippets_verbatim() {
    // The server's suite runs the files in docs/signed-context/; the guide must show them
    // as they are, or a reader would copy code nobody tested.
    let guide = std::fs::read_to_string(repo_root().join("docs/SIGNED-CONTEXT.md"))
        .expect("docs/SIGNED-CONTEXT.md should exist");
    for snippet in ["sign.mjs", "sign.py", "sign.rs"] {
        let path = repo_root().join("docs/signed-context").join(snippet);
        let code = std::fs::read_to_string(&path).expect("the snippet should exist");
        assert!(
            guide.contains(&code),
            "docs/SIGNED-CONTEXT.md does not show docs/signed-context/{snippet} verbatim"
        );
    }
}

#[test]
fn readme_shows_the_two_commands() {
    let path = PathBuf::from("README.md");
    let text = std::fs::read_to_string(repo_root().join(&path)).expect("README.md should exist");
    assert_no_violations("README", check_readme_two_commands(&path, &text));
}

#[test]
fn tidy_sees_the_files_it_checks() {
    let files = text_files();
    let paths: Vec<&Path> = files.iter().map(|(path, _)| path.as_path()).collect();
    for expected in ["Cargo.toml", "xtask/src/tidy.rs", "README.md"] {
        assert!(
            paths.contains(&Path::new(expected)),
            "{expected} is not among {paths:?}"
        );
    }
    assert!(
        !paths.iter().any(|path| is_generated(path)),
        "generated files were listed"
    );
}

#[test]
fn checks_report_file_and_line() {
    let path = Path::new("example.rs");
    let ignored = ["#", "[ignore]\nfn slow() {}"].concat();
    let doc_violations = check_module_doc(path, "fn main() {}\n");
    let ignore_violations = check_no_ignored_tests(path, &format!("//! Doc.\n{ignored}"));
    assert_eq!(doc_violations.len(), 1);
    assert_eq!(ignore_violations.len(), 1);
    assert_eq!(
        ignore_violations[0].to_string().split(": ").next(),
        Some("example.rs:2")
    );
    assert!(check_module_doc(path, "//! Doc.\nfn main() {}\n").is_empty());
}

#[test]
fn machine_paths_are_found_but_urls_and_longer_paths_are_not() {
    let path = Path::new("notes.md");
    let machine_path = ["see ", "/", "tmp", "/", "x"].concat();
    let quoted = ["let dir = \"", "/", "root", "/", ".cache\";"].concat();
    assert_eq!(check_no_machine_paths(path, &machine_path).len(), 1);
    assert_eq!(check_no_machine_paths(path, &quoted).len(), 1);
    let url = ["https://example.com", "/", "tmp", "/", "x"].concat();
    let longer = ["/var", "/", "tmp", "/", "x"].concat();
    assert!(check_no_machine_paths(path, &url).is_empty());
    assert!(check_no_machine_paths(path, &longer).is_empty());
}

#[test]
fn readme_check_requires_both_commands_inside_the_section() {
    let path = Path::new("README.md");
    let good = "# R\n\n## Two commands\n\n`cargo xtask demo`\n`cargo xtask test`\n\n## More\n";
    let test_outside =
        "# R\n\n## Two commands\n\n`cargo xtask demo`\n\n## More\n`cargo xtask test`\n";
    assert!(check_readme_two_commands(path, good).is_empty());
    let violations = check_readme_two_commands(path, test_outside);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].line, 3);
    assert_eq!(check_readme_two_commands(path, "# R\n").len(), 1);
}

#[test]
fn scoring_modules_use_each_other_in_no_cycle() {
    let src = PathBuf::from("scoring/src");
    let root = repo_root().join(&src);
    let files: Vec<(PathBuf, String)> = walk(&root, &root)
        .into_iter()
        .filter(|relative| is_rust(relative))
        .map(|relative| {
            let text = std::fs::read_to_string(root.join(&relative))
                .expect("a scoring source file should be readable");
            (relative, text)
        })
        .collect();
    assert!(
        files.len() > 5,
        "expected the scoring sources, found {files:?}"
    );
    assert_no_violations("scoring module cycles", check_module_cycles(&src, &files));
}

#[test]
fn module_cycles_are_found_through_paths_groups_and_super() {
    let src = Path::new("src");
    let file = |name: &str, text: &str| (PathBuf::from(name), text.to_owned());
    let acyclic = [
        file("lib.rs", "//! Root.\npub mod a;\npub mod b;\npub mod c;\n"),
        file("a.rs", "//! A.\nuse crate::b::Thing;\n"),
        file("b.rs", "//! B.\nuse crate::{\n    c::Other,\n};\n"),
        file(
            "c.rs",
            "//! C, which links to [`crate::a`] only in a comment.\n",
        ),
    ];
    assert!(check_module_cycles(src, &acyclic).is_empty());
    let mut cyclic = acyclic.to_vec();
    cyclic[3] = file("c.rs", "//! C.\nfn f() { super::a::g() }\n");
    let violations = check_module_cycles(src, &cyclic);
    let listed: Vec<String> = violations.iter().map(Violation::to_string).collect();
    assert_eq!(violations.len(), 3, "{listed:?}");
    assert!(
        listed[0].starts_with("src/a.rs:2: `a` uses `b`"),
        "{listed:?}"
    );
    assert!(
        listed[1].starts_with("src/b.rs:3: `b` uses `c`"),
        "{listed:?}"
    );
    assert!(
        listed[2].contains("(modules in the cycle: a, b, c)"),
        "{listed:?}"
    );
    // A module's own tests that reach into it through `super` are no cycle.
    let own_tests = file(
        "c.rs",
        "//! C.\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    cyclic[3] = own_tests;
    assert!(check_module_cycles(src, &cyclic).is_empty());
}
