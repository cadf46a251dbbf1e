/**
 * Structured log of the mock UMS and the ICG: one JSON object per line, kept in a bounded
 * in-memory buffer (for tests and reports) and optionally written to a sink (stderr when running
 * as a process).
 * Callers pass explicit fields; nothing here ever receives key material, and values that look like
 * a PEM private key are replaced as a last line of defence.
 */

export type LogLevel = "info" | "warn" | "error";

export interface LogEntry {
  readonly time: string;
  readonly level: LogLevel;
  readonly component: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface LoggerOptions {
  /** Name put in every line's `component` field. @default "ums" */
  readonly component?: string;
  /** Receives every line as JSON text (no trailing newline). @default none: memory only */
  readonly sink?: (line: string) => void;
  /** Entries kept in memory; older ones are dropped. @default 10000 */
  readonly bufferSize?: number;
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function redact(value: unknown): unknown {
  return typeof value === "string" && PRIVATE_KEY.test(value) ? "[redacted private key]" : value;
}

type Waiter = { readonly match: (e: LogEntry) => boolean; readonly resolve: (e: LogEntry) => void };

export class StructuredLogger {
  private readonly entries: LogEntry[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly component: string;
  private readonly bufferSize: number;

  constructor(private readonly options: LoggerOptions = {}) {
    this.component = options.component ?? "ums";
    this.bufferSize = options.bufferSize ?? 10_000;
  }

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.write("warn", event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.write("error", event, fields);
  }

  /** A copy of the entries still in the buffer, oldest first. */
  get lines(): readonly LogEntry[] {
    return [...this.entries];
  }

  /** Resolves with the first entry (already logged or future) that matches; rejects after `timeoutMs`. */
  waitFor(match: (e: LogEntry) => boolean, timeoutMs = 10_000): Promise<LogEntry> {
    const found = this.entries.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching '${this.component}' log line within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private write(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => [k, redact(v)]));
    const entry: LogEntry = { time: new Date().toISOString(), level, component: this.component, event, ...clean };
    this.entries.push(entry);
    if (this.entries.length > this.bufferSize) this.entries.splice(0, this.entries.length - this.bufferSize);
    this.options.sink?.(JSON.stringify(entry));
    for (const w of [...this.waiters]) if (w.match(entry)) w.resolve(entry);
  }
}
