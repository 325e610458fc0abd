//! PAX extended headers: records split by their length prefix (not at newlines, which a
//! path may contain), following POSIX `pax` "extended header" records: `"%d %s=%s\n"`.

use crate::layer::LayerError;

/// Values from PAX records (`x` for the next entry, `g` for all following ones).
#[derive(Clone, Default)]
pub(super) struct PaxFields {
    pub(super) path: Option<Vec<u8>>,
    pub(super) linkpath: Option<Vec<u8>>,
    pub(super) size: Option<u64>,
    pub(super) uid: Option<u64>,
    pub(super) gid: Option<u64>,
    pub(super) uname: Option<Vec<u8>>,
    pub(super) gname: Option<Vec<u8>>,
    pub(super) mtime: Option<i64>,
    pub(super) xattrs: Vec<(String, Vec<u8>)>,
    pub(super) sparse: bool,
    pub(super) sparse_name: Option<Vec<u8>>,
    pub(super) sparse_size: Option<u64>,
    pub(super) any: bool,
}

/// Parses PAX records (`"<len> <key>=<value>\n"`, len counting the whole record).
pub(super) fn parse_pax(body: &[u8], at: u64, out: &mut PaxFields) -> Result<(), LayerError> {
    let bad = |reason: String| LayerError::BadPax { offset: at, reason };
    let mut rest = body;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .take(21)
            .position(|&b| b == b' ')
            .ok_or_else(|| bad(format!("record without length: {:?}", preview(rest))))?;
        let len = std::str::from_utf8(&rest[..sp])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| bad(format!("bad record length: {:?}", preview(rest))))?;
        if len <= sp + 1 || len > rest.len() {
            return Err(bad(format!(
                "record length {len} does not fit the {} bytes left: {:?}",
                rest.len(),
                preview(rest)
            )));
        }
        let record = &rest[sp + 1..len];
        let Some((&b'\n', kv)) = record.split_last() else {
            return Err(bad(format!(
                "record does not end with a newline: {:?}",
                preview(rest)
            )));
        };
        let eq = kv
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad(format!("record without '=': {:?}", preview(rest))))?;
        apply_pax(&kv[..eq], &kv[eq + 1..], at, out)?;
        rest = &rest[len..];
    }
    Ok(())
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned()
}

fn apply_pax(key: &[u8], value: &[u8], at: u64, out: &mut PaxFields) -> Result<(), LayerError> {
    let bad = |reason: String| LayerError::BadPax { offset: at, reason };
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let number = |v: &[u8]| -> Result<Option<u64>, LayerError> {
        if v.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(v)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| bad(format!("{} is not a number: {:?}", text(key), text(v))))
    };
    let name = |v: &[u8]| -> Result<Option<Vec<u8>>, LayerError> {
        if v.contains(&0) {
            return Err(LayerError::NulInName {
                offset: at,
                key: text(key),
                value: text(v),
            });
        }
        Ok((!v.is_empty()).then(|| v.to_vec()))
    };
    out.any = true;
    match key {
        b"path" => out.path = name(value)?,
        b"linkpath" => out.linkpath = name(value)?,
        b"uname" => out.uname = name(value)?,
        b"gname" => out.gname = name(value)?,
        b"size" => out.size = number(value)?,
        b"uid" => out.uid = number(value)?,
        b"gid" => out.gid = number(value)?,
        b"mtime" => {
            out.mtime = if value.is_empty() {
                None
            } else {
                Some(
                    parse_pax_time(value)
                        .ok_or_else(|| bad(format!("mtime is not a time: {:?}", text(value))))?,
                )
            }
        }
        b"GNU.sparse.name" => {
            out.sparse = true;
            out.sparse_name = name(value)?;
        }
        b"GNU.sparse.realsize" | b"GNU.sparse.size" => {
            out.sparse = true;
            out.sparse_size = number(value)?;
        }
        k if k.starts_with(b"GNU.sparse.") => out.sparse = true,
        k if k.starts_with(b"SCHILY.xattr.") => {
            let xname = text(&k[b"SCHILY.xattr.".len()..]);
            out.xattrs.retain(|(n, _)| *n != xname);
            out.xattrs.push((xname, value.to_vec()));
        }
        _ => {}
    }
    Ok(())
}

/// `[-]seconds[.fraction]` to whole seconds, rounding toward negative infinity.
pub(super) fn parse_pax_time(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let has_frac = frac.bytes().any(|b| b != b'0');
    Some(if neg {
        -secs - i64::from(has_frac)
    } else {
        secs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
        let body_len = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = body_len + 1;
        while len != body_len + len.to_string().len() {
            len = body_len + len.to_string().len();
        }
        let mut r = format!("{len} {key}=").into_bytes();
        r.extend_from_slice(value);
        r.push(b'\n');
        r
    }

    #[test]
    fn pax_time_parses() {
        assert_eq!(parse_pax_time(b"1700000000.5"), Some(1_700_000_000));
        assert_eq!(parse_pax_time(b"-1.5"), Some(-2));
        assert_eq!(parse_pax_time(b"12"), Some(12));
        assert_eq!(parse_pax_time(b"1e9"), None);
    }
    #[test]
    fn pax_records_by_length_allow_newlines() {
        let mut body = pax_record("path", b"a\nb");
        body.extend(pax_record("SCHILY.xattr.user.k", b"v\x00\x01"));
        let mut f = PaxFields::default();
        parse_pax(&body, 0, &mut f).unwrap();
        assert_eq!(f.path.as_deref(), Some(&b"a\nb"[..]));
        assert_eq!(f.xattrs, vec![("user.k".to_owned(), b"v\x00\x01".to_vec())]);
    }
    #[test]
    fn malformed_pax_is_an_error() {
        for body in [
            &b"99 path=x\n"[..],
            b"abc path=x\n",
            b"9 pathx\n\n",
            b"8 path=x",
        ] {
            let err = parse_pax(body, 7, &mut PaxFields::default()).unwrap_err();
            assert!(matches!(err, LayerError::BadPax { offset: 7, .. }), "{err}");
        }
    }
}
