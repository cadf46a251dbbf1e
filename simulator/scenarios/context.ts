import type { Lab } from "../runtime/lab";
import type { StartedTopology } from "../runtime/topologies/topology";
import type { ImiClient } from "../ums/imi-client";
import type { StartedDeviceFleet } from "../device/device-fleet";
import type { DeviceRefusal } from "../device/refusal";
import type { Evidence } from "../report/model";
import type { Component, Outcome } from "./outcome";
import { connectionLogFor } from "./evidence-logs";

/** What a flow observed: the outcome in the table's vocabulary and the evidence behind it. */
export interface Observation {
  readonly outcome: Outcome;
  readonly evidence: Evidence;
  readonly note?: string;
  /** The flow could not check this here; the reason (the cell becomes "skipped", never a pass). */
  readonly skipped?: string;
}

/** Everything a scenario flow may use; the onboarding flow sets `fleet` for the ones after it. */
export interface ScenarioContext {
  readonly topology: StartedTopology;
  readonly lab: Lab;
  readonly imi: ImiClient;
  /** How many devices the main fleet has. */
  readonly deviceCount: number;
  fleet?: StartedDeviceFleet;
  /** Per device, ms, filled by the onboarding flow. */
  readonly onboardingMs: number[];
  /** Per command, queued → result at the UMS, ms. */
  readonly commandRoundTrips: number[];
}

/** Device options that keep a simulation quick: short boots and backoffs. */
export const FAST_DEVICES = { bootMs: 100, backoff: { initialMs: 100, maxMs: 1000 }, handshakeTimeoutMs: 8000 } as const;

/** The component that terminates a device's TLS connection in this topology. */
export function tlsTerminator(topology: StartedTopology): Component {
  return topology.deviceFacing;
}

function asComponent(by: string | undefined, fallback: Component): Component {
  return by === "ums" || by === "nginx" || by === "alb" || by === "icg" ? by : by === "proxy" ? "nginx" : fallback;
}

/** Turns how a device was refused into an outcome, with the ALB's connection-log status as evidence where there is one. */
export async function observeRefusal(ctx: ScenarioContext, refusal: DeviceRefusal, leafSerial?: string, logMark?: number): Promise<Observation> {
  const terminator = tlsTerminator(ctx.topology);
  const evidence: Evidence = { reason: refusal.reason, status: refusal.status, closeCode: refusal.closeCode, by: refusal.by, detail: `${refusal.stage} refused (${refusal.kind})` };
  switch (refusal.kind) {
    case "tls": {
      const record = terminator === "alb" && (leafSerial || logMark !== undefined) ? await connectionLogFor(ctx.topology, leafSerial, logMark) : undefined;
      return {
        outcome: { kind: "tls", by: terminator, connectionLog: record?.verifyStatus },
        evidence: { ...evidence, tlsError: refusal.error, connectionLog: record?.verifyStatus, logLine: record?.line },
      };
    }
    case "http":
      return { outcome: { kind: "http", by: asComponent(refusal.by, terminator), status: refusal.status ?? 0 }, evidence };
    case "close":
      return { outcome: { kind: "close", by: asComponent(refusal.by, terminator), code: refusal.closeCode ?? 0 }, evidence };
    case "network":
      return { outcome: { kind: "blocked" }, evidence: { ...evidence, tlsError: refusal.error } };
    default:
      return { outcome: { kind: "http", by: terminator, status: 0 }, evidence: { ...evidence, detail: `protocol error: ${refusal.reason}` } };
  }
}
