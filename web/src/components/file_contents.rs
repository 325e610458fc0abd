use leptos::prelude::*;

use crate::page_pool::read_file;
use crate::worker::protocol::ReadFileRequest;

/// Bytes shown before "load all".
const PREVIEW_BYTES: u64 = 64 * 1024;
/// Most bytes "load all" and the viewer hold.
const MAX_VIEW_BYTES: u64 = 16 * 1024 * 1024;

/// A file's contents, read from its verified layer in a worker: text with line numbers,
/// hex for binaries, images inline; large files partially, with a "load all" step.
#[component]
pub(crate) fn FileContents(request: ReadFileRequest, name: String) -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<Vec<u8>, String>>);
    let wanted = RwSignal::new(request.len.min(PREVIEW_BYTES));
    let file_len = request.len;
    let req = request.clone();
    Effect::new(move |_| {
        let max = wanted.get();
        loaded.set(None);
        let request = ReadFileRequest {
            max_bytes: max,
            ..req.clone()
        };
        read_file(request, move |result| {
            loaded.set(Some(result.map_err(|e| e.to_string())))
        });
    });
    let download_request = request.clone();
    let download_name = name.clone();
    let download = move |_| {
        let request = ReadFileRequest {
            max_bytes: download_request.len,
            ..download_request.clone()
        };
        let name = download_name.clone();
        read_file(request, move |result| {
            if let Ok(bytes) = result {
                crate::download::save(&name, &bytes, "application/octet-stream");
            }
        });
    };
    let body = move || match loaded.get() {
        None => view! { <p class="dim">"Reading from the verified layer…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="error" data-contents-error="">{e}</p> }.into_any(),
        Some(Ok(bytes)) => {
            let partial = (bytes.len() as u64) < file_len;
            let more = (partial && wanted.get_untracked() < MAX_VIEW_BYTES).then(|| {
                view! {
                    <button class="link" data-load-all="" on:click=move |_| wanted.set(file_len.min(MAX_VIEW_BYTES))>
                        {format!("load all ({})", crate::format::bytes(file_len))}
                    </button>
                }
            });
            let note = partial.then(|| {
                format!(
                    "first {} of {}",
                    crate::format::bytes(bytes.len() as u64),
                    crate::format::bytes(file_len)
                )
            });
            view! {
                <div class="contents-head dim small">{note} " " {more}</div>
                {render(&bytes)}
            }
            .into_any()
        }
    };
    view! {
        <div class="contents" data-contents="">
            <h3>"Contents " <button class="link" data-download="" on:click=download>"download"</button></h3>
            {body}
        </div>
    }
}

fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// Text that is not UTF-8 but says or looks like what it is: UTF-16 with a byte-order
/// mark, or 8-bit text (no control bytes, some bytes over 0x7f) read as Latin-1.
fn other_encoding(bytes: &[u8]) -> Option<(String, Option<&'static str>)> {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes).map(|t| (t, Some("UTF-16LE"))),
        [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes).map(|t| (t, Some("UTF-16BE"))),
        _ if bytes
            .iter()
            .all(|&b| b >= 0xa0 || (0x20..0x7f).contains(&b) || b"\t\n\r\x0c".contains(&b)) =>
        {
            Some((
                bytes.iter().map(|&b| char::from(b)).collect(),
                Some("Latin-1"),
            ))
        }
        _ => None,
    }
}

fn render(bytes: &[u8]) -> AnyView {
    if let Some(mime) = image_mime(bytes) {
        let parts = js_sys::Array::new();
        parts.push(&js_sys::Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let url = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
            .ok()
            .and_then(|b| web_sys::Url::create_object_url_with_blob(&b).ok())
            .unwrap_or_default();
        return view! { <img class="contents-image" src=url alt="image file" data-contents-kind="image"/> }.into_any();
    }
    // A preview may cut a UTF-8 sequence at its end: accept up to 3 trailing bytes.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => Some(t),
        Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    // Control characters other than whitespace and ESC mean a binary, even if valid UTF-8.
    let binary_control = |c: char| c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b');
    let decoded = match text {
        Some(t) => Some((t.to_owned(), None)),
        None => other_encoding(bytes),
    };
    match decoded.filter(|(t, _)| !t.contains(binary_control)) {
        Some((text, notice)) => {
            let lines = text
                .lines()
                .enumerate()
                .map(|(i, line)| view! { <tr><td class="ln">{i + 1}</td><td class="code">{line.to_owned()}</td></tr> })
                .collect_view();
            view! {
                {notice.map(|n| view! { <p class="notice small" data-contents-encoding=n>"Not UTF-8: shown as " {n}</p> })}
                <table class="mono text-view" data-contents-kind="text"><tbody>{lines}</tbody></table>
            }
            .into_any()
        }
        None => {
            let mut dump = String::with_capacity(bytes.len() * 4);
            for (row, chunk) in bytes.chunks(16).enumerate() {
                dump.push_str(&format!("{:08x}  ", row * 16));
                for i in 0..16 {
                    match chunk.get(i) {
                        Some(b) => dump.push_str(&format!("{b:02x} ")),
                        None => dump.push_str("   "),
                    }
                }
                dump.push(' ');
                dump.extend(chunk.iter().map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                }));
                dump.push('\n');
            }
            view! {
                <p class="dim small">"Binary (not UTF-8): hex dump"</p>
                <pre class="mono hex-view" data-contents-kind="hex">{dump}</pre>
            }
            .into_any()
        }
    }
}
