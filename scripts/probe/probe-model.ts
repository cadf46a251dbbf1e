import type { Lab } from "../../simulator/runtime/lab";
import type { StartedTopology } from "../../simulator/runtime/topologies/topology";
import type { ImiClient } from "../../simulator/ums/imi-client";
import type { RawTarget } from "./raw-exchange";

/** The probe's vocabulary: categories of bad input, one attempt's outcome, and the tallies reported. */

export const CATEGORIES = ["malformed HTTP", "smuggling shapes", "slow clients", "path tricks", "header spoofing", "WebSocket abuse", "onboarding abuse", "admin API abuse"] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Attempt {
  /** What was tried, in a few words. */
  readonly input: string;
  readonly status?: number;
  /** Who answered: alb, nginx, ums, icg. */
  readonly by?: string;
  /** The attack got what it wanted (a protected resource, a device's identity, a held listener, ...). */
  readonly letThrough: boolean;
  /** A 5xx this input explains (AWS's 501 for an unsupported Transfer-Encoding, 505 for an HTTP/2 request line). */
  readonly explained5xx?: boolean;
  /** Why it counts as let through. */
  readonly why?: string;
}

export interface ProbeContext {
  readonly topology: StartedTopology;
  readonly lab: Lab;
  /** The IMI API from the administrator's side. */
  readonly imi: ImiClient;
  /** Fewer inputs per category (the test). */
  readonly quick: boolean;
  /** The topology keeps the IMI API from devices (every one but direct): reaching it counts as let through. */
  readonly allowList: boolean;
  /** The device-facing listener with the lab's good device certificate. */
  readonly withCert: RawTarget;
  /** The enrollment address without a certificate (the same listener where there is only one). */
  readonly noCert: RawTarget;
}

export type CategoryRun = (ctx: ProbeContext) => Promise<Attempt[]>;

export interface CategoryResult {
  readonly category: Category;
  readonly topology: string;
  readonly inputs: number;
  /** Processes that were not running after the category (ums, icg, alb). */
  readonly crashed: readonly string[];
  readonly fiveXX: number;
  readonly unexplained5xx: number;
  readonly letThrough: number;
  /** A few attempts that were let through or answered with an unexplained 5xx. */
  readonly findings: readonly string[];
  readonly ms: number;
  /** Every attempt (for --verbose). */
  readonly attempts: readonly Attempt[];
}

/** The IMI server status JSON (a request reached the UMS API). */
export const reachedImi = (text: string) => text.includes("rmGuiServerVersion");

export function tally(category: Category, topology: string, attempts: readonly Attempt[], crashed: readonly string[], ms: number): CategoryResult {
  const five = attempts.filter((a) => a.status !== undefined && a.status >= 500 && a.status < 600);
  const unexplained = five.filter((a) => !a.explained5xx);
  const let_ = attempts.filter((a) => a.letThrough);
  const findings = [...let_.map((a) => `let through: ${a.input}${a.why ? ` (${a.why})` : ""}`), ...unexplained.map((a) => `${a.status} from ${a.by ?? "?"}: ${a.input}`)].slice(0, 8);
  return { category, topology, inputs: attempts.length, crashed, fiveXX: five.length, unexplained5xx: unexplained.length, letThrough: let_.length, findings, ms, attempts };
}
