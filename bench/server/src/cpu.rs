//! Where the machine's CPU went during a phase: the server's process, the load generator
//! (this process), and what was left idle, waiting on the disk, or taken by the hypervisor.
//!
//! Throughput on a shared virtual machine moves by a quarter from one run to the next with
//! the neighbours' load. CPU time per response moves much less, so it is what compares two
//! builds, and what tells how far a goal is from what two cores can give.
//!
//! Everything comes from `/proc`: a process's `utime + stime` from `/proc/PID/stat`, the
//! machine's time by state from the first line of `/proc/stat`. Both count in the same clock
//! ticks, so shares are taken between them and turned into time by the phase's wall time and
//! the number of CPUs, without needing the tick length.

use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The counters at one moment.
#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    /// Ticks of each watched process (user + system).
    processes: Vec<u64>,
    /// Machine-wide ticks: all, idle, I/O wait, steal.
    machine: MachineTicks,
}

#[derive(Debug, Clone, Copy, Default)]
struct MachineTicks {
    total: u64,
    idle: u64,
    iowait: u64,
    steal: u64,
}

/// Measures CPU use between [`Meter::start`] and [`Meter::finish`].
#[derive(Debug)]
pub(crate) struct Meter {
    pids: Vec<u32>,
    start: Sample,
}

/// CPU use over a phase, in CPU-seconds and shares of the machine.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    /// CPU time of each watched process, in the order given to [`Meter::start`].
    pub(crate) processes: Vec<Duration>,
    /// Shares of all the machine's CPU time (CPUs × wall time) spent idle, waiting on I/O
    /// with nothing to run, and stolen by the hypervisor for other guests.
    pub(crate) idle: f64,
    pub(crate) iowait: f64,
    pub(crate) steal: f64,
}

impl Meter {
    /// Starts measuring the processes `pids` and the machine.
    pub(crate) fn start(pids: &[u32]) -> anyhow::Result<Self> {
        Ok(Meter {
            pids: pids.to_vec(),
            start: sample(pids)?,
        })
    }

    /// What was used since the start.
    pub(crate) fn finish(self) -> anyhow::Result<Usage> {
        let end = sample(&self.pids)?;
        let wall = end.at.duration_since(self.start.at);
        let total = end
            .machine
            .total
            .saturating_sub(self.start.machine.total)
            .max(1) as f64;
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        // One machine tick is this much time on one CPU.
        let tick = wall.as_secs_f64() * cpus / total;
        let share = |field: fn(&MachineTicks) -> u64| {
            field(&end.machine).saturating_sub(field(&self.start.machine)) as f64 / total
        };
        Ok(Usage {
            processes: end
                .processes
                .iter()
                .zip(&self.start.processes)
                .map(|(after, before)| {
                    Duration::from_secs_f64(after.saturating_sub(*before) as f64 * tick)
                })
                .collect(),
            idle: share(|ticks| ticks.idle),
            iowait: share(|ticks| ticks.iowait),
            steal: share(|ticks| ticks.steal),
        })
    }
}

impl Usage {
    /// CPU time of process `index` per item (response or row), in microseconds.
    pub(crate) fn micros_per(&self, index: usize, items: u64) -> f64 {
        self.processes.get(index).map_or(0.0, Duration::as_secs_f64) * 1e6 / items.max(1) as f64
    }
}

fn sample(pids: &[u32]) -> anyhow::Result<Sample> {
    let processes = pids
        .iter()
        .map(|&pid| process_ticks(pid))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Sample {
        at: Instant::now(),
        processes,
        machine: machine_ticks()?,
    })
}

/// `utime + stime` of a process, in clock ticks.
fn process_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading the CPU time of process {pid}"))?;
    // The command name, in parentheses, may hold spaces: fields are counted after it.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no command name in /proc/PID/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3 of the whole line, utime 14 and stime 15.
    let field = |number: usize| -> anyhow::Result<u64> {
        fields
            .get(number - 3)
            .context("short /proc/PID/stat")?
            .parse()
            .context("a CPU time in /proc/PID/stat")
    };
    Ok(field(14)? + field(15)?)
}

/// The machine's clock ticks by state, summed over its CPUs.
fn machine_ticks() -> anyhow::Result<MachineTicks> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = stat
        .lines()
        .find(|line| line.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("a tick count in /proc/stat")?;
    anyhow::ensure!(values.len() == 8, "short cpu line in /proc/stat");
    Ok(MachineTicks {
        total: values.iter().sum(),
        idle: values[3],
        iowait: values[4],
        steal: values[7],
    })
}

#[cfg(test)]
mod tests {
    use super::Meter;

    /// Spinning for a while shows up as this process's CPU time, within what the wall clock
    /// allows; a process that sleeps shows almost none.
    #[test]
    fn a_busy_process_is_charged_its_cpu_and_a_sleeping_one_is_not() {
        let me = std::process::id();
        let mut sleeper = std::process::Command::new("sleep")
            .arg("2")
            .spawn()
            .expect("sleep runs");
        let meter = Meter::start(&[me, sleeper.id()]).expect("meter starts");
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(600) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let wall = started.elapsed();
        let usage = meter.finish().expect("meter finishes");
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        let busy = usage.processes[0].as_secs_f64();
        // Other tests run in this process at the same time: it may use every CPU, no more.
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        assert!(
            busy > 0.1 && busy < wall.as_secs_f64() * cpus * 1.1 + 0.05,
            "spinning for {wall:?} was charged {busy} s"
        );
        assert!(
            usage.processes[1].as_secs_f64() < 0.05,
            "a sleeping process was charged {:?}",
            usage.processes[1]
        );
        assert!(
            (0.0..=1.0).contains(&usage.idle) && (0.0..=1.0).contains(&usage.steal),
            "shares out of range: {usage:?}"
        );
        assert!((usage.micros_per(0, 1000) - busy * 1000.0).abs() < 1.0);
    }
}
