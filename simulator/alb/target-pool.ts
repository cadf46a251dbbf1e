import type { TargetGroupModel } from "../terraform/stack-model";
import { UserError } from "../../core/errors";

/**
 * The registered targets of one target group and their health, and the choice of a target for a
 * request. AWS, ELB user guide, "Health checks for Application Load Balancer target groups":
 * requests go round robin to healthy targets (and to `unavailable` ones: health checks disabled);
 * "Before a target can receive requests from the load balancer, it must pass the initial health
 * checks", so a target in `initial` never gets one; "If a target group contains only unhealthy
 * registered targets, the load balancer routes requests to all those targets" (fail-open). A group
 * whose targets are all still in `initial` gets no request (503: assumption `alb-all-initial`).
 */

export type TargetState = "initial" | "healthy" | "unhealthy" | "unavailable";

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

/**
 * Where each target group attachment of the stack is: one address per attachment, in the
 * attachments' order (the UMS servers of `instance.count`), or one address all of them stand for.
 * A group without attachments has no targets (503).
 */
export function registeredAddresses(group: TargetGroupModel, addresses: readonly TargetAddress[]): readonly TargetAddress[] {
  const attachments = group.targets.length;
  if (attachments === 0) return [];
  if (addresses.length === attachments || addresses.length === 1) return addresses;
  throw new UserError(
    `--target: ${addresses.length} targets given, but target group ${group.name} has ${attachments} attachment(s) (${group.targets.map((t) => t.address).join(", ")})\n` +
      "  fix: give one --target per attachment, in the stack's order, or one --target that stands for all of them",
  );
}

export class TargetGroupPool {
  readonly targets: TargetStatus[];
  private next = 0;

  constructor(
    readonly group: TargetGroupModel,
    /** Where each registered target really is (the emulator cannot reach an EC2 instance ID). */
    addresses: readonly TargetAddress[],
  ) {
    const registered = registeredAddresses(group, addresses);
    this.targets = registered.map((a) => ({ host: a.host, port: a.port, state: "initial", reason: "Elb.InitialHealthChecking", description: "no health check has completed yet" }));
  }

  pick(): PickedTarget | undefined {
    return this.next_((s) => s === "healthy" || s === "unavailable", false) ?? this.next_((s) => s === "unhealthy", true);
  }

  /** The next target (round robin) in a state `ok` accepts. */
  private next_(ok: (s: TargetState) => boolean, failOpen: boolean): PickedTarget | undefined {
    const n = this.targets.length;
    for (let i = 0; i < n; i++) {
      const t = this.targets[(this.next + i) % n];
      if (ok(t.state)) {
        this.next = (this.next + i + 1) % n;
        return { target: t, failOpen };
      }
    }
    return undefined;
  }

  find(host: string, port: number): TargetStatus | undefined {
    return this.targets.find((t) => t.host === host && t.port === port);
  }
}
