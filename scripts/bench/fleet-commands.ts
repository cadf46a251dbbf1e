import type { ImiClient } from "../../simulator/ums/imi-client";
import type { ImiCommandExec } from "../../simulator/protocol/imi";
import { sleep } from "./progress";

/** The IMI calls that command a whole fleet and wait for it. */

/** The devices the UMS knows, by id (a fresh UMS per topology: all of them are the bench's). */
export async function deviceIds(imi: ImiClient): Promise<string[]> {
  return (await imi.thinclients()).map((t) => t.id);
}

/** Every command the UMS holds (`GET /umsapi/v3/commands`). */
export function allCommands(imi: ImiClient): Promise<ImiCommandExec[]> {
  return imi.commandList();
}

/** Polls until every one of `execIds` is SUCCESS or FAILED; resolves with their records and when the last was seen finished. */
export async function waitForCommands(
  imi: ImiClient,
  execIds: readonly string[],
  timeoutMs: number,
  onPoll?: (finished: number) => void,
  pollMs = 100,
): Promise<{ records: ImiCommandExec[]; seenAt: number }> {
  const wanted = new Set(execIds);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const all = (await allCommands(imi)).filter((c) => wanted.has(c.exec_id));
    const finished = all.filter((c) => c.state === "SUCCESS" || c.state === "FAILED");
    onPoll?.(finished.length);
    if (finished.length === wanted.size) return { records: all, seenAt: performance.now() };
    if (performance.now() > deadline) {
      const states: Record<string, number> = {};
      for (const c of all) states[c.state] = (states[c.state] ?? 0) + 1;
      throw new Error(`${wanted.size - finished.length} of ${wanted.size} commands not finished after ${timeoutMs} ms: ${JSON.stringify(states)}`);
    }
    await sleep(pollMs);
  }
}

/** The UMS's round trip of a finished command: finishedAt - queuedAt (ms, the UMS's clock). */
export function roundTripMs(c: ImiCommandExec): number | undefined {
  return c.queuedAt && c.finishedAt ? Date.parse(c.finishedAt) - Date.parse(c.queuedAt) : undefined;
}
