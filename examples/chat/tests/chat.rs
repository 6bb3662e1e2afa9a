//! The chat example behaves as webrpc's Go example: history replay after `lastMessageId`,
//! broadcast, joins and leaves, `EmptyUsername` in the stream; the resume pattern; and the
//! two programs over loopback.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat::proto::{
    mount_chat, Chat, ChatClient, Message, SendMessageRequest, SendMessageResponse,
    SubscribeMessagesRequest, SubscribeMessagesResponse, WebrpcSseChatError,
};
use chat::{backoff, subscribe_with_resume, ChatServer};
use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use webrpc_client::Client;
use webrpc_core::{BuiltinError, MessageStream, RequestContext, Timestamp, WebrpcError};
use webrpc_server::{Router, ServerHandle};

fn subscribe(username: &str, last_message_id: Option<u64>) -> SubscribeMessagesRequest {
    SubscribeMessagesRequest {
        username: username.to_owned(),
        last_message_id,
    }
}

async fn say<C: Chat>(chat: &C, username: &str, text: &str) {
    chat.send_message(
        Default::default(),
        SendMessageRequest {
            username: username.to_owned(),
            text: text.to_owned(),
        },
    )
    .await
    .unwrap();
}

async fn next_text(stream: &mut MessageStream<SubscribeMessagesResponse>) -> (u64, String) {
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a message arrives")
        .expect("the stream is open")
        .expect("a message, not an error");
    (item.message.id, item.message.text)
}

/// A loopback server and a client of it.
async fn serve() -> (ChatClient<Client>, ChatServer, ServerHandle) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let chat = ChatServer::new();
    let router = mount_chat(Arc::new(chat.clone()), Router::new());
    let server = webrpc_server::serve(listener, router).spawn();
    let client = ChatClient::new(Client::new(&format!("http://{}", server.local_addr())).unwrap());
    (client, chat, server)
}

#[tokio::test]
async fn history_is_replayed_after_last_message_id_then_live_messages_follow() {
    let (chat, _server, _stop) = serve().await;
    for text in ["a", "b", "c"] {
        say(&chat, "ana", text).await;
    }
    let mut stream = chat
        .subscribe_messages(Default::default(), subscribe("bob", Some(1)))
        .await
        .unwrap();
    assert_eq!(next_text(&mut stream).await, (2, "c".to_owned()));
    assert_eq!(next_text(&mut stream).await, (3, "bob joined".to_owned()));
    say(&chat, "ana", "d").await;
    assert_eq!(next_text(&mut stream).await, (4, "d".to_owned()));

    // Without lastMessageId: everything stored.
    let mut all = chat
        .subscribe_messages(Default::default(), subscribe("cy", None))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(next_text(&mut all).await.0);
    }
    assert_eq!(ids, vec![0, 1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_message_is_broadcast_to_every_subscriber_and_leaving_is_announced() {
    let (chat, server, _stop) = serve().await;
    let mut ana = chat
        .subscribe_messages(Default::default(), subscribe("ana", None))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ana).await, (0, "ana joined".to_owned()));
    let mut bob = chat
        .subscribe_messages(Default::default(), subscribe("bob", Some(0)))
        .await
        .unwrap();
    assert_eq!(next_text(&mut bob).await, (1, "bob joined".to_owned()));
    assert_eq!(next_text(&mut ana).await, (1, "bob joined".to_owned()));
    say(&chat, "cy", "hello all").await;
    assert_eq!(next_text(&mut ana).await, (2, "hello all".to_owned()));
    assert_eq!(next_text(&mut bob).await, (2, "hello all".to_owned()));

    // Bob goes away: the server drops his subscription at once and says so.
    drop(bob);
    assert_eq!(next_text(&mut ana).await, (3, "bob left".to_owned()));
    assert_eq!(server.subscribers(), 1);
}

#[tokio::test]
async fn an_empty_username_fails_inside_the_200_stream() {
    let (chat, _server, _stop) = serve().await;
    // The call succeeds (the stream opened with 200), its only item is the error.
    let mut stream = chat
        .subscribe_messages(Default::default(), subscribe("", None))
        .await
        .unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(
        err.kind::<WebrpcSseChatError>(),
        Some(WebrpcSseChatError::EmptyUsername)
    );
    assert_eq!(
        (err.msg(), err.status()),
        ("Username must be provided.", 400)
    );
    assert!(stream.next().await.is_none());
}

/// A chat whose streams fail after a few messages, recording what it was asked.
struct Flaky {
    asked: Mutex<Vec<Option<u64>>>,
}

impl Chat for Flaky {
    type Ctx = RequestContext;

    async fn send_message(
        &self,
        _ctx: RequestContext,
        _request: SendMessageRequest,
    ) -> Result<SendMessageResponse, WebrpcError> {
        Ok(SendMessageResponse {})
    }

    async fn subscribe_messages(
        &self,
        _ctx: RequestContext,
        request: SubscribeMessagesRequest,
    ) -> Result<MessageStream<SubscribeMessagesResponse>, WebrpcError> {
        let attempt = {
            let mut asked = self.asked.lock().unwrap();
            asked.push(request.last_message_id);
            asked.len()
        };
        // The second attempt finds the server down; the others open and lose the stream
        // after two messages.
        if attempt == 2 {
            return Err(BuiltinError::WebrpcRequestFailed.with_cause("connection refused"));
        }
        let first = request.last_message_id.map_or(0, |id| id + 1);
        let items = (first..first + 2)
            .map(|id| {
                Ok(SubscribeMessagesResponse {
                    message: Message {
                        id,
                        username: "ana".into(),
                        text: format!("m{id}"),
                        created_at: Timestamp::default(),
                    },
                })
            })
            .chain([Err(
                BuiltinError::WebrpcStreamLost.with_cause("connection reset")
            )]);
        Ok(MessageStream::new(futures_util::stream::iter(items)))
    }
}

#[tokio::test(start_paused = true)]
async fn the_resume_pattern_continues_from_the_last_id_with_backoff() {
    let chat = Flaky {
        asked: Mutex::new(Vec::new()),
    };
    let mut seen = Vec::new();
    let mut waits = Vec::new();
    subscribe_with_resume(
        &chat,
        "bob",
        None,
        |message| {
            seen.push(message.id);
            if seen.len() == 6 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
        |err, wait| waits.push((err.code(), wait)),
    )
    .await
    .unwrap();
    assert_eq!(
        seen,
        vec![0, 1, 2, 3, 4, 5],
        "no message skipped or repeated"
    );
    assert_eq!(
        *chat.asked.lock().unwrap(),
        vec![None, Some(1), Some(1), Some(3)]
    );
    // Lost (1 s), refused (2 s: no stream opened in between), lost again after a stream
    // opened (the count starts over: 1 s).
    assert_eq!(
        waits,
        vec![
            (-9, Duration::from_secs(1)),
            (-1, Duration::from_secs(2)),
            (-9, Duration::from_secs(1)),
        ]
    );
}

#[tokio::test]
async fn the_resume_pattern_stops_on_an_error_not_worth_retrying() {
    let (chat, _server, _stop) = serve().await;
    let err = subscribe_with_resume(&chat, "", None, |_| ControlFlow::Continue(()), |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), 100);
}

#[test]
fn backoff_doubles_up_to_thirty_seconds() {
    let waits: Vec<u64> = (0..8).map(|n| backoff(n).as_secs()).collect();
    assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    assert_eq!(backoff(u32::MAX), Duration::from_secs(30));
}

// ---- the programs ----------------------------------------------------------------------

struct Program(tokio::process::Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn chat_server() -> (Program, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server starts")
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("chat-server listening on ")
        .and_then(|rest| rest.strip_suffix("/rpc/Chat/"))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    (Program(child), url)
}

async fn chat_client(args: &[&str]) -> std::process::Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat-client"))
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("chat-client exits")
        .unwrap()
}

#[tokio::test]
async fn chat_server_and_chat_client_send_and_subscribe() {
    let (_server, url) = chat_server().await;
    for text in ["one", "two"] {
        let out = chat_client(&["--url", &url, "send", "--username", "ana", "--text", text]).await;
        assert!(out.status.success(), "{out:?}");
    }
    let out = chat_client(&[
        "--url",
        &url,
        "subscribe",
        "--username",
        "bob",
        "--last-message-id",
        "0",
        "--count",
        "2",
    ])
    .await;
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["username"], "ana");
    assert_eq!(lines[0]["text"], "two");
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["text"], "bob joined");
    assert!(lines[1]["createdAt"].as_str().unwrap().ends_with('Z'));

    let out = chat_client(&["--url", &url, "subscribe", "--username", "", "--count", "1"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EmptyUsername"));
}
