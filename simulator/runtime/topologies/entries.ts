import * as path from "node:path";
import * as fs from "node:fs";
import { projectRoot } from "../../../core/project-root";
import { UserError } from "../../../core/errors";

/** Process entries of the components, from the build (dist/). */
export const ENTRIES = {
  ums: "dist/simulator/ums/main.js",
  icg: "dist/simulator/icg/main.js",
  cli: "dist/cli/index.js",
  devices: "dist/simulator/device/main.js",
  adminRelay: "dist/simulator/runtime/admin-relay.js",
} as const;

export function entry(name: keyof typeof ENTRIES): string {
  const file = path.join(projectRoot(), ENTRIES[name]);
  if (!fs.existsSync(file)) throw new UserError(`${ENTRIES[name]} is missing: the simulation runs the built components\n  fix: run 'npm run build' (or 'bash scripts/setup.sh')`);
  return file;
}
