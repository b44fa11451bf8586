//! The stitching figure: for each hop of the checkout journey, the report gives the
//! share of checkout traces that contain it as numbers (`stitched n/m traces (p%)`),
//! pass or fail, so that the first real cluster run measures what OBI stitches. A
//! hop OBI fails to link reads as a lower share, and only that hop.

use std::time::Duration;

use regex::Regex;

use crate::fixture::{self, FSpan, Telemetry, repo_root};
use crate::scenario::{self, slots};
use crate::specs::load_resolved;

/// The hops of checkout.yaml's trace-shape expectations, by their names' words.
const HOPS: [&str; 5] = [
    "the cart hop",
    "the reservation hop",
    "the order hop",
    "the event hop",
    "the receipt hop",
];

/// (stitched, traces) of each hop, as the report prints them.
async fn shares(telemetry: &Telemetry) -> Vec<(String, u64, u64, String)> {
    let spec = load_resolved(&repo_root().join("charts/checkout/telemetry/checkout.yaml"))
        .unwrap_or_else(|err| panic!("{err}"));
    let (prometheus, jaeger) = {
        let _slot = slots().acquire().await.expect("semaphore");
        tokio::join!(
            scenario::prometheus_with(telemetry),
            scenario::jaeger_with(telemetry)
        )
    };
    let report = scenario::check(
        &spec,
        &prometheus.process.url(),
        &jaeger.url(),
        Duration::from_secs(30),
    )
    .await;
    let rendered = report.render();
    let figure = Regex::new(r"stitched (\d+)/(\d+) traces \((\d+\.\d)%\)").unwrap();
    HOPS.iter()
        .map(|hop| {
            // The hop's trace-shape line (its metric lines carry no figure).
            let numbers = rendered
                .lines()
                .filter(|line| line.contains(hop) && line.contains("trace"))
                .find_map(|line| figure.captures(line))
                .unwrap_or_else(|| panic!("{hop}: no stitching figure in:\n{rendered}"));
            (
                (*hop).to_owned(),
                numbers[1].parse().unwrap(),
                numbers[2].parse().unwrap(),
                numbers[3].to_owned(),
            )
        })
        .collect()
}

/// `t` without sql-application's server spans under checkout's order calls: what a
/// lost `traceparent` on that hop looks like.
fn order_hop_unlinked(mut t: Telemetry) -> Telemetry {
    fn walk(span: &mut FSpan) {
        if span.service == "checkout" && span.name == "POST /api/v1/orders" && span.kind == 3 {
            span.children
                .retain(|child| child.service != "sql-application");
        }
        span.children.iter_mut().for_each(walk);
    }
    t.traces.iter_mut().for_each(walk);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_gives_each_hops_stitched_share_and_a_lost_link_lowers_only_its_own() {
    let normal = fixture::app("checkout", None).expect("checkout's fixture");
    let unlinked = order_hop_unlinked(normal.clone());
    let (before, after) = tokio::join!(shares(&normal), shares(&unlinked));
    for (hop, stitched, traces, percent) in &before {
        // Checkouts refused before any hop (400, 413, 415, 422) are traces too.
        assert!(
            *stitched > 0 && stitched <= traces,
            "{hop}: {stitched}/{traces} ({percent}%)"
        );
    }
    for ((hop, stitched, traces, percent), (_, was, _, _)) in after.iter().zip(&before) {
        if hop == "the order hop" {
            assert_eq!(*stitched, 0, "{hop}: {stitched}/{traces}");
            assert_eq!(percent, "0.0", "{hop}");
        } else {
            assert_eq!(stitched, was, "{hop} must not change");
        }
    }
}
