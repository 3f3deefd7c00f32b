//! Hand-rolled JSON output: the simulator writes millions of small objects, so it formats
//! them straight into strings instead of building `serde_json::Value`s.

/// Append `s` as the inside of a JSON string.
pub fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if rep.is_empty() {
            out.push_str(&format!("\\u{:04x}", b));
        } else {
            out.push_str(rep);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// A JSON object being written.
pub struct Obj {
    s: String,
    empty: bool,
}

impl Obj {
    pub fn new() -> Obj {
        Obj::with_capacity(256)
    }

    pub fn with_capacity(n: usize) -> Obj {
        let mut s = String::with_capacity(n);
        s.push('{');
        Obj { s, empty: true }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.s.push(',');
        }
        self.empty = false;
        self.s.push('"');
        escape_into(&mut self.s, k);
        self.s.push_str("\":");
    }

    /// A string member.
    pub fn str(&mut self, k: &str, v: &str) -> &mut Obj {
        self.key(k);
        self.s.push('"');
        escape_into(&mut self.s, v);
        self.s.push('"');
        self
    }

    /// A number member.
    pub fn num(&mut self, k: &str, v: i64) -> &mut Obj {
        self.key(k);
        self.s.push_str(&v.to_string());
        self
    }

    pub fn bool(&mut self, k: &str, v: bool) -> &mut Obj {
        self.key(k);
        self.s.push_str(if v { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON text.
    pub fn raw(&mut self, k: &str, json: &str) -> &mut Obj {
        self.key(k);
        self.s.push_str(json);
        self
    }

    pub fn finish(mut self) -> String {
        self.s.push('}');
        self.s
    }
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_parses() {
        let mut o = Obj::new();
        o.str("a", "C:\\x \"q\"\n\t\u{1}é")
            .num("n", -3)
            .bool("b", true);
        o.raw("o", "{}");
        let s = o.finish();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["a"], "C:\\x \"q\"\n\t\u{1}é");
        assert_eq!(v["n"], -3);
        assert_eq!(v["o"], serde_json::json!({}));
    }
}
