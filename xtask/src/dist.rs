//! `cargo xtask dist`: builds the browser bundle of the widget into `dist/widget/`.
//!
//! Steps: compile `rapport-widget` for wasm32 with the `dist` profile, generate the JS
//! bindings in-process with `wasm-bindgen-cli-support` (same version as the library), shrink
//! the wasm with npm's `wasm-opt`, give the wasm a content-hashed name, bundle the bindings
//! into the loader `rapport.js` (which names the hashed wasm and its SHA-384), copy the other
//! hand-written files from `widget/js/`, write the Subresource Integrity hashes
//! (`sri.json`) and the embed snippet (`dist/snippet.html`), and print the sizes a browser
//! would download. It must never leave files from an earlier build in the output directory.
//!
//! The loader is the one URL a host page names, so it keeps its name and is served with a
//! short cache; the wasm it points at changes name whenever its bytes change, so it can be
//! cached for a year. The bindings live inside the loader rather than in a file of their
//! own, so the snippet's `integrity` covers every line of JavaScript the widget runs, and the
//! loader checks the wasm against its SHA-384 when it fetches it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process::{cargo, command, execute, repo_root, target_dir};
use crate::setup::{WASM_TARGET, wasm_opt};

/// The base name of the generated files: `rapport_core.js` and `rapport_core_bg.wasm`.
pub(crate) const OUT_NAME: &str = "rapport_core";

/// Features the Rust 1.95 wasm32 target enables by default. wasm-opt reads them from the
/// module's `target_features` section, but rejects the module while validating it (for
/// example wasm-bindgen's externref table needs reference types) if that section is ever
/// missing, so they are listed explicitly.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Where `cargo xtask dist` writes the widget.
pub(crate) fn out_dir() -> PathBuf {
    repo_root().join("dist").join("widget")
}

/// Builds the widget into [`out_dir`]. Expects `setup` to have run.
pub(crate) fn run() -> Result<()> {
    let out_dir = out_dir();
    println!("dist: building the widget into {}", out_dir.display());

    run_cargo_build()?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join("dist")
        .join("rapport_widget.wasm");
    if !wasm.exists() {
        bail!("cargo build succeeded but {} is missing", wasm.display());
    }

    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir)
            .with_context(|| format!("cannot remove the old {}", out_dir.display()))?;
    }
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;

    println!(
        "dist: generating JS bindings with wasm-bindgen {}",
        crate::setup::WASM_BINDGEN_VERSION
    );
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .typescript(false)
        // Keeps `new URL('rapport_core_bg.wasm', import.meta.url)` as the default, so the
        // loader finds the wasm next to the JS wherever the host serves it.
        .omit_default_module_path(false)
        .out_name(OUT_NAME)
        .generate(&out_dir)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;

    let bindgen_wasm = out_dir.join(format!("{OUT_NAME}_bg.wasm"));
    execute(
        command(wasm_opt())?
            .arg("-Oz")
            .args(WASM_FEATURES)
            .arg(&bindgen_wasm)
            .arg("-o")
            .arg(&bindgen_wasm),
    )
    .context("wasm-opt failed")?;

    let hand_written = repo_root().join("widget").join("js");
    let loader_source = std::fs::read_to_string(hand_written.join(LOADER))
        .with_context(|| format!("cannot read widget/js/{LOADER}"))?;
    let wasm_bytes = std::fs::read(&bindgen_wasm)
        .with_context(|| format!("cannot read {}", bindgen_wasm.display()))?;
    refuse_machine_paths(&wasm_bytes)?;
    let wasm_file = hashed_name(&format!("{OUT_NAME}_bg"), "wasm", &wasm_bytes);
    let wasm_integrity = integrity(&wasm_bytes);
    std::fs::rename(&bindgen_wasm, out_dir.join(&wasm_file))
        .with_context(|| format!("cannot rename {}", bindgen_wasm.display()))?;
    let glue_path = out_dir.join(format!("{OUT_NAME}.js"));
    let glue = std::fs::read_to_string(&glue_path)
        .with_context(|| format!("cannot read {}", glue_path.display()))?;
    std::fs::remove_file(&glue_path)
        .with_context(|| format!("cannot remove {}", glue_path.display()))?;
    let loader = bundle_loader(&glue, &loader_source, &wasm_file, &wasm_integrity)?;
    copy_dir(&hand_written, &out_dir, Some(LOADER))?;
    write_templates(&out_dir)?;
    std::fs::write(out_dir.join(LOADER), &loader)
        .with_context(|| format!("cannot write {LOADER}"))?;

    let loader_integrity = integrity(loader.as_bytes());
    let sri = format!(
        "{{\n  \"{LOADER}\": \"{loader_integrity}\",\n  \"{wasm_file}\": \"{wasm_integrity}\"\n}}\n"
    );
    std::fs::write(out_dir.join("sri.json"), sri).context("cannot write sri.json")?;
    // The snippet goes beside the served directory, not into it: the server has no reason
    // to publish an HTML file.
    let snippet = snippet(&loader_integrity);
    let snippet_path = repo_root().join("dist").join("snippet.html");
    std::fs::write(&snippet_path, &snippet)
        .with_context(|| format!("cannot write {}", snippet_path.display()))?;

    print_sizes(&out_dir)?;
    println!();
    println!("dist: the embed snippet for this build (also in dist/snippet.html; replace");
    println!(
        "https://feedback.example.com with your server, and copy it again after each upgrade):"
    );
    println!();
    print!("{snippet}");
    Ok(())
}

/// Writes each built-in template as `templates/<name>.json`: the widget fetches the one it
/// needs, from beside its loader, when the server has no such survey or refuses the page.
fn write_templates(out_dir: &Path) -> Result<()> {
    let dir = out_dir.join("templates");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for name in rapport_scoring::templates::TEMPLATE_NAMES {
        let definition =
            rapport_scoring::template(name).context("a built-in template is missing")?;
        let json = serde_json::to_string(&definition).context("cannot serialise a template")?;
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The loader: the one file a host page names.
const LOADER: &str = "rapport.js";

/// How the hand-written loader imports the generated bindings; `cargo xtask dist` replaces
/// this line with the bindings themselves.
const LOADER_IMPORT: &str =
    "import init, { mount as mountWasm, stylesheet } from './rapport_core.js';";
/// The loader's default wasm file name and integrity, replaced by the hashed name and its
/// SHA-384.
const LOADER_WASM_FILE: &str = "const WASM_FILE = 'rapport_core_bg.wasm';";
const LOADER_WASM_INTEGRITY: &str = "const WASM_INTEGRITY = '';";
/// The end of wasm-bindgen's `--target web` bindings.
const GLUE_EXPORTS: &str = "export { initSync, __wbg_init as default };";

/// `name.<16 hex digits of SHA-256>.ext`: a new name whenever the bytes change. The server
/// recognises this shape and serves such files as immutable.
fn hashed_name(stem: &str, extension: &str, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{stem}.{hex}.{extension}")
}

/// The Subresource Integrity value of `bytes`: `sha384-` and the base64 of the digest.
fn integrity(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha384::digest(bytes);
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The loader with the bindings inside it. The bindings run in a function of their own, so
/// none of their names can collide with the loader's, and nothing of theirs is exported.
/// Fails, rather than guessing, when either file no longer has the shape this expects (a
/// new wasm-bindgen, or an edited loader).
fn bundle_loader(
    glue: &str,
    loader: &str,
    wasm_file: &str,
    wasm_integrity: &str,
) -> Result<String> {
    for needle in [LOADER_IMPORT, LOADER_WASM_FILE, LOADER_WASM_INTEGRITY] {
        if loader.matches(needle).count() != 1 {
            bail!("widget/js/{LOADER} must contain `{needle}` exactly once");
        }
    }
    if glue.matches(GLUE_EXPORTS).count() != 1 || !glue.contains("async function __wbg_init(") {
        bail!("the wasm-bindgen output no longer ends with `{GLUE_EXPORTS}`");
    }
    let mut inner = String::with_capacity(glue.len());
    for line in glue.replace(GLUE_EXPORTS, "").lines() {
        let line = line
            .strip_prefix("export ")
            .filter(|rest| rest.starts_with("function ") || rest.starts_with("class "))
            .unwrap_or(line);
        if line.starts_with("export ") || line.starts_with("import ") {
            bail!("unexpected module statement in the wasm-bindgen output: {line}");
        }
        inner.push_str(line);
        inner.push('\n');
    }
    let bindings = format!(
        "// The wasm-bindgen bindings of the widget, generated by `cargo xtask dist`.\n\
         const {{ default: init, mount: mountWasm, stylesheet }} = (() => {{\n\
         {inner}return {{ default: __wbg_init, mount, stylesheet }};\n}})();"
    );
    Ok(loader
        .replace(LOADER_IMPORT, &bindings)
        .replace(
            LOADER_WASM_FILE,
            &format!("const WASM_FILE = '{wasm_file}';"),
        )
        .replace(
            LOADER_WASM_INTEGRITY,
            &format!("const WASM_INTEGRITY = '{wasm_integrity}';"),
        ))
}

/// The embed snippet, as widget/README.md shows it, with this build's integrity.
fn snippet(loader_integrity: &str) -> String {
    format!(
        "<script type=\"module\" src=\"https://feedback.example.com/widget/{LOADER}\"\n        \
         integrity=\"{loader_integrity}\" crossorigin=\"anonymous\"></script>\n\n\
         <rapport-survey survey=\"client-portal\" account=\"northwind\" wave=\"2026-h2\"></rapport-survey>\n"
    )
}

fn run_cargo_build() -> Result<()> {
    execute(
        cargo()?
            .args([
                "build",
                "--package",
                "rapport-widget",
                "--target",
                WASM_TARGET,
                "--profile",
                "dist",
                "--config",
            ])
            .arg(remapped_paths()),
    )
    .context("could not compile the widget for wasm32")
}

/// Rust flags (added to those in `.cargo/config.toml`) that write source paths in the
/// bundle relative to the crate registry and the repository: panic locations would
/// otherwise carry the building machine's directories to every browser, and cost bytes.
fn remapped_paths() -> String {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_default();
    let flags = [
        (cargo_home.join("registry").join("src"), "crates"),
        (cargo_home.join("git").join("checkouts"), "git"),
        (repo_root(), "rapport"),
    ]
    .map(|(from, to)| format!("\"--remap-path-prefix={}={to}\"", from.display()));
    format!("target.{WASM_TARGET}.rustflags=[{}]", flags.join(", "))
}

/// Fails if the wasm names a directory of the building machine (the repository, or the
/// home directory that holds the crate registry): see [`remapped_paths`].
fn refuse_machine_paths(wasm: &[u8]) -> Result<()> {
    let mut directories = vec![repo_root()];
    directories.extend(std::env::var_os("HOME").map(PathBuf::from));
    for directory in directories {
        let needle = directory.display().to_string();
        if needle.len() > 1
            && wasm
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        {
            bail!("the wasm contains the build directory {needle}; its paths were not remapped");
        }
    }
    Ok(())
}

/// Copies `from` into `to`, except the top-level file named `skip`.
fn copy_dir(from: &Path, to: &Path, skip: Option<&str>) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
        let source = entry.path();
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&source, &destination, None)?;
        } else if skip.is_some_and(|skip| entry.file_name() == skip) {
            continue;
        } else {
            if destination.exists() {
                bail!(
                    "{} would overwrite the generated {}; rename the hand-written file",
                    source.display(),
                    destination.display()
                );
            }
            std::fs::copy(&source, &destination).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    source.display(),
                    destination.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Every file under `dir`, sorted, as paths relative to `dir`.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)
            .with_context(|| format!("cannot list {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(dir)?.to_path_buf());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Compressed sizes as a server would send them: gzip -9 and brotli quality 11.
#[derive(Debug, PartialEq, Eq)]
struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

fn measure(bytes: &[u8]) -> Result<Sizes> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes)?;
    let gzip = gzip.finish()?.len();

    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params)?;

    Ok(Sizes {
        raw: bytes.len(),
        gzip,
        brotli: brotli.len(),
    })
}

fn print_sizes(out_dir: &Path) -> Result<()> {
    println!();
    println!(
        "{:<40} {:>10} {:>10} {:>10}",
        "dist/widget/", "raw", "gzip", "brotli"
    );
    let mut total = Sizes {
        raw: 0,
        gzip: 0,
        brotli: 0,
    };
    for file in files_under(out_dir)? {
        let bytes = std::fs::read(out_dir.join(&file))
            .with_context(|| format!("cannot read {}", file.display()))?;
        let sizes = measure(&bytes)?;
        println!(
            "{:<40} {:>10} {:>10} {:>10}",
            file.display().to_string(),
            sizes.raw,
            sizes.gzip,
            sizes.brotli
        );
        // What every page downloads: the loader and the wasm. A template is fetched only
        // when the server cannot give the survey, and sri.json by no browser.
        if file.parent() == Some(Path::new(""))
            && file
                .extension()
                .is_some_and(|ext| ext == "js" || ext == "wasm")
        {
            total.raw += sizes.raw;
            total.gzip += sizes.gzip;
            total.brotli += sizes.brotli;
        }
    }
    println!(
        "{:<40} {:>10} {:>10} {:>10}",
        "loader and wasm (bytes)", total.raw, total.gzip, total.brotli
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_sizes_shrink_repetitive_input() {
        let text = "rapport ".repeat(1000);
        let sizes = measure(text.as_bytes()).unwrap();
        assert_eq!(sizes.raw, 8000);
        assert!(
            sizes.gzip < 200,
            "gzip of repetitive text was {} bytes",
            sizes.gzip
        );
        assert!(
            sizes.brotli < 200,
            "brotli of repetitive text was {} bytes",
            sizes.brotli
        );
    }

    #[test]
    fn hashed_names_follow_the_bytes_and_integrity_is_sha384_base64() {
        let name = hashed_name("rapport_core_bg", "wasm", b"abc");
        // SHA-256("abc") begins ba7816bf8f01cfea.
        assert_eq!(name, "rapport_core_bg.ba7816bf8f01cfea.wasm");
        assert_ne!(hashed_name("rapport_core_bg", "wasm", b"abd"), name);
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    const GLUE: &str = "let wasm;\nfunction helper() { return wasm; }\nexport function mount(root, host, config) { return helper(); }\nexport function stylesheet() { return ''; }\nexport class Handle {}\nasync function __wbg_init(module_or_path) { wasm = 1; }\nexport { initSync, __wbg_init as default };\n";
    const LOADER_SOURCE: &str = "// loader\nimport init, { mount as mountWasm, stylesheet } from './rapport_core.js';\n\nconst WASM_FILE = 'rapport_core_bg.wasm';\nconst WASM_INTEGRITY = '';\nconst ready = init();\nexport async function mount() {}\n";

    #[test]
    fn the_loader_bundles_the_bindings_privately_and_names_the_hashed_wasm() {
        let bundle = bundle_loader(
            GLUE,
            LOADER_SOURCE,
            "rapport_core_bg.0123456789abcdef.wasm",
            "sha384-xyz",
        )
        .unwrap();
        assert!(!bundle.contains("import "), "{bundle}");
        assert!(bundle.contains("const WASM_FILE = 'rapport_core_bg.0123456789abcdef.wasm';"));
        assert!(bundle.contains("const WASM_INTEGRITY = 'sha384-xyz';"));
        assert!(bundle.contains("\nfunction mount(root, host, config)"));
        // The loader's own export is the only export left.
        let exports: Vec<&str> = bundle
            .lines()
            .filter(|line| line.starts_with("export "))
            .collect();
        assert_eq!(exports, ["export async function mount() {}"]);
        assert!(
            bundle.contains("const { default: init, mount: mountWasm, stylesheet } = (() => {")
        );
        assert!(bundle.contains("return { default: __wbg_init, mount, stylesheet };\n})();"));
    }

    #[test]
    fn a_changed_loader_or_bindings_shape_fails_the_build_instead_of_guessing() {
        let edited_loader = LOADER_SOURCE.replace("mount as mountWasm", "mount");
        assert!(bundle_loader(GLUE, &edited_loader, "w.wasm", "").is_err());
        let new_glue = GLUE.replace("export { initSync, __wbg_init as default };", "");
        assert!(bundle_loader(&new_glue, LOADER_SOURCE, "w.wasm", "").is_err());
        let glue_with_import = format!("import * as snippet from './snippets/x.js';\n{GLUE}");
        assert!(bundle_loader(&glue_with_import, LOADER_SOURCE, "w.wasm", "").is_err());
    }

    #[test]
    fn files_under_lists_nested_files_relative_and_sorted() {
        let dir = std::env::temp_dir().join(format!("rapport-xtask-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("snippets/inner")).unwrap();
        std::fs::write(dir.join("b.js"), "b").unwrap();
        std::fs::write(dir.join("a.css"), "a").unwrap();
        std::fs::write(dir.join("snippets/inner/c.js"), "c").unwrap();
        let files = files_under(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            files,
            vec![
                PathBuf::from("a.css"),
                PathBuf::from("b.js"),
                PathBuf::from("snippets/inner/c.js")
            ]
        );
    }
}
