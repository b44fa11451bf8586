//! The trace backend chosen by configuration (Jaeger or Tempo), behind one
//! interface: count matching spans, fetch whole traces holding a matching span.

use std::time::{Duration, SystemTime};

use crate::backend::BackendError;
use crate::jaeger::Jaeger;
use crate::spans::{self, Span};
use crate::spec::SpanSelector;
use crate::tempo::Tempo;

/// How many traces one query may bring back (bounds memory and time).
pub const MAX_TRACES: usize = 500;

#[derive(Debug, Clone)]
pub enum Traces {
    Jaeger(Jaeger),
    Tempo(Tempo),
}

/// A time range ending now.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: SystemTime,
    pub end: SystemTime,
}

impl Window {
    pub fn last(duration: Duration) -> Self {
        let end = SystemTime::now();
        Window {
            start: end.checked_sub(duration).unwrap_or(SystemTime::UNIX_EPOCH),
            end,
        }
    }
}

impl Traces {
    pub fn base(&self) -> &str {
        match self {
            Traces::Jaeger(jaeger) => jaeger.base(),
            Traces::Tempo(tempo) => tempo.base(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Traces::Jaeger(_) => "jaeger",
            Traces::Tempo(_) => "tempo",
        }
    }

    /// Proves the URL answers like this kind of backend.
    pub async fn probe(&self) -> Result<(), BackendError> {
        match self {
            Traces::Jaeger(jaeger) => jaeger.probe().await,
            Traces::Tempo(tempo) => tempo.probe().await,
        }
    }

    /// How many spans match, and the query that found them (for the report).
    pub async fn count_spans(
        &self,
        selector: &SpanSelector,
        window: Window,
    ) -> Result<(u64, String), BackendError> {
        match self {
            Traces::Jaeger(jaeger) => {
                let (spans, query) = jaeger.find_traces(selector, window).await?;
                Ok((spans::count_matching(selector, &spans), query))
            }
            Traces::Tempo(tempo) => tempo.count_spans(selector, window).await,
        }
    }

    /// Every span of the traces that hold a span matching `selector`.
    pub async fn traces_with(
        &self,
        selector: &SpanSelector,
        window: Window,
    ) -> Result<(Vec<Span>, String), BackendError> {
        match self {
            Traces::Jaeger(jaeger) => jaeger.find_traces(selector, window).await,
            Traces::Tempo(tempo) => tempo.traces_with(selector, window).await,
        }
    }
}
