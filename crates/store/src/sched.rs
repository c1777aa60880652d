//! The SQLite writer first. It is the one thread every write waits for, and on a small machine
//! it shares its cores with the HTTP workers, the readers and the syncer. Under the default
//! policy each of their wake-ups may preempt it mid-batch: measured on the lifecycle benchmark
//! (2 cores), the writer spent 12.6 % of the time ready to run but preempted. Every other thread
//! of the process runs as SCHED_BATCH (same share of the CPU, same nice value, but a wake-up no
//! longer preempts a running thread) and the writer as SCHED_OTHER, so the writer's batches run
//! through and the others take the idle core or the writer's turn's end. No privilege is
//! needed. `YICHUANG_SCHED=fair` leaves every thread as it was started.

use thread_priority::{
    set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy, ThreadPriority,
    ThreadPriorityOsValue, ThreadSchedulePolicy,
};

fn enabled() -> bool {
    std::env::var("YICHUANG_SCHED").map_or(true, |v| v != "fair")
}

fn set(policy: NormalThreadSchedulePolicy) -> Result<(), thread_priority::Error> {
    set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Os(ThreadPriorityOsValue::default()),
        ThreadSchedulePolicy::Normal(policy),
    )
}

/// Called by a binary before it starts its runtime: the calling thread, and every thread it or
/// they start afterwards, defer to the writer.
pub fn yield_to_writer() {
    if enabled() {
        if let Err(e) = set(NormalThreadSchedulePolicy::Batch) {
            tracing::debug!(error = ?e, "threads keep the default scheduling policy");
        }
    }
}

/// The writer thread itself: the default policy, whatever it inherited.
pub(crate) fn writer_thread() {
    if enabled() {
        if let Err(e) = set(NormalThreadSchedulePolicy::Other) {
            tracing::debug!(error = ?e, "the writer keeps its scheduling policy");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The calling thread's scheduling policy, as the kernel reports it (0 SCHED_OTHER,
    /// 3 SCHED_BATCH).
    fn policy() -> u32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        // Field 41 of stat; `after` starts at field 3.
        after.split(' ').nth(38).unwrap().parse().unwrap()
    }

    #[test]
    fn threads_started_after_yield_defer_to_the_writer() {
        if std::env::var("YICHUANG_SCHED").is_ok() {
            return;
        }
        let (started_after, writer) = std::thread::spawn(|| {
            super::yield_to_writer();
            let started_after = std::thread::spawn(policy).join().unwrap();
            let writer = std::thread::spawn(|| {
                super::writer_thread();
                policy()
            })
            .join()
            .unwrap();
            (started_after, writer)
        })
        .join()
        .unwrap();
        assert_eq!(
            started_after, 3,
            "a thread started after yield_to_writer is SCHED_BATCH"
        );
        assert_eq!(writer, 0, "the writer is SCHED_OTHER");
        // The test's own thread started before: untouched.
        assert_eq!(policy(), 0);
    }
}
