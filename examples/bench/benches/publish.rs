//! PublishCollection through the webrpc stack vs the hand-written hyper baseline
//! (`bench::baseline`), in process: the server side (router dispatch, decode, handler,
//! encode) and the client side (request building, encode, response decode), with the
//! allocations per call of each side printed next to each other and the time ratios.
//!
//! ```text
//! cargo bench -p bench --bench publish
//! ```

use std::alloc::System;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::Criterion;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use sequence_metadata::{
    Collection, MetadataError, PublishCollection, PublishCollectionRequest,
    PublishCollectionResponse, Timestamp,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tower::ServiceExt;
use webrpc_client::Client;
use webrpc_core::{RequestContext, WebrpcError};
use webrpc_server::Router;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const BODY: &[u8] = br#"{"projectId":30957,"collectionId":888}"#;

type Store = Arc<Mutex<HashMap<(u64, u64), Collection>>>;

fn webrpc_router() -> Router {
    let seed: Collection =
        serde_json::from_value(serde_json::to_value(bench::baseline::seed_collection()).unwrap())
            .unwrap();
    let store: Store = Arc::default();
    store
        .lock()
        .unwrap()
        .insert((seed.project_id, seed.id), seed);
    Router::new().route(
        PublishCollection,
        move |_ctx: RequestContext, req: PublishCollectionRequest| {
            let store = store.clone();
            async move {
                let project = req.project_id.unwrap_or_default();
                let mut map = store.lock().unwrap_or_else(|e| e.into_inner());
                let collection = map
                    .get_mut(&(project, req.collection_id))
                    .ok_or_else(|| MetadataError::NotFound.err())?;
                collection.private = false;
                collection.updated_at = Timestamp::now();
                Ok::<_, WebrpcError>(PublishCollectionResponse {
                    collection: collection.clone(),
                })
            }
        },
    )
}

fn baseline_store() -> bench::baseline::BaselineStore {
    let store = bench::baseline::BaselineStore::new();
    store.insert(bench::baseline::seed_collection());
    store
}

fn request() -> Request<Full<Bytes>> {
    Request::builder()
        .method("POST")
        .uri("/rpc/Collections/PublishCollection")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(BODY)))
        .unwrap()
}

async fn drain<B>(response: Response<B>) -> usize
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(body.len() > 100, "{body:?}");
    body.len()
}

/// The canned server answer the client benchmarks decode.
fn canned_answer() -> Bytes {
    let rt = runtime();
    let router = webrpc_router();
    let response = rt.block_on(router.oneshot(request())).unwrap();
    rt.block_on(response.into_body().collect())
        .unwrap()
        .to_bytes()
}

type Canned = tower::util::BoxCloneSyncService<
    Request<Full<Bytes>>,
    Response<Full<Bytes>>,
    std::convert::Infallible,
>;

fn canned_service(answer: Bytes) -> Canned {
    Canned::new(tower::service_fn(move |_req: Request<Full<Bytes>>| {
        let answer = answer.clone();
        async move {
            let mut response = Response::new(Full::new(answer));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
    }))
}

/// The client side written by hand: what a hyper user would write for this one call.
async fn baseline_client_call(service: &Canned) -> bench::baseline::Collection {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Args {
        project_id: u64,
        collection_id: u64,
    }
    #[derive(serde::Deserialize)]
    struct Returns {
        collection: bench::baseline::Collection,
    }
    let body = serde_json::to_vec(&Args {
        project_id: 30957,
        collection_id: 888,
    })
    .unwrap();
    let request = Request::builder()
        .method("POST")
        .uri("http://127.0.0.1:4242/rpc/Collections/PublishCollection")
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header(
            "webrpc",
            "webrpc@v0.31.0;baseline@v0.0.0;sequence-metadata@v0.4.0",
        )
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = service.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice::<Returns>(&bytes)
        .unwrap()
        .collection
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Allocations per call of `f`, averaged over `n` calls (after a warm-up call).
fn allocs_per_call(
    rt: &tokio::runtime::Runtime,
    n: usize,
    mut f: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> f64 {
    rt.block_on(f());
    // The boxing of the benchmark closure's future is counted on both sides alike; subtract it.
    let boxing = {
        let region = Region::new(GLOBAL);
        let fut: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> = Box::pin(async {});
        rt.block_on(fut);
        region.change().allocations
    };
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        rt.block_on(f());
    }
    let total = region.change().allocations;
    (total as f64 / n as f64) - boxing as f64
}

/// Median time per call of each side, interleaved so both see the same machine noise.
fn interleaved_ratio(
    rt: &tokio::runtime::Runtime,
    rounds: usize,
    batch: usize,
    mut ours: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
    mut base: impl FnMut() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> (Duration, Duration) {
    let mut a = Vec::with_capacity(rounds);
    let mut b = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..batch {
            rt.block_on(ours());
        }
        a.push(t.elapsed() / batch as u32);
        let t = Instant::now();
        for _ in 0..batch {
            rt.block_on(base());
        }
        b.push(t.elapsed() / batch as u32);
    }
    a.sort();
    b.sort();
    (a[rounds / 2], b[rounds / 2])
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let rt = runtime();

    let router = webrpc_router();
    let store = baseline_store();
    {
        let mut group = c.benchmark_group("server: PublishCollection in process");
        group.bench_function("webrpc router", |b| {
            b.to_async(&rt).iter(|| {
                let router = router.clone();
                async move { black_box(drain(router.oneshot(request()).await.unwrap()).await) }
            })
        });
        group.bench_function("hand-written hyper handler", |b| {
            b.to_async(&rt).iter(|| {
                let store = store.clone();
                async move {
                    black_box(drain(bench::baseline::handle(&store, request()).await).await)
                }
            })
        });
        group.finish();
    }

    let answer = canned_answer();
    let client = Client::builder("http://127.0.0.1:4242")
        .timeout(if std::env::var_os("NO_TIMEOUT").is_some() {
            None
        } else {
            Some(Duration::from_secs(30))
        })
        .build_with(canned_service(answer.clone()))
        .unwrap();
    let canned = canned_service(answer);
    let args = PublishCollectionRequest {
        project_id: Some(30957),
        collection_id: 888,
        recursive: None,
    };
    {
        let mut group = c.benchmark_group("client: PublishCollection encode + decode");
        group.bench_function("webrpc client", |b| {
            b.to_async(&rt).iter(|| async {
                black_box(client.call::<PublishCollection>(&args).await.unwrap())
            })
        });
        group.bench_function("hand-written hyper client code", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(baseline_client_call(&canned).await) })
        });
        group.finish();
    }
    c.final_summary();

    // Side by side: allocations per call, and interleaved median time ratios.
    let n = 2000;
    let server_ours = allocs_per_call(&rt, n, || {
        let router = router.clone();
        Box::pin(async move {
            drain(router.oneshot(request()).await.unwrap()).await;
        })
    });
    let server_base = allocs_per_call(&rt, n, || {
        let store = store.clone();
        Box::pin(async move {
            drain(bench::baseline::handle(&store, request()).await).await;
        })
    });
    let client_ours = allocs_per_call(&rt, n, || {
        let client = client.clone();
        let args = args.clone();
        Box::pin(async move {
            black_box(client.call::<PublishCollection>(&args).await.unwrap());
        })
    });
    let client_base = allocs_per_call(&rt, n, || {
        let canned = canned.clone();
        Box::pin(async move {
            black_box(baseline_client_call(&canned).await);
        })
    });
    let (server_t_ours, server_t_base) = interleaved_ratio(
        &rt,
        31,
        500,
        || {
            let router = router.clone();
            Box::pin(async move {
                drain(router.oneshot(request()).await.unwrap()).await;
            })
        },
        || {
            let store = store.clone();
            Box::pin(async move {
                drain(bench::baseline::handle(&store, request()).await).await;
            })
        },
    );
    let (client_t_ours, client_t_base) = interleaved_ratio(
        &rt,
        31,
        500,
        || {
            let client = client.clone();
            let args = args.clone();
            Box::pin(async move {
                black_box(client.call::<PublishCollection>(&args).await.unwrap());
            })
        },
        || {
            let canned = canned.clone();
            Box::pin(async move {
                black_box(baseline_client_call(&canned).await);
            })
        },
    );
    println!();
    println!("PublishCollection, in process (median of 31 interleaved rounds of 500 calls)");
    println!(
        "{:<8} {:>14} {:>14} {:>7}   {:>12} {:>12} {:>7}",
        "side", "webrpc", "baseline", "ratio", "allocs ours", "allocs base", "ratio"
    );
    for (side, to, tb, ao, ab) in [
        (
            "server",
            server_t_ours,
            server_t_base,
            server_ours,
            server_base,
        ),
        (
            "client",
            client_t_ours,
            client_t_base,
            client_ours,
            client_base,
        ),
    ] {
        println!(
            "{side:<8} {:>14?} {:>14?} {:>7.3}   {ao:>12.1} {ab:>12.1} {:>7.3}",
            to,
            tb,
            to.as_secs_f64() / tb.as_secs_f64(),
            ao / ab
        );
    }
}
