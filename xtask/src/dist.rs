//! `cargo xtask dist`: builds the browser bundle of the widget into `dist/widget/`.
//!
//! Steps: compile `rapport-widget` for wasm32 with the `dist` profile, generate the JS
//! bindings in-process with `wasm-bindgen-cli-support` (same version as the library), shrink
//! the wasm with npm's `wasm-opt`, copy the hand-written files from `widget/js/`, and print
//! the sizes a browser would download. It must never leave files from an earlier build in
//! the output directory.

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
    if hand_written.is_dir() {
        copy_dir(&hand_written, &out_dir)?;
    } else {
        println!("dist: no widget/js/ directory, nothing hand-written to copy");
    }

    print_sizes(&out_dir)?;
    Ok(())
}

fn run_cargo_build() -> Result<()> {
    execute(cargo()?.args([
        "build",
        "--package",
        "rapport-widget",
        "--target",
        WASM_TARGET,
        "--profile",
        "dist",
    ]))
    .context("could not compile the widget for wasm32")
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
        let source = entry.path();
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&source, &destination)?;
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
        "{:<32} {:>10} {:>10} {:>10}",
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
            "{:<32} {:>10} {:>10} {:>10}",
            file.display().to_string(),
            sizes.raw,
            sizes.gzip,
            sizes.brotli
        );
        total.raw += sizes.raw;
        total.gzip += sizes.gzip;
        total.brotli += sizes.brotli;
    }
    println!(
        "{:<32} {:>10} {:>10} {:>10}",
        "total (bytes)", total.raw, total.gzip, total.brotli
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
