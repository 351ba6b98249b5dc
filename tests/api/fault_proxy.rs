//! A TCP proxy in front of a fake that can go down and come back on the same port: while it
//! is down, connections are refused and those open are cut, as when a peer's host is gone.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct FaultProxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    /// The accept loop and every connection it opened, so `down` can end them all.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl FaultProxy {
    /// A proxy to `target_url`'s host and port, up.
    pub async fn start(target_url: &str) -> Self {
        let target = url::Url::parse(target_url)
            .unwrap()
            .socket_addrs(|| None)
            .unwrap()[0];
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            target,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Refuses new connections and cuts the open ones.
    pub fn down(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) {
        // The aborted accept loop drops its listener on its next poll: retry the bind briefly.
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(self.addr).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the proxy's port {} could not be bound again", self.addr);
    }

    fn serve(&self, listener: TcpListener) {
        let (tasks, target) = (self.tasks.clone(), self.target);
        let accept = tokio::spawn({
            let tasks = tasks.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let conn = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    tasks.lock().unwrap().push(conn.abort_handle());
                }
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
    }
}
