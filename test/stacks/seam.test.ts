import * as fs from "node:fs";
import * as path from "node:path";
import { differences } from "../../scripts/cdktn-compare";

/**
 * stacks/aws.ts is the one seam to the CDK: no other file in stacks/ imports `constructs`, `cdktf`
 * or the AWS provider (so swapping that file swaps everything; scripts/cdktn-compare.ts relies on
 * it), and nothing in stacks/ imports the simulator.
 */
const STACKS = path.resolve(__dirname, "../../stacks");

function sources(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f));
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|require\(|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
}

test("only stacks/aws.ts imports constructs, cdktf or a provider package", () => {
  const offenders = sources(STACKS).flatMap((f) => imports(f).filter((i) => /^(constructs|cdktf|cdktn|@cdktf\/|@cdktn\/)/.test(i)).map((i) => `${path.relative(STACKS, f)}: ${i}`));
  expect(offenders.filter((o) => !o.startsWith("aws.ts:"))).toEqual([]);
  expect(offenders.some((o) => o.startsWith("aws.ts: @cdktf/provider-aws/lib/"))).toBe(true);
});

test("the provider is imported by resource path, never through its barrel", () => {
  expect(imports(path.join(STACKS, "aws.ts")).filter((i) => i === "@cdktf/provider-aws" || i === "@cdktf/provider-aws/lib")).toEqual([]);
});

test("nothing in stacks/ imports the simulator", () => {
  const offenders = sources(STACKS).flatMap((f) => imports(f).filter((i) => i.startsWith(".") && path.resolve(path.dirname(f), i).startsWith(path.resolve(STACKS, "../simulator"))));
  expect(offenders).toEqual([]);
});

test("the cdktn comparison reports differences leaf by leaf, with the JSON path", () => {
  const a = { terraform: { required_providers: { aws: { source: "aws", version: "6.25.0" } } }, resource: { x: [1, 2] }, gone: true };
  const b = { terraform: { required_providers: { aws: { source: "hashicorp/aws", version: "6.25.0" } } }, resource: { x: [1, 3] } };
  expect(differences(a, b)).toEqual([
    { path: ".gone", cdktf: true, cdktn: undefined },
    { path: ".resource.x[1]", cdktf: 2, cdktn: 3 },
    { path: ".terraform.required_providers.aws.source", cdktf: "aws", cdktn: "hashicorp/aws" },
  ]);
  expect(differences(a, a)).toEqual([]);
});
