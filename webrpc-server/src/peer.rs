//! Whether an HTTP/1.1 client is still there when its call is about to start.
//!
//! hyper's HTTP/1 dispatcher drops a call whose connection it finds closed, but it only
//! looks when it reads the socket again, and that can come after the handler started: a
//! client that sends a whole call and closes at once (the HTTP/1.1 form of the "rapid
//! reset") had about one call in ten run anyway, even when its end of stream was in the
//! kernel before the server read the request. So [`Server`](crate::Server) gives each TCP
//! connection a [`PeerProbe`], and the router asks it, once per HTTP/1.x call, right before
//! the handler starts; a client that has gone ends the call there
//! (`WebrpcClientDisconnected`, which nobody reads).
//!
//! The probe is a duplicate of the connection's descriptor (`dup(2)`: one more entry in the
//! process's descriptor table per connection, no new socket), registered with tokio's
//! reactor on its own. Nobody reads from it, so its readiness only grows: once the reactor
//! has seen the socket readable it stays so, and once it has seen the peer's end of stream
//! (`EPOLLRDHUP`, kqueue's `EV_EOF`) it says "read closed" for good. Asking it is an atomic
//! load, not a system call.
//!
//! The reactor's view can be a moment old: an end of stream that arrives after the reactor
//! last looked is not in it. A client that sends one call and closes (the rapid reset) does
//! so on a new connection, and that is where the race is close, so the first call of a
//! connection (and any call before the reactor has reported the duplicate at all) also asks
//! the socket itself, with a `MSG_PEEK` read that returns end of stream when the client has
//! gone and left nothing unread. Later calls on a kept-alive connection rely on the
//! reactor alone: no system call per call. An end of stream that gets past the probe is
//! caught by hyper when it next reads, and the call's future is dropped then.
//!
//! The duplicate means the probe never looks at a descriptor the connection has closed and
//! the system reused. HTTP/2 needs no probe: a reset or a closed connection reaches h2 as a
//! frame or an error, and the router's yield before the handler lets hyper act on it.
//!
//! One case it cannot tell apart: a client that half-closes after pipelining several
//! requests and still waits for their answers. hyper (without `half_close`, its default)
//! treats such a client as gone too, so nothing changes for it.

use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

/// A connection's view of its peer. See the module docs.
#[derive(Debug)]
pub(crate) struct PeerProbe {
    /// The duplicate, registered with the reactor for reading (and never read).
    socket: tokio::net::TcpStream,
    /// Whether a call of this connection has asked already (the first one peeks).
    asked: AtomicBool,
}

impl PeerProbe {
    /// A probe of `stream`'s peer, or `None` where the descriptor cannot be duplicated or
    /// registered (out of descriptors, say): the call then runs unprobed, as before. Must be
    /// called within the Tokio runtime that serves the connection.
    pub(crate) fn new(stream: &tokio::net::TcpStream) -> Option<Self> {
        let duplicate = socket2::SockRef::from(stream).try_clone().ok()?;
        // The duplicate shares the connection's file description, and so its non-blocking
        // flag, which `from_std` requires.
        let socket = tokio::net::TcpStream::from_std(duplicate.into()).ok()?;
        Some(PeerProbe {
            socket,
            asked: AtomicBool::new(false),
        })
    }

    /// Whether the peer has closed its side: the reactor has seen its end of stream, or (on
    /// the connection's first call, or while the reactor has reported nothing of this socket)
    /// a peek finds it next. Never blocks; an error means "still there".
    pub(crate) fn peer_closed(&self) -> bool {
        // Calls of one HTTP/1 connection come one after the other: no race on the flag.
        let first = !self.asked.load(Ordering::Relaxed);
        if first {
            self.asked.store(true, Ordering::Relaxed);
        }
        let mut cx = Context::from_waker(Waker::noop());
        let readiness = pin!(self.socket.ready(tokio::io::Interest::READABLE));
        match readiness.poll(&mut cx) {
            Poll::Ready(Ok(ready)) if ready.is_read_closed() => true,
            Poll::Ready(Err(_)) => false,
            // Reported, and not a first call: the reactor's view is enough.
            Poll::Ready(Ok(_)) if !first => false,
            // A first call, or nothing reported yet: ask the socket.
            Poll::Ready(Ok(_)) | Poll::Pending => {
                let mut byte = [MaybeUninit::uninit()];
                matches!(socket2::SockRef::from(&self.socket).peek(&mut byte), Ok(0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback listener and a client connected to it (not accepted yet).
    async fn listener_and_client() -> (tokio::net::TcpListener, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        (listener, client)
    }

    /// Asks `probe` until it says closed, giving the reactor turns in between (bounded).
    async fn closed_within(probe: &PeerProbe, turns: usize) -> bool {
        for _ in 0..turns {
            if probe.peer_closed() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        probe.peer_closed()
    }

    #[tokio::test]
    async fn a_probe_sees_the_peer_close_and_keeps_seeing_it() {
        let (listener, mut client) = listener_and_client().await;
        let (mut server, _) = listener.accept().await.unwrap();
        let probe = PeerProbe::new(&server).expect("a probe");
        assert!(!probe.peer_closed(), "a connected, silent peer is there");
        // Data, read by the connection: the peer is still there, whether the reactor has
        // reported the duplicate yet or not.
        client.write_all(b"call").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!probe.peer_closed(), "a peer that sent a call is there");
        client.shutdown().await.unwrap();
        drop(client);
        assert!(
            closed_within(&probe, 500).await,
            "the end of stream is seen"
        );
        drop(server);
        // The connection's own descriptor is closed; the probe still has its duplicate.
        assert!(probe.peer_closed());
    }

    #[tokio::test]
    async fn a_probe_made_after_the_peer_closed_sees_it_at_once() {
        // A client that sent and closed before the server accepted it: whether the reactor
        // has reported the duplicate yet (readiness) or not (the peek), the first answer is
        // "closed" once the connection has read what was sent.
        let (listener, mut client) = listener_and_client().await;
        client.write_all(b"call").await.unwrap();
        client.shutdown().await.unwrap();
        drop(client);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (mut server, _) = listener.accept().await.unwrap();
        let probe = PeerProbe::new(&server).expect("a probe");
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert!(probe.peer_closed(), "at once");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(probe.peer_closed(), "and later");
    }
}
