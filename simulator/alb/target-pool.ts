import type { TargetGroupModel } from "../terraform/stack-model";

/**
 * The registered targets of one target group and their health, and the choice of a target for a
 * request: round robin over healthy targets; when none is healthy, over all of them (AWS fails
 * open: "If a target group contains only unhealthy registered targets, the load balancer routes
 * requests to all those targets").
 */

export type TargetState = "initial" | "healthy" | "unhealthy";

export interface TargetStatus {
  readonly host: string;
  readonly port: number;
  state: TargetState;
  /** AWS's reason code for the state (Elb.InitialHealthChecking, Target.Timeout, ...). */
  reason: string;
  /** Last check's outcome in words. */
  description: string;
}

export interface PickedTarget {
  readonly target: TargetStatus;
  /** No target was healthy: routed anyway. */
  readonly failOpen: boolean;
}

export interface TargetAddress {
  readonly host: string;
  readonly port: number;
}

export class TargetGroupPool {
  readonly targets: TargetStatus[];
  private next = 0;

  constructor(
    readonly group: TargetGroupModel,
    /** Where each registered target really is (the emulator cannot reach an EC2 instance ID). */
    addresses: readonly TargetAddress[],
  ) {
    // Every attachment stands for the given target(s); a group without attachments has no targets (503).
    const registered = group.targets.length > 0 ? addresses : [];
    this.targets = registered.map((a) => ({ host: a.host, port: a.port, state: "initial", reason: "Elb.InitialHealthChecking", description: "no health check has completed yet" }));
  }

  pick(): PickedTarget | undefined {
    const n = this.targets.length;
    if (n === 0) return undefined;
    for (let i = 0; i < n; i++) {
      const t = this.targets[(this.next + i) % n];
      if (t.state === "healthy") {
        this.next = (this.next + i + 1) % n;
        return { target: t, failOpen: false };
      }
    }
    const t = this.targets[this.next % n];
    this.next = (this.next + 1) % n;
    return { target: t, failOpen: true };
  }

  find(host: string, port: number): TargetStatus | undefined {
    return this.targets.find((t) => t.host === host && t.port === port);
  }
}
