import { say } from "./progress";

/**
 * Ctrl-C (or SIGTERM) during a bench stops what the bench started — topologies, fleets, fronts —
 * before the process exits, so no component is left running on the machine.
 */

const running = new Set<() => Promise<unknown>>();
let interrupted = false;

/** Registers a stop function for something a bench started; returns the function that unregisters it. */
export function onInterrupt(stop: () => Promise<unknown>): () => void {
  running.add(stop);
  if (running.size === 1 && process.listenerCount("SIGINT") === 0) {
    const handler = (signal: NodeJS.Signals) => {
      if (interrupted) return;
      interrupted = true;
      say(`\n${signal}: stopping what the bench started...`);
      void Promise.allSettled([...running].map((s) => s())).then(() => process.exit(130));
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
  }
  return () => running.delete(stop);
}
