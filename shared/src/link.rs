//! `Link` headers (RFC 8288) read whole: every link-value of a line, not just the first.
//! The relay reads the registry's paging links with it, and the page reads the relay's.

/// One link-value of a `Link` header (RFC 8288 §3): its target and its relation types.
#[derive(Debug, PartialEq, Eq)]
pub struct Link<'a> {
    /// The URI reference between `<` and `>`, as written.
    pub target: &'a str,
    /// The `rel` parameter's space-separated types, as written.
    pub rel: Option<String>,
}

/// Every link-value of one `Link` header line: `<target>` then `;`-separated parameters
/// (`name`, `name=token` or `name="quoted"`), link-values separated by commas (a comma
/// inside a quoted value or a target does not end one). What cannot be read is skipped up
/// to the next comma, so one malformed link never hides, nor carries, another.
pub fn parse_links(header: &str) -> Vec<Link<'_>> {
    let bytes = header.as_bytes();
    let mut links = Vec::new();
    let mut i = 0;
    // Past the next comma that is outside quotes.
    let skip_item = |mut i: usize| {
        let mut quoted = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => quoted = !quoted,
                b'\\' if quoted => i += 1,
                b',' if !quoted => return i + 1,
                _ => {}
            }
            i += 1;
        }
        i
    };
    while i < bytes.len() {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if bytes[i] != b'<' {
            i = skip_item(i);
            continue;
        }
        let Some(end) = header[i..].find('>').map(|e| i + e) else {
            break;
        };
        let target = &header[i + 1..end];
        i = end + 1;
        let mut rel = None;
        let mut bad = false;
        loop {
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b',' {
                i += 1;
                break;
            }
            if bytes[i] != b';' {
                bad = true;
                i = skip_item(i);
                break;
            }
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            let name_start = i;
            while i < bytes.len() && !matches!(bytes[i], b'=' | b';' | b',' | b' ' | b'\t') {
                i += 1;
            }
            let name = &header[name_start..i];
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                    i += 1;
                }
                if i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                    let mut closed = false;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'"' => {
                                closed = true;
                                i += 1;
                                break;
                            }
                            b'\\' if i + 1 < bytes.len() => {
                                value.push(char::from(bytes[i + 1]));
                                i += 2;
                            }
                            b => {
                                value.push(char::from(b));
                                i += 1;
                            }
                        }
                    }
                    if !closed {
                        bad = true;
                        break;
                    }
                } else {
                    let start = i;
                    while i < bytes.len() && !matches!(bytes[i], b';' | b',' | b' ' | b'\t') {
                        i += 1;
                    }
                    value.push_str(&header[start..i]);
                }
            }
            // RFC 8288 §3.3: only the first `rel` counts.
            if name.eq_ignore_ascii_case("rel") && rel.is_none() {
                rel = Some(value);
            }
        }
        if !bad {
            links.push(Link { target, rel });
        }
    }
    links
}

impl Link<'_> {
    /// Whether one of its relation types is `next` (compared case-insensitively).
    pub fn is_next(&self) -> bool {
        self.rel.as_deref().is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
        })
    }
}

/// The target of the first `rel="next"` link of a `Link` header, if any.
pub fn next_target(header: &str) -> Option<&str> {
    parse_links(header)
        .into_iter()
        .find(Link::is_next)
        .map(|l| l.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse() {
        assert_eq!(
            parse_links(r#"<a>; rel="next", <b,c>;rel=prev;rel=next , junk, <d>"#),
            [
                Link {
                    target: "a",
                    rel: Some("next".into())
                },
                Link {
                    target: "b,c",
                    rel: Some("prev".into())
                },
                Link {
                    target: "d",
                    rel: None
                },
            ]
        );
        assert!(parse_links(r#"<a>; rel="unclosed"#).is_empty());
        assert!(parse_links("").is_empty());
    }

    #[test]
    fn next_targets() {
        assert_eq!(
            next_target(r#"<a>; rel=prev, <b>; rel="prefetch NEXT""#),
            Some("b")
        );
        assert_eq!(next_target(r#"<a>; rel=prev"#), None);
        assert_eq!(next_target(""), None);
    }
}
