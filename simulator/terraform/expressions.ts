/**
 * The two kinds of Terraform expression the simulator understands inside a synthesized stack
 * (design section 5): a reference to another resource of the stack, `${type.name.attr}`, and an
 * asset read with `${file("relative/path")}`. Everything else with `${` in it is "unsupported", so
 * callers report it instead of guessing.
 */
export type Expression =
  | { readonly kind: "literal"; readonly value: unknown }
  | { readonly kind: "reference"; readonly type: string; readonly name: string; readonly attribute: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "unsupported"; readonly text: string };

const REFERENCE = /^\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/;
const FILE = /^\$\{file\("((?:[^"\\]|\\.)*)"\)\}$/;

export function parseExpression(value: unknown): Expression {
  if (typeof value !== "string" || !value.includes("${")) return { kind: "literal", value };
  const file = FILE.exec(value);
  if (file) return { kind: "file", path: JSON.parse(`"${file[1]}"`) as string };
  const ref = REFERENCE.exec(value);
  // `data.x.y.z` has four parts and does not match; a data source is outside what the stack holds.
  if (ref && ref[1] !== "data" && ref[1] !== "var" && ref[1] !== "local") {
    return { kind: "reference", type: ref[1], name: ref[2], attribute: ref[3] };
  }
  return { kind: "unsupported", text: value };
}

/** `type.name` of a reference. */
export function addressOf(ref: { readonly type: string; readonly name: string }): string {
  return `${ref.type}.${ref.name}`;
}
