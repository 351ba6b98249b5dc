//! CPU time read from `/proc` for the service benchmarks (`bridge/`, `fair/`): a process's
//! utime + stime, the whole machine's busy time, the Postgres server's processes and the kernel
//! threads, and a line describing the machine.

use std::collections::HashMap;

pub fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// (comm, parent pid, utime + stime in ns) of a process (its threads, living or ended; 10 ms
/// ticks).
pub fn process_stat(pid: u32) -> Option<(String, u32, u64)> {
    stat_of(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn stat_of(stat: &str) -> Option<(String, u32, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((comm, ppid, ticks * 1_000_000_000 / clock_ticks_per_second()))
}

/// utime + stime of a process, in ns.
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    process_stat(pid).map(|(_, _, ns)| ns)
}

/// utime + stime of this process (every thread: load generator and fakes), in ns.
pub fn self_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_of(&s))
        .map(|(_, _, ns)| ns)
        .unwrap_or(0)
}

/// Busy time of all CPUs since boot, in ns (10 ms ticks).
pub fn machine_busy_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let ticks = f[0] + f[1] + f[2] + f.get(5).unwrap_or(&0) + f.get(6).unwrap_or(&0);
    ticks * 1_000_000_000 / clock_ticks_per_second()
}

/// One pass over `/proc`: each Postgres server process's CPU (by pid), the kernel threads'
/// total (ksoftirqd does loopback networking's deferred work), and the machine's busy time.
#[derive(Clone, Default)]
pub struct SystemCpu {
    pub postgres: HashMap<u32, u64>,
    pub kernel: u64,
    pub machine: u64,
}

impl SystemCpu {
    pub fn now() -> Self {
        let mut cpu = SystemCpu::default();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let Some((comm, ppid, ns)) = process_stat(pid) else {
                continue;
            };
            if comm == "postgres" {
                cpu.postgres.insert(pid, ns);
            } else if pid == 2 || ppid == 2 {
                cpu.kernel += ns;
            }
        }
        cpu.machine = machine_busy_ns();
        cpu
    }

    /// Every Postgres process together.
    pub fn postgres_total(&self) -> u64 {
        self.postgres.values().sum()
    }
}

/// `N CPUs (model at MHz), memory, kernel`.
pub fn machine_notes() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "?".into());
    let mhz = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("cpu MHz"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "?".into());
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|m| m.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpus} CPUs ({model} at {mhz} MHz), {:.0} GiB, Linux {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}
