import cluster, { Worker } from "node:cluster";
import * as net from "node:net";
import * as path from "node:path";
import { UserError } from "../../core/errors";
import type { AlbEvent } from "./events";
import type { ReloadChange, RuntimeSettings } from "./alb-runtime";
import type { TargetAddress, TargetState } from "./target-pool";

/**
 * Serving in several processes: node:cluster workers each run the listeners of the stack on
 * shared listening sockets (JavaScript HTTP handling is single-threaded; this is how the emulator
 * uses more than one core). The primary checks target health and sends changes to the workers;
 * workers send their events back. Each worker writes its own log files, as each ALB node does.
 */

export interface WorkerConfig {
  readonly stackDir: string;
  readonly settings: Omit<RuntimeSettings, "emit">;
  readonly host: string;
  /** [listener port, local port] */
  readonly ports: ReadonlyArray<readonly [number, number]>;
}

export type ToWorker =
  | { readonly t: "health"; readonly group: string; readonly target: TargetAddress; readonly state: TargetState; readonly reason: string; readonly description: string }
  | { readonly t: "flush"; readonly id: number }
  | { readonly t: "reload"; readonly id: number }
  | { readonly t: "stop" };

export type FromWorker =
  | { readonly t: "listening"; readonly ports: ReadonlyArray<readonly [number, number]> }
  | { readonly t: "error"; readonly message: string; readonly user: boolean }
  | { readonly t: "event"; readonly event: AlbEvent }
  | { readonly t: "flushed"; readonly id: number }
  | { readonly t: "reloaded"; readonly id: number; readonly changes?: ReloadChange[]; readonly error?: string };

export const WORKER_ENV = "UMS_EDGE_ALB_WORKER";

export interface ClusterStartOptions {
  readonly stackDir: string;
  readonly settings: Omit<RuntimeSettings, "emit"> & { readonly emit?: undefined };
  readonly host: string;
  readonly ports: ReadonlyMap<number, number>;
  readonly workers: number;
  readonly execArgv?: readonly string[];
  readonly onEvent: (e: AlbEvent) => void;
}

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, host, resolve);
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class ClusterRuntime {
  private readonly workers: Worker[] = [];
  private flushId = 0;
  private stopping = false;

  private constructor(
    readonly localPorts: Map<number, number>,
    private readonly onEvent: (e: AlbEvent) => void,
  ) {}

  static async start(o: ClusterStartOptions): Promise<ClusterRuntime> {
    if (!cluster.isPrimary) throw new Error("ClusterRuntime: start it from a primary process");
    const ext = path.extname(__filename);
    cluster.setupPrimary({ exec: path.join(__dirname, `cluster-worker${ext}`), execArgv: [...(o.execArgv ?? process.execArgv)] });
    // Workers' listen(0) calls would all share one cluster handle (keyed by address and port): pick real ports first.
    const ports = new Map<number, number>();
    for (const [listener, local] of o.ports) ports.set(listener, local === 0 ? await freePort(o.host) : local);
    const runtime = new ClusterRuntime(ports, o.onEvent);
    try {
      // The first worker binds (port 0 becomes a real port); the others share the same sockets.
      await runtime.fork(o);
      await Promise.all(Array.from({ length: o.workers - 1 }, () => runtime.fork(o)));
    } catch (e) {
      await runtime.close();
      throw e;
    }
    return runtime;
  }

  private fork(o: ClusterStartOptions): Promise<void> {
    const config: WorkerConfig = { stackDir: o.stackDir, settings: { ...o.settings, emit: undefined } as WorkerConfig["settings"], host: o.host, ports: [...this.localPorts] };
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(config) });
    this.workers.push(worker);
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`ALB worker exited with code ${code} before listening`));
      worker.once("exit", onExit);
      worker.on("message", (m: FromWorker) => {
        if (m.t === "listening") {
          worker.off("exit", onExit);
          for (const [l, local] of m.ports) this.localPorts.set(l, local);
          worker.on("exit", (code) => {
            if (!this.stopping) this.onEvent({ kind: "request-refused", time: new Date().toISOString(), listenerPort: 0, client: "-", method: "-", url: "-", status: 0, decidedBy: "cluster", reason: `worker ${worker.process.pid} exited (code ${code})` });
          });
          resolve();
        } else if (m.t === "error") {
          worker.off("exit", onExit);
          reject(m.user ? new UserError(m.message) : new Error(m.message));
        } else if (m.t === "event") {
          this.onEvent(m.event);
        }
      });
    });
  }

  setHealth(group: string, target: TargetAddress, state: TargetState, reason: string, description: string): void {
    const msg: ToWorker = { t: "health", group, target, state, reason, description };
    for (const w of this.workers) if (w.isConnected()) w.send(msg);
  }

  async flushLogs(): Promise<void> {
    const id = ++this.flushId;
    await Promise.all(
      this.workers
        .filter((w) => w.isConnected())
        .map(
          (w) =>
            new Promise<void>((resolve) => {
              const on = (m: FromWorker) => {
                if (m.t === "flushed" && m.id === id) {
                  w.off("message", on);
                  resolve();
                }
              };
              w.on("message", on);
              w.send({ t: "flush", id } satisfies ToWorker);
            }),
        ),
    );
  }

  /** Every worker re-reads the stack and applies it; the first worker's changes (they all read the same files). */
  async reload(): Promise<ReloadChange[]> {
    const id = ++this.flushId;
    const answers = await Promise.all(
      this.workers
        .filter((w) => w.isConnected())
        .map(
          (w) =>
            new Promise<FromWorker & { t: "reloaded" }>((resolve) => {
              const on = (m: FromWorker) => {
                if (m.t === "reloaded" && m.id === id) {
                  w.off("message", on);
                  resolve(m);
                }
              };
              w.on("message", on);
              w.send({ t: "reload", id } satisfies ToWorker);
            }),
        ),
    );
    const failed = answers.find((a) => a.error !== undefined);
    if (failed) throw new UserError(failed.error!);
    return answers[0]?.changes ?? [];
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill("SIGKILL"), 5000);
            w.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) w.send({ t: "stop" } satisfies ToWorker);
            else w.process.kill("SIGTERM");
          }),
      ),
    );
  }
}
