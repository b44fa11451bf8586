//! gRPC requests as `openload` sends them, prepared once: protobuf fields encoded by
//! hand (strings and integers are all the bench's requests hold) and the gRPC
//! length-prefixed framing. A stream's messages are its frames one after another in
//! one request body, sent at once: a client stream (or the sending half of a
//! bidirectional one) as a client that has all its messages ready sends it.

/// Field `field` of wire type `wire` (0 varint, 2 length-delimited): its tag.
fn tag(field: u32, wire: u32) -> Vec<u8> {
    varint(u64::from(field << 3 | wire))
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(low);
            return bytes;
        }
        bytes.push(low | 0x80);
    }
}

/// A `string` field.
pub fn string(field: u32, text: &str) -> Vec<u8> {
    let mut bytes = tag(field, 2);
    bytes.extend(varint(text.len() as u64));
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// An `int32`, `int64` or `uint32` field; a negative value takes ten bytes, as
/// protobuf writes a negative `int32` (sign-extended to 64 bits).
pub fn int(field: u32, value: i64) -> Vec<u8> {
    let mut bytes = tag(field, 0);
    bytes.extend(varint(value as u64));
    bytes
}

/// One request body: each message framed (uncompressed, 4-byte big-endian length),
/// as hex for `openload --bodies`.
pub fn frames_hex<M: AsRef<[u8]>>(messages: &[M]) -> String {
    let mut body = Vec::new();
    for message in messages {
        let message = message.as_ref();
        body.push(0u8);
        body.extend_from_slice(
            &u32::try_from(message.len())
                .expect("a bench message is far below 4 GiB")
                .to_be_bytes(),
        );
        body.extend_from_slice(message);
    }
    body.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_stock_is_framed_as_grpc_sends_it() {
        let hex = frames_hex(&[string(1, "SKU-00001")]);
        assert_eq!(hex, "000000000b0a09534b552d3030303031");
    }

    /// The bytes `protoc --encode=inventory.v1.Adjustment` writes for
    /// `sku: "S" delta: 1` and `sku: "S" delta: -1`.
    #[test]
    fn integers_are_varints_and_negative_ones_sign_extended() {
        assert_eq!(
            [string(1, "S"), int(2, 1)].concat(),
            [0x0a, 0x01, b'S', 0x10, 0x01]
        );
        assert_eq!(
            int(2, -1),
            [
                0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ]
        );
        assert_eq!(int(3, 300), [0x18, 0xac, 0x02]);
    }

    #[test]
    fn a_long_string_has_a_varint_length() {
        let long = "x".repeat(200);
        assert_eq!(&string(1, &long)[..3], [0x0a, 0xc8, 0x01]);
    }

    #[test]
    fn a_stream_is_its_frames_one_after_another() {
        let one = frames_hex(&[string(1, "A")]);
        let two = frames_hex(&[string(1, "A"), string(1, "B")]);
        assert_eq!(two.len(), 2 * one.len());
        assert!(two.starts_with(&one), "{two}");
        assert_eq!(frames_hex::<Vec<u8>>(&[]), "");
    }
}
