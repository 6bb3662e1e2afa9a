//! Argument decoding of every `sequence-metadata` method: the first byte picks one of the 21
//! request objects (`byte % 21`, in `sequence_metadata::METHODS` order), the rest is the
//! request body given to `codec::decode_request`. It must not panic; a request that decodes
//! must encode, decode again to an equal value, and encode again to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webrpc_core::codec;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    webrpc_fuzz::with_method!(usize::from(selector), M => {
        type Req = <M as webrpc_core::Method>::Request;
        let Ok(request) = codec::decode_request::<Req>(body) else {
            return;
        };
        let encoded = match codec::encode(&request) {
            Ok(bytes) => bytes,
            Err(err) => panic!("decoded request does not encode: {err}\n{request:?}"),
        };
        let again = match codec::decode_request::<Req>(&encoded) {
            Ok(value) => value,
            Err(err) => panic!(
                "encoded request does not decode: {err}\n{:?}",
                String::from_utf8_lossy(&encoded)
            ),
        };
        assert_eq!(again, request, "{:?}", String::from_utf8_lossy(&encoded));
        let re_encoded = codec::encode(&again).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&re_encoded),
            String::from_utf8_lossy(&encoded),
            "encoding is not stable"
        );
    });
});
