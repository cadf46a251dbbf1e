/** The mock UMS's structured log: shared with the ICG, so it lives in simulator/protocol/structured-log.ts. */
export { StructuredLogger } from "../common/structured-log";
export type { LogEntry, LogLevel, LoggerOptions } from "../common/structured-log";
