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
    /// Answers 200 with a long Content-Length, then sends one byte of the body a second (for a minute).
    Drip,
    /// Answers a `query_range` request with one series whose value at each step is the step's time in
    /// seconds, after a delay of 400 ms minus `start` modulo 400 s, in ms (so answers complete out of order).
    EchoRange,
}

pub fn answer(status: u16, body: &str) -> Reply {
    Reply::Answer(status, Vec::new(), body.to_string())
}

pub struct ScriptedServer {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    /// (in flight now, most ever in flight).
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl ScriptedServer {
    pub fn start(script: Vec<Reply>) -> ScriptedServer {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = requests.clone();
        let in_flight: Arc<Mutex<(usize, usize)>> = Arc::default();
        let flight = in_flight.clone();
        std::thread::spawn(move || {
            for (i, conn) in listener.incoming().enumerate() {
                let Ok(mut stream) = conn else { return };
                let reply = script[i.min(script.len() - 1)].clone();
                let seen = seen.clone();
                let flight = flight.clone();
                std::thread::spawn(move || {
                    let head = read_request(&mut stream);
                    seen.lock().unwrap().push(head.clone());
                    {
                        let mut f = flight.lock().unwrap();
                        f.0 += 1;
                        f.1 = f.1.max(f.0);
                    }
                    let reply = match reply {
                        Reply::EchoRange => echo_range(&head),
                        other => other,
                    };
                    let answered = matches!(reply, Reply::Answer(..));
                    match reply {
                        Reply::Hang => std::thread::sleep(Duration::from_secs(60)),
                        Reply::Drip => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{";
                            let _ = stream.write_all(head.as_bytes());
                            for _ in 0..60 {
                                let _ = stream.flush();
                                std::thread::sleep(Duration::from_secs(1));
                                if stream.write_all(b" ").is_err() {
                                    break;
                                }
                            }
                        }
                        Reply::Answer(status, headers, body) => {
                            // Answered: out of flight before the client can read the answer and send its next
                            // request (counting after the write let the next one in first, seen as one more).
                            flight.lock().unwrap().0 -= 1;
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
                        Reply::EchoRange => unreachable!("replaced above"),
                    }
                    if !answered {
                        flight.lock().unwrap().0 -= 1;
                    }
                });
            }
        });
        ScriptedServer {
            url,
            requests,
            in_flight,
        }
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
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

/// The value of a query parameter in a request line (numbers only, so no decoding is needed).
fn param(head: &str, name: &str) -> f64 {
    let line = head.lines().next().unwrap();
    let query = line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split_once('?')
        .unwrap()
        .1;
    let v = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap();
    v.parse().unwrap()
}

fn echo_range(head: &str) -> Reply {
    let (start, end, step) = (
        param(head, "start"),
        param(head, "end"),
        param(head, "step"),
    );
    let delay = 400.0 - (start % 400.0);
    std::thread::sleep(Duration::from_millis(delay as u64));
    let mut values = Vec::new();
    let mut t = start;
    while t <= end {
        values.push(format!("[{t},\"{t}\"]"));
        t += step;
    }
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{{"__name__":"t"}},"values":[{}]}}]}}}}"#,
        values.join(",")
    );
    Reply::Answer(200, Vec::new(), body)
}
