import { acquireHostRouteLock } from "../../simulator/runtime/netns/host-route-lock";

/**
 * One namespace suite at a time across jest workers: the suite holds the same lock its labs take
 * (simulator/runtime/netns/host-route-lock.ts, re-entrant), so its checks of what is left on the host
 * after a run see no other suite's lab.
 */
export function acquireNetnsLock(timeoutMs = 600_000): Promise<() => void> {
  return acquireHostRouteLock(timeoutMs);
}
