//! The module graph of the `server` crate, checked for cycles by `cargo test`.
//!
//! Each top-level module of `server/src` (a file such as `state.rs`, or a directory such as
//! `store/`) is a node. Every `crate::` path written in a module (in `use` lists, inline
//! paths and attributes, but not in comments) is an edge to the top-level module it names,
//! and so is a `super::` path that climbs out to the crate root. The layers of the server
//! (state, services, adapters and routes, store) hold only while these edges form no cycle:
//! a cycle fails the test and names its modules. A feature split into a service
//! (`mod.rs`) and its HTTP adapter (`http.rs`) is also checked to keep axum out of the
//! service.
//!
//! This module only reads files; it must never modify the repository.

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::process::repo_root;

/// The node of the crate root (`lib.rs`), which re-exports some items of its modules.
const ROOT: &str = "crate";

/// Edges between top-level modules: for each module, the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level module a source file belongs to, and its module path below the crate
/// root (`src/dashboard/page/mod.rs` is `dashboard::page`). `None` for the binary's root.
fn module_path(relative: &Path) -> Option<Vec<String>> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("lib") if parts.len() == 1 => return Some(Vec::new()),
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

/// The text of a file without its comments: whole comment lines are dropped, and a comment
/// after code is cut where `//` follows a space outside a string.
fn code_only(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim_start().starts_with("//") {
            code.push('\n');
            continue;
        }
        let mut in_string = false;
        let mut previous = ' ';
        let mut end = line.len();
        for (idx, character) in line.char_indices() {
            if character == '"' && previous != '\\' {
                in_string = !in_string;
            }
            if !in_string
                && character == '/'
                && line[idx..].starts_with("//")
                && previous.is_whitespace()
            {
                end = idx;
                break;
            }
            previous = character;
        }
        code.push_str(&line[..end]);
        code.push('\n');
    }
    code
}

fn is_identifier_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || character == '_'
}

/// The identifier at the start of `text`, after any whitespace.
fn leading_identifier(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|character: char| !is_identifier_char(character))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first path segment of every item of a `{ … }` group that starts `text` (just after
/// its opening brace): `{a, b::{c, d}}` names `a` and `b`.
fn group_heads(text: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = 0usize;
    for (idx, character) in text.char_indices() {
        match character {
            '{' => depth += 1,
            '}' if depth == 0 => {
                heads.push(leading_identifier(&text[item_start..idx]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(leading_identifier(&text[item_start..idx]));
                item_start = idx + 1;
            }
            _ => {}
        }
    }
    heads.retain(|head| !head.is_empty());
    heads
}

/// The first segments of the paths that follow `at` in `code` (a position just after a
/// `crate::` or a `super::` that reaches the crate root).
fn heads_after(code: &str, at: usize) -> Vec<&str> {
    let rest = code[at..].trim_start();
    match rest.strip_prefix('{') {
        Some(group) => group_heads(group),
        None => vec![leading_identifier(rest)],
    }
}

/// The top-level modules (or the crate root) that a file at `path` below the crate root
/// names, given the set of top-level modules.
fn references(path: &[String], text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code_only(text);
    let mut heads: Vec<&str> = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(is_identifier_char) {
            continue;
        }
        heads.extend(heads_after(&code, at + "crate::".len()));
    }
    // `super::` climbs from the file's module, and from inline modules inside it
    // (rustfmt indents each level by four spaces).
    let mut offset = 0usize;
    for line in code.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let depth = path.len() + indent / 4;
        for (idx, _) in line.match_indices("super::") {
            if idx > 0
                && line[..idx]
                    .chars()
                    .next_back()
                    .is_some_and(|character| is_identifier_char(character) || character == ':')
            {
                continue;
            }
            let mut climbs = 0usize;
            let mut rest = idx;
            while line[rest..].starts_with("super::") {
                climbs += 1;
                rest += "super::".len();
            }
            if climbs >= depth {
                heads.extend(heads_after(&code, offset + rest));
            }
        }
        offset += line.len();
    }
    heads
        .into_iter()
        .filter(|head| *head != "self")
        .map(|head| {
            if modules.contains(head) {
                head.to_owned()
            } else {
                ROOT.to_owned()
            }
        })
        .collect()
}

/// The module graph of a crate from its source files, given as paths relative to its `src`
/// directory with their text. Re-exports of the crate root (`pub use module::…` in
/// `lib.rs`) are edges from the root.
fn module_graph(files: &[(PathBuf, String)]) -> Graph {
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|(path, _)| module_path(path))
        .filter_map(|path| path.first().cloned())
        .collect();
    let mut graph = Graph::new();
    for (path, text) in files {
        let Some(module) = module_path(path) else {
            continue;
        };
        let node = module.first().cloned().unwrap_or_else(|| ROOT.to_owned());
        let mut names = references(&module, text, &modules);
        if module.is_empty() {
            for line in code_only(text).lines() {
                if let Some(rest) = line.trim_start().strip_prefix("pub use ") {
                    let head = leading_identifier(rest);
                    if modules.contains(head) {
                        names.insert(head.to_owned());
                    }
                }
            }
        }
        names.remove(&node);
        graph.entry(node).or_default().extend(names);
    }
    graph
}

/// The strongly connected components of `graph` with more than one node: each is a set of
/// modules that import one another in a circle (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Search<'a> {
        graph: &'a Graph,
        next_index: usize,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<String>>,
    }

    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a str) {
            self.index.insert(node, self.next_index);
            self.low.insert(node, self.next_index);
            self.next_index += 1;
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }

    let mut search = Search {
        graph,
        next_index: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.components.sort();
    search.components
}

/// The Rust files of `server/src`, relative to it, with their text.
fn server_sources() -> Vec<(PathBuf, String)> {
    let src = repo_root().join("server").join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("server/src is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
                let relative = path
                    .strip_prefix(&src)
                    .expect("below server/src")
                    .to_path_buf();
                files.push((relative, text));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn server_modules_import_one_another_in_no_cycle() {
    let graph = module_graph(&server_sources());
    let found = cycles(&graph);
    let listing: Vec<String> = found
        .iter()
        .map(|component| {
            let edges: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|to| component.contains(to))
                        .map(move |to| format!("{from} -> {to}"))
                })
                .collect();
            format!("{{{}}}: {}", component.join(", "), edges.join(", "))
        })
        .collect();
    assert!(
        found.is_empty(),
        "modules of server/src import one another in a cycle:\n{}\n",
        listing.join("\n")
    );
}

#[test]
fn the_module_graph_sees_the_servers_imports() {
    let graph = module_graph(&server_sources());
    for (from, to) in [
        ("state", "store"),
        ("store", "metrics"),
        ("dashboard", "auth"),
        ("openapi", "export"),
    ] {
        assert!(
            graph.get(from).is_some_and(|names| names.contains(to)),
            "{from} -> {to} is missing from {graph:?}"
        );
    }
}

/// The services of features split into a service (`mod.rs`) and its HTTP adapter
/// (`http.rs`) that name axum in their code: a service must be callable without it.
fn services_that_use_axum(files: &[(PathBuf, String)]) -> Vec<PathBuf> {
    let adapted: BTreeSet<&Path> = files
        .iter()
        .filter(|(path, _)| path.file_name().is_some_and(|name| name == "http.rs"))
        .filter_map(|(path, _)| path.parent())
        .collect();
    files
        .iter()
        .filter(|(path, _)| {
            path.file_name().is_some_and(|name| name == "mod.rs")
                && path.parent().is_some_and(|dir| adapted.contains(dir))
        })
        .filter(|(_, text)| code_only(text).contains("axum"))
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn services_are_callable_without_axum() {
    let files = server_sources();
    assert!(
        files
            .iter()
            .any(|(path, _)| path == Path::new("ingest/http.rs")),
        "the ingest adapter is where it should be"
    );
    let offenders = services_that_use_axum(&files);
    assert!(
        offenders.is_empty(),
        "these services name axum; move the HTTP side to their http.rs: {offenders:?}"
    );
    let planted = [
        (PathBuf::from("feature/http.rs"), "//! A.\n".to_owned()),
        (
            PathBuf::from("feature/mod.rs"),
            "//! S.\nuse axum::Json;\n".to_owned(),
        ),
    ];
    assert_eq!(
        services_that_use_axum(&planted),
        vec![PathBuf::from("feature/mod.rs")]
    );
}

#[test]
fn a_cycle_through_groups_super_and_re_exports_is_found() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let files = [
        file(
            "lib.rs",
            "pub mod a;\npub mod b;\npub mod c;\npub use c::Thing;\n",
        ),
        // A group, an inline path and a comment that must not count.
        file(
            "a/mod.rs",
            "//! A.\nuse crate::{\n    b::{One, Two},\n    self,\n};\n// crate::c::Nothing\nfn f() { crate::c::g() } // crate::d\n",
        ),
        // `super::super` out of a nested file reaches the crate root.
        file("b/inner/mod.rs", "//! B.\nuse super::super::a::Three;\n"),
        file("c.rs", "//! C.\nfn g() {}\n"),
        file("d.rs", "//! D.\n"),
    ];
    let graph = module_graph(&files);
    assert_eq!(graph["a"], BTreeSet::from(["b".to_owned(), "c".to_owned()]));
    assert_eq!(graph["b"], BTreeSet::from(["a".to_owned()]));
    assert_eq!(graph[ROOT], BTreeSet::from(["c".to_owned()]));
    assert_eq!(cycles(&graph), vec![vec!["a".to_owned(), "b".to_owned()]]);

    // `super::` inside a test module of a top-level file stays in that file's module, and
    // a name of the crate root is an edge to the root.
    let files = [
        file("lib.rs", "pub mod a;\npub use a::Thing;\n"),
        file(
            "a.rs",
            "//! A.\nfn f() -> crate::Thing {}\nmod tests {\n    use super::*;\n}\n",
        ),
    ];
    let graph = module_graph(&files);
    assert_eq!(graph["a"], BTreeSet::from([ROOT.to_owned()]));
    assert_eq!(cycles(&graph), vec![vec!["a".to_owned(), ROOT.to_owned()]]);
}
