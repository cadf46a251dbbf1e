import { mustRun, runCommand, runSyncQuietly } from "./command";
import { parseNamespaceName, validatePrefix } from "./names";
import { existingNamespaces } from "./preflight";

function killQuietly(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes namespaces synchronously (for exit hooks): kills every process still inside (a namespace
 * with processes outlives `ip netns del`, veths and all), then deletes it. Never throws.
 */
export function removeNamespacesSync(names: readonly string[]): void {
  for (const name of names) {
    for (const pid of runSyncQuietly("ip", ["netns", "pids", name]).split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
    runSyncQuietly("ip", ["netns", "del", name]);
  }
}

/** The asynchronous twin of removeNamespacesSync, reporting failures. */
export async function removeNamespaces(names: readonly string[]): Promise<void> {
  const errors: string[] = [];
  for (const name of names) {
    const pids = await runCommand("ip", ["netns", "pids", name]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
    try {
      await mustRun("ip", ["netns", "del", name]);
    } catch (e) {
      if (existingNamespaces().includes(name)) errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new Error(`could not remove every namespace:\n${errors.join("\n")}`);
}

/* Exit hooks: a lab removes its namespaces even when the process ends without calling stop(). */
const teardowns = new Set<() => void>();
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function runTeardowns(): void {
  for (const teardown of [...teardowns]) teardown();
  teardowns.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles this signal (e.g. a CLI stopping gracefully, calling stop()): leave it to
  // them; the exit hook still runs. Alone, clean up and end the process as the default would.
  if (process.listenerCount(signal) > 1) return;
  runTeardowns();
  unhook();
  process.kill(process.pid, signal);
}

function hook(): void {
  process.on("exit", runTeardowns);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function unhook(): void {
  process.off("exit", runTeardowns);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Runs `teardown` (synchronously) if the process exits or is signalled first; returns the unregister function. */
export function registerExitTeardown(teardown: () => void): () => void {
  if (teardowns.size === 0) hook();
  teardowns.add(teardown);
  return () => {
    teardowns.delete(teardown);
    if (teardowns.size === 0) unhook();
  };
}

export interface CleanupStaleOptions {
  /** Also remove namespaces whose owner process is still running (another lab in use). @default false */
  readonly includeLive?: boolean;
}

/**
 * Removes the leftovers of crashed runs: every namespace named `<prefix><pid>-<id>-<role>` whose
 * owner pid is no longer running (and the processes inside it). Returns the names removed.
 */
export async function cleanupStale(prefix: string, options: CleanupStaleOptions = {}): Promise<string[]> {
  validatePrefix(prefix);
  const stale = existingNamespaces().filter((name) => {
    const parsed = parseNamespaceName(prefix, name);
    return parsed !== undefined && (options.includeLive || !alive(parsed.ownerPid));
  });
  await removeNamespaces(stale);
  return stale;
}
