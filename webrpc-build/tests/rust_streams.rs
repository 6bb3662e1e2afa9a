//! The Rust generated for `tests/rust/streams.ridl` (checked in as `tests/rust/streams.rs`):
//! stream methods become `StreamMethod` markers, trait methods returning a `StreamFuture`,
//! client methods calling `call_stream` and `add_stream_route` mounts; the code compiles
//! with every lint of the workspace and serves and calls its streams in process.

mod common;

/// The generated code, as a user's crate includes it.
pub mod streams {
    include!("rust/streams.rs");
}

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;
use streams::*;
use webrpc_build::rust::Options;
use webrpc_core::{
    MessageStream, Method, MethodVisitor, RequestContext, StreamMethod, WebrpcError,
};

#[test]
fn checked_in_code_is_what_the_generator_makes() {
    let fresh = common::regenerate("streams.ridl", Options::new());
    common::assert_no_drift("streams.rs", &fresh);
}

#[test]
fn generated_code_is_rustfmt_clean() {
    common::assert_rustfmt_clean("streams.rs");
}

#[test]
fn stream_markers_are_stream_methods_with_their_routes() {
    assert_eq!(
        <Subscribe as StreamMethod>::INFO.path("/rpc/"),
        "/rpc/Feed/Subscribe"
    );
    assert_eq!(<Watch as StreamMethod>::NAME, "Watch");
    assert_eq!(<Publish as Method>::INFO.path("/rpc/"), "/rpc/Feed/Publish");
    assert_eq!(
        FEED_SERVICE.method_names().collect::<Vec<_>>(),
        vec!["Subscribe", "Watch", "Ticks", "Publish"]
    );
}

#[test]
fn messages_are_keyed_by_output_names_and_succinct_ones_are_bare() {
    let message = SubscribeResponse {
        event: Event {
            id: 7,
            text: "hi".into(),
        },
    };
    assert_eq!(
        serde_json::to_value(&message).unwrap(),
        json!({"event": {"id": 7, "text": "hi"}})
    );
    let ticks = TicksResponse {
        n: 3,
        label: "three".into(),
    };
    assert_eq!(
        serde_json::to_value(&ticks).unwrap(),
        json!({"n": 3, "label": "three"})
    );
    let watch = WatchEvent {
        topic: "t".into(),
        seq: 1,
    };
    assert_eq!(
        &webrpc_core::stream::encode_message(&watch).unwrap()[..],
        b"{\"topic\":\"t\",\"seq\":1}\n"
    );
}

#[test]
fn the_visitor_sees_stream_methods_through_visit_stream() {
    #[derive(Default)]
    struct Names(Vec<String>);
    impl MethodVisitor for Names {
        fn visit<M: Method>(&mut self) {
            self.0.push(format!("call {}", M::NAME));
        }
        fn visit_stream<M: StreamMethod>(&mut self) {
            self.0.push(format!("stream {}", M::NAME));
        }
    }
    let mut names = Names::default();
    for_each_feed_method(&mut names);
    assert_eq!(
        names.0,
        vec![
            "stream Subscribe",
            "stream Watch",
            "stream Ticks",
            "call Publish"
        ]
    );
}

/// An implementation of the generated trait: plain `async fn`s.
struct Events;

impl Feed for Events {
    type Ctx = RequestContext;

    async fn subscribe(
        &self,
        _ctx: RequestContext,
        request: SubscribeRequest,
    ) -> Result<MessageStream<SubscribeResponse>, WebrpcError> {
        if request.topic.is_empty() {
            return Err(StreamsError::EmptyTopic.err());
        }
        if request.topic == "broken" {
            // Two messages, then an error inside the stream.
            return Ok(MessageStream::new(futures_util::stream::iter([
                Ok(SubscribeResponse {
                    event: Event {
                        id: 1,
                        text: "a".into(),
                    },
                }),
                Ok(SubscribeResponse {
                    event: Event {
                        id: 2,
                        text: "b".into(),
                    },
                }),
                Err(StreamsError::EmptyTopic.with_cause("feed broke")),
            ])));
        }
        let first = request.after.map_or(0, |after| after + 1);
        Ok(MessageStream::new(futures_util::stream::iter(
            (first..first + 2).map(move |id| {
                Ok(SubscribeResponse {
                    event: Event {
                        id,
                        text: format!("{}#{id}", request.topic),
                    },
                })
            }),
        )))
    }

    async fn watch(
        &self,
        _ctx: RequestContext,
        request: WatchRequest,
    ) -> Result<MessageStream<WatchEvent>, WebrpcError> {
        Ok(MessageStream::new(futures_util::stream::iter([Ok(
            WatchEvent {
                topic: request.topic,
                seq: 1,
            },
        )])))
    }

    async fn ticks(
        &self,
        _ctx: RequestContext,
        _request: TicksRequest,
    ) -> Result<MessageStream<TicksResponse>, WebrpcError> {
        Ok(MessageStream::new(futures_util::stream::iter((1..=3).map(
            |n| {
                Ok(TicksResponse {
                    n,
                    label: n.to_string(),
                })
            },
        ))))
    }

    async fn publish(
        &self,
        _ctx: RequestContext,
        _request: PublishRequest,
    ) -> Result<PublishResponse, WebrpcError> {
        Ok(PublishResponse { id: 1 })
    }
}

async fn collect<T>(stream: MessageStream<T>) -> Vec<Result<T, WebrpcError>> {
    stream.collect().await
}

#[tokio::test]
async fn the_generated_client_and_mount_serve_and_call_streams_in_process() {
    let router = mount_feed(Arc::new(Events), webrpc_server::Router::new());
    let client = FeedClient::new(
        webrpc_client::Client::builder("http://in-process")
            .build_with(router)
            .unwrap(),
    );
    let request = SubscribeRequest {
        topic: "news".into(),
        after: Some(4),
    };
    let items = collect(client.subscribe(Default::default(), request).await.unwrap()).await;
    // Several messages, then a clean end (no error item).
    let ids: Vec<u64> = items.iter().map(|i| i.as_ref().unwrap().event.id).collect();
    assert_eq!(ids, vec![5, 6]);

    // Messages, then an error inside the stream as its last item.
    let request = SubscribeRequest {
        topic: "broken".into(),
        after: None,
    };
    let items = collect(client.subscribe(Default::default(), request).await.unwrap()).await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().event.text, "a");
    assert_eq!(items[1].as_ref().unwrap().event.text, "b");
    let err = items[2].as_ref().unwrap_err();
    assert_eq!(err.kind::<StreamsError>(), Some(StreamsError::EmptyTopic));
    assert_eq!(err.cause(), Some("feed broke"));

    // The handler's early error arrives in the stream, as gen-golang sends it.
    let request = SubscribeRequest {
        topic: String::new(),
        after: None,
    };
    let items = collect(client.subscribe(Default::default(), request).await.unwrap()).await;
    assert_eq!(items.len(), 1);
    let err = items[0].as_ref().unwrap_err();
    assert_eq!(err.kind::<StreamsError>(), Some(StreamsError::EmptyTopic));

    let items = collect(
        client
            .watch(Default::default(), WatchRequest { topic: "t".into() })
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(items[0].as_ref().unwrap().topic, "t");

    let items = collect(
        client
            .ticks(Default::default(), TicksRequest {})
            .await
            .unwrap(),
    )
    .await;
    let labels: Vec<String> = items.into_iter().map(|i| i.unwrap().label).collect();
    assert_eq!(labels, vec!["1", "2", "3"]);

    let published = client
        .publish(
            Default::default(),
            PublishRequest {
                topic: "t".into(),
                text: "x".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(published.id, 1);
}
