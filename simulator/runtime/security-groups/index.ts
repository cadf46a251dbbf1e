export * from "./model";
export * from "./nftables";
export * from "./topology-groups";
