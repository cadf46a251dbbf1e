import * as fs from "node:fs";
import * as path from "node:path";
import { launch } from "../../simulator/runtime/launch";
import type { RunningComponent } from "../../simulator/runtime/component-process";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { DevicesStartedLine } from "../../simulator/device/process-options";
import type { DeviceEvent, FleetStats } from "../../simulator/device";
import { onInterrupt } from "./interrupt";
import type { BenchLab } from "./bench-topology";

/**
 * A device fleet in a process of its own (the load generator of the fleet benches), started by the
 * product's launcher from its options: `simulator/device/main.js` with the fleet's flags. It prints
 * `started`, optionally one line per device event, `settled` once every device has settled, and
 * `stats` when it stops.
 */

/** The fleet's `settled` and `stats` lines: its FleetStats. */
export type FleetStatsLine = FleetStats & { readonly event: "settled" | "stats" };

/** A device event line (`--events all`). */
export type DeviceEventLine = DeviceEvent & { readonly event: "device" };

export interface FleetSpec {
  readonly bench: BenchLab;
  readonly topology: StartedTopology;
  readonly count: number;
  readonly enrollmentKeys: readonly string[];
  /** First MAC offset: fleets of one run must not overlap. */
  readonly unitBase: number;
  /** Devices in their first onboarding/connect at once. */
  readonly startConcurrency: number;
  /** @default 30000 */
  readonly handshakeTimeoutMs?: number;
  /** Where the enrollment keys file goes (0600). */
  readonly workDir: string;
  /** Every device event, as it comes (the fleet then prints a line per event: for small fleets). @default summaries only */
  readonly onDeviceEvent?: (e: DeviceEventLine) => void;
}

export class FleetProcess {
  private constructor(
    private readonly component: RunningComponent<DevicesStartedLine>,
    private readonly timing: { settledAt?: number },
    /** Resolves with the `settled` line; rejects if the process ends first. */
    readonly settled: Promise<FleetStatsLine>,
    private readonly stats: Promise<FleetStatsLine | undefined>,
    private readonly forget: () => void,
  ) {}

  /** Spawns the fleet and resolves once its devices are created (its `started` line). */
  static async start(name: string, spec: FleetSpec): Promise<FleetProcess> {
    const keysFile = path.join(spec.workDir, `${name.replace(/\W+/g, "-")}-keys.txt`);
    fs.writeFileSync(keysFile, spec.enrollmentKeys.join("\n") + "\n", { mode: 0o600 });
    const d = spec.topology.devices;
    let onSettled!: (l: FleetStatsLine) => void;
    let onStats!: (l: FleetStatsLine | undefined) => void;
    const settledLine = new Promise<FleetStatsLine>((r) => (onSettled = r));
    const statsLine = new Promise<FleetStatsLine | undefined>((r) => (onStats = r));
    const timing: { settledAt?: number } = {};
    const onLine = (line: string) => {
      if (!line.startsWith("{")) return;
      let o: { event?: string };
      try {
        o = JSON.parse(line);
      } catch {
        return;
      }
      if (o.event === "settled") {
        timing.settledAt = performance.now();
        onSettled(o as FleetStatsLine);
      } else if (o.event === "stats") onStats(o as FleetStatsLine);
      else if (o.event === "device") spec.onDeviceEvent?.(o as DeviceEventLine);
    };
    const component = await launch(
      "devices",
      {
        pki: spec.bench.lab.pki.dir,
        clusterUrl: d.clusterUrl,
        enrollmentUrl: d.enrollmentUrl,
        serverName: d.serverName,
        caFile: d.trustedCaFile,
        count: spec.count,
        enrollmentKeysFile: keysFile,
        keyPoolSize: spec.bench.keyPoolSize,
        unitBase: spec.unitBase,
        startConcurrency: spec.startConcurrency,
        // Quick retries: a refused device comes back within the run.
        backoffInitialMs: 200,
        backoffMaxMs: 2000,
        handshakeTimeoutMs: spec.handshakeTimeoutMs ?? 30_000,
        events: spec.onDeviceEvent ? "all" : "summary",
      },
      { name, onLine, readyTimeoutMs: 120_000 },
    );
    // "close": after its last line was read (an "exit" may come before it).
    const exited = new Promise<string>((resolve) => component.child.once("close", (code, signal) => resolve(signal ?? `code ${code}`)));
    void exited.then(() => onStats(undefined));
    const settled = Promise.race([settledLine, exited.then((how) => Promise.reject(new Error(`fleet ${name} exited (${how}) before its devices settled\n${component.output.slice(-10).join("\n")}`)))]);
    settled.catch(() => undefined);
    const forget = onInterrupt(() => component.stop(5000));
    return new FleetProcess(component, timing, settled, statsLine, forget);
  }

  /** performance.now() when the fleet said every device had settled. */
  get settledAt(): number | undefined {
    return this.timing.settledAt;
  }

  get pid(): number {
    return this.component.pid!;
  }

  /** SIGTERM; resolves with the fleet's final stats (undefined if it had to be killed). */
  async stop(graceMs = 20_000): Promise<FleetStatsLine | undefined> {
    await this.component.stop(graceMs);
    this.forget();
    return this.stats;
  }
}
