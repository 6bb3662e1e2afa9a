//! Argument decoding of every `sequence-metadata` method: the first byte picks one of the 21
//! request objects (`byte % 21`, in `COLLECTIONS_SERVICE` order), the rest is the request
//! body given to `codec::decode_request`. It must not panic; a request that decodes must
//! encode, decode again, and encode again to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webrpc_core::{codec, Method, MethodVisitor};

/// Decodes `body` as the visited method's request and checks the round trip.
struct RoundTrip<'a> {
    body: &'a [u8],
}

impl MethodVisitor for RoundTrip<'_> {
    fn visit<M: Method>(&mut self) {
        let Ok(request) = codec::decode_request::<M::Request>(self.body) else {
            return;
        };
        let encoded = match codec::encode(&request) {
            Ok(bytes) => bytes,
            Err(err) => panic!("{}: decoded request does not encode: {err}", M::NAME),
        };
        let again = match codec::decode_request::<M::Request>(&encoded) {
            Ok(value) => value,
            Err(err) => panic!(
                "{}: encoded request does not decode: {err}\n{:?}",
                M::NAME,
                String::from_utf8_lossy(&encoded)
            ),
        };
        let re_encoded = codec::encode(&again).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&re_encoded),
            String::from_utf8_lossy(&encoded),
            "{}: encoding is not stable",
            M::NAME
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    webrpc_fuzz::visit_method(usize::from(selector), &mut RoundTrip { body });
});
