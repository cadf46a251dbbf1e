import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { splitLogLine } from "./log-lines";

/**
 * Reads the emulator's logs back as S3 would hand them out: the delivered `.log.gz` objects and
 * the live tails of the running intervals (log-files.ts), oldest interval first. A tail whose
 * object has just been written is skipped, so no line is read twice.
 */

export type LogKind = "access" | "connection";

const OBJECT = /^(conn_log_)?\d{12}_elasticloadbalancing_[a-z0-9-]+_app\.[^_]+_(\d{8}T\d{4}Z)_[^_]+_[0-9a-z]+\.log(\.gz)?$/;

interface LogObject {
  readonly file: string;
  readonly kind: LogKind;
  readonly endTime: string;
  readonly gzip: boolean;
}

function objectsUnder(dir: string): LogObject[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .flatMap((e) => {
      const m = e.isFile() ? OBJECT.exec(e.name) : null;
      return m ? [{ file: path.join(e.parentPath, e.name), kind: m[1] ? ("connection" as const) : ("access" as const), endTime: m[2], gzip: m[3] !== undefined }] : [];
    });
}

/** The log files of a kind under `dir` (any depth), oldest interval first, tails with a delivered object left out. */
export function logFiles(dir: string | undefined, kind: LogKind): string[] {
  if (!dir) return [];
  const all = objectsUnder(dir).filter((o) => o.kind === kind);
  const delivered = new Set(all.filter((o) => o.gzip).map((o) => path.basename(o.file, ".gz")));
  return all
    .filter((o) => o.gzip || !delivered.has(path.basename(o.file)))
    .sort((a, b) => a.endTime.localeCompare(b.endTime) || Number(b.gzip) - Number(a.gzip))
    .map((o) => o.file);
}

/** The text of one log file (gunzipped when it is an object); '' when it vanished meanwhile (a tail just delivered). */
export function readLogFile(file: string): string {
  try {
    const bytes = fs.readFileSync(file);
    return file.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

/** Every line of a kind under `dir`, oldest first. */
export function logLines(dir: string | undefined, kind: LogKind): string[] {
  return logFiles(dir, kind).flatMap((f) => readLogFile(f).split("\n").filter(Boolean));
}

/** Every line as fields (quotes honoured). */
export function logFields(dir: string | undefined, kind: LogKind): string[][] {
  return logLines(dir, kind).map(splitLogLine);
}
