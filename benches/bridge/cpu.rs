//! Where the CPU went during a run: the load generator, the fakes, the bare server, the service
//! and Postgres, and what other processes used.

use crate::*;

/// CPU time in nanoseconds of the load generator (this process's threads other than the fakes'
/// and the bare server's), the fakes, the bare server, the service process and the Postgres
/// server's processes.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cpu {
    pub(crate) loader: u64,
    pub(crate) fakes: u64,
    pub(crate) bare: u64,
    pub(crate) service: u64,
    pub(crate) postgres: u64,
    pub(crate) kernel: u64,
    /// The whole machine's busy time (`/proc/stat`: user, nice, system, irq, softirq).
    pub(crate) machine: u64,
}

impl Cpu {
    pub(crate) fn now(service_pid: Option<u32>) -> Self {
        let mut cpu = Cpu::default();
        for (name, ns) in threads::thread_cpu_ns() {
            if name.starts_with("fakes") {
                cpu.fakes += ns;
            } else if name.starts_with("bare") {
                cpu.bare += ns;
            } else {
                cpu.loader += ns;
            }
        }
        if let Some(pid) = service_pid {
            cpu.service = process_cpu_ns(pid).unwrap_or(0);
        }
        let system = SystemCpu::now();
        cpu.postgres = system.postgres_total();
        cpu.kernel = system.kernel;
        cpu.machine = system.machine;
        cpu
    }

    /// This benchmark's processes: the load generator, fakes and bare server, the service and
    /// Postgres.
    pub(crate) fn ours(&self) -> u64 {
        self.loader + self.fakes + self.bare + self.service + self.postgres
    }

    /// What the rest of the machine used, kernel threads aside: other processes (a build next
    /// door), and interrupt time no process is charged with.
    pub(crate) fn others(&self) -> u64 {
        self.machine.saturating_sub(self.ours() + self.kernel)
    }

    pub(crate) fn since(self, before: Cpu) -> Cpu {
        Cpu {
            loader: self.loader.saturating_sub(before.loader),
            fakes: self.fakes.saturating_sub(before.fakes),
            bare: self.bare.saturating_sub(before.bare),
            service: self.service.saturating_sub(before.service),
            // Backends that ended meanwhile take their time with them: never below zero.
            postgres: self.postgres.saturating_sub(before.postgres),
            kernel: self.kernel.saturating_sub(before.kernel),
            machine: self.machine.saturating_sub(before.machine),
        }
    }
}
