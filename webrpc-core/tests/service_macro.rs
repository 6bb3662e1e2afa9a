//! What `service!` accepts and generates: existing types, methods without arguments or
//! results, struct-level attributes, only serde's derives, and `$crate` paths (it works where
//! `webrpc_core` names something else).
#![allow(unreachable_pub)]

use webrpc_core::{
    codec, Caller, Empty, MessageStream, Method, RequestContext, StreamMethod, WebrpcError,
};

/// Declared outside the macro and used as a request and a response as it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// The text.
    pub text: String,
}

/// The services live in a module where `webrpc_core` is a local, empty module: a macro
/// that wrote `webrpc_core::…` instead of `$crate::…` would not compile here.
mod shadowed {
    #![allow(dead_code)]

    pub use super::Note;

    mod webrpc_core {}

    ::webrpc_core::service! {
        /// Notes.
        pub trait Notes;
        /// Client of [`Notes`].
        client NotesClient;
        /// Mounts [`Notes`].
        mount mount_notes;
        name "Notes";
        schema "notes" "v1.0.0";

        /// A new request struct with attributes, an existing response type.
        Shout => shout(
            #[derive(Debug, Clone, PartialEq)]
            #[serde(deny_unknown_fields)]
            ShoutRequest {
                /// The words.
                pub note_text: String,
            }
        ) -> Note;
        /// An existing request type, no results.
        Keep => keep(Note) -> ();
        /// No arguments, a new response struct.
        Count => count() -> #[derive(Debug, PartialEq)] CountResponse {
            pub total_notes: u64,
        };
        /// Neither arguments nor results.
        Clear => clear() -> ();
    }

    // A second service in the same module: the macro's import may repeat.
    ::webrpc_core::service! {
        /// Pings.
        pub(crate) trait Pinger;
        /// Client of [`Pinger`].
        client PingerClient;
        /// Mounts [`Pinger`].
        mount mount_pinger;
        name "Pinger";
        schema "notes" "v1.0.0";

        /// Pings (a trailing comma in a field list).
        Ping => ping(PingRequest { pub seq: u32, }) -> PingResponse { pub seq: u32 };
    }
}

use shadowed::*;

#[test]
fn methods_name_their_types_and_paths() {
    assert_eq!(Shout::INFO.path("/rpc/"), "/rpc/Notes/Shout");
    assert_eq!(Clear::INFO.path("/rpc/"), "/rpc/Notes/Clear");
    assert_eq!(Ping::INFO.path("/rpc/"), "/rpc/Pinger/Ping");
    assert_eq!(
        std::any::type_name::<<Keep as Method>::Request>(),
        std::any::type_name::<Note>()
    );
    assert_eq!(
        std::any::type_name::<<Count as Method>::Request>(),
        std::any::type_name::<Empty>()
    );
    assert_eq!(
        std::any::type_name::<<Clear as Method>::Response>(),
        std::any::type_name::<Empty>()
    );
}

#[test]
fn new_structs_are_camel_case_in_json_and_take_struct_attributes() {
    let body = codec::encode(&ShoutRequest {
        note_text: "hi".into(),
    })
    .unwrap();
    assert_eq!(&body[..], br#"{"noteText":"hi"}"#);
    // `#[serde(deny_unknown_fields)]` reached the struct.
    let err = codec::decode_request::<ShoutRequest>(br#"{"noteText":"hi","extra":1}"#).unwrap_err();
    assert!(err.cause().unwrap().contains("unknown field"), "{err}");
    // And `#[derive(Clone, PartialEq)]` did.
    let req = codec::decode_request::<ShoutRequest>(br#"{"noteText":"hi"}"#).unwrap();
    assert_eq!(req.clone(), req);
    let resp: CountResponse = codec::decode_response(br#"{"totalNotes":3}"#).unwrap();
    assert_eq!(resp, CountResponse { total_notes: 3 });
}

#[test]
fn methods_without_arguments_take_empty_null_and_an_empty_object() {
    for body in [&b""[..], b"null", b"{}"] {
        let _: <Count as Method>::Request = codec::decode_request(body).unwrap();
    }
    assert_eq!(&codec::encode(&Empty {}).unwrap()[..], b"{}");
}

/// A serving implementation: `type Ctx = RequestContext`.
struct Board;

impl Notes for Board {
    type Ctx = RequestContext;

    async fn shout(&self, ctx: RequestContext, req: ShoutRequest) -> Result<Note, WebrpcError> {
        let who = ctx
            .header("x-who")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nobody");
        Ok(Note {
            text: format!("{who}: {}!", req.note_text.to_uppercase()),
        })
    }

    async fn keep(&self, _: RequestContext, _: Note) -> Result<Empty, WebrpcError> {
        Ok(Empty {})
    }

    async fn count(&self, _: RequestContext, _: Empty) -> Result<CountResponse, WebrpcError> {
        Ok(CountResponse { total_notes: 1 })
    }

    async fn clear(&self, _: RequestContext, _: Empty) -> Result<Empty, WebrpcError> {
        Ok(Empty {})
    }
}

/// A caller whose options are a name it records: what reaches the "server" is only what the
/// options say, never a server's request context.
#[derive(Clone)]
struct Loopback;

#[derive(Debug, Default)]
struct Who(Option<&'static str>);

impl Caller for Loopback {
    type Options = Who;

    async fn call<M: Method>(
        &self,
        options: Who,
        request: M::Request,
    ) -> Result<M::Response, WebrpcError> {
        {
            // Serve it with `Board`, as a router would: through the JSON codec.
            let body = codec::encode(&request).unwrap();
            let mut ctx = RequestContext::new().with_method(M::INFO);
            if let Some(who) = options.0 {
                ctx = ctx.with_header(
                    http::HeaderName::from_static("x-who"),
                    http::HeaderValue::from_static(who),
                );
            }
            let answer = match M::NAME {
                "Shout" => codec::encode(&Board.shout(ctx, codec::decode_request(&body)?).await?),
                "Count" => codec::encode(&Board.count(ctx, Empty {}).await?),
                _ => codec::encode(&Empty {}),
            }
            .unwrap();
            codec::decode_response(&answer)
        }
    }

    async fn call_stream<M: StreamMethod>(
        &self,
        _: Who,
        _: M::Request,
    ) -> Result<MessageStream<M::Message>, WebrpcError> {
        Err(webrpc_core::BuiltinError::WebrpcBadRoute.err())
    }
}

/// Code written once against the trait, run against both sides.
async fn shout_hi<N: Notes>(notes: &N, ctx: N::Ctx) -> String {
    notes
        .shout(
            ctx,
            ShoutRequest {
                note_text: "hi".into(),
            },
        )
        .await
        .unwrap()
        .text
}

#[test]
fn the_same_trait_code_runs_in_process_and_through_a_caller() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(shout_hi(&Board, Default::default()).await, "nobody: HI!");
        let client = NotesClient::new(Loopback);
        assert_eq!(shout_hi(&client, Default::default()).await, "nobody: HI!");
        assert_eq!(shout_hi(&client, Who(Some("ana"))).await, "ana: HI!");
        assert_eq!(
            client.count(Who::default(), Empty {}).await.unwrap(),
            CountResponse { total_notes: 1 }
        );
    });
}
