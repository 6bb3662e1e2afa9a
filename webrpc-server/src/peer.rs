//! Whether an HTTP/1.1 client is still there when its call is about to start.
//!
//! hyper's HTTP/1 dispatcher drops a call whose connection it finds closed, but it only
//! looks when tokio reports the socket readable, and that report can come after the
//! handler started: a client that sends a whole call and closes at once (the HTTP/1.1
//! form of the "rapid reset") had about one call in ten run anyway, even when its end of
//! stream was in the kernel before the server read the request. So [`Server`](crate::Server)
//! gives each TCP connection a [`PeerProbe`], and the router asks it, once per HTTP/1.x
//! call, right before the handler starts: a `MSG_PEEK` read that returns end of stream
//! means the client has gone, and the call ends there (`WebrpcClientDisconnected`, which
//! nobody reads).
//!
//! The probe holds a duplicate of the connection's descriptor (`dup(2)`: one more entry in
//! the process's descriptor table per connection, no new socket), so it never looks at a
//! descriptor the connection has closed and the system reused. HTTP/2 needs no probe: a
//! reset or a closed connection reaches h2 as a frame or an error, and the router's yield
//! before the handler lets hyper act on it.
//!
//! One case it cannot tell apart: a client that half-closes after pipelining several
//! requests and still waits for their answers. hyper (without `half_close`, its default)
//! treats such a client as gone too, so nothing changes for it.

use std::sync::Arc;

/// A connection's view of its peer. See the module docs.
#[derive(Debug, Clone)]
pub(crate) struct PeerProbe {
    #[cfg(unix)]
    socket: Arc<std::net::TcpStream>,
}

impl PeerProbe {
    /// A probe of `stream`'s peer, or `None` where the descriptor cannot be duplicated (out
    /// of descriptors, or a platform without `dup`): the call then runs unprobed, as before.
    pub(crate) fn new(stream: &tokio::net::TcpStream) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let fd = stream.as_fd().try_clone_to_owned().ok()?;
            Some(PeerProbe {
                socket: Arc::new(std::net::TcpStream::from(fd)),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = stream;
            None
        }
    }

    /// Whether the peer has closed its side and left nothing unread: the next read of the
    /// connection would be its end. Never blocks (the socket is non-blocking, and the flag
    /// is shared by the duplicate); an error or pending data both mean "still there".
    pub(crate) fn peer_closed(&self) -> bool {
        #[cfg(unix)]
        {
            let mut byte = [0u8; 1];
            matches!(self.socket.peek(&mut byte), Ok(0))
        }
        #[cfg(not(unix))]
        {
            false
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_probe_sees_the_peer_close_only_once_nothing_is_left_to_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let probe = PeerProbe::new(&server).expect("a probe");
        assert!(!probe.peer_closed(), "a connected, silent peer is there");
        client.write_all(b"x").await.unwrap();
        client.shutdown().await.unwrap();
        drop(client);
        // The byte is unread: not the end yet, even though the peer closed.
        assert!(!probe.peer_closed());
        let mut server = server;
        let mut buf = [0u8; 1];
        tokio::io::AsyncReadExt::read_exact(&mut server, &mut buf)
            .await
            .unwrap();
        // The end of stream is next (a bounded wait for loopback to deliver it).
        let mut closed = probe.peer_closed();
        for _ in 0..500 {
            if closed {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            closed = probe.peer_closed();
        }
        assert!(closed, "the end of stream is next");
        drop(server);
        // The connection's own descriptor is closed; the probe still has its duplicate.
        assert!(probe.peer_closed());
    }
}
