import * as fs from "node:fs";
import * as path from "node:path";
import type { FlagDef } from "../../common/flags";
import { UserError } from "../../../core/errors";
import { COMPONENT_FLAGS, ComponentKind, ENTRIES, ProcessOptions, READY_LINE, ReadyLine, argsOf } from "../launch";
import { ComponentContainer, ComponentContainerOptions, readyLine, StartedComponentContainer } from "./component-container";
import { imageName } from "./images";

/**
 * Any component (mock UMS, ICG, ALB emulator, device fleet) in a container, started from the very
 * options a process of it would get: the component's flag declaration says which options name files
 * (`<file>`, `<dir>`), and those are copied into the container and the options rewritten to the paths
 * inside; an output directory (the ALB's logs) is bind-mounted instead, so this process reads it as
 * it is written. The listen host becomes 0.0.0.0. The command line is the component's own `toArgs`.
 */

/** Options naming a directory the component writes into (bind-mounted, not copied). */
const OUTPUT_OPTIONS: { readonly [K in ComponentKind]?: readonly string[] } = { alb: ["logs"] };

const IN = "/in";
const OUT = "/out";

export interface ProcessContainerOptions extends ComponentContainerOptions {
  /** Environment of the component (e.g. AWS credentials for S3). @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** More flags of the component, after those its options give. @default none */
  readonly extraArgs?: readonly string[];
}

/** Where a host path went in the container. */
export interface PathMapping {
  readonly host: string;
  readonly container: string;
}

function isPathFlag(d: FlagDef): boolean {
  return d.kind === "string" && (d.value === "<file>" || d.value === "<dir>");
}

/**
 * The options as the component sees them inside its container, and the copies and mounts that
 * make it so. A host path that does not exist is a UserError naming the option.
 */
export function containerOptionsOf<K extends ComponentKind>(kind: K, options: ProcessOptions[K]): { options: ProcessOptions[K]; copies: PathMapping[]; mounts: PathMapping[] } {
  const spec = COMPONENT_FLAGS[kind];
  const values: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  const copies: PathMapping[] = [];
  const mounts: PathMapping[] = [];
  for (const [key, d] of Object.entries(spec)) {
    const value = values[key];
    if (typeof value !== "string" || !isPathFlag(d)) continue;
    const host = path.resolve(value);
    if (((OUTPUT_OPTIONS[kind] ?? []) as readonly string[]).includes(key)) {
      fs.mkdirSync(host, { recursive: true });
      mounts.push({ host, container: `${OUT}/${key}` });
      values[key] = `${OUT}/${key}`;
      continue;
    }
    if (!fs.existsSync(host)) throw new UserError(`${kind} ${d.flag}: '${value}' does not exist, so it cannot be copied into the ${kind} container\n  fix: give an existing ${d.kind === "string" && d.value === "<dir>" ? "directory" : "file"}`);
    const inside = fs.statSync(host).isDirectory() ? `${IN}/${key}` : `${IN}/${key}/${path.basename(host)}`;
    copies.push({ host, container: inside });
    values[key] = inside;
  }
  if ("host" in spec) values.host = "0.0.0.0";
  return { options: values as ProcessOptions[K], copies, mounts };
}

export class ProcessContainer<K extends ComponentKind> extends ComponentContainer {
  /** Host paths and where they are in the container (copies and mounts). */
  readonly paths: readonly PathMapping[];

  constructor(
    readonly kind: K,
    /** The component's options as this machine sees them (host paths). */
    options: ProcessOptions[K],
    container: ProcessContainerOptions = {},
    /** Ports it listens on (published only when `publishPorts`). @default none */
    ports: readonly number[] = [],
  ) {
    super(container.image ?? imageName("node"), kind, container, ports, (out) => out.find(READY_LINE[kind]) !== undefined);
    const inside = containerOptionsOf(kind, options);
    this.paths = [...inside.copies, ...inside.mounts];
    const files = inside.copies.filter((c) => fs.statSync(c.host).isFile());
    const dirs = inside.copies.filter((c) => !files.includes(c));
    // Private keys keep their mode (0600) inside too.
    if (files.length) this.withCopyFilesToContainer(files.map((f) => ({ source: f.host, target: f.container, mode: fs.statSync(f.host).mode & 0o777 })));
    if (dirs.length) this.withCopyDirectoriesToContainer(dirs.map((d) => ({ source: d.host, target: d.container })));
    if (inside.mounts.length) this.withBindMounts(inside.mounts.map((m) => ({ source: m.host, target: m.container, mode: "rw" as const })));
    if (container.env) this.withEnvironment({ ...container.env });
    this.withCommand([ENTRIES[kind], ...argsOf(kind, inside.options), ...(container.extraArgs ?? [])]);
  }

  override async start(): Promise<StartedProcessContainer<K>> {
    return new StartedProcessContainer(...(await this.startProcess()));
  }

  /** Starts it and waits for its ready line: what a Started... class is built from. */
  protected async startProcess(): Promise<ConstructorParameters<typeof StartedProcessContainer<K>>> {
    const { started, output } = await this.startComponent();
    const ready = (await readyLine(output, READY_LINE[this.kind], `${this.kind} ready line`)) as unknown as ReadyLine[K];
    return [started, ready, output, this.paths];
  }
}

export class StartedProcessContainer<K extends ComponentKind> extends StartedComponentContainer<ReadyLine[K] & object> {
  constructor(
    started: ConstructorParameters<typeof StartedComponentContainer>[0],
    ready: ReadyLine[K],
    output: ConstructorParameters<typeof StartedComponentContainer>[2],
    /** Host paths and where they are in the container. */
    readonly paths: readonly PathMapping[],
  ) {
    super(started, ready as ReadyLine[K] & object, output);
  }

  /** True until the container's output ends (it exited). */
  isRunning(): boolean {
    return !this.output.ended;
  }
}
