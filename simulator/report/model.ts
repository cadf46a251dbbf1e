import type { Percentiles } from "../common/stats";
/**
 * What a simulation run produces: report.json is this object, report.html renders it. Kept free of
 * behaviour so that other tools can read report.json without ums-edge.
 */

/** pass/fail: compared with the expectation; skipped: could not be checked here (the note says why); n/a: the scenario does not apply to the topology. */
export type Verdict = "pass" | "fail" | "skipped" | "n/a";

/** What was observed, so that a reader can check a verdict without re-running it. */
export interface Evidence {
  /** HTTP status of the decisive response. */
  readonly status?: number;
  /** The refusal reason as the refusing component gave it (response body or log). */
  readonly reason?: string;
  /** Which component refused or answered: ums, icg, nginx, alb. */
  readonly by?: string;
  /** A log line that shows the outcome (structured JSON or an ALB log line). */
  readonly logLine?: string;
  /** The ALB connection-log `tls_verify_status`, e.g. `Failed:ClientCertUntrusted`. */
  readonly connectionLog?: string;
  /** The TLS error the client saw when the handshake failed. */
  readonly tlsError?: string;
  /** WebSocket close code. */
  readonly closeCode?: number;
  /** Anything else worth showing, short. */
  readonly detail?: string;
}

export interface CellResult {
  readonly scenario: string;
  readonly topology: string;
  /** The expected outcome in words (from the expected-outcomes table). */
  readonly expected: string;
  /** The observed outcome in the same words, so a mismatch reads as a diff. */
  readonly actual: string;
  readonly verdict: Verdict;
  readonly evidence: Evidence;
  /** Why a cell was skipped, or what differs. */
  readonly note?: string;
}

/** Latency figures (ms); an empty sample has only its count. */
export type LatencySummary = Percentiles;

export interface TopologyResult {
  readonly name: string;
  /** Where its stack came from: the administrator's config (`--config`), or the lab's own. */
  readonly source: "your stack" | "lab";
  /** Milliseconds to start the topology's components. */
  readonly startMs: number;
  readonly devices: number;
  /** Milliseconds, per device. */
  readonly onboarding: LatencySummary;
  /** Milliseconds from the IMI command request to the device's result, per command. */
  readonly commandRoundTrip: LatencySummary;
}

export interface ScenarioInfo {
  readonly id: string;
  readonly title: string;
}

/** A behaviour neither AWS nor IGEL documents, which the simulation had to choose. */
export interface Assumption {
  readonly id: string;
  readonly text: string;
  /** What to check on a real deployment. */
  readonly checkOnRealSystem: string;
}

export interface SimulationReport {
  readonly tool: "ums-edge";
  readonly version: string;
  readonly generatedAt: string;
  /** Where components ran: loopback processes, network namespaces, or containers. */
  readonly runtime: string;
  /** What the runtime that ran could not prove (empty: everything in the table was proved). */
  readonly notProved: readonly string[];
  /** With --config: the administrator's config and each input, used as given or substituted. */
  readonly inputs?: { readonly configFile: string; readonly inputs: readonly { readonly input: string; readonly file: string; readonly origin: "yours" | "substituted"; readonly note: string }[] };
  readonly devicesPerTopology: number;
  readonly topologies: readonly TopologyResult[];
  readonly scenarios: readonly ScenarioInfo[];
  readonly cells: readonly CellResult[];
  readonly assumptions: readonly Assumption[];
  readonly summary: { readonly pass: number; readonly fail: number; readonly skipped: number; readonly notApplicable: number };
}

export function summaryOf(cells: readonly CellResult[]): SimulationReport["summary"] {
  return {
    pass: cells.filter((c) => c.verdict === "pass").length,
    fail: cells.filter((c) => c.verdict === "fail").length,
    skipped: cells.filter((c) => c.verdict === "skipped").length,
    notApplicable: cells.filter((c) => c.verdict === "n/a").length,
  };
}
