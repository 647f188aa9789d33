//! IMDSv2 over plain HTTP/1.1 on `std::net` (no TLS, no async runtime: the boot hook stays
//! small). The token flow is EC2's: `PUT /latest/api/token` with a TTL header, then GETs with
//! `X-aws-ec2-metadata-token`. Every call retries with exponential back-off until one overall
//! deadline, so an IMDS that is slow to come up is waited for, and one that never answers costs
//! at most the deadline. A 401 fetches a new token once; a 404 means the fact does not exist
//! (a partition number outside a partition placement group).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// What the hook may ask IMDS for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub instance_type: Option<String>,
    /// `spot` or `on-demand`.
    pub lifecycle: Option<String>,
    pub zone: Option<String>,
    pub region: Option<String>,
    pub partition: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImdsError {
    #[error("IMDS at {0} did not answer within {1} ms: {2}")]
    Unreachable(String, u128, String),
    #[error("IMDS refused the token request: HTTP {0}")]
    Token(u16),
    #[error("IMDS answered {0} with HTTP {1}")]
    Status(String, u16),
    #[error("`{0}` is not an http://HOST[:PORT] URL")]
    Url(String),
}

/// Largest IMDS answer read; the facts are a few dozen bytes.
const MAX_RESPONSE: u64 = 64 * 1024;

pub struct Client {
    addr: SocketAddr,
    host: String,
    deadline: Instant,
    started: Instant,
    token: Option<String>,
}

struct Response {
    status: u16,
    body: String,
}

impl Client {
    /// `base` is `http://169.254.169.254` (or a test server); `budget` bounds everything.
    pub fn new(base: &str, budget: Duration) -> Result<Client, ImdsError> {
        let host =
            base.strip_prefix("http://").map(|h| h.trim_end_matches('/')).ok_or_else(|| ImdsError::Url(base.into()))?;
        let with_port = if host.contains(':') { host.to_string() } else { format!("{host}:80") };
        let addr =
            with_port.to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(|| ImdsError::Url(base.into()))?;
        let started = Instant::now();
        Ok(Client { addr, host: host.to_string(), deadline: started + budget, started, token: None })
    }

    fn once(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let per_try = left.min(Duration::from_secs(1)).max(Duration::from_millis(1));
        let mut s = TcpStream::connect_timeout(&self.addr, per_try)?;
        s.set_read_timeout(Some(per_try))?;
        s.set_write_timeout(Some(per_try))?;
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n", self.host);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())?;
        let mut raw = Vec::new();
        s.take(MAX_RESPONSE).read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))?;
        let len = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok());
        let body = match len {
            Some(n) => body.get(..n).unwrap_or(body),
            None => body,
        };
        Ok(Response { status, body: body.to_string() })
    }

    /// One request, retried with back-off on connection errors and 5xx until the deadline.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<Response, ImdsError> {
        let mut wait = Duration::from_millis(20);
        loop {
            let last = match self.once(method, path, headers) {
                Ok(r) if r.status < 500 => return Ok(r),
                Ok(r) => format!("HTTP {}", r.status),
                Err(e) => e.to_string(),
            };
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ImdsError::Unreachable(self.host.clone(), self.started.elapsed().as_millis(), last));
            }
            std::thread::sleep(wait.min(left));
            wait = (wait * 2).min(Duration::from_millis(500));
        }
    }

    fn token(&mut self) -> Result<String, ImdsError> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let r = self.request("PUT", "/latest/api/token", &[("X-aws-ec2-metadata-token-ttl-seconds", "300")])?;
        if r.status != 200 {
            return Err(ImdsError::Token(r.status));
        }
        self.token = Some(r.body.trim().to_string());
        Ok(r.body.trim().to_string())
    }

    /// A metadata value, `None` when IMDS says 404.
    pub fn get(&mut self, path: &str) -> Result<Option<String>, ImdsError> {
        let full = format!("/latest/meta-data/{path}");
        for attempt in 0..2 {
            let token = self.token()?;
            let r = self.request("GET", &full, &[("X-aws-ec2-metadata-token", &token)])?;
            match r.status {
                200 => return Ok(Some(r.body.trim().to_string())),
                404 => return Ok(None),
                // The token expired or was never valid: fetch a new one, once.
                401 if attempt == 0 => self.token = None,
                s => return Err(ImdsError::Status(full, s)),
            }
        }
        Err(ImdsError::Status(full, 401))
    }

    pub fn facts(&mut self) -> Result<Facts, ImdsError> {
        Ok(Facts {
            instance_type: self.get("instance-type")?,
            lifecycle: self.get("instance-life-cycle")?,
            zone: self.get("placement/availability-zone")?,
            region: self.get("placement/region")?,
            partition: self.get("placement/partition-number")?,
        })
    }
}
