// Where the machine's CPU went during a slice of `./iomt bench:gateway` (Linux /proc): the served
// gateway's main thread and its other threads (verifier threads, libuv's pool, V8's helpers), the
// load generator (this process) and the whole machine. It tells a server held back by its own main
// thread (that thread near 100 % of a core, cores to spare) from one held back by the machine (every
// core busy, the load generator's share included), which throughput alone cannot.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** utime + stime of one /proc stat line, in seconds (fields 14 and 15, counted after the command name's closing parenthesis). */
function cpuSecondsOf(statLine: string): number {
  const fields = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds so far of a process's main thread and of all its other threads together (0 for threads that exited). */
function processThreads(pid: number): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let seconds: number;
    try {
      seconds = cpuSecondsOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
    } catch {
      continue; // the thread exited between the listing and the read
    }
    if (Number(tid) === pid) main = seconds;
    else others += seconds;
  }
  return { main, others };
}

/** Busy core-seconds of the whole machine so far (/proc/stat: everything but idle and iowait). */
function machineBusy(): number {
  const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

export type CpuShare = {
  /** Shares of one core over the slice (100 = one core busy the whole time). */
  gatewayMainThread: number | null;
  gatewayOtherThreads: number | null;
  loadGenerator: number;
  /** Busy cores of the whole machine (of `cores`). */
  machineCores: number;
  cores: number;
  /** The gateway process's CPU (every thread) per accepted message, in µs. */
  gatewayMicrosecondsPerMessage: number | null;
};

/** Starts measuring; `end(accepted)` returns the shares since. `pid`: the gateway measured, if any. */
export function measureCpu(pid?: number): { end(accepted: number): CpuShare } {
  const started = performance.now();
  const gateway = pid === undefined ? undefined : processThreads(pid);
  const self = process.cpuUsage();
  const machine = machineBusy();
  return {
    end(accepted) {
      const seconds = (performance.now() - started) / 1000;
      const share = (cpu: number) => Math.round((100 * cpu) / seconds);
      const after = pid === undefined ? undefined : processThreads(pid);
      const own = process.cpuUsage(self);
      const gatewayCpu = gateway && after ? after.main - gateway.main + (after.others - gateway.others) : undefined;
      return {
        gatewayMainThread: gateway && after ? share(after.main - gateway.main) : null,
        gatewayOtherThreads: gateway && after ? share(after.others - gateway.others) : null,
        loadGenerator: share((own.user + own.system) / 1e6),
        machineCores: Number(((machineBusy() - machine) / seconds).toFixed(2)),
        cores: availableParallelism(),
        gatewayMicrosecondsPerMessage: gatewayCpu === undefined || accepted === 0 ? null : Math.round((gatewayCpu * 1e6) / accepted),
      };
    },
  };
}
