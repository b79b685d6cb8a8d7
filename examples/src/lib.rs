//! Runnable examples; see the `[[example]]` entries. This library holds what
//! they share: a tiny HTTP client for the examples that talk to the API they
//! serve, and the `--once` switch.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP/1.1 request to `127.0.0.1:port` (`Connection: close`), with extra
/// `headers` and a `body`; returns the status and the body text. Gives up
/// after ten seconds.
///
/// # Errors
///
/// The connection or the exchange fails or takes too long, or the answer is
/// not HTTP.
pub async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> io::Result<(u16, String)> {
    let exchange = exchange(port, method, path, headers, body);
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer within 10 seconds"))?
}

async fn exchange(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{body}").as_bytes())
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (head, text) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))?;
    Ok((status, text.to_owned()))
}

/// Whether the example was asked to run once and stop (`--once`) rather than
/// serve until Ctrl-C.
pub fn once() -> bool {
    std::env::args().skip(1).any(|arg| arg == "--once")
}
