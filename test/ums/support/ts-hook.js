/**
 * Lets `node -r test/ums/support/ts-hook.js simulator/ums/main.ts` run a process entry straight
 * from TypeScript (transpile only, no type check), so process tests do not depend on `npm run build`.
 */
const fs = require("node:fs");
const ts = require("typescript");

const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true };

require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
