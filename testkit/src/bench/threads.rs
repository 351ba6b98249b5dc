//! CPU time of this process's threads, by name, for the benchmarks' CPU split (the fakes and
//! the load generator run on threads named for them).

/// Each living thread of this process: its name (`comm`) and its nanoseconds on the CPU (the
/// first field of `/proc/self/task/*/schedstat`).
pub fn thread_cpu_ns() -> Vec<(String, u64)> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .map(|entry| {
            let dir = entry.path();
            let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            let ns = std::fs::read_to_string(dir.join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok())
                .unwrap_or(0);
            (name, ns)
        })
        .collect()
}
