//! Just enough of `text/event-stream` for the load tool: events cut from the bytes as they
//! arrive, with their `event`, `id` and `data` fields (the server ends lines with `\n`).

/// One server-sent event.
#[derive(Debug, Default, PartialEq)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// Bytes in, whole events out.
#[derive(Default)]
pub struct Parser {
    buffer: Vec<u8>,
}

impl Parser {
    /// Adds a chunk and returns the events it completed (comments, like keep-alives, are skipped).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let mut event = Event::default();
            for line in String::from_utf8_lossy(&block).lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event.event = value.to_string(),
                    "id" => event.id = Some(value.to_string()),
                    "data" if event.data.is_empty() => event.data = value.to_string(),
                    "data" => {
                        event.data.push('\n');
                        event.data.push_str(value);
                    }
                    _ => {}
                }
            }
            if !event.event.is_empty() || !event.data.is_empty() {
                events.push(event);
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole_and_keep_alives_are_skipped() {
        let mut parser = Parser::default();
        assert!(parser.push(b":\n\nevent: message\nid: 7\nda").is_empty());
        let events = parser.push("ta: {\"text\":\"caf\u{e9}\"}\n\n".as_bytes());
        let message = Event { event: "message".into(), id: Some("7".into()), data: "{\"text\":\"caf\u{e9}\"}".into() };
        assert_eq!(events, vec![message]);
    }
}
