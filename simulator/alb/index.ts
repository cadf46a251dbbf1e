export { AlbEmulator, parseHostPort, validateAlbEmulatorOptions, DEFAULT_ACCOUNT_ID, EVENTS_LOG } from "./alb-emulator";
export type { AlbEmulatorOptions, StartedAlbEmulator, ServedListenerInfo, TargetHealth, AlbReadyInfo } from "./alb-emulator";
export type { AlbEvent } from "./events";
export { formatEvent } from "./events";
export { EXPLAIN_HEADER, awsErrorPage } from "./responses";
export { REFUSAL_CODES, AWS_MAX_CHAIN_DEPTH, validityOf } from "./client-cert";
export { accessLogLine, connectionLogLine, splitLogLine } from "./log-lines";
export { securityPolicy, SECURITY_POLICIES } from "./tls-policy";
export { statusMatcher } from "./health-checker";
