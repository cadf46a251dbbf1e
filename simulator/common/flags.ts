import { Command, Option } from "commander";
import { UserError } from "../../core/errors";

/**
 * A component's command-line flags declared once, as data: the same declaration builds its
 * commander command (its process entry and `ums-edge <component>`), parses the flags into the
 * component's options, and turns options back into arguments (what the launchers and container
 * modules pass). Parsing and `toArgs` are inverses, so a launcher cannot drift from the entry.
 */

interface FlagBase {
  /** e.g. `--port`; a negated boolean is spelled `--no-check-revocation` and sets its option to false. */
  readonly flag: string;
  readonly description: string;
  /** Shown in --help; not applied to the options (the component applies its own defaults). */
  readonly defaultText?: string;
  readonly required?: boolean;
  readonly hidden?: boolean;
}
export interface StringFlag extends FlagBase {
  readonly kind: "string";
  /** Placeholder in --help, e.g. `<dir>`. */
  readonly value: string;
  readonly choices?: readonly string[];
}
export interface IntegerFlag extends FlagBase {
  readonly kind: "integer";
  readonly value: string;
  readonly min: number;
  readonly max?: number;
}
export interface NumberFlag extends FlagBase {
  readonly kind: "number";
  readonly value: string;
  /** Smallest value allowed (exclusive when `exclusiveMin`). */
  readonly min: number;
  readonly exclusiveMin?: boolean;
}
/** Present: true (or false for a `--no-...` flag). */
export interface BooleanFlag extends FlagBase {
  readonly kind: "boolean";
}
/** Repeatable. */
export interface ListFlag extends FlagBase {
  readonly kind: "list";
  readonly value: string;
}
export type FlagDef = StringFlag | IntegerFlag | NumberFlag | BooleanFlag | ListFlag;
export type FlagSpec = Readonly<Record<string, FlagDef>>;

type ValueOf<D> = D extends { kind: "integer" | "number" } ? number : D extends { kind: "boolean" } ? boolean : D extends { kind: "list" } ? readonly string[] : string;
type RequiredKeys<S> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];
type OptionalKeys<S> = Exclude<keyof S, RequiredKeys<S>>;
/** The options a flag spec parses into: required flags required, the others optional. */
export type OptionsOf<S extends FlagSpec> = { readonly [K in RequiredKeys<S>]: ValueOf<S[K]> } & { readonly [K in OptionalKeys<S>]?: ValueOf<S[K]> };

const negated = (d: FlagDef) => d.kind === "boolean" && d.flag.startsWith("--no-");

/** commander's camelCase attribute for a flag (`--no-check-revocation` → checkRevocation). */
function attributeOf(d: FlagDef): string {
  return d.flag
    .replace(/^--(no-)?/, "")
    .replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Adds the spec's flags to a command. */
export function addFlags(command: Command, spec: FlagSpec): Command {
  for (const d of Object.values(spec)) {
    const text = d.kind === "boolean" ? d.flag : `${d.flag} ${d.value}`;
    const description = d.defaultText ? `${d.description} (default ${d.defaultText})` : d.description;
    const option = new Option(text, description);
    if (d.kind === "list") option.argParser((v: string, acc: string[] | undefined) => [...(acc ?? []), v]);
    if (d.kind === "string" && d.choices) option.choices([...d.choices]);
    if (d.required) option.makeOptionMandatory();
    if (d.hidden) option.hideHelp();
    command.addOption(option);
  }
  return command;
}

function parseNumber(d: IntegerFlag | NumberFlag, text: string): number {
  const n = Number(text);
  const integer = d.kind === "integer";
  const tooSmall = d.kind === "number" && d.exclusiveMin ? n <= d.min : n < d.min;
  const max = d.kind === "integer" ? (d.max ?? Number.MAX_SAFE_INTEGER) : Infinity;
  if (text.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || tooSmall || n > max) {
    const range = d.kind === "integer" ? `an integer from ${d.min} to ${max}` : `a number ${d.exclusiveMin ? "above" : "of at least"} ${d.min}`;
    throw new UserError(`${d.flag}: '${text}' is not ${range}`);
  }
  return n;
}

/** commander's parsed flags → the component's options (only what was given). Throws a UserError naming the flag. */
export function optionsFromFlags<S extends FlagSpec>(spec: S, flags: Readonly<Record<string, unknown>>): OptionsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, d] of Object.entries(spec)) {
    const raw = flags[attributeOf(d)];
    if (raw === undefined) continue;
    switch (d.kind) {
      case "boolean":
        // commander gives a `--no-x` flag true unless it is passed; only the passed form is an option.
        if (negated(d) ? raw === false : raw === true) out[key] = !negated(d);
        break;
      case "integer":
      case "number":
        out[key] = parseNumber(d, String(raw));
        break;
      case "list":
        if ((raw as string[]).length > 0) out[key] = [...(raw as string[])];
        break;
      default:
        out[key] = String(raw);
    }
  }
  return out as OptionsOf<S>;
}

/** The inverse of optionsFromFlags: the arguments that parse back into `options`. */
export function toArgs<S extends FlagSpec>(spec: S, options: OptionsOf<S>): string[] {
  const args: string[] = [];
  const values = options as Readonly<Record<string, unknown>>;
  for (const [key, d] of Object.entries(spec)) {
    const v = values[key];
    if (v === undefined) continue;
    switch (d.kind) {
      case "boolean":
        if (v === !negated(d)) args.push(d.flag);
        break;
      case "list":
        for (const item of v as readonly string[]) args.push(d.flag, item);
        break;
      default:
        args.push(d.flag, String(v));
    }
  }
  return args;
}

/** Wraps an action so that a UserError becomes a message and an exit code (process entries: entryAction; the CLI: runAction). */
export type ActionGuard = (action: (flags: Record<string, unknown>) => Promise<void>) => (flags: Record<string, unknown>) => Promise<void>;

/** A command named `name` with the spec's flags whose action receives the parsed options (flag errors go through `guard` too). */
export function commandFromSpec<S extends FlagSpec>(name: string, description: string, spec: S, run: (options: OptionsOf<S>) => Promise<void>, guard: ActionGuard): Command {
  const command = addFlags(new Command(name).description(description), spec);
  return command.action(guard(async (flags) => run(optionsFromFlags(spec, flags))));
}
