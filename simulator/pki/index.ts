export * from "./files";
export * from "./keys";
export * from "./certificates";
export * from "./csr";
export * from "./crl";
export * from "./chain-verify";
export * from "./dn";
export * from "./lab-pki";
