//! A small forward proxy on loopback, as merchants put in front of the Bot API: HTTP (an
//! absolute-form request is forwarded, `CONNECT` tunnels) or SOCKS5 (RFC 1928, with RFC 1929
//! username/password). It records every request it is asked to make, and when credentials are
//! set it refuses others: HTTP `407` without the right `Proxy-Authorization: Basic`, SOCKS5
//! status 1. One request per HTTP connection (`Connection: close` upstream), so each is seen.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Heads longer than this are refused (ours are a few hundred bytes).
const MAX_HEAD: usize = 64 * 1024;

/// One request the proxy was asked to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxied {
    /// `GET`, `POST`, `CONNECT`; `SOCKS5` for a SOCKS connection.
    pub method: String,
    /// As asked: `http://127.0.0.1:PORT/bot…/getMe`, or `host:port` for a tunnel.
    pub target: String,
    /// The credentials matched (or none were required).
    pub authorized: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Http,
    Socks5,
}

pub struct TestProxy {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Proxied>>>,
}

impl TestProxy {
    /// An HTTP proxy requiring `credentials` (user, password) when given.
    pub async fn http(credentials: Option<(&str, &str)>) -> Self {
        Self::start(Kind::Http, credentials).await
    }

    /// A SOCKS5 proxy requiring `credentials` (user, password) when given.
    pub async fn socks5(credentials: Option<(&str, &str)>) -> Self {
        Self::start(Kind::Socks5, credentials).await
    }

    async fn start(kind: Kind, credentials: Option<(&str, &str)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            requests: Arc::default(),
        };
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let requests = proxy.requests.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (requests, credentials) = (requests.clone(), credentials.clone());
                tokio::spawn(async move {
                    let _ = match kind {
                        Kind::Http => serve_http(client, credentials, requests).await,
                        Kind::Socks5 => serve_socks5(client, credentials, requests).await,
                    };
                });
            }
        });
        proxy
    }

    /// What it was asked to make, in order.
    pub fn requests(&self) -> Vec<Proxied> {
        self.requests.lock().unwrap().clone()
    }
}

type Credentials = Option<(String, String)>;
type Log = Arc<Mutex<Vec<Proxied>>>;

async fn serve_http(
    mut client: TcpStream,
    credentials: Credentials,
    log: Log,
) -> std::io::Result<()> {
    let (head, rest) = read_head(&mut client).await?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (
        request_line.next().unwrap_or_default().to_owned(),
        request_line.next().unwrap_or_default().to_owned(),
    );
    let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let given = headers.iter().find_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    let authorized = credentials.as_ref().is_none_or(|(u, p)| {
        given.as_deref() == Some(&format!("Basic {}", base64(&format!("{u}:{p}"))))
    });
    log.lock().unwrap().push(Proxied {
        method: method.clone(),
        target: target.clone(),
        authorized,
    });
    if !authorized {
        let refusal = "HTTP/1.1 407 Proxy Authentication Required\r\n\
                       Proxy-Authenticate: Basic realm=\"test\"\r\n\
                       Content-Length: 0\r\nConnection: close\r\n\r\n";
        return client.write_all(refusal.as_bytes()).await;
    }
    if method == "CONNECT" {
        let mut upstream = TcpStream::connect(&target).await?;
        client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await?;
        upstream.write_all(&rest).await?;
        tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
        return Ok(());
    }
    let Ok(url) = url::Url::parse(&target) else {
        return client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
    };
    let addr = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(80)
    );
    let mut upstream = TcpStream::connect(addr).await?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut forwarded = format!("{method} {path} HTTP/1.1\r\n");
    for header in headers {
        let name = header
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection"
        ) {
            forwarded.push_str(header);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes()).await?;
    upstream.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// The request head (up to the blank line) and the bytes read past it.
async fn read_head(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffer.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buffer).into_owned(), rest));
        }
        if buffer.len() > MAX_HEAD {
            return Err(std::io::Error::other("request head too long"));
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn serve_socks5(
    mut client: TcpStream,
    credentials: Credentials,
    log: Log,
) -> std::io::Result<()> {
    // Greeting: version 5, the methods the client offers.
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting).await?;
    let mut methods = vec![0u8; greeting[1] as usize];
    client.read_exact(&mut methods).await?;
    let wanted = if credentials.is_some() { 2 } else { 0 };
    if greeting[0] != 5 || !methods.contains(&wanted) {
        return client.write_all(&[5, 0xff]).await;
    }
    client.write_all(&[5, wanted]).await?;
    let mut authorized = true;
    if let Some((user, password)) = &credentials {
        // RFC 1929: version 1, user, password (each length-prefixed).
        let mut version = [0u8; 2];
        client.read_exact(&mut version).await?;
        let mut given_user = vec![0u8; version[1] as usize];
        client.read_exact(&mut given_user).await?;
        let mut length = [0u8; 1];
        client.read_exact(&mut length).await?;
        let mut given_password = vec![0u8; length[0] as usize];
        client.read_exact(&mut given_password).await?;
        authorized = given_user == user.as_bytes() && given_password == password.as_bytes();
    }
    if !authorized {
        log.lock().unwrap().push(Proxied {
            method: "SOCKS5".into(),
            target: String::new(),
            authorized,
        });
        return client.write_all(&[1, 1]).await;
    }
    if credentials.is_some() {
        client.write_all(&[1, 0]).await?;
    }
    // Request: version, CONNECT (1), reserved, address type, address, port.
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut length = [0u8; 1];
            client.read_exact(&mut length).await?;
            let mut name = vec![0u8; length[0] as usize];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    log.lock().unwrap().push(Proxied {
        method: "SOCKS5".into(),
        target: target.clone(),
        authorized,
    });
    let mut upstream = TcpStream::connect(&target).await?;
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Standard base64 with padding (what `Proxy-Authorization: Basic` carries).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(super::base64("user:pass"), "dXNlcjpwYXNz");
        assert_eq!(super::base64("f"), "Zg==");
        assert_eq!(super::base64("fo"), "Zm8=");
        assert_eq!(super::base64("foo"), "Zm9v");
    }
}
