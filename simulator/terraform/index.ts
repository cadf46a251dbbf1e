export * from "./stack-model";
export { readStack, openStack, readStackOutputs, readStackOutput, STACK_FILE, HEADER_RENAME_ATTRIBUTES } from "./read-stack";
export { parseExpression } from "./expressions";
