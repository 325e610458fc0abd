//! `WWW-Authenticate` parsing (RFC 9110 §11.6.1) as registries send it:
//!
//! ```text
//! header     = challenge *( "," challenge )
//! challenge  = scheme [ 1*SP ( token68 / auth-param *( "," auth-param ) ) ]
//! auth-param = token "=" ( token / quoted-string )        ; names case-insensitive
//! ```
//!
//! Values may be quoted (with `\` escapes, commas inside quotes) or bare (gcr.io sends
//! `service=gcr.io`); several challenges may share one header; `scope` may be missing
//! (quay.io). The parser never fails: what it cannot read it skips.

/// One challenge: a scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// As sent (`Bearer`, `Basic`); compare with [`Challenge::is`].
    pub scheme: String,
    /// Parameters in order, names lowercased.
    pub params: Vec<(String, String)>,
    /// A token68 instead of parameters (`Negotiate abc==`).
    pub token68: Option<String>,
}

impl Challenge {
    /// Whether the scheme is `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A Bearer challenge reduced to what the token handshake needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// Token endpoint.
    pub realm: String,
    /// `service` parameter, if sent.
    pub service: Option<String>,
    /// `scope` parameter, if sent (may hold several space-separated scopes).
    pub scope: Option<String>,
}

impl BearerChallenge {
    /// The first Bearer challenge with a realm.
    pub fn find(challenges: &[Challenge]) -> Option<BearerChallenge> {
        challenges.iter().filter(|c| c.is("bearer")).find_map(|c| {
            let realm = c.param("realm").filter(|r| !r.is_empty())?;
            Some(BearerChallenge {
                realm: realm.to_owned(),
                service: c
                    .param("service")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
                scope: c
                    .param("scope")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            })
        })
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.i += 1;
        }
    }
    fn skip_spaces_and_commas(&mut self) {
        while self.peek().is_some_and(|b| is_space(b) || b == b',') {
            self.i += 1;
        }
    }
    fn token(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }
    fn count(&mut self, byte: u8) -> usize {
        let start = self.i;
        while self.peek() == Some(byte) {
            self.i += 1;
        }
        self.i - start
    }
    /// After the opening quote: up to the closing quote, unescaping `\x`.
    fn quoted(&mut self) -> String {
        let mut out = String::new();
        let rest = &self.s[self.i..];
        let mut chars = rest.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.i += at + 1;
                    return out;
                }
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                c => out.push(c),
            }
        }
        self.i = self.s.len();
        out
    }
    /// A bare value: up to a comma or space.
    fn bare(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(|b| b != b',' && !is_space(b)) {
            self.i += 1;
        }
        // Never split a UTF-8 sequence: stop bytes are ASCII, so `i` is a boundary.
        &self.s[start..self.i]
    }
    fn at_end_of_item(&self) -> bool {
        let mut j = self.i;
        let b = self.s.as_bytes();
        while j < b.len() && is_space(b[j]) {
            j += 1;
        }
        j == b.len() || b[j] == b','
    }
}

/// Parses every challenge of one header value.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut c = Cursor { s: header, i: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_spaces_and_commas();
        if c.peek().is_none() {
            break;
        }
        let scheme = c.token();
        if scheme.is_empty() {
            // Not a token: skip this item.
            c.i += header[c.i..].chars().next().map_or(1, char::len_utf8);
            c.bare();
            continue;
        }
        let mut challenge = Challenge {
            scheme: scheme.to_owned(),
            params: Vec::new(),
            token68: None,
        };
        let mut first = true;
        loop {
            c.skip_spaces();
            let mut after_comma = false;
            while c.peek().is_some_and(|b| b == b',' || is_space(b)) {
                after_comma |= c.peek() == Some(b',');
                c.i += 1;
            }
            if c.peek().is_none() {
                break;
            }
            let item_start = c.i;
            let name = c.token();
            if name.is_empty() {
                // Garbage inside a challenge: skip to the next comma.
                c.i += header[c.i..].chars().next().map_or(1, char::len_utf8);
                c.bare();
                continue;
            }
            c.skip_spaces();
            let may_be_token68 = first && !after_comma;
            if c.peek() != Some(b'=') {
                if may_be_token68 && c.at_end_of_item() {
                    // `Negotiate abc`: a token68 without padding.
                    challenge.token68 = Some(name.to_owned());
                    first = false;
                    continue;
                }
                // A lone token after a comma starts the next challenge.
                c.i = item_start;
                break;
            }
            let eq_start = c.i;
            c.count(b'=');
            if may_be_token68 && c.at_end_of_item() {
                // `Basic Zm9vOmJhcg==`: a token68 with padding.
                challenge.token68 = Some(header[item_start..c.i].to_owned());
                first = false;
                continue;
            }
            c.i = eq_start + 1;
            c.skip_spaces();
            let value = if c.peek() == Some(b'"') {
                c.i += 1;
                c.quoted()
            } else {
                c.bare().to_owned()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            first = false;
        }
        out.push(challenge);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = Vec<(String, Vec<(String, String)>, Option<String>)>;
    type Case = (
        &'static str,
        Vec<(
            &'static str,
            Vec<(&'static str, &'static str)>,
            Option<&'static str>,
        )>,
    );

    fn p(s: &str) -> Parsed {
        parse(s)
            .into_iter()
            .map(|c| (c.scheme, c.params, c.token68))
            .collect()
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn table() {
        let cases: Vec<Case> = vec![
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
                vec![(
                    "Bearer",
                    vec![
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:library/nginx:pull"),
                    ],
                    None,
                )],
            ),
            (
                r#"Bearer realm="https://gcr.io/v2/token",service=gcr.io"#,
                vec![(
                    "Bearer",
                    vec![("realm", "https://gcr.io/v2/token"), ("service", "gcr.io")],
                    None,
                )],
            ),
            (
                r#"Bearer realm="https://r.example/t?a=1,2",scope="repository:a/b:pull,push repository:c:pull""#,
                vec![(
                    "Bearer",
                    vec![
                        ("realm", "https://r.example/t?a=1,2"),
                        ("scope", "repository:a/b:pull,push repository:c:pull"),
                    ],
                    None,
                )],
            ),
            (
                r#"Bearer realm="https://x/\"q\"", service="a\\b""#,
                vec![(
                    "Bearer",
                    vec![("realm", r#"https://x/"q""#), ("service", r"a\b")],
                    None,
                )],
            ),
            (
                r#"Basic realm="x", Bearer realm="https://y",service="z""#,
                vec![
                    ("Basic", vec![("realm", "x")], None),
                    (
                        "Bearer",
                        vec![("realm", "https://y"), ("service", "z")],
                        None,
                    ),
                ],
            ),
            (
                r#"Basic realm="x",Bearer realm="https://y""#,
                vec![
                    ("Basic", vec![("realm", "x")], None),
                    ("Bearer", vec![("realm", "https://y")], None),
                ],
            ),
            (
                "Basic Zm9vOmJhcg==",
                vec![("Basic", vec![], Some("Zm9vOmJhcg=="))],
            ),
            (
                "Negotiate abc, Basic realm=\"r\"",
                vec![
                    ("Negotiate", vec![], Some("abc")),
                    ("Basic", vec![("realm", "r")], None),
                ],
            ),
            ("Negotiate", vec![("Negotiate", vec![], None)]),
            (
                "Negotiate, Basic",
                vec![("Negotiate", vec![], None), ("Basic", vec![], None)],
            ),
            (
                r#"bearer REALM = "https://a" , Service="s""#,
                vec![(
                    "bearer",
                    vec![("realm", "https://a"), ("service", "s")],
                    None,
                )],
            ),
            ("", vec![]),
            (" , ,", vec![]),
            (
                r#"Bearer realm="unterminated"#,
                vec![("Bearer", vec![("realm", "unterminated")], None)],
            ),
        ];
        for (input, want) in cases {
            let want: Vec<_> = want
                .into_iter()
                .map(|(s, ps, t)| (s.to_owned(), kv(&ps), t.map(str::to_owned)))
                .collect();
            assert_eq!(p(input), want, "input: {input}");
        }
    }

    #[test]
    fn bearer_selection() {
        let all = parse(r#"Basic realm="r", Bearer realm="https://q/v2/auth",service="quay.io""#);
        let b = BearerChallenge::find(&all).unwrap();
        assert_eq!(b.realm, "https://q/v2/auth");
        assert_eq!(b.service.as_deref(), Some("quay.io"));
        assert_eq!(b.scope, None);
        assert!(BearerChallenge::find(&parse("Basic realm=\"x\"")).is_none());
        assert!(BearerChallenge::find(&parse("Bearer service=\"x\"")).is_none());
    }

    #[test]
    fn never_panics_on_noise() {
        // A small deterministic fuzz: every string over a hostile alphabet parses.
        let alphabet: Vec<char> = "Bb a=\",\\ \t=éx=\"\"q,,".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let s: String = (0..len)
                .map(|k| alphabet[((seed >> (k % 50)) as usize + k * 7) % alphabet.len()])
                .collect();
            let _ = parse(&s);
        }
    }
}
