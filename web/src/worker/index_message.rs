//! A layer's index as a worker hands it to the page: the encoded index followed by its
//! XXH3-64 checksum. The page keeps the message as it came to write it to the cache of
//! verified layers unchanged (see the page's `verified_cache`), so the main thread never
//! encodes an index again, and a cache entry read back is checked against the checksum.

use strata_shared::layer::LayerIndex;

/// Bytes of the checksum at the end.
const CHECKSUM_BYTES: usize = 8;

/// The checksum of an encoded index.
pub fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// The message of `index`.
pub fn encode(index: &LayerIndex) -> Vec<u8> {
    let mut bytes = index.encode();
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// The encoded index of a message, once its checksum matches; `None` when it does not
/// or the message is too short to hold one.
pub fn checked(message: &[u8]) -> Option<&[u8]> {
    let (index, sum) = message.split_at_checked(message.len().checked_sub(CHECKSUM_BYTES)?)?;
    (u64::from_le_bytes(sum.try_into().ok()?) == checksum(index)).then_some(index)
}

/// The encoded index of a message from a worker of this page, unchecked: it never left
/// this browser's memory.
pub fn unchecked(message: &[u8]) -> &[u8] {
    &message[..message.len().saturating_sub(CHECKSUM_BYTES)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_message_reads_back_and_any_damage_is_refused() {
        let message = encode(&LayerIndex::default());
        let index = checked(&message).expect("intact");
        assert_eq!(index, unchecked(&message));
        assert!(LayerIndex::decode(index).is_ok());
        for cut in 0..message.len() {
            assert!(checked(&message[..cut]).is_none(), "cut at {cut}");
        }
        for at in 0..message.len() {
            let mut bad = message.clone();
            bad[at] ^= 0x10;
            assert!(checked(&bad).is_none(), "flipped byte {at}");
        }
    }
}
