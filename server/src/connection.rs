//! The connections of `rapport serve`: HTTP/1.1 served by hyper with time limits, so that a
//! client cannot hold a connection open by sending slowly or by sending nothing.
//!
//! - The request line and headers must arrive within [`ConnectionLimits::header`]. The same
//!   limit closes an idle keep-alive connection: the wait for the next request's headers
//!   starts when the previous response is sent.
//! - A request body must arrive whole within [`ConnectionLimits::body`] of its headers;
//!   otherwise the answer is `408 Request Timeout` and the connection is closed. A body
//!   sent one byte a second is cut at that limit, however steadily it trickles.
//!
//! `axum::serve` offers none of these limits, which is why this module exists; it must
//! stay a transport and never decide anything about a request's content.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How long a client may take, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// For a request's line and headers, and for the next request on an idle connection.
    pub header: Duration,
    /// For a request's whole body, counted from its headers.
    pub body: Duration,
}

impl Default for ConnectionLimits {
    /// Ten seconds for headers, thirty for a body: a 64 KiB response body at 2 KiB/s.
    fn default() -> Self {
        ConnectionLimits {
            header: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish and returns. Each request carries the client's address as
/// [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    // Dropping `stop` tells every connection to finish its request and close; every
    // connection holds a `finished` receiver, so `finished_all.closed()` waits for them.
    let (stop, stopped) = watch::channel(());
    let (finished_all, finished) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // A connection that failed before it was accepted is the client's
                    // problem; anything else (too many open files) needs a moment.
                    if !is_connection_error(&error) {
                        tracing::error!(%error, "accepting a connection failed; retrying in a second");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let (mut stopped, finished) = (stopped.clone(), finished.clone());
        tokio::spawn(async move {
            serve_connection(stream, client, router, limits, &mut stopped).await;
            drop(finished);
        });
    }
    drop(stop);
    drop(finished);
    finished_all.closed().await;
}

/// Serves one connection until it closes, or until `stopped` changes and its request is done.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    client: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    stopped: &mut watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        async move {
            let late = Arc::new(AtomicBool::new(false));
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(client));
            let body = Body::new(DeadlineBody {
                inner: body,
                deadline: Box::pin(tokio::time::sleep(limits.body)),
                late: Arc::clone(&late),
            });
            let response = router.oneshot(Request::from_parts(parts, body)).await;
            Ok::<Response, std::convert::Infallible>(if late.load(Ordering::Relaxed) {
                body_timeout(limits.body)
            } else {
                response.unwrap_or_else(|never| match never {})
            })
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, %client, "connection ended");
                }
                break;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The answer to a request whose body did not arrive in time.
fn body_timeout(limit: Duration) -> Response {
    let mut response = (
        StatusCode::REQUEST_TIMEOUT,
        axum::Json(serde_json::json!({
            "error": format!("the request body did not arrive within {} s", limit.as_secs())
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Whether an accept error concerns only the connection being accepted.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// A request body that fails once its deadline passes, and says so in `late`.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

/// The error of a body that came too slowly.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTooSlow;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
