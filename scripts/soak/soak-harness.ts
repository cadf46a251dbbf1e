import { DeviceFleet, StartedDeviceFleet } from "../../simulator/device/device-fleet";
import type { FakeDevice } from "../../simulator/device/fake-device";
import type { BackoffOptions } from "../../simulator/common/backoff";
import type { TopologyName } from "../../simulator/runtime/topologies/definitions";
import { deviceFacing } from "../../simulator/runtime/topologies/definitions";
import { UserError } from "../../core/errors";
import { runTopology, BenchLab, RunningTopology } from "../bench/bench-topology";
import { onInterrupt } from "../bench/interrupt";
import { say, status } from "../bench/progress";
import { frontProcessesFor } from "../bench/process-tree";
import { CommandLedger } from "./command-ledger";
import { CommandDriver, withLogin } from "./command-driver";
import { FleetRecorder } from "./fleet-recorder";

/**
 * What a soak and a reconnect storm share: a topology (loopback, quiet), a fleet of onboarded
 * devices in this process reconnecting with backoff and jitter, commands flowing through the IMI
 * API, a ledger of every command from both ends, a timeline, and restarts of one component at a
 * time with the time until every device is back.
 */

/**
 * What the soak restarts: the UMS, or the front devices connect to (the ALB emulator, the ICG), or
 * one by name; `ums-server` kills the last UMS server of an HA cluster (SIGKILL, no goodbye), waits
 * until its devices are back on the others, then starts it again.
 */
export type RestartTarget = "ums" | "front" | "alb" | "icg" | "ums-server";

export interface HarnessOptions {
  readonly topology: TopologyName;
  readonly devices: number;
  /** Commands issued per second, on average. */
  readonly commandsPerSecond: number;
  /** Device reconnect delays (equal jitter, common/backoff.ts). */
  readonly backoff: BackoffOptions;
  /** The heartbeat the UMS tells devices, ms (1,000 devices at 1 s would be the load, not the soak). */
  readonly heartbeatMs: number;
  /**
   * Devices switched off before each UMS restart, with one command queued for each while they are
   * off; switched on again once the others are back. What a UMS must keep across a restart. @default 0
   */
  readonly offlineAtUmsRestart?: number;
}

export interface Recovery {
  readonly component: string;
  /** Seconds into the run when the restart began. */
  readonly at: number;
  /** Stop + start of the component, ms. */
  readonly restartMs: number;
  /** From the restart's beginning until every device had a session again, ms (Infinity: not within the wait). */
  readonly backMs: number;
  /** Devices that lost their session (the ones switched off on purpose included). */
  readonly dropped: number;
  /** Devices switched off before the restart, with a command queued for each (switched on after). */
  readonly switchedOff: number;
  /** The most connection attempts in one second, from the restart until all were back. */
  readonly peakAttemptsPerSecond: number;
}

export class SoakHarness {
  readonly ledger = new CommandLedger();
  readonly recorder: FleetRecorder;
  readonly recoveries: Recovery[] = [];
  private driver?: CommandDriver;
  private dropped = 0;

  private constructor(
    readonly running: RunningTopology,
    readonly fleet: StartedDeviceFleet,
    recorder: FleetRecorder,
    private readonly options: HarnessOptions,
  ) {
    this.recorder = recorder;
  }

  /** Starts the topology, onboards the fleet and waits until every device is online. */
  static async start(bench: BenchLab, o: HarnessOptions): Promise<SoakHarness> {
    // Past what one process may open, the ALB's connections are shared among cluster workers (a
    // 10,000-device storm ran one worker out of descriptors).
    const albWorkers = frontProcessesFor(o.devices);
    const running = await runTopology(bench, o.topology, { umsHeartbeatMs: o.heartbeatMs, albWorkers });
    let fleet: StartedDeviceFleet | undefined;
    const forget = onInterrupt(async () => {
      await fleet?.stop();
      await running.topology.stop();
    });
    try {
      const keys: string[] = [];
      while (keys.length < o.devices) keys.push(...(await running.imi.mintEnrollmentKeys(Math.min(10_000, o.devices - keys.length))));
      const t = running.topology;
      let harness: SoakHarness | undefined;
      const early: Parameters<CommandLedger["onDeviceEvent"]>[0][] = [];
      fleet = await new DeviceFleet({
        pki: bench.lab.pki,
        clusterUrl: t.devices.clusterUrl,
        enrollmentUrl: t.devices.enrollmentUrl,
        serverName: t.devices.serverName,
        trustedCaFile: t.devices.trustedCaFile,
        count: o.devices,
        enrollmentKeys: keys,
        keyPoolSize: bench.keyPoolSize,
        startConcurrency: 64,
        backoff: o.backoff,
        handshakeTimeoutMs: 15_000,
        onEvent: (e) => (harness ? harness.onDeviceEvent(e) : early.push(e)),
      }).start();
      const started = fleet;
      const recorder = new FleetRecorder(() => started.onlineCount);
      harness = new SoakHarness(running, started, recorder, o);
      for (const e of early) harness.onDeviceEvent(e);
      recorder.start();
      const t0 = performance.now();
      const progress = setInterval(() => status(`${o.topology}: ${started.onlineCount}/${o.devices} devices online`), 500);
      try {
        await started.waitForOnline(o.devices, Math.max(120_000, o.devices * 300));
      } catch (e) {
        // Its sampling timer would keep the process alive after the failure.
        recorder.stop();
        throw e;
      } finally {
        clearInterval(progress);
      }
      say(`${o.topology}: ${o.devices} devices onboarded and online in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      recorder.mark("all online");
      const h = harness;
      h.forget = forget;
      return h;
    } catch (e) {
      forget();
      await fleet?.stop().catch(() => undefined);
      await running.topology.stop();
      throw e;
    }
  }

  private forget: () => void = () => undefined;

  private onDeviceEvent(e: Parameters<CommandLedger["onDeviceEvent"]>[0]): void {
    this.ledger.onDeviceEvent(e);
    this.recorder.onDeviceEvent(e);
    if (e.type === "offline") this.dropped++;
  }

  /** The process name of a restart target in this topology. */
  componentOf(target: RestartTarget): string {
    const t = this.running.topology;
    if (target === "ums-server") {
      if (t.umsServers.length < 2) throw new UserError(`topology '${t.name}' has one UMS server: killing it is a UMS restart, not a failover\n  fix: choose an HA topology (alb-verify-ha, alb-passthrough-ha)`);
      return t.umsServers[t.umsServers.length - 1].name;
    }
    const name = target === "front" ? deviceFacing(t.definition) : target;
    if (!t.restartable.includes(name)) {
      throw new UserError(`topology '${t.name}' has no '${target}' to restart${target === "front" ? ` (its devices connect to ${name})` : ""}\n  fix: choose a topology with it (${t.name} restarts ${t.restartable.join(", ")})`);
    }
    return name;
  }

  startCommands(perSecond: number): void {
    this.driver = new CommandDriver(this.running.imi, perSecond, this.ledger, this.recorder).start();
  }

  async stopCommands(): Promise<void> {
    await this.driver?.stop();
  }

  /**
   * Restarts one component and waits (up to `waitMs`) until every device has a session again; a
   * killed UMS server (`ums-server`) is started again only once its devices are back on the others.
   */
  async restart(target: RestartTarget, waitMs: number): Promise<Recovery> {
    const component = this.componentOf(target);
    const killed = target === "ums-server";
    const off = target === "ums" ? await this.switchOffWithQueuedCommands(this.options.offlineAtUmsRestart ?? 0) : [];
    const expected = this.fleet.devices.length - off.length;
    const at = this.recorder.now();
    const droppedBefore = this.dropped;
    const label = killed ? `${component} killed` : `${component} restart`;
    this.recorder.mark(label);
    let backMs = Infinity;
    let downMs = 0;
    const t0 = performance.now();
    const waitBack = async () => {
      // The old process is gone: its sockets closed; let the devices notice before counting them back.
      await new Promise((r) => setTimeout(r, 200));
      try {
        await this.fleet.waitFor(() => this.fleet.onlineCount >= expected, waitMs, "every device back");
        backMs = Math.round(performance.now() - t0);
      } catch {
        // reported as Infinity: not back within the wait
      }
    };
    await this.running.topology.restart(component, killed ? { abrupt: true, whileDown: async () => {
      const down0 = performance.now();
      await waitBack();
      downMs = Math.round(performance.now() - down0);
    } } : undefined);
    const restartMs = Math.round(performance.now() - t0) - downMs;
    if (!killed) await waitBack();
    for (const d of off) d.start();
    const recovery: Recovery = { component: killed ? `${component} (killed)` : component, at, restartMs, backMs, dropped: this.dropped - droppedBefore, switchedOff: off.length, peakAttemptsPerSecond: 0 };
    this.recoveries.push(recovery);
    return recovery;
  }

  /**
   * Switches `n` online devices off and queues one command for each at the UMS (accepted, so the
   * ledger expects it executed): a UMS that forgets its queue on restart loses exactly these.
   */
  private async switchOffWithQueuedCommands(n: number): Promise<FakeDevice[]> {
    if (n <= 0) return [];
    const online = this.fleet.devices.filter((d) => d.state === "online");
    const off = online.sort(() => Math.random() - 0.5).slice(0, n);
    await Promise.all(off.map((d) => d.stop()));
    const imi = this.running.imi;
    const units = new Set(off.map((d) => d.unitId));
    try {
      const ids = (await withLogin(imi, () => imi.thinclients())).filter((t) => units.has(t.unitID)).map((t) => t.id);
      const execs = await withLogin(imi, () => imi.command("settings2tc", ids, { "soak.queuedWhileOff": Date.now() }));
      const at = this.recorder.now();
      for (const e of execs) this.ledger.accept(e.exec_id, at);
      this.recorder.issued(execs.length);
    } catch {
      this.ledger.refusedCall();
    }
    return off;
  }

  /** After the run: the peak attempts of each recovery, from the timeline (closed seconds only). */
  finishRecoveries(): void {
    this.recoveries.forEach((r, i) => {
      const until = Number.isFinite(r.backMs) ? r.at + r.backMs / 1000 : (this.recoveries[i + 1]?.at ?? Infinity);
      (this.recoveries[i] as { peakAttemptsPerSecond: number }).peakAttemptsPerSecond = this.recorder.peakAttempts(r.at, until);
    });
  }

  /** Waits until every accepted command was executed, or `waitMs` passed. */
  async drain(waitMs: number): Promise<void> {
    const deadline = performance.now() + waitMs;
    while (this.ledger.outstanding > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }

  async stop(): Promise<void> {
    this.forget();
    await this.stopCommands();
    this.recorder.stop();
    await this.fleet.stop().catch(() => undefined);
    await this.running.topology.stop();
  }
}
