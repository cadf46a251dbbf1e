import { memoryOf, processTree, readProcTable } from "./process-tree";

/**
 * Memory and CPU of named process groups ("ums", "alb", "fleet0", ...: a root process and its
 * descendants), read once or sampled while work runs.
 */

/** Named roots whose whole trees are measured. */
export type Roots = ReadonlyArray<{ readonly name: string; readonly pid: number }>;

export interface GroupSample {
  readonly name: string;
  readonly processes: number;
  /** Sum of the tree's VmRSS, MiB. */
  readonly rssMiB: number;
  /** Sum of the tree's VmHWM (each process's own peak), MiB. */
  readonly hwmMiB: number;
  readonly cpuSeconds: number;
}

export function sampleGroups(roots: Roots): GroupSample[] {
  const table = readProcTable();
  return roots.map(({ name, pid }) => {
    const tree = processTree(pid, table);
    const mem = tree.map((p) => memoryOf(p.pid));
    return {
      name,
      processes: tree.length,
      rssMiB: mem.reduce((a, m) => a + m.rssMiB, 0),
      hwmMiB: mem.reduce((a, m) => a + m.hwmMiB, 0),
      cpuSeconds: tree.reduce((a, p) => a + p.cpuSeconds, 0),
    };
  });
}

export interface GroupPeak {
  readonly rssMiB: number;
  readonly hwmMiB: number;
  readonly processes: number;
}

/**
 * Samples the groups every `everyMs` while work runs: the highest simultaneous total of VmRSS, and
 * per group the highest VmHWM sum (a peak that survives between samples) and process count.
 */
export class MemorySampler {
  private timer?: NodeJS.Timeout;
  peakTotalRssMiB = 0;
  readonly peak = new Map<string, GroupPeak>();

  constructor(
    private readonly roots: () => Roots,
    private readonly everyMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  sample(): GroupSample[] {
    const groups = sampleGroups(this.roots());
    this.record(groups);
    return groups;
  }

  /** Folds one sample into the peaks. */
  record(groups: readonly GroupSample[]): void {
    this.peakTotalRssMiB = Math.max(this.peakTotalRssMiB, groups.reduce((a, g) => a + g.rssMiB, 0));
    for (const g of groups) {
      const p = this.peak.get(g.name) ?? { rssMiB: 0, hwmMiB: 0, processes: 0 };
      this.peak.set(g.name, { rssMiB: Math.max(p.rssMiB, g.rssMiB), hwmMiB: Math.max(p.hwmMiB, g.hwmMiB), processes: Math.max(p.processes, g.processes) });
    }
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }
}
