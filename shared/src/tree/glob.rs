//! Search patterns for the explorer: a case-insensitive substring, or a glob over whole
//! paths (`*`, `**`, `?`, `[a-z]`) matched without recursion.

/// A search: a glob when the query has `*`, `?` or `[`, else a case-insensitive substring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Matches paths containing this (lowercased) text.
    Substring(String),
    /// Matches whole paths: `*` within a component, `**` across components, `?` one char.
    Glob(String),
}

impl Pattern {
    /// Reads a query as typed; a leading `/` is ignored (paths are shown absolute).
    pub fn parse(query: &str) -> Pattern {
        let q = query.trim().trim_start_matches('/');
        if q.contains(['*', '?', '[']) {
            Pattern::Glob(q.to_owned())
        } else {
            Pattern::Substring(q.to_lowercase())
        }
    }

    /// Whether a normalized path matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::Substring(s) => path.to_lowercase().contains(s.as_str()),
            Pattern::Glob(g) => glob_match(g.as_bytes(), path.as_bytes()),
        }
    }
}

/// Iterative glob matching with two backtrack points (the last `*` and the last `**`);
/// no recursion, so a hostile pattern cannot blow the stack.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // (pattern index after the star, text index the star currently covers up to)
    let mut single: Option<(usize, usize)> = None;
    let mut double: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    let is_double = pattern.get(p + 1) == Some(&b'*');
                    let mut next = p + if is_double { 2 } else { 1 };
                    if is_double {
                        // `**/` also matches zero directories.
                        if pattern.get(next) == Some(&b'/') {
                            next += 1;
                        }
                        double = Some((next, t));
                        single = None;
                    } else {
                        single = Some((next, t));
                    }
                    p = next;
                    continue;
                }
                b'?' if text[t] != b'/' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((true, len)) = class_match(&pattern[p..], text[t]) {
                        p += len;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        if let Some((after, covered)) = single.filter(|&(_, c)| text[c] != b'/') {
            single = Some((after, covered + 1));
            p = after;
            t = covered + 1;
        } else if let Some((after, covered)) = double {
            single = None;
            double = Some((after, covered + 1));
            p = after;
            t = covered + 1;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Matches `[abc]`, `[a-z]`, `[!x]` against one byte: (matched, pattern length).
fn class_match(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let end = pattern.iter().skip(1).position(|&b| b == b']')? + 1;
    let body = &pattern[1..end];
    let (negate, body) = match body.first() {
        Some(b'!') | Some(b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            hit |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    Some((hit != negate, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("**/*.so", "usr/lib/libc.so", true),
            ("**/*.so", "libc.so", true),
            ("*.so", "usr/lib/libc.so", false),
            ("usr/*/libc.so", "usr/lib/libc.so", true),
            ("usr/*/libc.so", "usr/lib/x/libc.so", false),
            ("usr/**/libc.so", "usr/lib/x/libc.so", true),
            ("etc/?osts", "etc/hosts", true),
            ("etc/[a-h]osts", "etc/hosts", true),
            ("etc/[!h]osts", "etc/hosts", false),
            ("**", "a/b/c", true),
            (
                "a*b*c*d*e*f*g*h",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, path, want) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), path.as_bytes()),
                want,
                "{pattern} vs {path}"
            );
        }
        assert_eq!(
            Pattern::parse("/etc/*.conf"),
            Pattern::Glob("etc/*.conf".into())
        );
        assert!(Pattern::parse("NGINX").matches("etc/nginx/nginx.conf"));
    }
}
