export * from "./model";
export * from "./nftables";
export * from "./read-stack";
export * from "./topology-groups";
