//! The grammar against distribution/reference's own cases.
use super::*;
use crate::digest::DigestError;

/// The error a table case expects, by variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Empty,
    Format,
    Uppercase,
    TooLong,
    DigestLength,
    DigestAlgorithm,
    DigestHex,
}

fn kind(e: &ReferenceError) -> Want {
    match e {
        ReferenceError::Empty => Want::Empty,
        ReferenceError::InvalidFormat { .. } => Want::Format,
        ReferenceError::Uppercase(_) => Want::Uppercase,
        ReferenceError::NameTooLong { .. } => Want::TooLong,
        ReferenceError::Digest { problem, .. } => match problem {
            DigestError::BadLength { .. } => Want::DigestLength,
            DigestError::UnsupportedAlgorithm(_) => Want::DigestAlgorithm,
            DigestError::NotHex(_) => Want::DigestHex,
            DigestError::MissingAlgorithm(_) => unreachable!("the grammar requires ':'"),
        },
        other => panic!("parse_strict never returns {other:?}"),
    }
}

/// One row of distribution's `TestReferenceParse`: `{input, err, domain, path, tag,
/// digest}`; empty strings mean "none".
struct Case {
    input: String,
    err: Option<Want>,
    domain: &'static str,
    path: String,
    tag: String,
    digest: &'static str,
}

fn ok(
    input: impl Into<String>,
    domain: &'static str,
    path: impl Into<String>,
    tag: impl Into<String>,
    digest: &'static str,
) -> Case {
    let (input, path, tag) = (input.into(), path.into(), tag.into());
    Case {
        input,
        err: None,
        domain,
        path,
        tag,
        digest,
    }
}

fn bad(input: impl Into<String>, err: Want) -> Case {
    Case {
        input: input.into(),
        err: Some(err),
        domain: "",
        path: String::new(),
        tag: String::new(),
        digest: "",
    }
}

const F64: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const F128: &str = "sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
                    ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const BE: &str = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912";

fn table() -> Vec<Case> {
    use Want::*;
    vec![
        // distribution/reference reference_test.go, TestReferenceParse, in order.
        ok("test_com", "", "test_com", "", ""),
        ok("test.com:tag", "", "test.com", "tag", ""),
        ok("test.com:5000", "", "test.com", "5000", ""),
        ok("test.com/repo:tag", "test.com", "repo", "tag", ""),
        ok("test:5000/repo", "test:5000", "repo", "", ""),
        ok("test:5000/repo:tag", "test:5000", "repo", "tag", ""),
        ok(
            format!("test:5000/repo@{F64}"),
            "test:5000",
            "repo",
            "",
            F64,
        ),
        ok(
            format!("test:5000/repo:tag@{F64}"),
            "test:5000",
            "repo",
            "tag",
            F64,
        ),
        bad("", Empty),
        bad(":justtag", Format),
        bad(format!("@{F64}"), Format),
        // go-digest: ErrDigestInvalidLength.
        bad(
            "repo@sha256:ffffffffffffffffffffffffffffffffff",
            DigestLength,
        ),
        // go-digest: ErrDigestUnsupported.
        bad(
            format!("validname@invaliddigest:{}", &F64[7..]),
            DigestAlgorithm,
        ),
        bad("Uppercase:tag", Uppercase),
        // distribution's FIXME: "Uppercase" is a valid domain, so this one passes.
        ok(
            "Uppercase/lowercase:tag",
            "Uppercase",
            "lowercase",
            "tag",
            "",
        ),
        bad("test:5000/Uppercase/lowercase:tag", Uppercase),
        ok("lowercase:Uppercase", "", "lowercase", "Uppercase", ""),
        bad(format!("domain/{}:tag", "a".repeat(256)), TooLong),
        ok(
            format!("{}a:tag-puts-this-over-max", "a/".repeat(127)),
            "a",
            format!("{}a", "a/".repeat(126)),
            "tag-puts-this-over-max",
            "",
        ),
        bad("aa/asdf$$^/aa", Format),
        ok(
            "sub-dom1.foo.com/bar/baz/quux",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            "",
            "",
        ),
        ok(
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            "some-long-tag",
            "",
        ),
        ok(
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "b.gcr.io",
            "test.example.com/my-app",
            "test.example.com",
            "",
        ),
        ok(
            "xn--n3h.com/myimage:xn--n3h.com",
            "xn--n3h.com",
            "myimage",
            "xn--n3h.com",
            "",
        ),
        ok(
            format!("xn--7o8h.com/myimage:xn--7o8h.com@{F128}"),
            "xn--7o8h.com",
            "myimage",
            "xn--7o8h.com",
            F128,
        ),
        ok("foo_bar.com:8080", "", "foo_bar.com", "8080", ""),
        ok("foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080", ""),
        ok("192.168.1.1", "", "192.168.1.1", "", ""),
        ok("192.168.1.1:tag", "", "192.168.1.1", "tag", ""),
        ok("192.168.1.1:5000", "", "192.168.1.1", "5000", ""),
        ok("192.168.1.1/repo", "192.168.1.1", "repo", "", ""),
        ok("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "", ""),
        ok(
            "192.168.1.1:5000/repo:5050",
            "192.168.1.1:5000",
            "repo",
            "5050",
            "",
        ),
        bad("[2001:db8::1]", Format),
        bad("[2001:db8::1]:5000", Format),
        bad("[2001:db8::1]:tag", Format),
        ok("[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", ""),
        ok(
            "[2001:db8:1:2:3:4:5:6]/repo:tag",
            "[2001:db8:1:2:3:4:5:6]",
            "repo",
            "tag",
            "",
        ),
        ok(
            "[2001:db8::1]:5000/repo",
            "[2001:db8::1]:5000",
            "repo",
            "",
            "",
        ),
        ok(
            "[2001:db8::1]:5000/repo:tag",
            "[2001:db8::1]:5000",
            "repo",
            "tag",
            "",
        ),
        ok(
            format!("[2001:db8::1]:5000/repo@{F64}"),
            "[2001:db8::1]:5000",
            "repo",
            "",
            F64,
        ),
        ok(
            format!("[2001:db8::1]:5000/repo:tag@{F64}"),
            "[2001:db8::1]:5000",
            "repo",
            "tag",
            F64,
        ),
        ok(
            "[2001:db8::]:5000/repo",
            "[2001:db8::]:5000",
            "repo",
            "",
            "",
        ),
        ok("[::1]:5000/repo", "[::1]:5000", "repo", "", ""),
        bad("[fe80::1%eth0]:5000/repo", Format),
        bad("[fe80::1%@invalidzone]:5000/repo", Format),
        ok(
            format!("example.com/{}:tag", "a".repeat(255)),
            "example.com",
            "a".repeat(255),
            "tag",
            "",
        ),
        // An older revision refused this (it measured the whole name); the limit now
        // applies to the path, which is exactly 255 characters here.
        ok(
            format!("{}a:tag", "a/".repeat(128)),
            "a",
            format!("{}a", "a/".repeat(127)),
            "tag",
            "",
        ),
        // From regexp_test.go (TestReferenceRegexp, TestFullNameRegexp, TestDomainRegexp).
        ok(
            "registry.com:8080/myapp:tag",
            "registry.com:8080",
            "myapp",
            "tag",
            "",
        ),
        ok(
            format!("registry.com:8080/myapp:tag2@{BE}"),
            "registry.com:8080",
            "myapp",
            "tag2",
            BE,
        ),
        bad("registry.com:8080/myapp@sha256:badbadbadbad", Format), // < 32 hex digits
        bad("registry.com:8080/myapp:invalid~tag", Format),
        bad("bad_hostname.com:8080/myapp:tag", Format),
        ok(format!("localhost:8080@{BE}"), "", "localhost", "8080", BE),
        ok(
            format!("localhost:8080/name@{BE}"),
            "localhost:8080",
            "name",
            "",
            BE,
        ),
        bad(format!("localhost:http/name@{BE}"), Format),
        ok(format!("localhost@{BE}"), "", "localhost", "", BE),
        bad("registry.com:8080/myapp@bad", Format),
        bad("registry.com:8080/myapp@2bad", Format),
        ok(
            "registry.io/foo/project--id.module--name.ver---sion--name",
            "registry.io",
            "foo/project--id.module--name.ver---sion--name",
            "",
            "",
        ),
        ok(
            "example.com/some_separator__underscore/myimage",
            "example.com",
            "some_separator__underscore/myimage",
            "",
            "",
        ),
        bad("example.com/__underscore/myimage", Format),
        bad("example.com/..dots/myimage", Format),
        bad("example.com/nodouble..dots/myimage", Format),
        bad("example.com/triple___underscore", Format),
        bad("do__cker:8080/docker", Format),
        ok("do__cker/docker", "", "do__cker/docker", "", ""),
        ok("Asdf.com/foo/bar", "Asdf.com", "foo/bar", "", ""),
        bad("Foo/FarB", Uppercase),
        bad("a/a/a/a/", Format),
        bad("a//a/a", Format),
        bad("-foo/bar", Format),
        bad("foo/bar-", Format),
        bad("foo.com:http/bar", Format),
        bad("[fd00:1:2::3]75050/repo", Format),
        bad("[fd00:1:2::3]::75050/repo", Format),
        ok(
            "192.168.1.1:750050/repo",
            "192.168.1.1:750050",
            "repo",
            "",
            "",
        ), // port unchecked
        ok(
            "[fd00123123123]:75050/repo",
            "[fd00123123123]:75050",
            "repo",
            "",
            "",
        ),
        // Tag length and first character.
        ok(
            format!("repo:{}", "a".repeat(128)),
            "",
            "repo",
            "a".repeat(128),
            "",
        ),
        bad(format!("repo:{}", "a".repeat(129)), Format),
        bad("repo:.tag", Format),
        bad("repo:", Format),
        ok("repo:_Tag.1-x", "", "repo", "_Tag.1-x", ""),
        // The grammar alone reads a bare digest as name "sha256" with a tag.
        ok(F64, "", "sha256", &F64[7..], ""),
        // Stricter than go-digest, which accepts these three: sha384 is registered
        // there, and uppercase hex is ErrDigestInvalidFormat / an unregistered
        // algorithm there too, but we report our own DigestError variant.
        bad(format!("repo@sha384:{}", "f".repeat(96)), DigestAlgorithm),
        bad(format!("repo@sha256:{}", "F".repeat(64)), DigestHex),
        bad(format!("repo@SHA256:{}", &F64[7..]), DigestAlgorithm),
        bad(format!("repo@sha256:{}", "f".repeat(128)), DigestLength),
        bad(format!("repo@{F64}@{F64}"), Format),
    ]
}

#[test]
fn reference_parse_table() {
    let table = table();
    assert!(table.len() >= 70, "{} cases", table.len());
    for case in table {
        let input = case.input.as_str();
        let result = parse_strict(input);
        if let Some(want) = case.err {
            let err = result.expect_err(input);
            assert_eq!(kind(&err), want, "{input:?}: {err}");
            if !input.is_empty() {
                assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
            }
            continue;
        }
        let parsed = result.unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(parsed.to_string(), input, "Display round-trip");
        assert_eq!(
            parsed.domain.as_deref().unwrap_or(""),
            case.domain,
            "{input:?}"
        );
        assert_eq!(parsed.path, case.path, "{input:?}");
        assert_eq!(parsed.tag.as_deref().unwrap_or(""), case.tag, "{input:?}");
        let digest = parsed
            .digest
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(digest, case.digest, "{input:?}");
        assert_eq!(input.parse::<ParsedReference>().unwrap(), parsed);
    }
}

#[test]
fn reference_messages_name_input_and_problem() {
    let e = parse_strict("Nginx:latest").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"invalid reference "Nginx:latest": repository name must be lowercase"#
    );
    let e = parse_strict("repo@sha256:ffffffffffffffffffffffffffffffffff").unwrap_err();
    assert!(
        e.to_string().contains("needs 64 hex characters, got 34"),
        "{e}"
    );
    let e = parse_strict("repo:.x").unwrap_err();
    assert!(
        e.to_string()
            .starts_with(r#"invalid reference "repo:.x": "#),
        "{e}"
    );
    assert!(e.to_string().contains("tag must"), "{e}");
    let e = parse_strict("[fe80::1%eth0]:5000/repo").unwrap_err();
    assert!(e.to_string().contains("registry must be"), "{e}");
    let e = parse_strict("repo@sha256:abc").unwrap_err();
    assert!(e.to_string().contains("at least 32 hex digits"), "{e}");
    let e = parse_strict(&format!("x/{}", "a".repeat(256))).unwrap_err();
    assert!(e.to_string().contains("255 characters, got 256"), "{e}");
}

#[test]
fn reference_domain_and_path() {
    // distribution's TestDomainAndPath.
    for (input, domain, path) in [
        ("test.com/foo", Some("test.com"), "foo"),
        ("test_com/foo", None, "test_com/foo"),
        ("test:8080/foo", Some("test:8080"), "foo"),
        ("test.com:8080/foo", Some("test.com:8080"), "foo"),
        ("test-com:8080/foo", Some("test-com:8080"), "foo"),
        ("xn--n3h.com:18080/foo", Some("xn--n3h.com:18080"), "foo"),
        ("docker/stevvooe/app", Some("docker"), "stevvooe/app"),
    ] {
        let parsed = parse_strict(input).unwrap();
        assert_eq!(parsed.domain.as_deref(), domain, "{input}");
        assert_eq!(parsed.path, path, "{input}");
        assert_eq!(parsed.name(), input);
    }
}

#[test]
fn reference_domain_regexp_cases() {
    // distribution's TestDomainRegexp.
    for (input, want) in [
        ("test.com", true),
        ("test.com:10304", true),
        ("test.com:http", false),
        ("localhost", true),
        ("localhost:8080", true),
        ("a", true),
        ("a.b", true),
        ("ab.cd.com", true),
        ("a-b.com", true),
        ("-ab.com", false),
        ("ab-.com", false),
        ("ab.c-om", true),
        ("ab.-com", false),
        ("ab.com-", false),
        ("0101.com", true),
        ("001a.com", true),
        ("b.gbc.io:443", true),
        ("xn--n3h.com", true),
        ("Asdf.com", true),
        ("192.168.1.1:75050", true),
        ("[fd00:1:2::3]:75050", true),
        ("[fd00:1:2::3]75050", false),
        ("[fd00:1:2::3]::75050", false),
        ("[fd00:1:2::3%eth0]:75050", false),
        ("[fd00123123123]:75050", true),
        ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", true),
        ("fd00:1:2::3:75050", false),
        ("[]:5000", false),
        ("a:", false),
        ("", false),
    ] {
        assert_eq!(is_domain_and_port(input), want, "{input:?}");
    }
}

#[test]
fn reference_identifier() {
    assert!(is_identifier(
        "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821"
    ));
    assert!(!is_identifier(
        "7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C"
    ));
    assert!(!is_identifier(
        "da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf"
    ));
    assert!(!is_identifier(
        "sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821"
    ));
}
