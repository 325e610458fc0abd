//! Path normalization for tar entry names, and safe display of any name.

use std::borrow::Cow;

use super::EntryFlags;

/// Normalizes a raw tar name into the path of the entry inside the image, relative to
/// the root and without a leading `/` (the root itself is `""`).
///
/// `./`, empty components (`//`) and a trailing `/` go; `a/../b` becomes `b`. Nothing is
/// dropped silently: a leading `/` sets [`EntryFlags::ABSOLUTE`]; a `..` that climbs
/// above the root is kept in the path (`../../etc/passwd`) and sets
/// [`EntryFlags::ESCAPES_ROOT`]; bytes that are not UTF-8 become U+FFFD and set
/// [`EntryFlags::NON_UTF8`].
pub fn normalize_path(raw: &[u8]) -> (String, EntryFlags) {
    let mut flags = EntryFlags::empty();
    let text = match std::str::from_utf8(raw) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            flags |= EntryFlags::NON_UTF8;
            String::from_utf8_lossy(raw)
        }
    };
    if text.starts_with('/') {
        flags |= EntryFlags::ABSOLUTE;
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in text.split('/') {
        match comp {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ => {
                    flags |= EntryFlags::ESCAPES_ROOT;
                    parts.push("..");
                }
            },
            c => parts.push(c),
        }
    }
    (parts.join("/"), flags)
}

/// A form of `name` safe to show in a list or log: control characters (newlines, escape
/// sequences, NUL) and U+FFFD appear as `\n`, `\x1b`, `\u{fffd}` instead of acting.
pub fn display_path(name: &str) -> Cow<'_, str> {
    if !name
        .chars()
        .any(|c| c.is_control() || c == '\u{fffd}' || c == '\\')
    {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let code = u32::from(c);
                if code < 0x100 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{code:x}}}"));
                }
            }
            '\u{fffd}' => out.push_str("\\u{fffd}"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_table() {
        let e = EntryFlags::empty();
        let table: &[(&[u8], &str, EntryFlags)] = &[
            (b"./", "", e),
            (b".", "", e),
            (b"./usr/bin/", "usr/bin", e),
            (b"usr//bin///ls", "usr/bin/ls", e),
            (b"./a/./b/", "a/b", e),
            (b"a/../b", "b", e),
            (b"/etc/passwd", "etc/passwd", EntryFlags::ABSOLUTE),
            (
                b"../../etc/passwd",
                "../../etc/passwd",
                EntryFlags::ESCAPES_ROOT,
            ),
            (b"a/../../x", "../x", EntryFlags::ESCAPES_ROOT),
            (
                b"/../x",
                "../x",
                EntryFlags::ESCAPES_ROOT.union(EntryFlags::ABSOLUTE),
            ),
            (b"caf\xe9", "caf\u{fffd}", EntryFlags::NON_UTF8),
        ];
        for (raw, want, flags) in table {
            let (got, f) = normalize_path(raw);
            assert_eq!(
                (got.as_str(), f),
                (*want, *flags),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn display_escapes_controls() {
        assert_eq!(display_path("plain/ok é"), "plain/ok é");
        assert_eq!(display_path("a\nb\x1b[31m"), "a\\nb\\x1b[31m");
        assert_eq!(display_path("x\u{fffd}"), "x\\u{fffd}");
        assert_eq!(display_path("back\\slash"), "back\\\\slash");
    }
}
