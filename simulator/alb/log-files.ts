import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { randomLogSuffix } from "./aws-ids";

/**
 * ALB log files laid out as S3 holds them (ELB user guide, "Access logs for your Application Load
 * Balancer" and "Connection logs for your Application Load Balancer", log files):
 * `<root>[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<name>.log.gz`, one
 * gzip object per node and 5-minute interval ("publishes a log file for each load balancer node
 * every 5 minutes"), named
 * `[conn_log_]<account>_elasticloadbalancing_<region>_app.<name>.<id>_<end-time>_<ip>_<random>.log.gz`
 * in the folder of "the date that the log was delivered". While an interval runs, its lines are
 * appended to a live plain-text tail of the same name without `.gz` (lines buffered at most
 * 200 ms, or until flush); at the interval's end (or when the emulator stops) the tail is
 * delivered: gzipped into the object and removed. log-reader.ts reads both.
 */

export interface LogFileNaming {
  /** The directory standing for the bucket. */
  readonly root: string;
  /** The S3 key prefix from the stack ('' for none). */
  readonly prefix: string;
  readonly accountId: string;
  readonly region: string;
  /** `app/<name>/<id>`; slashes become dots in file names, as AWS does. */
  readonly loadBalancerId: string;
  /** The node's IP address in file names. */
  readonly nodeIp: string;
  /** `conn_log_` for connection logs, '' for access logs. */
  readonly filePrefix: string;
}

const INTERVAL_MS = 5 * 60_000;
const FLUSH_MS = 200;
const gzipAsync = promisify(gzip);

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The directory of one UTC day. */
export function logDayDir(n: Omit<LogFileNaming, "loadBalancerId" | "nodeIp" | "filePrefix">, date: Date): string {
  return path.join(n.root, ...(n.prefix ? n.prefix.split("/") : []), "AWSLogs", n.accountId, "elasticloadbalancing", n.region, String(date.getUTCFullYear()), two(date.getUTCMonth() + 1), two(date.getUTCDate()));
}

/** `20140215T2340Z`: an interval's end time in object names. */
function endTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}Z`;
}

interface Interval {
  /** The live tail (`.log`). */
  readonly tail: string;
  /** The object's name without directory (`.log.gz`). */
  readonly objectName: string;
}

export class LogFile {
  private pending: string[] = [];
  private current?: Interval;
  private intervalEnd = 0;
  private flushTimer?: NodeJS.Timeout;
  private deliverTimer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly suffix = randomLogSuffix();
  private closed = false;

  constructor(private readonly naming: LogFileNaming) {}

  /** Every object delivered so far (`.log.gz` paths). */
  readonly delivered: string[] = [];

  /** Adds a line to the running interval (dropped once the log is closed). */
  write(line: string, now = Date.now()): void {
    if (this.closed) return;
    if (now >= this.intervalEnd) this.rotate(now);
    this.pending.push(line);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** Writes buffered lines to the live tail; resolves when they are on disk. */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length > 0 && this.current) {
      const lines = this.pending;
      const file = this.current.tail;
      this.pending = [];
      this.writing = this.writing.then(() =>
        fs.promises.appendFile(file, `${lines.join("\n")}\n`).catch((e: NodeJS.ErrnoException) => {
          // Out of descriptors or disk: the lines wait for the next flush (in whichever interval is
          // running then); the emulator keeps serving.
          this.pending = [...lines, ...this.pending];
          this.reportFailure("writing", file, e);
          if (!this.flushTimer && !this.closed) {
            this.flushTimer = setTimeout(() => void this.flush(), FLUSH_MS);
            this.flushTimer.unref();
          }
        }),
      );
    }
    return this.writing;
  }

  private reported = new Set<string>();

  /** One line per kind of failure (a full disk would otherwise say so for every flush). */
  private reportFailure(what: string, file: string, e: NodeJS.ErrnoException): void {
    const key = `${what}:${e.code ?? e.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    process.stderr.write(`alb: ${what} the log ${file} failed (${e.code ?? e.message}); the emulator keeps serving and tries again\n`);
  }

  /** Delivers the running interval (the emulator stops); resolves when its object is written. */
  close(): Promise<void> {
    this.closed = true;
    if (this.deliverTimer) clearTimeout(this.deliverTimer);
    this.deliverCurrent();
    return this.writing;
  }

  private rotate(now: number): void {
    this.deliverCurrent();
    this.intervalEnd = Math.floor(now / INTERVAL_MS) * INTERVAL_MS + INTERVAL_MS;
    const n = this.naming;
    const base = `${n.filePrefix}${n.accountId}_elasticloadbalancing_${n.region}_${n.loadBalancerId.replace(/\//g, ".")}_${endTime(this.intervalEnd)}_${n.nodeIp}_${this.suffix}.log`;
    const dir = logDayDir(n, new Date(now));
    fs.mkdirSync(dir, { recursive: true });
    this.current = { tail: path.join(dir, base), objectName: `${base}.gz` };
    if (this.deliverTimer) clearTimeout(this.deliverTimer);
    this.deliverTimer = setTimeout(() => this.deliverCurrent(), this.intervalEnd - now);
    this.deliverTimer.unref();
  }

  /** The interval's lines become its gzip object, in the folder of today's (the delivery) date. */
  private deliverCurrent(): void {
    const interval = this.current;
    if (!interval) return;
    void this.flush();
    this.current = undefined;
    this.intervalEnd = 0;
    const object = path.join(logDayDir(this.naming, new Date()), interval.objectName);
    this.writing = this.writing.then(async () => {
      let text: Buffer;
      try {
        text = await fs.promises.readFile(interval.tail);
      } catch {
        return; // nothing was written in this interval
      }
      try {
        await fs.promises.mkdir(path.dirname(object), { recursive: true });
        await fs.promises.writeFile(`${object}.part`, await gzipAsync(text));
        await fs.promises.rename(`${object}.part`, object);
        await fs.promises.unlink(interval.tail);
        this.delivered.push(object);
      } catch (e) {
        // The interval's lines stay in its .log tail: nothing is lost, the object is missing.
        this.reportFailure("delivering", object, e as NodeJS.ErrnoException);
      }
    });
  }
}
