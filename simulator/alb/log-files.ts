import * as fs from "node:fs";
import * as path from "node:path";
import { randomLogSuffix } from "./aws-ids";

/**
 * ALB log files laid out as S3 holds them (ELB user guide, "Access log files", "Connection log
 * files"): `<root>[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/<name>`,
 * one file per node and 5-minute interval. Differences from AWS, for a live emulator: files are
 * plain text (`.log`, not `.log.gz`) and appended while the interval runs, so they can be read at
 * once; lines are buffered and written at most every 200 ms (or on flush).
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

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The directory of one UTC day. */
export function logDayDir(n: Omit<LogFileNaming, "loadBalancerId" | "nodeIp" | "filePrefix">, date: Date): string {
  return path.join(n.root, ...(n.prefix ? n.prefix.split("/") : []), "AWSLogs", n.accountId, "elasticloadbalancing", n.region, String(date.getUTCFullYear()), two(date.getUTCMonth() + 1), two(date.getUTCDate()));
}

export class LogFile {
  private pending: string[] = [];
  private file?: string;
  private intervalEnd = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly suffix = randomLogSuffix();

  constructor(private readonly naming: LogFileNaming) {}

  /** Every file written so far. */
  readonly files: string[] = [];

  write(line: string, now = Date.now()): void {
    if (now >= this.intervalEnd) this.rotate(now);
    this.pending.push(line);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Writes buffered lines; resolves when they are on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0 && this.file) {
      const text = `${this.pending.join("\n")}\n`;
      const file = this.file;
      this.pending = [];
      this.writing = this.writing.then(() => fs.promises.appendFile(file, text));
    }
    return this.writing;
  }

  private rotate(now: number): void {
    // Lines of the old interval go to the old file first.
    void this.flush();
    const end = Math.floor(now / INTERVAL_MS) * INTERVAL_MS + INTERVAL_MS;
    this.intervalEnd = end;
    const endDate = new Date(end);
    const n = this.naming;
    const stamp = `${endDate.getUTCFullYear()}${two(endDate.getUTCMonth() + 1)}${two(endDate.getUTCDate())}T${two(endDate.getUTCHours())}${two(endDate.getUTCMinutes())}Z`;
    const dir = logDayDir(n, new Date(now));
    fs.mkdirSync(dir, { recursive: true });
    const name = `${n.filePrefix}${n.accountId}_elasticloadbalancing_${n.region}_${n.loadBalancerId.replace(/\//g, ".")}_${stamp}_${n.nodeIp}_${this.suffix}.log`;
    this.file = path.join(dir, name);
    this.files.push(this.file);
  }
}
