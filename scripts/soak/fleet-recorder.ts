import type { DeviceEvent } from "../../simulator/device/fake-device";

/**
 * A fleet's timeline, one point a second: devices online, connection attempts (new connections at
 * the front, failed ones included), sessions established, commands executed; and the restarts,
 * marked. Counting happens on device events; `sample()` closes a second.
 */

export interface TimelinePoint {
  /** Seconds since the recorder started. */
  readonly t: number;
  readonly online: number;
  readonly attempts: number;
  readonly sessions: number;
  readonly executed: number;
  readonly issued: number;
}

export interface TimelineMark {
  readonly t: number;
  readonly label: string;
}

export class FleetRecorder {
  readonly points: TimelinePoint[] = [];
  readonly marks: TimelineMark[] = [];
  private readonly t0 = performance.now();
  private open = { attempts: 0, sessions: 0, executed: 0, issued: 0 };
  private timer?: NodeJS.Timeout;

  constructor(private readonly onlineNow: () => number) {}

  /** Seconds since the start, to 0.1 s. */
  now(): number {
    return Math.round((performance.now() - this.t0) / 100) / 10;
  }

  onDeviceEvent(e: DeviceEvent): void {
    if (e.type === "state" && e.state === "connecting") this.open.attempts++;
    else if (e.type === "online") this.open.sessions++;
    else if (e.type === "command") this.open.executed++;
  }

  issued(n: number): void {
    this.open.issued += n;
  }

  mark(label: string): void {
    this.marks.push({ t: this.now(), label });
  }

  /** Samples once a second until stop(). */
  start(): this {
    this.timer = setInterval(() => this.sample(), 1000);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    this.points.push({ t: this.now(), online: this.onlineNow(), ...this.open });
    this.open = { attempts: 0, sessions: 0, executed: 0, issued: 0 };
  }

  /** The highest count of connection attempts in one second from `from` (s) on. */
  peakAttempts(from = 0, to = Infinity): number {
    return Math.max(0, ...this.points.filter((p) => p.t > from && p.t <= to + 1).map((p) => p.attempts));
  }
}
