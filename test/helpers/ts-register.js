/**
 * Lets a child `node` process load the project's TypeScript sources directly (tests of the CLI and
 * of cluster workers spawn processes from the sources, without `npm run build`): `node -r <this> x.ts`.
 * Transpile only (no type check), with the project's compiler options.
 */
const fs = require("node:fs");
const ts = require("typescript");

require.extensions[".ts"] = function compile(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false, inlineSourceMap: true },
  });
  module._compile(outputText, filename);
};
