import { UserError } from "../../core/errors";
import { EXAMPLE_CONFIG } from "../../core/project-root";
import type { FlagSpec, OptionsOf } from "../../simulator/common/flags";
import { TOPOLOGIES, TopologyName } from "../../simulator/runtime/topologies/definitions";

/**
 * What a bench run measures and how big: the command line's options (declared once, as the
 * components declare theirs) resolved against the full-size and the `--quick` defaults.
 */

export const SECTIONS = ["synth", "alb", "fleet", "memory", "latency", "storm"] as const;
export type SectionId = (typeof SECTIONS)[number];

/** The scale targets (issues 2, 4, 5): figures a full run is judged by. */
export const TARGETS = {
  synthWallMs: 1000,
  synthPeakMiB: 200,
  /** ALB emulator / nginx, new mTLS connections per second and kept-alive requests per second. */
  albVsNginxConnections: 0.5,
  albVsNginxRequests: 0.7,
  onboardDevices: 1000,
  onboardSeconds: 20,
  memorySessions: 10_000,
  memoryMiB: 2048,
} as const;

export const SYNTH_FLAGS = {
  config: { flag: "--config", kind: "string", value: "<file>", description: "the ums-edge config whose stacks are synthesized", defaultText: "the example config" },
  runs: { flag: "--runs", kind: "integer", value: "<n>", min: 1, max: 100, description: "cold syntheses, each in a fresh process (the median is the figure)", defaultText: "5; 1 with --quick" },
} as const satisfies FlagSpec;

export const ALB_BENCH_FLAGS = {
  duration: { flag: "--duration", kind: "integer", value: "<ms>", min: 100, description: "measuring time per load and front", defaultText: "3000; 1000 with --quick" },
  rounds: { flag: "--rounds", kind: "integer", value: "<n>", min: 1, max: 50, description: "rounds over every front, in alternating order (medians are the figures)", defaultText: "3; 1 with --quick" },
  workers: { flag: "--workers", kind: "integer", value: "<n>", min: 1, max: 64, description: "processes of every front, measured besides 1", defaultText: "the number of cores; only 1 with --quick" },
  generators: { flag: "--generators", kind: "integer", value: "<n>", min: 1, max: 16, description: "load generator processes", defaultText: "2" },
} as const satisfies FlagSpec;

const QUICK_FLAG = {
  quick: { flag: "--quick", kind: "boolean", description: "a small run for CI: figures printed, only the orderings asserted (not the scale targets)" },
} as const satisfies FlagSpec;

export const BENCH_FLAGS = {
  ...QUICK_FLAG,
  only: { flag: "--only", kind: "string", value: "<list>", description: `comma-separated benches to run: ${SECTIONS.join(", ")}`, defaultText: "all" },
  devices: { flag: "--devices", kind: "integer", value: "<n>", min: 1, description: "fleet: devices per topology", defaultText: `${TARGETS.onboardDevices}; 20 with --quick` },
  repeats: { flag: "--repeats", kind: "integer", value: "<n>", min: 1, max: 20, description: "fleet: runs through alb-verify (the median run is reported)", defaultText: "3; 1 with --quick" },
  sessions: { flag: "--sessions", kind: "integer", value: "<n>", min: 1, description: "memory: device sessions held through alb-verify", defaultText: `${TARGETS.memorySessions}; 100 with --quick` },
  latencyDevices: { flag: "--latency-devices", kind: "integer", value: "<n>", min: 1, description: "latency: devices per topology", defaultText: "20; 5 with --quick" },
  latencySamples: { flag: "--latency-samples", kind: "integer", value: "<n>", min: 1, description: "latency: commands per topology, one at a time", defaultText: "300; 100 with --quick" },
  stormDevices: { flag: "--storm-devices", kind: "integer", value: "<n>", min: 1, description: "storm: devices reconnecting after each restart (issue 15's goal: 10000)", defaultText: "1000; 100 with --quick" },
} as const satisfies FlagSpec;

export const SYNTH_COMMAND_FLAGS = { ...QUICK_FLAG, ...SYNTH_FLAGS } as const satisfies FlagSpec;
export const ALB_COMMAND_FLAGS = { ...QUICK_FLAG, ...ALB_BENCH_FLAGS } as const satisfies FlagSpec;

export type BenchOptions = OptionsOf<typeof BENCH_FLAGS> & OptionsOf<typeof SYNTH_FLAGS> & OptionsOf<typeof ALB_BENCH_FLAGS>;

export interface SynthSettings {
  readonly config: string;
  readonly runs: number;
}

export interface AlbSettings {
  readonly durationMs: number;
  /** Load before each measuring window (connections and caches warm). */
  readonly warmupMs: number;
  readonly rounds: number;
  /** Process counts every front is measured with. */
  readonly processCounts: readonly number[];
  readonly generators: number;
}

export interface FleetSettings {
  readonly devices: number;
  readonly repeats: number;
  readonly topologies: readonly TopologyName[];
}

export interface MemorySettings {
  readonly sessions: number;
  /** How long every session is held before the reading. */
  readonly holdMs: number;
}

export interface LatencySettings {
  readonly devices: number;
  readonly samples: number;
  /** Every topology, or (quick) the two the ordering compares. */
  readonly topologies: readonly TopologyName[];
}

export interface StormSettings {
  readonly devices: number;
  /** The size (10,000): a smaller run's 30 s bound is shown, not asserted. */
  readonly goalDevices: number;
  readonly commandsPerSecond: number;
  /** Before the first restart and after each recovery. */
  readonly settleMs: number;
  readonly backoffMaxMs: number;
}

export interface BenchPlan {
  readonly quick: boolean;
  readonly sections: readonly SectionId[];
  /** Device keys the fleets draw from. */
  readonly keyPoolSize: number;
  readonly synth: SynthSettings;
  readonly alb: AlbSettings;
  readonly fleet: FleetSettings;
  readonly memory: MemorySettings;
  readonly latency: LatencySettings;
  readonly storm: StormSettings;
}

/** `--only synth,alb` → the sections in the order they run; a UserError naming an unknown one. */
export function parseOnly(text: string | undefined): SectionId[] {
  if (text === undefined) return [...SECTIONS];
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new UserError(`--only: '${text}' names no bench or an unknown one (${unknown.join(", ") || "empty"})\n  fix: list some of ${SECTIONS.join(", ")}, e.g. --only fleet,latency`);
  return SECTIONS.filter((s) => names.includes(s));
}

/** The options given, resolved against the full-size or the quick defaults. */
export function benchPlan(o: Partial<BenchOptions>, cores: number): BenchPlan {
  const quick = o.quick === true;
  const pick = (given: number | undefined, full: number, small: number) => given ?? (quick ? small : full);
  const workers = o.workers ?? (quick ? 1 : cores);
  return {
    quick,
    sections: parseOnly(o.only),
    keyPoolSize: quick ? 16 : 64,
    synth: { config: o.config ?? EXAMPLE_CONFIG, runs: pick(o.runs, 5, 1) },
    alb: { durationMs: pick(o.duration, 3000, 1000), warmupMs: quick ? 500 : 1000, rounds: pick(o.rounds, 3, 1), processCounts: [...new Set([1, workers])], generators: o.generators ?? 2 },
    fleet: { devices: pick(o.devices, TARGETS.onboardDevices, 20), repeats: pick(o.repeats, 3, 1), topologies: TOPOLOGIES },
    memory: { sessions: pick(o.sessions, TARGETS.memorySessions, 100), holdMs: quick ? 2000 : 10_000 },
    latency: { devices: pick(o.latencyDevices, 20, 5), samples: pick(o.latencySamples, 300, 100), topologies: quick ? ["reverse-proxy", "icg"] : TOPOLOGIES },
    storm: stormSettings(pick(o.stormDevices, 1000, 100), quick),
  };
}

function stormSettings(devices: number, quick: boolean): StormSettings {
  return { devices, goalDevices: 10_000, commandsPerSecond: Math.max(2, Math.round(devices / 20)), settleMs: quick ? 3000 : 10_000, backoffMaxMs: 15_000 };
}
