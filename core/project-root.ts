import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root: the nearest directory above this file with a package.json (works from source and from dist/). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

export const EXAMPLE_CONFIG = path.join(projectRoot(), "examples", "ums-edge.yaml");
