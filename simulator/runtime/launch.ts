import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../core/project-root";
import { UserError } from "../../core/errors";
import { startComponent, RunningComponent, Spawner, hostSpawner } from "./component-process";
import type { FlagSpec } from "../common/flags";
import { umsArgs, UmsProcessOptions, UmsReadyLine, UMS_FLAGS } from "../ums/process-options";
import { icgArgs, IcgProcessOptions, IcgReadyLine, ICG_FLAGS } from "../icg/process-options";
import { albArgs, AlbProcessOptions, ALB_FLAGS } from "../alb/process-options";
import { devicesArgs, DeviceFleetProcessOptions, DevicesStartedLine, DEVICES_FLAGS } from "../device/process-options";
import type { AlbReadyInfo } from "../alb/alb-emulator";

/**
 * Starting a component as its own process from its options: each component's `toArgs` (the inverse
 * of its flag parser) gives the command line, so the loopback and netns runtimes, the benches and
 * the tests start components exactly as a user would from the command line.
 */

/** Process entries of the components, from the build (dist/), relative to the project root (in the images too). */
export const ENTRIES = {
  ums: "dist/simulator/ums/main.js",
  icg: "dist/simulator/icg/main.js",
  alb: "dist/cli/index.js",
  devices: "dist/simulator/device/main.js",
  adminRelay: "dist/simulator/runtime/admin-relay.js",
} as const;

export interface ProcessOptions {
  readonly ums: UmsProcessOptions;
  readonly icg: IcgProcessOptions;
  readonly alb: AlbProcessOptions;
  readonly devices: DeviceFleetProcessOptions;
}

/** The first JSON line each component prints (its endpoints). */
export interface ReadyLine {
  readonly ums: UmsReadyLine;
  readonly icg: IcgReadyLine;
  readonly alb: AlbReadyInfo;
  readonly devices: DevicesStartedLine;
}

export type ComponentKind = keyof ProcessOptions;

const ARGS: { readonly [K in ComponentKind]: (o: ProcessOptions[K]) => string[] } = { ums: umsArgs, icg: icgArgs, alb: albArgs, devices: devicesArgs };

/** Each component's flag declaration: the container runtime reads which options are files and addresses from it. */
export const COMPONENT_FLAGS: { readonly [K in ComponentKind]: FlagSpec } = { ums: UMS_FLAGS, icg: ICG_FLAGS, alb: ALB_FLAGS, devices: DEVICES_FLAGS };

/** The arguments after the entry that start a component with these options (its own `toArgs`). */
export function argsOf<K extends ComponentKind>(kind: K, options: ProcessOptions[K]): string[] {
  return ARGS[kind](options);
}

/** How each component says it is ready: the first JSON line of this shape (a process or a container). */
export const READY_LINE: { readonly [K in ComponentKind]: (json: Record<string, unknown>) => boolean } = {
  ums: (j) => j.event === "ready" && j.component === "ums",
  icg: (j) => j.event === "ready" && j.component === "icg",
  alb: (j) => j.component === "alb" && typeof j.listeners === "object",
  devices: (j) => j.event === "started" && j.component === "devices",
};

/** The built entry of a process; a UserError naming the fix when dist/ lacks it. */
export function entry(name: keyof typeof ENTRIES): string {
  const file = path.join(projectRoot(), ENTRIES[name]);
  if (!fs.existsSync(file)) throw new UserError(`${ENTRIES[name]} is missing: the simulation runs the built components\n  fix: run 'npm run build' (or 'bash scripts/setup.sh')`);
  return file;
}

/** The command line (node, entry, arguments) that starts a component with these options. */
export function commandLineOf<K extends ComponentKind>(kind: K, options: ProcessOptions[K]): { command: string; args: string[] } {
  return { command: process.execPath, args: [entry(kind), ...argsOf(kind, options)] };
}

export interface LaunchOptions {
  /** Where it runs (the host, a network namespace). @default the host */
  readonly spawner?: Spawner;
  /** Name in logs and errors. @default the kind */
  readonly name?: string;
  /** Also append its output to this file. */
  readonly logFile?: string;
  readonly readyTimeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Every line it prints on stdout, as it comes (see ComponentCommand.onLine). */
  readonly onLine?: (line: string) => void;
}

/** Starts a component as a process and resolves once it printed its ready line. */
export function launch<K extends ComponentKind>(kind: K, options: ProcessOptions[K], how: LaunchOptions = {}): Promise<RunningComponent<ReadyLine[K]>> {
  const { command, args } = commandLineOf(kind, options);
  return startComponent<ReadyLine[K]>({ name: how.name ?? kind, command, args, logFile: how.logFile, readyTimeoutMs: how.readyTimeoutMs, env: how.env, onLine: how.onLine }, how.spawner ?? hostSpawner);
}
