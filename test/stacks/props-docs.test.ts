import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

/**
 * Design section 7 (aws-cdk's application-listener.ts style): every prop of every construct and stack
 * is `readonly` with a doc comment, and every optional prop says its `@default`.
 */
const STACKS = path.resolve(__dirname, "../../stacks");
const PROPS = /(Props|Options|Files|Attributes|Destination)$/;

function findings(): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(STACKS).filter((f) => f.endsWith(".ts"))) {
    const file = path.join(STACKS, name);
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    source.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node) || !PROPS.test(node.name.text)) return;
      for (const member of node.members) {
        if (!ts.isPropertySignature(member)) continue;
        const where = `${name}: ${node.name.text}.${member.name.getText(source)}`;
        const readonly = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
        const docs = ts.getJSDocCommentsAndTags(member).map((d) => d.getText(source)).join("\n");
        if (!readonly) out.push(`${where} is not readonly`);
        if (!docs) out.push(`${where} has no doc comment`);
        else if (member.questionToken && !docs.includes("@default")) out.push(`${where} is optional without @default`);
      }
    });
  }
  return out;
}

test("every construct prop is readonly, documented, and says its @default when optional", () => {
  expect(findings()).toEqual([]);
});
