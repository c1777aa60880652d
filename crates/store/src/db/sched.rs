//! The SQLite writer first. It is the one thread every write waits for, and on a small machine
//! it shares its cores with the HTTP workers, the readers and the syncer. Under the default
//! policy each of their wake-ups may preempt it mid-batch: measured on the lifecycle benchmark
//! (2 cores), the writer spent 12.6 % of the time ready to run but preempted. A binary that
//! serves a SQLite database starts its threads as SCHED_BATCH (same nice value and share of the
//! CPU, but a wake-up does not preempt a running thread) and the writer as SCHED_OTHER, so the
//! writer's batches run through and the others take the idle core or the writer's turn's end.
//! No privilege is needed. Threads the operator started under another policy or nice value are
//! left as they are; so is everything with `YICHUANG_SCHED=fair`.

use thread_priority::{
    set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadPriority,
    ThreadPriorityOsValue, ThreadSchedulePolicy,
};

const OTHER: u32 = 0;
const BATCH: u32 = 3;

fn enabled() -> bool {
    std::env::var("YICHUANG_SCHED").map_or(true, |v| v != "fair")
}

/// The calling thread's (policy, nice) as the kernel reports them; None off Linux.
pub(crate) fn current() -> Option<(u32, i64)> {
    policy_and_nice(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// (policy, nice) from a thread's or process's `/proc/.../stat` line.
pub(crate) fn policy_and_nice(stat: &str) -> Option<(u32, i64)> {
    // Fields from the third on (the name in field 2 may hold spaces); nice is field 19,
    // policy field 41.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    Some((fields.get(38)?.parse().ok()?, fields.get(16)?.parse().ok()?))
}

/// Moves the calling thread from one normal policy to another, only if it runs under `from`
/// at nice 0: the library sets the nice value with the policy, and an operator's choice of
/// either is kept.
fn switch(from: u32, to: NormalThreadSchedulePolicy) {
    if !enabled() || current() != Some((from, 0)) {
        return;
    }
    if let Err(e) = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Os(ThreadPriorityOsValue::default()),
        ThreadSchedulePolicy::Normal(to),
    ) {
        tracing::warn!(error = ?e, "cannot change a thread's scheduling policy");
    }
}

/// Called by a binary that will write to SQLite, before it starts its runtime: the calling
/// thread, and every thread it or they start afterwards, defer to the writer.
pub fn yield_to_writer() {
    switch(OTHER, NormalThreadSchedulePolicy::Batch);
}

/// The writer thread itself: the default policy again.
pub(crate) fn writer_thread() {
    switch(BATCH, NormalThreadSchedulePolicy::Other);
}

/// Runs `f` with the calling thread under the default policy, for what it starts that is not
/// this process's (another server: a child process inherits the policy of the thread that
/// starts it).
pub fn as_started<T>(f: impl FnOnce() -> T) -> T {
    let batch = enabled() && current() == Some((BATCH, 0));
    if batch {
        switch(BATCH, NormalThreadSchedulePolicy::Other);
    }
    let out = f();
    if batch {
        switch(OTHER, NormalThreadSchedulePolicy::Batch);
    }
    out
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{current, BATCH, OTHER};

    #[test]
    fn threads_started_after_yield_defer_to_the_writer() {
        // Only from the default policy at nice 0 does anything change.
        if std::env::var("YICHUANG_SCHED").is_ok() || current() != Some((OTHER, 0)) {
            return;
        }
        let (started_after, writer, child) = std::thread::spawn(|| {
            super::yield_to_writer();
            let started_after = std::thread::spawn(current).join().unwrap();
            let writer = std::thread::spawn(|| {
                super::writer_thread();
                current()
            })
            .join()
            .unwrap();
            let child = super::as_started(|| {
                std::process::Command::new("sh")
                    .args(["-c", "cat /proc/self/stat"])
                    .output()
                    .unwrap()
            });
            let child = super::policy_and_nice(&String::from_utf8(child.stdout).unwrap());
            (started_after, writer, (child, current()))
        })
        .join()
        .unwrap();
        assert_eq!(
            started_after,
            Some((BATCH, 0)),
            "started after: SCHED_BATCH"
        );
        assert_eq!(writer, Some((OTHER, 0)), "the writer: SCHED_OTHER");
        assert_eq!(
            child.0.map(|(policy, _)| policy),
            Some(OTHER),
            "a process started through as_started: SCHED_OTHER"
        );
        assert_eq!(
            child.1,
            Some((BATCH, 0)),
            "and the thread is SCHED_BATCH again"
        );
        // The test's own thread started before: untouched.
        assert_eq!(current(), Some((OTHER, 0)));
    }
}
