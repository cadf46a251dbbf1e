import * as path from "node:path";
import { startComponent } from "../../simulator/runtime/component-process";
import type { GenConfig, GenResult } from "./tls-load";
import type { StartedFront } from "./alb-fronts";
import { treeCpuSeconds } from "./process-tree";

/**
 * One load against one front: load-generator processes of their own (tls-load.js), each running a
 * warm-up and then a measuring window (throughput: responses in the window). The front's CPU time
 * (its whole process tree, from /proc) over the whole load, divided by every response it served,
 * is its CPU per operation: that does not depend on how much CPU the generators leave the front,
 * which a shared machine makes vary, nor on when the generator processes get to start.
 */

export type LoadMode = GenConfig["mode"];

export interface LoadSettings {
  readonly mode: LoadMode;
  /** Connections kept busy, over all generators. */
  readonly concurrency: number;
  readonly generators: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The client certificate and key every connection presents. */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface Load {
  readonly perSecond: number;
  readonly errors: number;
  /** CPU milliseconds the front spent per connection or request. */
  readonly frontCpuMsPer: number;
  /** CPU the generators used (1 = one core). */
  readonly generatorCores: number;
}

/** Load generator processes print one JSON line, their result, when the window closes. */
function generator(config: GenConfig, timeoutMs: number): Promise<GenResult> {
  return startComponent<GenResult>({ name: "tls-load", command: process.execPath, args: [path.join(__dirname, "tls-load.js"), JSON.stringify(config)], readyTimeoutMs: timeoutMs }).then((c) => c.ready);
}

export async function runLoad(front: StartedFront, name: string, s: LoadSettings): Promise<Load> {
  const config: GenConfig = {
    mode: s.mode,
    host: "127.0.0.1",
    port: front.port,
    keyFile: s.keyFile,
    certFile: s.certFile,
    path: "/device-connector/v1/bench",
    concurrency: Math.ceil(s.concurrency / s.generators),
    warmupMs: s.warmupMs,
    durationMs: s.durationMs,
  };
  const cpu0 = treeCpuSeconds(front.pid);
  const done = await Promise.all(Array.from({ length: s.generators }, () => generator(config, s.warmupMs + s.durationMs + 30_000)));
  const cpu1 = treeCpuSeconds(front.pid);
  const completed = done.reduce((a, r) => a + r.completed, 0);
  const seconds = Math.max(...done.map((r) => r.seconds));
  if (completed === 0) throw new Error(`${name} (${s.mode}): no request completed; first error: ${done.find((r) => r.firstError)?.firstError}`);
  return {
    perSecond: completed / seconds,
    errors: done.reduce((a, r) => a + r.errors, 0),
    frontCpuMsPer: ((cpu1 - cpu0) * 1000) / done.reduce((a, r) => a + r.completedAll, 0),
    generatorCores: done.reduce((a, r) => a + r.cpuSeconds, 0) / seconds,
  };
}
