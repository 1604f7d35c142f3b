//! `--config FILE`: the example file stays valid and complete, the file's settings take
//! effect in the real binary, a flag or an environment variable overrides the file, and a
//! bad key or value stops the command with a message naming it and the file.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory as _;
use rapport_server::config::{Cli, ConfigFile, FILE_KEYS};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rapport.example.toml");

/// Every environment variable that sets a setting, so that the tests' own environment
/// cannot decide their outcome.
const SETTING_VARIABLES: &[&str] = &[
    "RAPPORT_CONFIG",
    "RAPPORT_LISTEN",
    "DATABASE_URL",
    "RAPPORT_WWW_DIR",
    "RAPPORT_WIDGET_DIR",
    "RAPPORT_ALLOW_ORIGINS",
    "RAPPORT_RATE_LIMIT_BURST",
    "RAPPORT_RATE_LIMIT_PER_MINUTE",
    "RAPPORT_TRUST_FORWARDED_FOR",
    "RAPPORT_IDENTITY_KEY_FILE",
    "RAPPORT_PUBLIC_URL",
];

fn rapport() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rapport"));
    for variable in SETTING_VARIABLES {
        command.env_remove(variable);
    }
    command
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

#[test]
fn the_example_file_is_valid_and_sets_every_key() {
    let example = ConfigFile::load(Path::new(EXAMPLE)).unwrap();
    assert_eq!(
        example.allow_origins.as_deref(),
        Some(&["https://portal.example.com".to_owned()][..])
    );
    let table: toml::Table = std::fs::read_to_string(EXAMPLE).unwrap().parse().unwrap();
    let in_example: BTreeSet<&str> = table.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = FILE_KEYS.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        in_example, known,
        "docs/rapport.example.toml must show every key a file may hold"
    );
}

#[test]
fn the_binary_accepts_the_example_file() {
    // Every key of the example becomes the default of its option in every command, and
    // `survey list` takes `database_url` from it.
    let dir = tempfile::tempdir().unwrap();
    let output = run(rapport()
        .current_dir(dir.path())
        .args(["survey", "list", "--config", EXAMPLE]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        dir.path().join("rapport.db").exists(),
        "the example's database_url is used"
    );
}

/// The ids of every option of `command` and its subcommands.
fn option_ids(command: &clap::Command, ids: &mut BTreeSet<String>) {
    ids.extend(command.get_arguments().map(|arg| arg.get_id().to_string()));
    command
        .get_subcommands()
        .for_each(|subcommand| option_ids(subcommand, ids));
}

#[test]
fn every_file_key_sets_an_existing_option() {
    let mut ids = BTreeSet::new();
    option_ids(&Cli::command(), &mut ids);
    for (key, id) in FILE_KEYS {
        assert!(
            ids.contains(*id),
            "file key {key} sets option {id}, which no command has"
        );
    }
}

#[test]
fn a_bad_key_or_value_names_the_key() {
    let unknown = ConfigFile::parse("listen = \"127.0.0.1:9000\"\ncolour = \"red\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("key `colour` (line 2)") && unknown.contains("unknown field `colour`"),
        "{unknown}"
    );
    let bad = ConfigFile::parse("rate_limit_burst = -3\n")
        .unwrap_err()
        .to_string();
    assert!(bad.starts_with("key `rate_limit_burst` (line 1)"), "{bad}");
    let bad = ConfigFile::parse("listen = \"nowhere\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("key `listen`") && bad.contains("invalid socket address"),
        "{bad}"
    );
    assert!(
        ConfigFile::parse("listen = \n").is_err(),
        "a file that is not TOML is refused"
    );
    assert_eq!(ConfigFile::parse("").unwrap(), ConfigFile::default());
}

#[test]
fn the_binary_refuses_a_bad_file_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rapport.toml");
    std::fs::write(
        &file,
        "database_url = \"sqlite://x.db\"\ncolour = \"red\"\n",
    )
    .unwrap();
    let output = run(rapport()
        .current_dir(dir.path())
        .args(["survey", "list", "--config"])
        .arg(&file));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&file.display().to_string()) && stderr.contains("key `colour`"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("x.db").exists(),
        "nothing runs with a bad file"
    );

    std::fs::write(&file, "rate_limit_per_minute = \"fast\"\n").unwrap();
    let output = run(rapport()
        .current_dir(dir.path())
        .args(["serve", "--config"])
        .arg(&file));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("key `rate_limit_per_minute`"),
        "{stderr}"
    );

    let output = run(rapport()
        .args(["survey", "list", "--config"])
        .arg(dir.path().join("missing.toml")));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("missing.toml"),
        "{stderr}"
    );
}

#[test]
fn the_files_database_is_used_unless_the_environment_or_a_flag_names_another() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rapport.toml");
    std::fs::write(
        &file,
        format!(
            "database_url = \"sqlite://{}\"\n",
            dir.path().join("from-file.db").display()
        ),
    )
    .unwrap();
    let list = |command: &mut Command, arguments: &[String]| {
        let output = run(command
            .current_dir(dir.path())
            .args(["survey", "list"])
            .args(arguments));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    list(rapport().env("RAPPORT_CONFIG", &file), &[]);
    assert!(
        dir.path().join("from-file.db").exists(),
        "the file's database_url takes effect"
    );
    assert!(
        !dir.path().join("rapport.db").exists(),
        "the default is not used"
    );

    list(
        rapport().env("RAPPORT_CONFIG", &file).env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("from-env.db").display()),
        ),
        &[],
    );
    assert!(
        dir.path().join("from-env.db").exists(),
        "the environment overrides the file"
    );

    let flag = format!("sqlite://{}", dir.path().join("from-flag.db").display());
    list(
        rapport().env("DATABASE_URL", "sqlite://unused.db"),
        &[
            "--config".to_owned(),
            file.display().to_string(),
            "--database-url".to_owned(),
            flag,
        ],
    );
    assert!(
        dir.path().join("from-flag.db").exists(),
        "a flag overrides the environment and the file"
    );
    assert!(!dir.path().join("unused.db").exists());
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get_page(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn rapport_serve_takes_its_settings_from_the_file_and_a_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let www: PathBuf = dir.path().join("pages-from-file");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(
        www.join("index.html"),
        "<!doctype html><title>configured by file</title>",
    )
    .unwrap();
    let (file_port, flag_port) = (free_port(), free_port());
    let file = dir.path().join("rapport.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:{file_port}\"\ndatabase_url = \"sqlite://{}\"\nwww_dir = \"{}\"\nidentity_key_file = \"{}\"\nallow_origins = [\"https://portal.example\"]\ntrust_forwarded_for = true\n",
            dir.path().join("served.db").display(),
            www.display(),
            dir.path().join("served.key").display(),
        ),
    )
    .unwrap();
    let _server = Running(
        rapport()
            .current_dir(dir.path())
            .args(["serve", "--config"])
            .arg(&file)
            .args(["--listen", &format!("127.0.0.1:{flag_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", flag_port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not listen on the flag's address"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let page = get_page(flag_port);
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("configured by file"),
        "{page}"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", file_port)).is_err(),
        "the flag, not the file, decides the address"
    );
    assert!(dir.path().join("served.db").exists() && dir.path().join("served.key").exists());
}
