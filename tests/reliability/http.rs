//! A tiny HTTP client for the reliability checks: reqwest for well-formed requests, and a raw
//! HTTP/1.1 writer for the malformed ones reqwest will not send.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long any single request may take before the suite calls it hung.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A response as the checks judge it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    pub json: Value,
}

impl Reply {
    /// The `error.code` of an error body, if it has one.
    pub fn error_code(&self) -> Option<&str> {
        self.json["error"]["code"].as_str()
    }

    /// Whether the body is `{"error":{"code":string,"message":string}}` served as JSON.
    pub fn is_json_error(&self) -> bool {
        self.content_type.starts_with("application/json")
            && self.json["error"]["code"].is_string()
            && self.json["error"]["message"].is_string()
    }

    /// A 503 as the database-outage contract wants it: JSON, code "unavailable", Retry-After.
    pub fn is_unavailable(&self) -> bool {
        self.status == 503
            && self.is_json_error()
            && self.error_code() == Some("unavailable")
            && self.retry_after.is_some()
    }

    pub fn body_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(200).collect()
    }
}

/// A reqwest client with the suite's timeout and no cookie store (tests set cookies by hand).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("an HTTP client")
}

/// Sends a built request; the body is read only for non-2xx answers and non-streams.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Reply, String> {
    let response = request.send().await.map_err(|e| format!("{e}"))?;
    let status = response.status().as_u16();
    let header = |name: reqwest::header::HeaderName| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let retry_after = header(reqwest::header::RETRY_AFTER);
    let body = if content_type.starts_with("text/event-stream") {
        Vec::new()
    } else {
        response.bytes().await.map_err(|e| format!("{e}"))?.to_vec()
    };
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(Reply { status, content_type, retry_after, body, json })
}

/// Writes `request` as is to `addr` and reads the answer. The request should say
/// `Connection: close`; a streaming 2xx answer is cut after its headers.
pub async fn send_raw(addr: &str, request: &[u8]) -> Result<Reply, String> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        let (mut reader, mut writer) = stream.into_split();
        let bytes = request.to_vec();
        // Written alongside the read: the server may answer (413, 431) before the body is in.
        let write = tokio::spawn(async move {
            let _ = writer.write_all(&bytes).await;
            let _ = writer.flush().await;
            writer
        });
        let answer = read_answer(&mut reader).await;
        write.abort();
        answer
    };
    let (status, headers, body) =
        tokio::time::timeout(REQUEST_TIMEOUT, exchange).await.map_err(|_| "no answer in time".to_string())??;
    let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        content_type: header("content-type").unwrap_or_default(),
        retry_after: header("retry-after"),
        body,
        json,
    })
}

type Head = (u16, Vec<(String, String)>, Vec<u8>);

async fn read_answer(reader: &mut tokio::net::tcp::OwnedReadHalf) -> Result<Head, String> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        let n = reader.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("connection closed before an answer ({} bytes)", buffer.len()));
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let (status, headers) = parse_head(&buffer[..head_end])?;
    let mut body = buffer[head_end + 4..].to_vec();
    if status < 400 {
        return Ok((status, headers, Vec::new()));
    }
    let length = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.clone());
    let chunked = headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let wanted = length.and_then(|l| l.trim().parse::<usize>().ok());
    while wanted.is_none_or(|w| body.len() < w) {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    if chunked {
        body = dechunk(&body);
    }
    Ok((status, headers, body))
}

fn parse_head(head: &[u8]) -> Result<(u16, Vec<(String, String)>), String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {status_line:?}"))?;
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    Ok((status, headers))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = find(data, b"\r\n") {
        let size = std::str::from_utf8(&data[..end]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let start = end + 2;
        let stop = (start + size).min(data.len());
        out.extend_from_slice(&data[start..stop]);
        data = &data[(stop + 2).min(data.len())..];
    }
    out
}

/// Percentile (0-100) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
