import { spawn } from "node:child_process";
import { memoryOf, parseOpenFilesLimit, parseSmaps, parseStat, parseStatus, processTree, readProcTable, ProcEntry } from "../../scripts/bench/process-tree";

/** The bench's readings of /proc: parsed from sample text, and read live for this test's own process tree. */

describe("parseStat", () => {
  test("counts the fields after the last ')' so a command name with spaces and parentheses does not shift them", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = "4242 (node (worker) 1) S 4000 4242 4242 0 -1 4194560 1200 0 3 0 250 75 0 0 20 0 11 0 100 0 0";
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 4000, name: "node (worker) 1", cpuSeconds: 3.25 });
  });

  test("refuses a line that is not a stat line", () => {
    expect(() => parseStat("no parentheses here")).toThrow(/not a \/proc\/<pid>\/stat line/);
  });
});

describe("processTree", () => {
  const entry = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, name: `p${pid}`, cpuSeconds: pid / 100 });
  const table = new Map([entry(1, 0), entry(10, 1), entry(11, 10), entry(12, 10), entry(13, 11), entry(20, 1)].map((e) => [e.pid, e]));

  test("holds the root and every descendant, and nothing else", () => {
    expect(
      processTree(10, table)
        .map((e) => e.pid)
        .sort((a, b) => a - b),
    ).toEqual([10, 11, 12, 13]);
  });

  test("is empty when the root has ended", () => {
    expect(processTree(99, table)).toEqual([]);
  });

  test("finds a child this process spawned, in the live /proc", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      const tree = processTree(process.pid, readProcTable());
      expect(tree[0].pid).toBe(process.pid);
      expect(tree.map((e) => e.pid)).toContain(child.pid);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("memory", () => {
  test("parseStatus reads VmRSS and VmHWM in kB as MiB, 0 when a field is absent", () => {
    const status = "Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n";
    expect(parseStatus(status)).toEqual({ rssMiB: 100, hwmMiB: 200 });
    expect(parseStatus("Name:\tzombie\nState:\tZ (zombie)\n")).toEqual({ rssMiB: 0, hwmMiB: 0 });
  });

  test("memoryOf reads this process's own status", () => {
    const m = memoryOf(process.pid);
    expect(m.rssMiB).toBeGreaterThan(10);
    expect(m.hwmMiB).toBeGreaterThanOrEqual(m.rssMiB);
  });

  test("parseSmaps puts [heap], anonymous and file mappings apart and sums PSS over all of them", () => {
    const smaps = [
      "55d0a0000000-55d0a2000000 r-xp 00000000 08:01 1234    /usr/bin/node",
      "Rss:                2048 kB",
      "Pss:                1024 kB",
      "55d0a4000000-55d0a8000000 rw-p 00000000 00:00 0       [heap]",
      "Rss:                4096 kB",
      "Pss:                4096 kB",
      "7f0000000000-7f0001000000 rw-p 00000000 00:00 0 ",
      "Rss:                3072 kB",
      "Pss:                3072 kB",
      "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0       [stack]",
      "Rss:                1024 kB",
      "Pss:                1024 kB",
      "",
    ].join("\n");
    expect(parseSmaps(smaps)).toEqual({ nativeHeapMiB: 4, anonymousMiB: 3, fileMiB: 2, pssMiB: 9 });
  });

  test("parseOpenFilesLimit reads soft and hard limits, unlimited as the largest safe integer", () => {
    const limits = "Limit                     Soft Limit           Hard Limit           Units\nMax cpu time              unlimited            unlimited            seconds\nMax open files            1024                 20000                files\n";
    expect(parseOpenFilesLimit(limits)).toEqual({ soft: 1024, hard: 20000 });
    expect(parseOpenFilesLimit("Max open files            unlimited            unlimited            files\n")).toEqual({ soft: Number.MAX_SAFE_INTEGER, hard: Number.MAX_SAFE_INTEGER });
    expect(() => parseOpenFilesLimit("Max processes 10 10\n")).toThrow(/Max open files/);
  });
});
