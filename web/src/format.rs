//! How numbers and digests read on the page (see UI.md: IEC units, short digests).

/// Bytes in IEC units: `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `sha256:` + 12 hex, for lists.
pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_owned(),
    }
}

/// Megabytes per second.
pub fn rate(bytes: u64, millis: f64) -> String {
    if millis <= 0.0 {
        return String::new();
    }
    format!("{:.1} MB/s", bytes as f64 / 1e6 / (millis / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(48 * 1024 * 1024), "48.0 MiB");
        assert_eq!(
            short_digest("sha256:0123456789abcdef"),
            "sha256:0123456789ab"
        );
        assert_eq!(rate(2_000_000, 1000.0), "2.0 MB/s");
    }
}
