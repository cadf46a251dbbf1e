import { EventEmitter } from "node:events";
import type { KeyPairPem } from "../pki";
import { CLOSE, CommandMessage, DeviceMessage } from "../protocol/messages";
import { Backoff, BackoffOptions } from "../common/backoff";
import { ClientIdentityPem, TlsTrust } from "./tls-trust";
import { DeviceRefusal, describeRefusal } from "./refusal";
import { onboard } from "./onboarding-client";
import { downloadAppWithFallback, AppDownloadOutcome } from "./app-download";
import { CommandExecutor } from "./command-executor";
import { ManagementSession, SessionEnd } from "./management-session";

/**
 * One fake IGEL OS 12 device: onboards (unless given an identity), keeps one mTLS WebSocket to the
 * cluster address, heartbeats, executes commands exactly once each (de-duplicated by commandId,
 * because the UMS sends an unacknowledged command again after a reconnect), reboots and comes
 * back, and reconnects with backoff. It records how it was refused, exactly as it saw it.
 */

export type DeviceState = "created" | "onboarding" | "connecting" | "online" | "backoff" | "rebooting" | "off" | "failed" | "replaced" | "stopped";

/** States a device stays in until something from outside changes it. */
export const SETTLED_STATES: ReadonlySet<DeviceState> = new Set(["online", "off", "failed", "replaced", "stopped"]);

export interface DeviceFaults {
  /** Drop the connection on receiving a command, before acknowledging it, this many times. @default 0 */
  readonly dropBeforeAck?: number;
  /** Execute a command, then drop the connection before the ack is sent, this many times. @default 0 */
  readonly dropAfterExecute?: number;
}

export type DeviceEvent =
  | { readonly type: "state"; readonly unitId: string; readonly state: DeviceState }
  | { readonly type: "onboarded"; readonly unitId: string; readonly deviceId: string; readonly ms: number }
  | { readonly type: "online"; readonly unitId: string; readonly connectMs: number; readonly session: number }
  | { readonly type: "offline"; readonly unitId: string; readonly closeCode: number; readonly reason: string }
  | { readonly type: "refused"; readonly unitId: string; readonly refusal: DeviceRefusal }
  | { readonly type: "command"; readonly unitId: string; readonly commandId: string; readonly command: string; readonly status: "ok" | "failed"; readonly detail: string }
  | { readonly type: "duplicate-command"; readonly unitId: string; readonly commandId: string; readonly command: string };

export interface FakeDeviceOptions {
  readonly unitId: string;
  /** 12 hex digits. */
  readonly mac: string;
  /** @default "12.7.1" */
  readonly firmware?: string;
  /** Where the management WebSocket goes (cluster address), e.g. `https://ums.example.com:8443`. */
  readonly clusterUrl: string;
  /** Where onboarding goes (the OS 12 device enrollment address). @default clusterUrl */
  readonly enrollmentUrl?: string;
  readonly trust: TlsTrust;
  /** A certificate to use as is (no onboarding), e.g. a bad lab certificate. */
  readonly identity?: ClientIdentityPem;
  /** The device's key, for onboarding. Required without `identity`. */
  readonly keyPair?: KeyPairPem;
  /** One-time enrollment key. Required without `identity`. */
  readonly enrollmentKey?: string;
  /** Reconnect delays. @default { initialMs: 1000, maxMs: 60000 } */
  readonly backoff?: BackoffOptions;
  /** Simulated boot time after a reboot, ms. @default 2000 */
  readonly bootMs?: number;
  /**
   * The device's own heartbeat interval, ms (IGEL does not publish OS 12's: assumption
   * `os12-heartbeat-interval`). @default the interval the UMS's welcome names
   */
  readonly heartbeatMs?: number;
  /** Consecutive failed attempts (onboarding or connecting) before the device gives up. @default Infinity */
  readonly maxAttempts?: number;
  /** TLS + upgrade + welcome must complete within this, ms. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  readonly faults?: DeviceFaults;
  /** Held from the start until the first session is up or refused (a fleet's ramp-up limit). */
  readonly startGate?: () => Promise<() => void>;
  readonly onEvent?: (e: DeviceEvent) => void;
  /** Where apps come from when the update proxy is not available (behind an ICG). @default an unreachable address (the lab has no internet) */
  readonly appPortalUrl?: string;
}

export interface DeviceStats {
  readonly unitId: string;
  readonly deviceId?: string;
  readonly state: DeviceState;
  readonly onboardingMs?: number;
  /** Per session: TCP + TLS + upgrade + welcome, ms. */
  readonly connectMs: readonly number[];
  readonly sessions: number;
  readonly reconnects: number;
  readonly reboots: number;
  readonly commandsExecuted: number;
  readonly duplicateDeliveries: number;
  /** Per command: received → result sent, ms. */
  readonly commandHandlingMs: readonly number[];
  readonly heartbeatsAcked: number;
  readonly lastHeartbeatRttMs?: number;
  readonly refusals: readonly DeviceRefusal[];
}


const KEEP_SAMPLES = 200;
const KEEP_REFUSALS = 20;

export class FakeDevice extends EventEmitter {
  readonly unitId: string;
  readonly mac: string;
  readonly firmware: string;

  private stateValue: DeviceState = "created";
  private identityPem?: ClientIdentityPem;
  private deviceIdValue?: string;
  private current?: ManagementSession;
  private stopped = false;
  private wake?: () => void;
  private running?: Promise<void>;
  private readonly backoff: Backoff;
  private readonly commands = new CommandExecutor();
  private readonly outbox: DeviceMessage[] = [];
  private readonly faults: { dropBeforeAck: number; dropAfterExecute: number };
  private readonly samples = { connectMs: [] as number[], commandHandlingMs: [] as number[] };
  private readonly counters = { sessions: 0, reconnects: 0, reboots: 0, duplicateDeliveries: 0, heartbeatsAcked: 0 };
  private onboardingMs?: number;
  private lastHeartbeatRttMs?: number;
  private readonly refusalLog: DeviceRefusal[] = [];
  private readonly downloads: AppDownloadOutcome[] = [];

  constructor(private readonly options: FakeDeviceOptions) {
    super();
    this.unitId = options.unitId;
    this.mac = options.mac;
    this.firmware = options.firmware ?? "12.7.1";
    this.identityPem = options.identity;
    this.backoff = new Backoff(options.backoff);
    this.faults = { dropBeforeAck: options.faults?.dropBeforeAck ?? 0, dropAfterExecute: options.faults?.dropAfterExecute ?? 0 };
    if (!options.identity && (!options.keyPair || !options.enrollmentKey)) {
      throw new Error(`device ${options.unitId}: give either 'identity', or 'keyPair' and 'enrollmentKey' for onboarding`);
    }
  }

  get state(): DeviceState {
    return this.stateValue;
  }
  /** The IMI id the UMS assigned at onboarding. */
  get deviceId(): string | undefined {
    return this.deviceIdValue;
  }
  get lastRefusal(): DeviceRefusal | undefined {
    return this.refusalLog[this.refusalLog.length - 1];
  }
  get refusals(): readonly DeviceRefusal[] {
    return [...this.refusalLog];
  }
  /** The certificate chain (leaf first) the device presents, once it has one. */
  get certificateChainPem(): string | undefined {
    return this.identityPem?.certChainPem;
  }
  /** Settings applied by settings2tc. */
  get settings(): Readonly<Record<string, string | number | boolean>> {
    return this.commands.settings;
  }
  get appDownloads(): readonly AppDownloadOutcome[] {
    return [...this.downloads];
  }
  get stats(): DeviceStats {
    return {
      unitId: this.unitId,
      deviceId: this.deviceIdValue,
      state: this.stateValue,
      onboardingMs: this.onboardingMs,
      connectMs: [...this.samples.connectMs],
      commandHandlingMs: [...this.samples.commandHandlingMs],
      lastHeartbeatRttMs: this.lastHeartbeatRttMs,
      refusals: this.refusals,
      commandsExecuted: this.commands.executed,
      ...this.counters,
    };
  }

  /** Powers the device on: onboarding if needed, then the management session. */
  start(): this {
    if (this.running && !["off", "failed", "replaced", "stopped"].includes(this.stateValue)) return this;
    this.stopped = false;
    this.running = this.run().catch((e: Error) => {
      this.record({ stage: "session", kind: "protocol", at: new Date().toISOString(), reason: `device crashed: ${e.message}` });
      this.setState("failed");
    });
    return this;
  }

  /** Stops the device: closes its socket and ends its loop. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.current?.close(CLOSE.goingAway, "device stopping");
    await this.running;
    this.setState("stopped");
  }

  /** Resolves when the device reaches one of `states`; rejects after `timeoutMs`. */
  waitForState(states: DeviceState | readonly DeviceState[], timeoutMs = 10_000): Promise<DeviceState> {
    const wanted = new Set(typeof states === "string" ? [states] : states);
    if (wanted.has(this.stateValue)) return Promise.resolve(this.stateValue);
    return new Promise((resolve, reject) => {
      const onState = (s: DeviceState) => {
        if (!wanted.has(s)) return;
        clearTimeout(timer);
        this.off("state", onState);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.off("state", onState);
        reject(new Error(`device ${this.unitId} is '${this.stateValue}', not ${[...wanted].join("/")}, after ${timeoutMs} ms${this.lastRefusal ? ` (last refusal: ${describeRefusal(this.lastRefusal)})` : ""}`));
      }, timeoutMs);
      this.on("state", onState);
    });
  }

  /** Downloads an app from the update proxy with the device's certificate and checks its digest (or, where there is no update proxy, from the App Portal). */
  async downloadApp(app: string, version: string): Promise<AppDownloadOutcome> {
    const outcome = await downloadAppWithFallback({ clusterUrl: this.options.clusterUrl, trust: this.options.trust, identity: this.identityPem, app, version, appPortalUrl: this.options.appPortalUrl });
    this.downloads.push(outcome);
    if (!outcome.ok) this.record(outcome.refusal);
    return outcome;
  }

  private setState(state: DeviceState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit("state", state);
    this.options.onEvent?.({ type: "state", unitId: this.unitId, state });
  }

  private record(refusal: DeviceRefusal): void {
    this.refusalLog.push(refusal);
    if (this.refusalLog.length > KEEP_REFUSALS) this.refusalLog.shift();
    this.options.onEvent?.({ type: "refused", unitId: this.unitId, refusal });
  }

  private sample(list: number[], value: number): void {
    list.push(value);
    if (list.length > KEEP_SAMPLES) list.shift();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let release = this.options.startGate ? await this.options.startGate() : undefined;
    const releaseGate = () => {
      release?.();
      release = undefined;
    };
    try {
      if (!this.identityPem && !(await this.onboardWithRetry())) return;
      const maxAttempts = this.options.maxAttempts ?? Infinity;
      let failures = 0;
      while (!this.stopped) {
        this.setState("connecting");
        const end = await this.session(releaseGate);
        releaseGate();
        if (this.stopped) return;
        failures = end.welcomed ? 0 : failures + 1;
        if (end.then === "reboot") {
          this.counters.reboots++;
          this.setState("rebooting");
          await this.sleep(this.options.bootMs ?? 2000);
          continue;
        }
        if (end.then === "shutdown") return this.setState("off");
        if (end.closeCode === CLOSE.replaced) return this.setState("replaced");
        if (failures >= maxAttempts) return this.setState("failed");
        this.setState("backoff");
        this.counters.reconnects++;
        await this.sleep(this.backoff.next());
      }
    } finally {
      releaseGate();
    }
  }

  private async onboardWithRetry(): Promise<boolean> {
    const maxAttempts = this.options.maxAttempts ?? Infinity;
    for (let attempt = 1; !this.stopped; attempt++) {
      this.setState("onboarding");
      const outcome = await onboard({
        enrollmentUrl: this.options.enrollmentUrl ?? this.options.clusterUrl,
        trust: this.options.trust,
        enrollmentKey: this.options.enrollmentKey!,
        keyPair: this.options.keyPair!,
        unitId: this.unitId,
        mac: this.mac,
        firmware: this.firmware,
        timeoutMs: this.options.handshakeTimeoutMs,
      });
      if (outcome.ok) {
        this.onboardingMs = outcome.ms;
        this.deviceIdValue = outcome.response.deviceId;
        this.identityPem = { certChainPem: outcome.response.certificate + outcome.response.chain, keyPem: this.options.keyPair!.privateKeyPem };
        this.backoff.reset();
        this.options.onEvent?.({ type: "onboarded", unitId: this.unitId, deviceId: outcome.response.deviceId, ms: outcome.ms });
        return true;
      }
      this.record(outcome.refusal);
      // A 4xx is an answer, not an outage: the same request will be refused again.
      const final = outcome.refusal.kind === "http" && outcome.refusal.status! >= 400 && outcome.refusal.status! < 500 && outcome.refusal.status !== 429;
      if (final || attempt >= maxAttempts) {
        this.setState("failed");
        return false;
      }
      this.setState("backoff");
      await this.sleep(this.backoff.next());
    }
    return false;
  }

  /** One management session, from connect to close. */
  private async session(onFirstOutcome: () => void): Promise<SessionEnd> {
    const session = new ManagementSession(
      {
        clusterUrl: this.options.clusterUrl,
        trust: this.options.trust,
        identity: this.identityPem!,
        hello: { unitId: this.unitId, mac: this.mac, firmware: this.firmware },
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 10_000,
        heartbeatMs: this.options.heartbeatMs,
      },
      {
        onWelcome: (connectMs) => {
          this.sample(this.samples.connectMs, connectMs);
          this.counters.sessions++;
          this.backoff.reset();
          this.setState("online");
          onFirstOutcome();
          this.options.onEvent?.({ type: "online", unitId: this.unitId, connectMs, session: this.counters.sessions });
          for (const m of this.outbox.splice(0)) session.send(m);
        },
        onHeartbeatAck: (rttMs) => {
          this.counters.heartbeatsAcked++;
          this.lastHeartbeatRttMs = rttMs;
        },
        onCommand: (message) => this.onCommand(message, session),
      },
    );
    this.current = session;
    const end = await session.ended;
    if (this.current === session) this.current = undefined;
    if (end.refusal && !this.stopped) this.record(end.refusal);
    if (end.welcomed) this.options.onEvent?.({ type: "offline", unitId: this.unitId, closeCode: end.closeCode, reason: end.reason });
    return end;
  }

  private onCommand(message: CommandMessage, session: ManagementSession): void {
    const received = performance.now();
    const known = this.commands.previous(message.commandId);
    if (known) {
      // Sent again after a reconnect: answer as before, do not execute twice.
      this.counters.duplicateDeliveries++;
      this.options.onEvent?.({ type: "duplicate-command", unitId: this.unitId, commandId: message.commandId, command: message.command });
      session.send({ type: "command-ack", commandId: message.commandId });
      session.send({ type: "command-result", commandId: message.commandId, status: known.status, detail: known.detail });
      return;
    }
    if (this.faults.dropBeforeAck > 0) {
      this.faults.dropBeforeAck--;
      return session.drop();
    }
    const outcome = this.commands.execute(message);
    this.options.onEvent?.({ type: "command", unitId: this.unitId, commandId: message.commandId, command: message.command, status: outcome.status, detail: outcome.detail });
    if (this.faults.dropAfterExecute > 0) {
      this.faults.dropAfterExecute--;
      if (outcome.then) session.endFor(outcome.then, false);
      return session.drop();
    }
    session.send({ type: "command-ack", commandId: message.commandId });
    const result: DeviceMessage = { type: "command-result", commandId: message.commandId, status: outcome.status, detail: outcome.detail };
    // A result that cannot go out now goes with the next session's welcome.
    if (!session.send(result)) this.outbox.push(result);
    this.sample(this.samples.commandHandlingMs, performance.now() - received);
    if (outcome.then) session.endFor(outcome.then);
  }
}
