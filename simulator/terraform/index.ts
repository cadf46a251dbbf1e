export * from "./stack-model";
export { readStack, openStack, readStackOutputs, readStackOutput, STACK_FILE, HEADER_RENAME_ATTRIBUTES } from "./read-stack";
export { listStackOutputs, regionOf, stackNameOf } from "./read-stack";
export type { ReadStackOptions, StackOutput } from "./read-stack";
export { readInstances } from "./read-instances";
export type { InstanceModel, IngressModel } from "./read-instances";
export { parseExpression } from "./expressions";
