//! JSON-RPC over a byte stream with `Content-Length` framing (the protocol's base
//! protocol), on `lsp-server`'s message types.
//!
//! The framing is read here rather than by `lsp-server`'s `Connection::stdio`, whose
//! reader stops at the first malformed message and allocates whatever `Content-Length`
//! says: a message that is not JSON, or not a JSON-RPC message, is answered with an error
//! and the stream goes on; a length above [`MAX_MESSAGE_BYTES`] or a broken header ends
//! it (the framing is lost).

use std::io::{self, BufRead, Write};

use lsp_server::Message;

/// The largest message read: an editor sends a whole document at most, and a model file
/// cmflow reads is far smaller.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// What the reader found in one frame.
#[derive(Debug)]
pub enum Incoming {
    Message(Message),
    /// The frame held no JSON (`ParseError`) or JSON that is no message
    /// (`InvalidRequest`, with the request's id when it had one).
    Malformed {
        code: lsp_server::ErrorCode,
        id: Option<serde_json::Value>,
        message: String,
    },
}

/// Reads the next frame; `Ok(None)` at the end of the stream.
pub fn read(input: &mut impl BufRead) -> io::Result<Option<Incoming>> {
    let mut length: Option<usize> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_some() {
                break;
            }
            // Blank lines between frames are tolerated.
            continue;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| invalid(format!("malformed header {header:?}")))?;
        if name.trim().eq_ignore_ascii_case("Content-Length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| invalid(format!("malformed Content-Length {value:?}")))?;
            if n > MAX_MESSAGE_BYTES {
                return Err(invalid(format!(
                    "a message of {n} bytes is larger than {MAX_MESSAGE_BYTES}"
                )));
            }
            length = Some(n);
        }
    }
    let mut body = vec![0; length.unwrap_or(0)];
    input.read_exact(&mut body)?;
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Some(Incoming::Malformed {
                code: lsp_server::ErrorCode::ParseError,
                id: None,
                message: format!("the message is not JSON: {e}"),
            }));
        }
    };
    let id = value.get("id").cloned();
    Ok(Some(match serde_json::from_value::<Message>(value) {
        Ok(message) => Incoming::Message(message),
        Err(e) => Incoming::Malformed {
            code: lsp_server::ErrorCode::InvalidRequest,
            id,
            message: format!(
                "the message is not a JSON-RPC request, response or notification: {e}"
            ),
        },
    }))
}

/// Writes one message, framed, and flushes.
pub fn write(out: &mut impl Write, message: &Message) -> io::Result<()> {
    message.write(out)
}

/// Writes an error response to a frame that was no message (its id, or `null`).
pub fn write_malformed(
    out: &mut impl Write,
    code: lsp_server::ErrorCode,
    id: Option<serde_json::Value>,
    message: &str,
) -> io::Result<()> {
    let id = match id {
        Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id,
        _ => serde_json::Value::Null,
    };
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code as i32, "message": message },
    })
    .to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    fn read_all(stream: &str) -> Vec<String> {
        let mut input = io::Cursor::new(stream.as_bytes().to_vec());
        let mut out = Vec::new();
        loop {
            match read(&mut input) {
                Ok(Some(Incoming::Message(m))) => out.push(format!("message {m:?}")),
                Ok(Some(Incoming::Malformed { code, id, .. })) => {
                    out.push(format!("malformed {code:?} {id:?}"));
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(format!("error {e}"));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn malformed_messages_are_reported_and_the_stream_goes_on() {
        let stream = [
            frame("{not json"),
            frame(r#"{"id": 7, "foo": 1}"#),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
        ]
        .concat();
        let got = read_all(&stream);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], "malformed ParseError None");
        assert_eq!(got[1], "malformed InvalidRequest Some(Number(7))");
        assert!(got[2].starts_with("message Notification"), "{got:?}");
    }

    #[test]
    fn broken_framing_ends_the_stream_without_allocating() {
        let huge = "Content-Length: 99999999999999\r\n\r\n{}";
        assert_eq!(
            read_all(huge),
            ["error a message of 99999999999999 bytes is larger than 268435456"]
        );
        assert_eq!(
            read_all("hello\r\n\r\n"),
            ["error malformed header \"hello\""]
        );
        // A body shorter than announced: the stream ends.
        assert_eq!(
            read_all("Content-Length: 10\r\n\r\n{}"),
            ["error failed to fill whole buffer"]
        );
    }

    #[test]
    fn malformed_answers_carry_a_usable_id_or_null() {
        let mut out = Vec::new();
        write_malformed(
            &mut out,
            lsp_server::ErrorCode::ParseError,
            Some(serde_json::json!({"x": 1})),
            "bad",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                r#"{"error":{"code":-32700,"message":"bad"},"id":null,"jsonrpc":"2.0"}"#
            ),
            "{text}"
        );
    }
}
