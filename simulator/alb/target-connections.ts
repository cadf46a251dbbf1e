import { TargetConnection, TargetPoolHooks } from "./target-connection";

/**
 * The load balancer's keep-alive connections to its targets, per process: idle connections per
 * target, reused last-in first-out (the warmest first), as the ALB reuses its target connections
 * across client connections. A client connection holds one only while a request is in flight.
 */

export interface TargetConnectionsOptions {
  /** A target that does not accept a connection within this: 504. */
  readonly connectTimeoutMs: number;
  /** A target that sends nothing for this long: 504; idle connections close after it too. */
  readonly targetTimeoutMs: number;
  /** Idle connections kept per target. @default 256 */
  readonly maxIdlePerTarget?: number;
}

export class TargetConnections implements TargetPoolHooks {
  private readonly idle = new Map<string, TargetConnection[]>();
  private readonly sessions = new Map<string, Buffer>();
  private readonly open = new Set<TargetConnection>();
  private readonly maxIdle: number;
  private closed = false;

  constructor(private readonly o: TargetConnectionsOptions) {
    this.maxIdle = o.maxIdlePerTarget ?? 256;
  }

  /** An idle connection to the target, or a new one. */
  acquire(host: string, port: number, tls: boolean): TargetConnection {
    const key = `${tls ? "https" : "http"}:${host}:${port}`;
    const list = this.idle.get(key);
    if (list !== undefined) {
      while (list.length > 0) {
        const c = list.pop()!;
        if (!c.closed) return c;
      }
    }
    return this.connect(key, host, port, tls);
  }

  /** A new connection that will not be reused by others (an upgrade, a retry). */
  fresh(host: string, port: number, tls: boolean): TargetConnection {
    return this.connect(`${tls ? "https" : "http"}:${host}:${port}`, host, port, tls);
  }

  private connect(key: string, host: string, port: number, tls: boolean): TargetConnection {
    const c = new TargetConnection(this, key, { host, port, tls, connectTimeoutMs: this.o.connectTimeoutMs, targetTimeoutMs: this.o.targetTimeoutMs, session: tls ? this.sessions.get(key) : undefined });
    this.open.add(c);
    if (this.closed) c.destroy();
    return c;
  }

  release(c: TargetConnection): void {
    let list = this.idle.get(c.key);
    if (list === undefined) this.idle.set(c.key, (list = []));
    if (list.length >= this.maxIdle || this.closed) return c.destroy();
    list.push(c);
  }

  forget(c: TargetConnection): void {
    this.open.delete(c);
    const list = this.idle.get(c.key);
    const i = list === undefined ? -1 : list.lastIndexOf(c);
    if (i >= 0) list!.splice(i, 1);
  }

  session(c: TargetConnection, session: Buffer): void {
    this.sessions.set(c.key, session);
  }

  /** Closes every connection (the emulator stops). */
  close(): void {
    this.closed = true;
    for (const c of [...this.open]) c.destroy();
    this.open.clear();
    this.idle.clear();
  }
}
