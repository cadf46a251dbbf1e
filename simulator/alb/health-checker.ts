import * as http from "node:http";
import * as https from "node:https";
import type { HealthCheckModel } from "../terraform/stack-model";
import type { TargetGroupPool, TargetState, TargetStatus } from "./target-pool";

/**
 * Active health checks of a target group, as the ALB does them: every `interval` a request to the
 * group's path (a new connection each time, target certificate not verified), success when the
 * status is in the matcher within `timeout`. A new target is healthy after one success; a target
 * turns unhealthy after `unhealthy_threshold` consecutive failures and healthy again after
 * `healthy_threshold` consecutive successes (ELB user guide, "Health checks for target groups").
 */

export interface HealthChange {
  readonly group: string;
  readonly target: TargetStatus;
  readonly from: TargetState;
  readonly to: TargetState;
}

export interface HealthCheckerOptions {
  /** Multiplies interval and timeout (tests use e.g. 0.01). @default 1 */
  readonly scale?: number;
  /** Called on every state change. */
  readonly onChange?: (change: HealthChange) => void;
}

/** "200", "200,202", "200-299" → a predicate on status codes. */
export function statusMatcher(matcher: string): (status: number) => boolean {
  const ranges = matcher.split(",").map((part) => {
    const [lo, hi] = part.trim().split("-").map(Number);
    return [lo, hi ?? lo] as const;
  });
  return (status) => ranges.some(([lo, hi]) => status >= lo && status <= hi);
}

interface Counters {
  successes: number;
  failures: number;
}

export class HealthChecker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<http.ClientRequest>();
  private stopped = false;
  private readonly scale: number;

  constructor(
    private readonly pools: readonly TargetGroupPool[],
    private readonly options: HealthCheckerOptions = {},
  ) {
    this.scale = options.scale ?? 1;
  }

  /**
   * Starts checking; resolves once every target's first check has completed (a passed one makes it
   * healthy at once), so that whoever starts the load balancer knows what it will route to.
   */
  start(): Promise<void> {
    const first: Array<Promise<void>> = [];
    for (const pool of this.pools) {
      const hc = pool.group.healthCheck;
      for (const target of pool.targets) {
        if (!hc.enabled) {
          // AWS: "unavailable: Health checks are disabled for the target group" (reason Target.HealthCheckDisabled).
          this.set(pool, target, "unavailable", "Target.HealthCheckDisabled", "health checks are disabled for the target group");
          continue;
        }
        const counters: Counters = { successes: 0, failures: 0 };
        let checked!: () => void;
        first.push(new Promise<void>((resolve) => (checked = resolve)));
        const loop = () => {
          if (this.stopped) return checked();
          this.check(pool, target, hc, counters, () => {
            checked();
            if (this.stopped) return;
            const t = setTimeout(() => {
              this.timers.delete(t);
              loop();
            }, hc.intervalSeconds * 1000 * this.scale);
            t.unref();
            this.timers.add(t);
          });
        };
        loop(); // the first check runs at once, so a target's state is known quickly
      }
    }
    return Promise.all(first).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const r of this.requests) r.destroy();
    this.timers.clear();
    this.requests.clear();
  }

  private check(pool: TargetGroupPool, target: TargetStatus, hc: HealthCheckModel, counters: Counters, done: () => void): void {
    const ok = statusMatcher(hc.matcher);
    const port = hc.port === "traffic-port" ? target.port : hc.port;
    const lib = hc.protocol === "HTTPS" ? https : http;
    const timeoutMs = Math.max(1, hc.timeoutSeconds * 1000 * this.scale);
    let settled = false;
    const finish = (success: boolean, reason: string, description: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.requests.delete(req);
      req.destroy();
      this.record(pool, target, hc, counters, success, reason, description);
      done();
    };
    const req = lib.request(
      {
        host: target.host,
        port,
        method: "GET",
        path: hc.path,
        agent: false,
        rejectUnauthorized: false, // HTTPS target groups do not validate the target's certificate
        headers: { "User-Agent": "ELB-HealthChecker/2.0", Connection: "close" },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (ok(status)) finish(true, "", `GET ${hc.path} answered ${status}`);
        else finish(false, "Target.ResponseCodeMismatch", `GET ${hc.path} answered ${status}; the matcher expects ${hc.matcher}`);
      },
    );
    const timer = setTimeout(() => finish(false, "Target.Timeout", `GET ${hc.path} did not answer within ${timeoutMs} ms`), timeoutMs);
    this.requests.add(req);
    req.on("error", (e) => finish(false, "Target.FailedHealthChecks", `GET ${hc.path} failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.end();
  }

  private record(pool: TargetGroupPool, target: TargetStatus, hc: HealthCheckModel, c: Counters, success: boolean, reason: string, description: string): void {
    if (success) {
      c.successes++;
      c.failures = 0;
    } else {
      c.failures++;
      c.successes = 0;
    }
    target.description = description;
    const s = target.state;
    if (success && (s === "initial" || (s === "unhealthy" && c.successes >= hc.healthyThreshold))) this.set(pool, target, "healthy", "", description);
    else if (!success && s !== "unhealthy" && c.failures >= hc.unhealthyThreshold) this.set(pool, target, "unhealthy", reason, description);
    else if (!success) target.reason = s === "initial" ? "Elb.InitialHealthChecking" : reason; // the latest failure's reason
  }

  private set(pool: TargetGroupPool, target: TargetStatus, to: TargetState, reason: string, description: string): void {
    const from = target.state;
    target.reason = reason;
    target.description = description;
    if (from === to) return;
    target.state = to;
    this.options.onChange?.({ group: pool.group.address, target, from, to });
  }
}
