//! A minimal HTTP/1.1 client over one keep-alive connection, and the `rapport serve`
//! process under test.
//!
//! The client writes each request in one buffer and reads the status line, the headers it
//! needs and a `Content-Length` body; it is deliberately small so that on a shared 2-core
//! machine the load generator takes as little CPU from the server as it can. It supports
//! only what the server sends (no chunked bodies) and fails loudly on anything else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// One keep-alive connection.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
    line: String,
}

impl Connection {
    /// Connects to `address`.
    pub(crate) async fn open(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
            request: Vec::with_capacity(2048),
            line: String::new(),
        })
    }

    /// Sends a request and returns the status and the body.
    pub(crate) async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        self.request.clear();
        self.request.extend_from_slice(
            format!(
                "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\n",
                body.len()
            )
            .as_bytes(),
        );
        for (name, value) in headers {
            self.request
                .extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body);
        self.stream.get_mut().write_all(&self.request).await?;

        self.line.clear();
        self.stream.read_line(&mut self.line).await?;
        let status: u16 = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("bad status line {:?}", self.line))?;
        let mut content_length = None;
        loop {
            self.line.clear();
            anyhow::ensure!(
                self.stream.read_line(&mut self.line).await? > 0,
                "connection closed inside the headers"
            );
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = Some(value.trim().parse::<usize>()?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    anyhow::bail!("unexpected transfer-encoding {value}");
                }
            }
        }
        let mut response = vec![0; content_length.context("response without content-length")?];
        self.stream.read_exact(&mut response).await?;
        Ok((status, response))
    }
}

/// A running `rapport serve`, stopped on drop.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) address: SocketAddr,
}

impl Server {
    /// Starts `rapport serve` on a free loopback port over `database_url`, with files in
    /// `work_dir`, and waits until it answers `/healthz`. The rate limit is lifted, since
    /// every request comes from one address.
    pub(crate) async fn start(
        rapport: &Path,
        database_url: &str,
        work_dir: &Path,
    ) -> anyhow::Result<Self> {
        let address = free_address()?;
        std::fs::create_dir_all(work_dir)?;
        let key_file: PathBuf = work_dir.join("identity.key");
        let child = Command::new(rapport)
            .arg("serve")
            .args(["--listen", &address.to_string(), "--database-url", database_url])
            .arg("--www-dir")
            .arg(work_dir)
            .arg("--widget-dir")
            .arg(work_dir)
            .arg("--identity-key-file")
            .arg(&key_file)
            .args(["--rate-limit-burst", "1000000000", "--rate-limit-per-minute", "1000000000"])
            // Info adds only the lines for start and shutdown, which tell a server that was
            // sent a signal from one that died without a word.
            .env("RAPPORT_LOG", "info")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", rapport.display()))?;
        let mut server = Server { child, address };
        wait_until_healthy(
            &mut server.child,
            address,
            "rapport serve",
            Duration::from_secs(60),
        )
        .await?;
        Ok(server)
    }

    /// The server's process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// How the process ended, if it has (without waiting).
    pub(crate) fn exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Stops the server with SIGTERM (it finishes in-flight requests) and waits for it.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("rapport serve did not stop within 30 s of SIGTERM");
            }
        }
        Ok(())
    }
}

/// Waits until the process `child`, started to listen on `address`, answers `GET /healthz`
/// with 200; fails if it exits first or takes longer than `within`.
pub(crate) async fn wait_until_healthy(
    child: &mut Child,
    address: SocketAddr,
    what: &str,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut connection) = Connection::open(address).await
            && let Ok((200, _)) = connection.send("GET", "/healthz", &[], b"").await
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("{what} exited with {status} before it answered");
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{what} did not answer /healthz within {} s",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A loopback address with a port nobody listens on.
pub(crate) fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}
