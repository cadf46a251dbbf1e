import * as fs from "node:fs";
import { percentiles, Percentiles } from "../common/stats";
import { EventEmitter } from "node:events";
import { X509Certificate } from "node:crypto";
import { commonName, KeyPool, LabDeviceKind, LabPki, loadLabPki } from "../pki";
import { UserError } from "../../core/errors";
import type { BackoffOptions } from "../common/backoff";
import { FakeDevice, DeviceEvent, DeviceFaults, DeviceState, DeviceStats, SETTLED_STATES } from "./fake-device";
import { macFor, nextUnitBase } from "./unit-ids";
import { describeRefusal } from "./refusal";
import type { AppDownloadOutcome } from "./app-download";
import type { TlsTrust } from "./tls-trust";

/**
 * A fleet of fake IGEL OS 12 devices, shaped like a testcontainers module:
 * `new DeviceFleet(options).start()` → `StartedDeviceFleet`. Devices that onboard draw their
 * RSA-2048 keys from the lab's cached key pool (round-robin when the fleet is larger than the
 * pool; each device still gets its own certificate); devices given an identity use it as is.
 */

/** A certificate a device uses without onboarding: one of the lab's, or files of your own. */
export type DeviceIdentityInput =
  | { readonly kind: LabDeviceKind }
  | {
      /** PEM: the certificate, or the certificate followed by its chain (leaf first). */
      readonly certFile: string;
      readonly keyFile: string;
      /** PEM of the intermediates to present after the certificate. @default none */
      readonly chainFile?: string;
    };

export interface DeviceFleetOptions {
  /** The lab PKI (directory or loaded): the web root CA devices trust, and the key pool. */
  readonly pki: string | LabPki;
  /** Cluster address: where the management WebSocket and app downloads go, e.g. `https://127.0.0.1:8443`. */
  readonly clusterUrl: string;
  /** OS 12 device enrollment address (behind an ALB in verify mode: the 443 listener). @default clusterUrl */
  readonly enrollmentUrl?: string;
  /** TLS server name (SNI and certificate check). @default the lab PKI's FQDN */
  readonly serverName?: string;
  /** PEM file of the CA devices trust for the server certificate. @default the lab web root CA */
  readonly trustedCaFile?: string;
  /** Devices that onboard. @default 0 */
  readonly count?: number;
  /** One-time enrollment keys, one per onboarding device (in order). Required when `count` > 0. */
  readonly enrollmentKeys?: readonly string[];
  /** Devices that use a given certificate without onboarding, one each. @default none */
  readonly identities?: readonly DeviceIdentityInput[];
  /** Cached device keys to draw from (generated once, ~150-200 ms a key). @default min(count, 64) */
  readonly keyPoolSize?: number;
  /** @default "12.7.1" */
  readonly firmware?: string;
  /** First MAC offset below IGEL's OUI; fleets with different bases never collide. @default random */
  readonly unitBase?: number;
  /** Simulated boot time after a reboot, ms. @default 2000 */
  readonly bootMs?: number;
  /** Reconnect delays. @default { initialMs: 1000, maxMs: 60000 } */
  readonly backoff?: BackoffOptions;
  /** Every device's own heartbeat interval, ms. @default the interval the UMS's welcome names */
  readonly heartbeatMs?: number;
  /** Consecutive failed attempts before a device gives up. @default Infinity (1 for identity devices) */
  readonly maxAttempts?: number;
  /** Devices onboarding or connecting for the first time at once. @default 16 */
  readonly startConcurrency?: number;
  /** Onboarding request, and TLS + upgrade + welcome, must complete within this, ms. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Faults every device injects (tests of redelivery). @default none */
  readonly faults?: DeviceFaults;
  /** Every device event, as it happens. */
  readonly onEvent?: (e: DeviceEvent) => void;
  /** Where apps come from when the update proxy is not available (behind an ICG). @default an unreachable address (the lab has no internet) */
  readonly appPortalUrl?: string;
}

function validate(o: DeviceFleetOptions): void {
  const count = o.count ?? 0;
  const problems: string[] = [];
  if (!Number.isInteger(count) || count < 0) problems.push(`'count' must be a whole number (got ${o.count})`);
  if (count === 0 && (o.identities?.length ?? 0) === 0) problems.push("give 'count' (devices that onboard) or 'identities' (devices with a certificate), or both");
  if (count > 0 && (o.enrollmentKeys?.length ?? 0) < count) {
    problems.push(`${count} devices onboard but only ${o.enrollmentKeys?.length ?? 0} enrollment keys were given; mint more (POST /umsapi/v3/enrollmentkeys)`);
  }
  if (o.heartbeatMs !== undefined && !(Number.isInteger(o.heartbeatMs) && o.heartbeatMs >= 10)) problems.push(`'heartbeatMs' must be a whole number of at least 10 ms (got ${o.heartbeatMs})`);
  if (o.keyPoolSize !== undefined && !(Number.isInteger(o.keyPoolSize) && o.keyPoolSize >= 1)) problems.push(`'keyPoolSize' must be at least 1 (got ${o.keyPoolSize})`);
  if (o.startConcurrency !== undefined && !(Number.isInteger(o.startConcurrency) && o.startConcurrency >= 1)) problems.push(`'startConcurrency' must be at least 1 (got ${o.startConcurrency})`);
  for (const [name, url] of [
    ["clusterUrl", o.clusterUrl],
    ["enrollmentUrl", o.enrollmentUrl],
  ] as const) {
    if (url === undefined) continue;
    try {
      if (new URL(url).protocol !== "https:") problems.push(`'${name}' must be an https:// URL (got '${url}')`);
    } catch {
      problems.push(`'${name}' is not a URL (got '${url}')`);
    }
  }
  if (problems.length > 0) throw new UserError(`device fleet options: ${problems.join("; ")}`);
}

/** A counting semaphore: how many devices may be in their first onboarding/connect at once. */
function semaphore(limit: number): () => Promise<() => void> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return () =>
    new Promise((resolve) => {
      const grant = () => {
        active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          active--;
          waiting.shift()?.();
        });
      };
      if (active < limit) grant();
      else waiting.push(grant);
    });
}

function readIdentity(pki: LabPki, input: DeviceIdentityInput): { unitId: string; certChainPem: string; keyPem: string } {
  const files = "kind" in input ? { certFile: pki.devices[input.kind].chain, keyFile: pki.devices[input.kind].key, chainFile: undefined } : input;
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError(`device identity: cannot read the ${what} '${file}' (${(e as NodeJS.ErrnoException).code})`);
    }
  };
  const certChainPem = read(files.certFile, "certificate") + (files.chainFile ? read(files.chainFile, "chain") : "");
  const leaf = new X509Certificate(certChainPem);
  const unitId = commonName(leaf);
  if (!unitId) throw new UserError(`device identity: the certificate in '${files.certFile}' has no CN to use as the unit id`);
  return { unitId, certChainPem, keyPem: read(files.keyFile, "private key") };
}

export interface FleetStats {
  readonly devices: number;
  readonly states: Readonly<Partial<Record<DeviceState, number>>>;
  readonly onboardingMs: Percentiles;
  readonly connectMs: Percentiles;
  readonly commandHandlingMs: Percentiles;
  readonly commandsExecuted: number;
  readonly duplicateDeliveries: number;
  readonly reconnects: number;
  readonly reboots: number;
  readonly heartbeatsAcked: number;
  /** Refusal descriptions (see describeRefusal) → how many devices saw each last. */
  readonly lastRefusals: Readonly<Record<string, number>>;
}

export class DeviceFleet {
  constructor(private readonly options: DeviceFleetOptions) {
    validate(options);
  }

  async start(): Promise<StartedDeviceFleet> {
    const o = this.options;
    let pki: LabPki;
    try {
      pki = typeof o.pki === "string" ? loadLabPki(o.pki) : o.pki;
    } catch (e) {
      throw new UserError(`device fleet: ${(e as Error).message}`);
    }
    const count = o.count ?? 0;
    const trust: TlsTrust = { caPem: fs.readFileSync(o.trustedCaFile ?? pki.web.rootCert, "utf8"), serverName: o.serverName ?? pki.fqdn };
    const poolSize = Math.max(1, o.keyPoolSize ?? Math.min(count, 64));
    const pool = new KeyPool(pki.keyPool);
    if (count > 0) await pool.ensure(poolSize);
    const base = o.unitBase ?? nextUnitBase(count + (o.identities?.length ?? 0));
    const events = new EventEmitter();
    events.setMaxListeners(0);
    const onEvent = (e: DeviceEvent) => {
      o.onEvent?.(e);
      events.emit("event", e);
    };
    const gate = semaphore(o.startConcurrency ?? 16);
    const common = {
      clusterUrl: o.clusterUrl,
      enrollmentUrl: o.enrollmentUrl,
      trust,
      firmware: o.firmware,
      backoff: o.backoff,
      bootMs: o.bootMs,
      heartbeatMs: o.heartbeatMs,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      faults: o.faults,
      startGate: gate,
      onEvent,
      appPortalUrl: o.appPortalUrl,
    };
    const devices: FakeDevice[] = [];
    for (let i = 0; i < count; i++) {
      const mac = macFor(base, i);
      devices.push(new FakeDevice({ ...common, unitId: mac, mac, keyPair: pool.key(i, poolSize), enrollmentKey: o.enrollmentKeys![i], maxAttempts: o.maxAttempts }));
    }
    for (const [j, input] of (o.identities ?? []).entries()) {
      const id = readIdentity(pki, input);
      devices.push(
        new FakeDevice({ ...common, unitId: id.unitId, mac: macFor(base, count + j), identity: { certChainPem: id.certChainPem, keyPem: id.keyPem }, maxAttempts: o.maxAttempts ?? 1 }),
      );
    }
    for (const d of devices) d.start();
    return new StartedDeviceFleet(devices, events);
  }
}

export class StartedDeviceFleet {
  constructor(
    private readonly list: readonly FakeDevice[],
    private readonly events: EventEmitter,
  ) {}

  get devices(): readonly FakeDevice[] {
    return this.list;
  }

  device(unitId: string): FakeDevice | undefined {
    return this.list.find((d) => d.unitId === unitId);
  }

  /** How many devices are in each state. */
  get counts(): Readonly<Partial<Record<DeviceState, number>>> {
    const counts: Partial<Record<DeviceState, number>> = {};
    for (const d of this.list) counts[d.state] = (counts[d.state] ?? 0) + 1;
    return counts;
  }

  /** Why failed devices failed (their last refusals, counted), for a timeout's message. */
  private failureSummary(): string {
    const reasons = Object.entries(this.lastRefusalCounts((d) => d.state === "failed"));
    if (reasons.length === 0) return "";
    return `; failed devices' last refusals: ${reasons.map(([r, n]) => `${n}× ${r}`).join("; ")}`;
  }

  /** Refusal descriptions (describeRefusal) → how many of the devices `which` picks saw each last. */
  private lastRefusalCounts(which: (d: FakeDevice) => boolean = () => true): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const d of this.list) {
      if (which(d) && d.lastRefusal) {
        const key = describeRefusal(d.lastRefusal);
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
    return counts;
  }

  get onlineCount(): number {
    return this.list.filter((d) => d.state === "online").length;
  }

  /**
   * Resolves once `check()` is true — checked now, on every device event, and every 25 ms for
   * what changes without an event (counters) — and rejects after `timeoutMs`.
   */
  waitFor(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.events.off("event", onEvent);
      };
      const onEvent = () => {
        if (!check()) return;
        done();
        resolve();
      };
      const poll = setInterval(onEvent, 25);
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fleet: ${what} not reached within ${timeoutMs} ms; states ${JSON.stringify(this.counts)}${this.failureSummary()}`));
      }, timeoutMs);
      this.events.on("event", onEvent);
    });
  }

  /** Every device (or `n` of them) online. */
  waitForOnline(n = this.list.length, timeoutMs = 30_000): Promise<void> {
    return this.waitFor(() => this.onlineCount >= n, timeoutMs, `${n} devices online`);
  }

  /** Every device in a state it stays in (online, off, failed, replaced, stopped). */
  waitForSettled(timeoutMs = 30_000): Promise<void> {
    return this.waitFor(() => this.list.every((d) => SETTLED_STATES.has(d.state)), timeoutMs, "every device settled");
  }

  /** Each device (or the given ones) downloads an app and checks its digest. */
  downloadApp(app: string, version: string, which: readonly FakeDevice[] = this.list): Promise<AppDownloadOutcome[]> {
    return Promise.all(which.map((d) => d.downloadApp(app, version)));
  }

  get perDevice(): DeviceStats[] {
    return this.list.map((d) => d.stats);
  }

  stats(): FleetStats {
    const all = this.perDevice;
    const sum = (f: (s: DeviceStats) => number) => all.reduce((a, s) => a + f(s), 0);
    const lastRefusals = this.lastRefusalCounts();
    return {
      devices: all.length,
      states: this.counts,
      onboardingMs: percentiles(all.flatMap((s) => (s.onboardingMs === undefined ? [] : [s.onboardingMs]))),
      connectMs: percentiles(all.flatMap((s) => s.connectMs)),
      commandHandlingMs: percentiles(all.flatMap((s) => s.commandHandlingMs)),
      commandsExecuted: sum((s) => s.commandsExecuted),
      duplicateDeliveries: sum((s) => s.duplicateDeliveries),
      reconnects: sum((s) => s.reconnects),
      reboots: sum((s) => s.reboots),
      heartbeatsAcked: sum((s) => s.heartbeatsAcked),
      lastRefusals,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.list.map((d) => d.stop()));
  }
}
