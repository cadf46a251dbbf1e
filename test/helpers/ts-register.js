/**
 * Lets a child `node` process load the project's TypeScript sources directly (tests of the CLI and
 * of cluster workers spawn processes from the sources, without `npm run build`): `node -r <this> x.ts`.
 * Transpile only (no type check), with the project's compiler options. Transpiled files are cached
 * on disk by content hash: the tests spawn hundreds of children, and transpiling the whole CLI for
 * each (plus loading the compiler) made a loaded CI machine miss the tests' own time limits.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const CACHE = path.join(os.tmpdir(), `ums-edge-ts-cache-${process.getuid ? process.getuid() : "u"}`);
const OPTIONS = { module: 1 /* CommonJS */, target: 9 /* ES2022 */, esModuleInterop: true, sourceMap: false, inlineSourceMap: true };
let ts; // loaded on the first cache miss only

require.extensions[".ts"] = function compile(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha1").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  let outputText;
  try {
    outputText = fs.readFileSync(cached, "utf8");
  } catch {
    ts ??= require("typescript");
    outputText = ts.transpileModule(source, { fileName: filename, compilerOptions: OPTIONS }).outputText;
    try {
      fs.mkdirSync(CACHE, { recursive: true, mode: 0o700 });
      // Written whole then renamed: a concurrent reader never sees half a file.
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, outputText);
      fs.renameSync(tmp, cached);
    } catch {
      // A cache that cannot be written only costs time.
    }
  }
  module._compile(outputText, filename);
};
