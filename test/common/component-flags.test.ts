import { Command } from "commander";
import { addFlags, FlagSpec, optionsFromFlags, toArgs } from "../../simulator/common/flags";
import { UMS_FLAGS } from "../../simulator/ums/process-options";
import { ICG_FLAGS } from "../../simulator/icg/process-options";
import { ALB_FLAGS } from "../../simulator/alb/process-options";
import { DEVICES_FLAGS } from "../../simulator/device/process-options";
import { UserError } from "../../core/errors";

/**
 * Each component declares its flags once; `toArgs` must be the exact inverse of the parser its
 * process entry uses, or a launcher would start something other than what it asked for.
 */

/** Parses arguments the way a component's entry does (commandFromSpec: addFlags + optionsFromFlags). */
function parse(spec: FlagSpec, args: string[]): Record<string, unknown> {
  const command = addFlags(new Command("c").exitOverride(), spec);
  command.parse(args, { from: "user" });
  return optionsFromFlags(spec, command.opts());
}

/** Options with every flag set to a value other than its default. */
function everyOption(spec: FlagSpec): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(spec).map(([key, d]) => {
      switch (d.kind) {
        case "boolean":
          return [key, !d.flag.startsWith("--no-")];
        case "integer":
          return [key, Math.min(d.min + 7, d.max ?? Infinity)];
        case "number":
          return [key, d.min + 0.25];
        case "list":
          return [key, [`${key}-1`, `${key} two`]];
        default:
          return [key, d.choices ? d.choices[d.choices.length - 1] : `${key}-value with space`];
      }
    }),
  );
}

describe.each([
  ["ums", UMS_FLAGS],
  ["icg", ICG_FLAGS],
  ["alb", ALB_FLAGS],
  ["devices", DEVICES_FLAGS],
] as const)("%s: toArgs is the inverse of the flag parser", (_name, spec) => {
  test("every option set: parse(toArgs(o)) gives o back", () => {
    const options = everyOption(spec);
    expect(parse(spec, toArgs(spec, options as never))).toEqual(options);
  });

  test("only the required options: nothing else appears", () => {
    const options = Object.fromEntries(Object.entries(everyOption(spec)).filter(([key]) => (spec as FlagSpec)[key].required));
    expect(parse(spec, toArgs(spec, options as never))).toEqual(options);
  });
});

test("a negated boolean: --no-check-revocation is checkRevocation false; leaving it out leaves the option unset", () => {
  expect(parse(UMS_FLAGS, ["--pki", "p", "--no-check-revocation"])).toEqual({ pki: "p", checkRevocation: false });
  expect(parse(UMS_FLAGS, ["--pki", "p"])).toEqual({ pki: "p" });
  expect(toArgs(UMS_FLAGS, { pki: "p", checkRevocation: false })).toEqual(["--pki", "p", "--no-check-revocation"]);
});

test("a value out of range names the flag and the range", () => {
  expect(() => parse(UMS_FLAGS, ["--pki", "p", "--port", "70000"])).toThrow(new UserError("--port: '70000' is not an integer from 0 to 65535"));
  expect(() => parse(ALB_FLAGS, ["--stack", "s", "--target", "t:1", "--health-check-scale", "0"])).toThrow(new UserError("--health-check-scale: '0' is not a number above 0"));
  expect(() => parse(DEVICES_FLAGS, ["--pki", "p", "--cluster-url", "u", "--count", "1.5"])).toThrow(/--count: '1.5' is not an integer from 0/);
});
