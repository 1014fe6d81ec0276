//! A scripted HTTP server on 127.0.0.1 for the client's failure cases: each connection gets the next reply
//! of the script (the last one repeats), and every request's head is kept so tests can check what was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Reply {
    /// Status, extra header lines ("Retry-After: 1"), body.
    Answer(u16, Vec<String>, String),
    /// Reads the request and never answers (holds the connection for a minute).
    Hang,
}

pub fn answer(status: u16, body: &str) -> Reply {
    Reply::Answer(status, Vec::new(), body.to_string())
}

pub struct ScriptedServer {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    pub fn start(script: Vec<Reply>) -> ScriptedServer {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = requests.clone();
        std::thread::spawn(move || {
            for (i, conn) in listener.incoming().enumerate() {
                let Ok(mut stream) = conn else { return };
                let reply = script[i.min(script.len() - 1)].clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let head = read_request(&mut stream);
                    seen.lock().unwrap().push(head);
                    match reply {
                        Reply::Hang => std::thread::sleep(Duration::from_secs(60)),
                        Reply::Answer(status, headers, body) => {
                            let mut text = format!(
                                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                                body.len()
                            );
                            for h in headers {
                                text.push_str(&h);
                                text.push_str("\r\n");
                            }
                            text.push_str("\r\n");
                            text.push_str(&body);
                            let _ = stream.write_all(text.as_bytes());
                            let _ = stream.flush();
                        }
                    }
                });
            }
        });
        ScriptedServer { url, requests }
    }

    /// The request heads received so far (request line and headers).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads a request's head and any body (by Content-Length); returns the head.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0u8; len];
    let _ = reader.read_exact(&mut body);
    head
}
