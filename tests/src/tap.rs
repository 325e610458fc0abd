//! A recording TCP pass-through in front of a real server: clients connect to the tap,
//! every byte is forwarded unchanged, and what the clients sent is kept so a test can
//! show what a host did (or did not) receive — e.g. that a secret never reached it.
//! Plain TCP: put it in front of plain-http servers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running tap; stops accepting when dropped.
#[derive(Debug)]
pub struct TcpTap {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<u8>>>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    handle: JoinHandle<()>,
}

impl TcpTap {
    /// Listens on a free `127.0.0.1` port and forwards each connection to `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<TcpTap> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sent = Arc::new(Mutex::new(Vec::new()));
        let recorded = sent.clone();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        let handle = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(forward(client, target, recorded.clone()));
            }
        });
        Ok(TcpTap {
            addr,
            sent,
            connections,
            handle,
        })
    }

    /// `127.0.0.1:PORT`: the upstream as clients of the tap name it.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// How many TCP connections clients opened through the tap so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every byte clients sent through the tap so far, connections concatenated.
    pub fn sent(&self) -> Vec<u8> {
        self.sent.lock().expect("tap lock").clone()
    }
}

impl Drop for TcpTap {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

async fn forward(client: TcpStream, target: SocketAddr, sent: Arc<Mutex<Vec<u8>>>) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                sent.lock().expect("tap lock").extend_from_slice(&buf[..n]);
                if server_write.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = server_write.shutdown().await;
    let _ = back.await;
}
