import * as fs from "node:fs";
import * as path from "node:path";
import { Problem } from "../../core/errors";
import { parseExpression, addressOf } from "./expressions";

/**
 * Low-level access to one cdk.tf.json: resources by type and name, attribute values with
 * references followed, asset paths resolved against the stack directory. Every value it cannot
 * produce becomes a Problem naming the resource and attribute; callers collect them and report
 * them together.
 */

export interface TfResource {
  readonly type: string;
  readonly name: string;
  /** `type.name` */
  readonly address: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What an attribute resolved to: a plain value, or another resource of the stack (for arn/id). */
export type Resolved = { readonly kind: "value"; readonly value: unknown } | { readonly kind: "resource"; readonly resource: TfResource; readonly attribute: string };

type Body = Readonly<Record<string, unknown>>;

export class StackReader {
  readonly problems: Problem[] = [];
  private readonly byType = new Map<string, TfResource[]>();

  constructor(
    /** cdk.tf.json, absolute (used in messages). */
    readonly file: string,
    /** The stack directory assets are relative to. */
    readonly dir: string,
    readonly json: Readonly<Record<string, unknown>>,
  ) {
    const resources = (json.resource ?? {}) as Record<string, Record<string, Body>>;
    for (const [type, byName] of Object.entries(resources)) {
      this.byType.set(
        type,
        Object.entries(byName ?? {}).map(([name, body]) => ({ type, name, address: `${type}.${name}`, body: body ?? {} })),
      );
    }
  }

  resources(type: string): readonly TfResource[] {
    return this.byType.get(type) ?? [];
  }

  resource(type: string, name: string): TfResource | undefined {
    return this.resources(type).find((r) => r.name === name);
  }

  problem(where: TfResource | string, attribute: string | undefined, problem: string, fix?: string): void {
    const address = typeof where === "string" ? where : where.address;
    this.problems.push({ file: this.file, field: attribute ? `${address}.${attribute}` : address, problem, fix });
  }

  /** A nested block (CDKTF writes single blocks as objects; hand-written JSON may use a one-element list). */
  block(body: Body, key: string): Body | undefined {
    const v = body[key];
    if (Array.isArray(v)) return (v[0] ?? undefined) as Body | undefined;
    return v && typeof v === "object" ? (v as Body) : undefined;
  }

  /** A repeated block as a list. */
  blocks(body: Body, key: string): Body[] {
    const v = body[key];
    if (Array.isArray(v)) return v as Body[];
    return v && typeof v === "object" ? [v as Body] : [];
  }

  /**
   * The value of `body[key]` (an attribute of `owner`, at `attribute` for messages), following
   * `${type.name.attr}` to another resource's argument, or to the resource itself when `attr` is
   * computed (arn, id). undefined, with a problem recorded, when it cannot be resolved.
   */
  resolve(owner: TfResource, attribute: string, value: unknown, depth = 0): Resolved | undefined {
    const expr = parseExpression(value);
    switch (expr.kind) {
      case "literal":
        return { kind: "value", value: expr.value };
      case "file":
        this.problem(owner, attribute, `file("${expr.path}") is an asset, not a value here`);
        return undefined;
      case "unsupported":
        this.problem(
          owner,
          attribute,
          `'${expr.text}' is not something the simulator can resolve: it understands references to resources of this stack (\${type.name.attr}) and assets (relative 'source' paths, \${file("...")})`,
          "synthesize the stack with ums-edge synth, or write the value literally",
        );
        return undefined;
      case "reference": {
        const target = this.resource(expr.type, expr.name);
        if (!target) {
          this.problem(owner, attribute, `refers to ${addressOf(expr)}, which is not in the stack`, "synthesize the stack again (ums-edge synth); do not edit cdk.tf.json by hand");
          return undefined;
        }
        if (expr.attribute in target.body && depth < 8) return this.resolve(target, expr.attribute, target.body[expr.attribute], depth + 1);
        return { kind: "resource", resource: target, attribute: expr.attribute };
      }
    }
  }

  /** The resource an attribute refers to (`${type.name.arn}`), checked to be of one of `types`. */
  link(owner: TfResource, attribute: string, value: unknown, types: readonly string[], what: string): TfResource | undefined {
    if (value === undefined) {
      this.problem(owner, attribute, `is missing; the emulator needs ${what}`);
      return undefined;
    }
    const r = this.resolve(owner, attribute, value);
    if (!r) return undefined;
    if (r.kind === "value") {
      this.problem(
        owner,
        attribute,
        `'${String(r.value)}' names ${what} outside this stack; the emulator can only use what the stack itself creates`,
        `let the stack create ${what} (a resource of type ${types.join(" or ")}) instead of naming an existing one`,
      );
      return undefined;
    }
    if (!types.includes(r.resource.type)) {
      this.problem(owner, attribute, `refers to ${r.resource.address}, expected ${what} (${types.join(" or ")})`);
      return undefined;
    }
    return r.resource;
  }

  /** A literal-after-resolution value of the given kind; `fallback` when absent. */
  scalar<T extends "string" | "number" | "boolean">(owner: TfResource, attribute: string, value: unknown, kind: T, fallback?: ScalarOf<T>): ScalarOf<T> | undefined {
    if (value === undefined || value === null) {
      if (fallback === undefined) this.problem(owner, attribute, "is missing");
      return fallback;
    }
    const r = this.resolve(owner, attribute, value);
    if (!r) return undefined;
    if (r.kind === "resource") {
      this.problem(owner, attribute, `refers to ${r.attribute} of ${r.resource.address}, which is known only after terraform apply`, "write the value literally");
      return undefined;
    }
    let v = r.value;
    // Terraform accepts numbers and booleans as strings ("8443", "true") and CDKTF sometimes writes them so.
    if (kind === "number" && typeof v === "string" && /^-?\d+$/.test(v)) v = Number(v);
    if (kind === "boolean" && (v === "true" || v === "false")) v = v === "true";
    if (typeof v !== kind) {
      this.problem(owner, attribute, `is ${JSON.stringify(v)}; expected a ${kind}`);
      return undefined;
    }
    return v as ScalarOf<T>;
  }

  /**
   * An asset file: a relative `source` path or `${file("relative")}`, resolved against the stack
   * directory and checked to exist. Absolute paths and other expressions are reported.
   */
  asset(owner: TfResource, attribute: string, value: unknown, form: "source" | "file"): string | undefined {
    if (value === undefined) {
      this.problem(owner, attribute, "is missing");
      return undefined;
    }
    const expr = parseExpression(value);
    let rel: string | undefined;
    if (form === "file" && expr.kind === "file") rel = expr.path;
    if (form === "source" && expr.kind === "literal" && typeof expr.value === "string") rel = expr.value;
    if (rel === undefined) {
      const expected = form === "file" ? '${file("relative/path")}' : "a relative path";
      this.problem(owner, attribute, `${JSON.stringify(typeof value === "string" && value.length > 120 ? `${value.slice(0, 120)}...` : value)} is not ${expected}; the simulator resolves only relative 'source' paths and \${file("...")}`, "synthesize the stack with ums-edge synth");
      return undefined;
    }
    if (path.isAbsolute(rel)) {
      this.problem(owner, attribute, `'${rel}' is an absolute path; stack assets are relative to the stack directory`, "synthesize the stack with ums-edge synth, which copies assets into the stack");
      return undefined;
    }
    const absolute = path.resolve(this.dir, rel);
    if (!fs.existsSync(absolute)) {
      this.problem(owner, attribute, `the asset '${rel}' does not exist (looked at ${absolute})`, "synthesize the stack again (ums-edge synth) so that its assets are written beside cdk.tf.json");
      return undefined;
    }
    return absolute;
  }
}

type ScalarOf<T> = T extends "string" ? string : T extends "number" ? number : boolean;
