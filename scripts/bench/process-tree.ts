import * as fs from "node:fs";

/**
 * Memory and CPU of processes and their descendants (cluster workers, nginx workers), read from
 * Linux's /proc. The parsers take the files' text, so they are tested on samples; the readers
 * return zeros for a process that ended meanwhile.
 */

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  /** The command name (`comm`), e.g. "node" or "nginx". */
  readonly name: string;
  /** User + system CPU time, seconds. */
  readonly cpuSeconds: number;
}

/**
 * One line of /proc/<pid>/stat. The command name is in parentheses and may itself hold spaces and
 * parentheses, so the fields are counted from the last `)`: state, ppid, ... utime (14th field of
 * the line), stime (15th).
 */
export function parseStat(text: string): ProcEntry {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const fields = text.slice(close + 2).split(" ");
  return { pid: Number(text.slice(0, open).trim()), ppid: Number(fields[1]), name: text.slice(open + 1, close), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / USER_HZ };
}

/** Every process now, by pid. */
export function readProcTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      table.set(Number(entry), parseStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8")));
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

/** A process and all its descendants, the root first; empty when the root is not in the table. */
export function processTree(rootPid: number, table: ReadonlyMap<number, ProcEntry> = readProcTable()): ProcEntry[] {
  const children = new Map<number, number[]>();
  for (const e of table.values()) children.set(e.ppid, [...(children.get(e.ppid) ?? []), e.pid]);
  const out: ProcEntry[] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const e = table.get(stack.pop()!);
    if (!e) continue;
    out.push(e);
    stack.push(...(children.get(e.pid) ?? []));
  }
  return out;
}

/** CPU seconds (user + system) of a process and all its descendants. */
export function treeCpuSeconds(rootPid: number, table?: ReadonlyMap<number, ProcEntry>): number {
  return processTree(rootPid, table).reduce((a, p) => a + p.cpuSeconds, 0);
}

export interface Memory {
  /** Resident now (VmRSS), MiB. */
  readonly rssMiB: number;
  /** Peak resident (VmHWM), MiB. */
  readonly hwmMiB: number;
}

/** VmRSS and VmHWM of /proc/<pid>/status (given in kB); 0 where a field is absent (a zombie). */
export function parseStatus(text: string): Memory {
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
}

export function memoryOf(pid: number): Memory {
  try {
    return parseStatus(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return { rssMiB: 0, hwmMiB: 0 };
  }
}

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps: `[heap]` (the main thread's malloc
 * arena: OpenSSL's and Node's native objects), anonymous mappings (the V8 heap, thread arenas),
 * file mappings (the node binary and libraries: shared between processes, counted in each one's
 * RSS), and PSS (shared pages divided among the processes sharing them).
 */
export interface MemoryBreakdown {
  readonly nativeHeapMiB: number;
  readonly anonymousMiB: number;
  readonly fileMiB: number;
  readonly pssMiB: number;
}

const SMAPS_HEADER = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+(?:\s+(.*))?$/;

export function parseSmaps(text: string): MemoryBreakdown {
  const kb = { heap: 0, anon: 0, file: 0, other: 0 };
  let pss = 0;
  let kind: keyof typeof kb = "other";
  for (const line of text.split("\n")) {
    const header = SMAPS_HEADER.exec(line);
    if (header) {
      const name = (header[1] ?? "").trim();
      kind = name === "[heap]" ? "heap" : name === "" ? "anon" : name.startsWith("/") ? "file" : "other";
    } else if (line.startsWith("Rss:")) kb[kind] += Number(line.split(/\s+/)[1]);
    else if (line.startsWith("Pss:")) pss += Number(line.split(/\s+/)[1]);
  }
  return { nativeHeapMiB: kb.heap / 1024, anonymousMiB: kb.anon / 1024, fileMiB: kb.file / 1024, pssMiB: pss / 1024 };
}

export function memoryBreakdown(pid: number): MemoryBreakdown {
  try {
    return parseSmaps(fs.readFileSync(`/proc/${pid}/smaps`, "utf8"));
  } catch {
    return { nativeHeapMiB: 0, anonymousMiB: 0, fileMiB: 0, pssMiB: 0 };
  }
}

/** The sum of several breakdowns (a process tree's), rounded to MiB. */
export function sumBreakdowns(list: readonly MemoryBreakdown[]): MemoryBreakdown {
  const sum = (k: keyof MemoryBreakdown) => Math.round(list.reduce((a, b) => a + b[k], 0));
  return { nativeHeapMiB: sum("nativeHeapMiB"), anonymousMiB: sum("anonymousMiB"), fileMiB: sum("fileMiB"), pssMiB: sum("pssMiB") };
}

/** Open descriptors of one process (sockets, mostly). */
export function descriptorCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** The "Max open files" row of /proc/<pid>/limits; `unlimited` as the largest safe integer. */
export function parseOpenFilesLimit(text: string): { soft: number; hard: number } {
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  if (!line) throw new Error("no 'Max open files' row in the limits");
  const [soft, hard] = line.replace("Max open files", "").trim().split(/\s+/);
  const n = (v: string) => (v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v));
  return { soft: n(soft), hard: n(hard) };
}

/**
 * This process's open-files limit. Node raises its soft limit to the hard one when it starts, so
 * every component process may hold up to the hard limit (20,000 on this machine, which does not
 * let even root raise it: no CAP_SYS_RESOURCE).
 */
export function openFilesLimit(): { soft: number; hard: number } {
  return parseOpenFilesLimit(fs.readFileSync("/proc/self/limits", "utf8"));
}

/**
 * How many processes a front (ALB emulator workers, nginx workers) needs to hold `sessions`: each
 * session is two descriptors in the front (device side and target side), shared among its
 * processes, and each process may open up to descriptorRoom().
 */
export function frontProcessesFor(sessions: number, minimum = 1): number {
  return Math.max(minimum, Math.ceil((2 * sessions) / descriptorRoom()));
}

/** Descriptors one process may use for connections: the hard limit less 200 for listeners and logs. */
export function descriptorRoom(): number {
  return openFilesLimit().hard - 200;
}

