import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { AlbEmulator } from "../../simulator/alb";
import { LogFile, logDayDir } from "../../simulator/alb/log-files";
import { logFiles, logLines as readLines } from "../../simulator/alb/log-reader";
import { splitLogLine } from "../../simulator/alb/log-lines";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget } from "./helpers/echo-target";
import { synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { request } from "./helpers/client";

/**
 * Logs as S3 holds them (ELB user guide, "Access logs" and "Connection logs" for Application Load
 * Balancers): gzip objects per node and 5-minute interval, named as AWS names them, in the folder
 * of their delivery date; every line readable by a parser that stops at the last documented field.
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let root: string;

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }]);
  target = await startEchoTarget(pki);
  root = fs.mkdtempSync(path.join(os.tmpdir(), "alb-objects-"));
});

afterAll(async () => {
  await target?.close();
  synth?.cleanup();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const IP = /^\d{1,3}(\.\d{1,3}){3}$/;
const PORT = /^\d{1,5}$/;
const SECONDS = /^(-1|\d+\.\d{3})$/;
const TID = /^TID_[0-9a-f]{32}$/;
const ANY = /^.*$/s;

/** The 15 documented fields of a connection log entry, in order ("Connection log entries"). */
const CONNECTION_FIELDS: readonly [string, RegExp][] = [
  ["timestamp", ISO], ["client_ip", IP], ["client_port", PORT], ["listener_port", PORT],
  ["tls_protocol", /^(-|TLSv1(\.[123])?)$/], ["tls_cipher", /^(-|[A-Z0-9_-]+)$/], ["tls_handshake_latency", /^(-|\d+\.\d{3})$/],
  ["leaf_client_cert_subject", ANY], ["leaf_client_cert_validity", /^(-|NotBefore=\S+Z;NotAfter=\S+Z)$/], ["leaf_client_cert_serial_number", /^(-|[0-9A-F]+)$/],
  ["tls_verify_status", /^(Success|Failed:[A-Za-z]+)$/], ["conn_trace_id", TID], ["tls_keyexchange", /^(-|x25519|secp256r1|secp384r1|secp521r1)$/],
  ["elb", /^app\/[^/]+\/[0-9a-f]{16}$/], ["ip_address", IP],
];

/** The documented fields of an access log entry ("Access log entries"), in order. */
const ACCESS_FIELDS: readonly [string, RegExp][] = [
  ["type", /^(https|wss)$/], ["time", ISO], ["elb", /^app\//], ["client:port", /^[\d.]+:\d+$/], ["target:port", /^(-|[\d.]+:\d+)$/],
  ["request_processing_time", SECONDS], ["target_processing_time", SECONDS], ["response_processing_time", SECONDS],
  ["elb_status_code", /^\d{3}$/], ["target_status_code", /^(-|\d{3})$/], ["received_bytes", /^\d+$/], ["sent_bytes", /^\d+$/],
  ["request", /^[A-Z]+ https:\/\/\S+ HTTP\/1\.[01]$/], ["user_agent", ANY], ["ssl_cipher", /^[A-Z0-9_-]+$/], ["ssl_protocol", /^TLSv1\.[23]$/],
  ["target_group_arn", /^(-|arn:aws:elasticloadbalancing:)/], ["trace_id", /^(Self=1-[0-9a-f]{8}-[0-9a-f]{24};)?Root=1-[0-9a-f]{8}-[0-9a-f]{24}/], ["domain_name", ANY],
  ["chosen_cert_arn", /^(session-reused|arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36})$/], ["matched_rule_priority", /^(-1|\d+)$/], ["request_creation_time", ISO],
  ["actions_executed", /^(-|[a-z-]+(,[a-z-]+)*)$/], ["redirect_url", ANY], ["error_reason", ANY], ["target:port_list", ANY], ["target_status_code_list", ANY],
  ["classification", ANY], ["classification_reason", ANY], ["conn_trace_id", TID],
];

/** As AWS advises: read the documented fields and stop, whatever follows. */
function parseDocumented(line: string, fields: readonly [string, RegExp][]): Record<string, string> {
  const values = splitLogLine(line);
  if (values.length < fields.length) throw new Error(`only ${values.length} fields: ${line}`);
  return Object.fromEntries(
    fields.map(([name, shape], i) => {
      if (!shape.test(values[i])) throw new Error(`field ${i + 1} (${name}) is '${values[i]}': ${line}`);
      return [name, values[i]];
    }),
  );
}

test("a run's logs become gzip objects named as AWS names them, every line readable by a parser of the documented fields", async () => {
  const logsDir = path.join(root, "run");
  const alb = await new AlbEmulator({ stackDir: synth.stacks["ums-alb-verify"], target: target.address, ports: { 8443: 0, 443: 0 }, logsDir }).start();
  await request(`${alb.listenerUrl(8443)}/wums-app/`, { cert: pki.devices.good });
  await request(`${alb.listenerUrl(8443)}/umsapi/v3/serverstatus`, { cert: pki.devices.good, headers: { "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678" } });
  await request(`${alb.listenerUrl(443)}/umsapi/`, {});
  await expect(request(`${alb.listenerUrl(8443)}/wums-app/`, { cert: pki.devices.revoked })).rejects.toThrow();
  await alb.flushLogs();
  // While the interval runs: live tails, read by the same reader.
  expect(logFiles(logsDir, "connection").every((f) => f.endsWith(".log"))).toBe(true);
  expect(readLines(logsDir, "connection")).toHaveLength(4);
  await alb.stop();

  const objects = fs.readdirSync(logsDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name !== "alb-emulator.log");
  expect(objects.length).toBeGreaterThanOrEqual(2);
  const today = new Date();
  for (const o of objects) {
    expect(o.name).toMatch(/^(conn_log_)?123456789012_elasticloadbalancing_eu-central-1_app\.ums-edge-uv-alb\.[0-9a-f]{16}_\d{8}T\d{2}[0-5][05]Z_127\.0\.0\.1_[0-9a-z]{8}\.log\.gz$/);
    // ELB user guide: "yyyy/mm/dd: The date that the log was delivered".
    expect(o.parentPath).toBe(logDayDir({ root: path.join(logsDir, "alb", o.name.startsWith("conn_log_") ? "connection" : "access"), prefix: "", accountId: "123456789012", region: "eu-central-1" }, today));
    expect(gunzipSync(fs.readFileSync(path.join(o.parentPath, o.name))).toString("utf8")).toMatch(/\n$/);
  }
  const connections = readLines(logsDir, "connection").map((l) => parseDocumented(l, CONNECTION_FIELDS));
  const access = readLines(logsDir, "access").map((l) => parseDocumented(l, ACCESS_FIELDS));
  expect(connections.map((c) => c.tls_verify_status).sort()).toEqual(["Failed:ClientCertCrlHit", "Success", "Success", "Success"]);
  expect(connections.filter((c) => c.tls_verify_status === "Success").every((c) => c.tls_keyexchange === "x25519")).toBe(true);
  expect(access).toHaveLength(3);
  // Answers the load balancer gives itself (the allow-list's fixed 404) still carry a trace ID; the client's is kept after a Self= segment.
  const own = access.filter((a) => a.actions_executed === "fixed-response");
  expect(own).toHaveLength(2);
  expect(own.map((a) => a.trace_id)).toContainEqual(expect.stringMatching(/^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678$/));
  expect(own.map((a) => a.trace_id)).toContainEqual(expect.stringMatching(/^Root=1-/));
  // Parsers that stop at the last documented field are not thrown by fields added after it (as AWS adds them).
  expect(() => parseDocumented(`${readLines(logsDir, "connection")[0]} "a-future-field"`, CONNECTION_FIELDS)).not.toThrow();
});

test("an interval's object holds its lines only, is named after the interval's end and lands in the folder of its delivery", async () => {
  const dir = path.join(root, "rotation");
  const naming = { root: dir, prefix: "edge", accountId: "111122223333", region: "eu-west-1", loadBalancerId: "app/lb/0123456789abcdef", nodeIp: "10.0.0.7", filePrefix: "conn_log_" };
  const log = new LogFile(naming);
  const yesterday = Date.UTC(2024, 1, 15, 23, 37, 10);
  log.write("first interval", yesterday);
  log.write("second interval", yesterday + 5 * 60_000);
  await log.flush();
  await log.close();
  const files = logFiles(dir, "connection");
  expect(files.map((f) => path.basename(f))).toEqual([expect.stringMatching(/_20240215T2340Z_10\.0\.0\.7_[0-9a-f]{8}\.log\.gz$/), expect.stringMatching(/_20240215T2345Z_10\.0\.0\.7_[0-9a-f]{8}\.log\.gz$/)]);
  for (const f of files) expect(path.dirname(f)).toBe(logDayDir(naming, new Date()));
  expect(files[0]).toContain(path.join("edge", "AWSLogs", "111122223333", "elasticloadbalancing", "eu-west-1"));
  expect(readLines(dir, "connection")).toEqual(["first interval", "second interval"]);
  log.write("after close", Date.now());
  await log.flush();
  expect(readLines(dir, "connection")).toHaveLength(2);
});

test("a log write that fails (out of descriptors, disk full) keeps its lines for the next flush and does not end the process", async () => {
  const dir = path.join(root, "failing");
  const naming = { root: dir, prefix: "", accountId: "111122223333", region: "eu-west-1", loadBalancerId: "app/lb/0123456789abcdef", nodeIp: "10.0.0.7", filePrefix: "" };
  const log = new LogFile(naming);
  const now = Date.now();
  log.write("kept through the failure", now);
  const tailDir = logDayDir(naming, new Date(now));
  const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    // The live tail, once written, has its path taken by a directory: appendFile fails (EISDIR), as with EMFILE.
    await log.flush();
    const [written] = fs.readdirSync(tailDir);
    const tailPath = path.join(tailDir, written);
    const first = fs.readFileSync(tailPath, "utf8");
    fs.rmSync(tailPath);
    fs.mkdirSync(tailPath);
    log.write("written after the failure", now);
    await expect(log.flush()).resolves.toBeUndefined();
    expect(stderr.mock.calls.map((c) => String(c[0])).join("")).toMatch(/^alb: writing the log .* failed \(EISDIR\); the emulator keeps serving and tries again\n$/);
    fs.rmdirSync(tailPath);
    await log.flush();
    expect(first).toBe("kept through the failure\n");
    expect(fs.readFileSync(tailPath, "utf8")).toBe("written after the failure\n");
  } finally {
    stderr.mockRestore();
    await log.close();
  }
});
