//! An app's background tasks (a pub/sub subscriber, a consumer worker, migrations, a
//! sweeper): each is named, watches the app's shutdown, and is stopped and awaited,
//! for a bounded time, before the app exits. One that ends when it should not — a
//! panic, an error, or a long-running task returning before shutdown — is logged
//! with its name, and when the task is [`Task::required`] it makes `/readyz` answer
//! 503 instead of leaving the app serving without it.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;

use crate::shutdown::Shutdown;

/// What a task's future may return: nothing, or a result whose error is logged.
pub trait Outcome: Send + 'static {
    /// The failure, if any.
    fn failure(self) -> Option<String>;
}

impl Outcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl Outcome for anyhow::Result<()> {
    fn failure(self) -> Option<String> {
        self.err().map(|err| format!("{err:#}"))
    }
}

/// How a task is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Runs until shutdown; ending earlier is a failure.
    UntilStopped,
    /// Finishes by itself; only an error or a panic is a failure.
    Once,
}

/// A background task, not yet running.
pub struct Task {
    name: &'static str,
    kind: Kind,
    required: bool,
    future: BoxFuture<'static, Option<String>>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl Task {
    /// A task that runs until the app's shutdown (a subscriber, a worker, a sweeper):
    /// ending before shutdown is a failure.
    pub fn until_stopped<F>(name: &'static str, future: F) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        Self::new(name, Kind::UntilStopped, future)
    }

    /// A task that finishes by itself (migrations, topic creation): an error or a panic
    /// is a failure, finishing is not.
    pub fn once<F>(name: &'static str, future: F) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        Self::new(name, Kind::Once, future)
    }

    /// A failure of this task makes the app not ready (a readiness check named after
    /// the task).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The task's name (its readiness check and its log lines carry it).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether a failure makes the app not ready.
    pub fn is_required(&self) -> bool {
        self.required
    }

    fn new<F>(name: &'static str, kind: Kind, future: F) -> Self
    where
        F: Future + Send + 'static,
        F::Output: Outcome,
    {
        Self {
            name,
            kind,
            required: false,
            future: Box::pin(future.map(Outcome::failure)),
        }
    }
}

/// Whether a task failed, shared between the task's watcher and the readiness check.
#[derive(Debug, Clone, Default)]
pub struct TaskHealth(Arc<Mutex<Option<String>>>);

impl TaskHealth {
    /// `Ok` while the task has not failed; else why it failed.
    pub fn check(&self) -> Result<(), String> {
        match &*self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            None => Ok(()),
            Some(reason) => Err(reason.clone()),
        }
    }

    fn fail(&self, reason: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
    }
}

/// The running tasks of an app.
#[derive(Debug)]
pub struct Tasks {
    shutdown: Shutdown,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Tasks {
    /// No tasks yet; `shutdown` is the signal every task watches.
    pub fn new(shutdown: Shutdown) -> Self {
        Self {
            shutdown,
            running: Vec::new(),
        }
    }

    /// Starts `task`; the returned health says whether it failed.
    pub fn spawn(&mut self, task: Task) -> TaskHealth {
        let health = TaskHealth::default();
        let watch = health.clone();
        let shutdown = self.shutdown.clone();
        let Task {
            name, kind, future, ..
        } = task;
        let handle = tokio::spawn(async move {
            let failure = match AssertUnwindSafe(future).catch_unwind().await {
                Ok(failure) => failure,
                Err(panic) => Some(format!("panicked: {}", panic_message(panic.as_ref()))),
            };
            let failure = failure.or_else(|| {
                (kind == Kind::UntilStopped && !shutdown.is_triggered())
                    .then(|| "stopped before the app did".to_owned())
            });
            if let Some(reason) = failure {
                tracing::error!(task = name, %reason, "background task failed");
                watch.fail(format!("{name} {reason}"));
            }
        });
        self.running.push((name, handle));
        health
    }

    /// Waits for every task after shutdown (each watches it), at most `limit` in all;
    /// tasks still running then are aborted, with a warning naming them.
    pub async fn stop(self, limit: Duration) {
        self.shutdown.trigger();
        let deadline = tokio::time::Instant::now() + limit;
        for (name, mut handle) in self.running {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                tracing::warn!(
                    task = name,
                    ?limit,
                    "task did not stop in time; aborting it"
                );
                handle.abort();
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    async fn settled() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_task_that_runs_until_shutdown_is_healthy_and_stops_with_the_app() {
        let shutdown = Shutdown::new();
        let mut tasks = Tasks::new(shutdown.clone());
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        let watched = shutdown.clone();
        let health = tasks.spawn(Task::until_stopped("worker", async move {
            watched.wait().await;
            flag.store(true, Ordering::SeqCst);
        }));
        settled().await;
        assert_eq!(health.check(), Ok(()));
        tasks.stop(Duration::from_secs(5)).await;
        assert!(stopped.load(Ordering::SeqCst));
        assert_eq!(health.check(), Ok(()), "stopping on shutdown is no failure");
    }

    #[tokio::test]
    async fn a_long_running_task_that_ends_early_fails() {
        let mut tasks = Tasks::new(Shutdown::new());
        let health = tasks.spawn(Task::until_stopped("subscriber", async {}));
        settled().await;
        let reason = health.check().unwrap_err();
        assert!(
            reason.contains("subscriber stopped before the app"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn a_panic_or_an_error_fails_a_task_and_says_why() {
        let mut tasks = Tasks::new(Shutdown::new());
        let zero = std::hint::black_box(0);
        let panicked = tasks.spawn(Task::once("migrations", async move {
            assert!(zero > 0, "commit_interval is zero");
        }));
        let failed = tasks.spawn(Task::once("topics", async {
            Err::<(), _>(anyhow::anyhow!("broker gone"))
        }));
        let finished = tasks.spawn(Task::once("seed", async {}));
        settled().await;
        let reason = panicked.check().unwrap_err();
        assert!(reason.contains("commit_interval is zero"), "{reason}");
        assert!(failed.check().unwrap_err().contains("broker gone"));
        assert_eq!(finished.check(), Ok(()), "a job that finishes is fine");
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_ignores_shutdown_is_aborted_after_the_limit() {
        let mut tasks = Tasks::new(Shutdown::new());
        tasks.spawn(Task::until_stopped("stuck", std::future::pending::<()>()));
        let started = tokio::time::Instant::now();
        tasks.stop(Duration::from_secs(3)).await;
        assert!(started.elapsed() >= Duration::from_secs(3));
    }
}
