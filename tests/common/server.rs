//! The local HTTPS server on loopback the end-to-end tests reach: JSON by default, fixed routes
//! (a package index, say) when asked, and a record of the handshakes clients aborted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// An HTTPS server on 127.0.0.1 answering every request with JSON (an OpenAI-shaped chat
/// completion under /v1/chat/completions). Counts the requests it answered.
pub struct Server {
    pub port: u16,
    pub url: String,
    answered: Arc<AtomicUsize>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Fixed answers by request path (query string ignored): content type and body. A path not in
/// the map gets the JSON answer.
pub type Routes = std::collections::HashMap<String, (&'static str, Vec<u8>)>;

impl Server {
    pub fn start(config: Arc<rustls::ServerConfig>) -> Server {
        Server::start_with_routes(config, Routes::new())
    }

    /// The same server, answering `routes` with their own bodies (a package index, say).
    pub fn start_with_routes(config: Arc<rustls::ServerConfig>, routes: Routes) -> Server {
        let routes = Arc::new(routes);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counter, error_log) = (answered.clone(), errors.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let config = config.clone();
                let counter = counter.clone();
                let error_log = error_log.clone();
                let routes = routes.clone();
                std::thread::spawn(move || match serve_one(stream, config, &routes) {
                    Ok(()) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => error_log.lock().unwrap().push(e.to_string()),
                });
            }
        });
        Server {
            port,
            url: format!("https://127.0.0.1:{port}"),
            answered,
            errors,
        }
    }

    /// Whether a client aborted a handshake because it did not trust our chain: the TLS alert
    /// "unknown CA", as OpenSSL sends it. Proof of a certificate failure for clients that hide it.
    pub fn saw_unknown_ca_alert(&self) -> bool {
        // The handshake thread may still be recording when the client has already exited.
        for _ in 0..50 {
            if self
                .errors
                .lock()
                .unwrap()
                .iter()
                .any(|e| e.contains("UnknownCA"))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

fn serve_one(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    routes: &Routes,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
    let mut request_line = String::new();
    tls.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if tls.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; content_length];
    tls.read_exact(&mut body)?;
    let route_key = path.split('?').next().unwrap_or_default();
    if let Some((content_type, body)) = routes.get(route_key) {
        let mut tls = tls.into_inner();
        write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        tls.write_all(body)?;
        tls.flush()?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        return Ok(());
    }
    let reply = if path.contains("/chat/completions") {
        r#"{"id":"chatcmpl-test","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#.to_owned()
    } else {
        format!(r#"{{"ok":true,"path":"{path}"}}"#)
    };
    let mut tls = tls.into_inner();
    write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.len(),
        reply
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}
