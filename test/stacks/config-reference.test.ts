import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { configSchema } from "../../stacks/config/schema";

/**
 * Every field of the config schema is documented in README.md's "Configuration reference" table, and
 * the table documents no field the schema does not have (so the two cannot drift apart).
 */

function fieldsOf(schema: z.ZodType, prefix = ""): string[] {
  let s: z.ZodType = schema;
  for (;;) {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; in?: z.ZodType } } })._zod.def;
    if (def.type === "optional" || def.type === "default" || def.type === "prefault" || def.type === "nullable") s = def.innerType!;
    else if (def.type === "pipe") s = def.in!;
    else break;
  }
  if (s instanceof z.ZodObject) return Object.entries(s.shape).flatMap(([k, v]) => fieldsOf(v as z.ZodType, prefix ? `${prefix}.${k}` : k));
  if (s instanceof z.ZodArray) return s.element instanceof z.ZodObject ? fieldsOf(s.element as z.ZodType, `${prefix}[]`) : [prefix];
  if (s instanceof z.ZodRecord) return fieldsOf(s._zod.def.valueType as z.ZodType, `${prefix}.<name>`);
  return [prefix];
}

function documented(): string[] {
  const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration reference"), readme.indexOf("## Commands"));
  const names = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  return names.flatMap((n) => {
    const braces = /\{([^}]+)\}/.exec(n);
    return braces ? braces[1].split(",").map((part) => n.replace(braces[0], part)) : [n];
  });
}

test("README's configuration reference documents exactly the schema's fields", () => {
  const schemaFields = fieldsOf(configSchema).sort();
  const readmeFields = documented().sort();
  expect(readmeFields.filter((f) => !schemaFields.includes(f))).toEqual([]);
  expect(schemaFields.filter((f) => !readmeFields.includes(f))).toEqual([]);
});
