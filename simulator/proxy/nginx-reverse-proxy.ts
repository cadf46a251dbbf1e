import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LabPki } from "../pki/lab-pki";
import { ROUTES } from "../protocol/routes";
import { ALLOWED_PATH_PREFIXES } from "../../core/igel";
import { MTLS_HEADER_DISPLAY } from "../../core/aws-headers";
import { Problem, ProblemsError, UserError } from "../../core/errors";
import { NginxScale, renderNginxConfig, UNSAFE_IN_NGINX_STRING } from "./nginx-config";
import { resolveNginxBinary } from "./nginx-binary";
import { pickFreePort } from "./free-port";
import { readRevokedSerials } from "./revocation";
import { watchFiles } from "../common/file-watch";

/** The TLS files nginx needs, as the UMS exports them (IGEL guide names). */
export interface ProxyTlsFiles {
  /** The UMS web certificate followed by its chain (`entire_chain.pem`). */
  readonly certificateChain: string;
  /** Its private key (`private_key.pem`, 0600; nginx reads it in place, it is never copied). */
  readonly privateKey: string;
  /** The device CA chain (UMS "Export Client Certificate Chain"), to verify device certificates. */
  readonly clientCaChain: string;
  /** CRL of the device CA (PEM); nginx refuses the device certificates it lists (read at start). @default none */
  readonly crl?: string;
}

export interface NginxReverseProxyOptions extends ProxyTlsFiles {
  /** Directory nginx runs in (the lab directory): nginx.conf, pid file, logs and temp dirs go here. Created if missing. */
  readonly dir: string;
  /** The UMS to forward to, `https://host:port`. */
  readonly upstream: string;
  /** Address to listen on. @default "127.0.0.1" */
  readonly host?: string;
  /** Port to listen on; 0 picks a free one (not allowed with `commandPrefix`). @default 0 */
  readonly port?: number;
  /**
   * Header carrying the verified device certificate (URL-encoded PEM, leaf only): the
   * `client-cert-forwarded-header` of the UMS `application.yml`. @default "X-Amzn-Mtls-Clientcert-Leaf"
   */
  readonly forwardedCertHeader?: string;
  /** Path prefixes nginx itself answers 401 on when no verified certificate was presented. @default ["/device-connector/v1/ws"] */
  readonly clientCertificateRequiredPaths?: readonly string[];
  /**
   * `ssl_verify_depth`: CA certificates allowed between a device certificate and the root (OpenSSL
   * counts the leaf as level 0 and allows levels up to depth + 1). 2 admits leaf + 2 intermediates +
   * root = 4 certificates, the ALB's limit, so both fronts refuse the same chains; the UMS device
   * chain (leaf, device CA, root) needs 1. @default 2
   */
  readonly verifyDepth?: number;
  /** Verify the UMS's certificate against this CA file; unset: not verified, as IGEL's examples and an ALB target group do. @default none */
  readonly upstreamTrustedCa?: string;
  /** Name sent as SNI to the UMS and checked when `upstreamTrustedCa` is set. @default the upstream URL's host */
  readonly upstreamServerName?: string;
  /** nginx executable, a name looked up on PATH (and the sbin directories) or a path. @default "nginx" */
  readonly nginxBinary?: string;
  /** Words run before nginx, e.g. `["ip", "netns", "exec", "ns1"]` to start it in a network namespace. @default [] */
  readonly commandPrefix?: readonly string[];
  /** How long nginx may take to start (pid file written, sockets bound). @default 10000 */
  readonly startTimeoutMs?: number;
  /** Workers and connections for many held sessions (benches). @default 1 worker, 4096 connections */
  readonly scale?: NginxScale;
  /**
   * How often `clientCaChain` and `crl` are checked for a change, ms: a changed file re-renders the
   * config and reloads nginx (`nginx -s reload`, as an administrator does after a new CRL). 0: never. @default 250
   */
  readonly trustPollMs?: number;
}

export const DEFAULT_FORWARDED_CERT_HEADER = MTLS_HEADER_DISPLAY.leaf;
export const DEFAULT_VERIFY_DEPTH = 2;

/** The TLS files of a lab PKI (simulator/pki) in the shape the proxy wants. */
export function proxyTlsFilesFromLabPki(pki: LabPki): ProxyTlsFiles {
  return { certificateChain: pki.web.entireChain, privateKey: pki.web.privateKey, clientCaChain: pki.clientCaChain, crl: pki.crl };
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/** Problems with the options, each naming the field and the fix; empty when they are usable. */
export function nginxReverseProxyProblems(o: NginxReverseProxyOptions): Problem[] {
  const problems: Problem[] = [];
  const add = (field: string, problem: string, fix: string) => problems.push({ field, problem, fix });
  let upstream: URL | undefined;
  try {
    upstream = new URL(o.upstream);
  } catch {
    /* reported below */
  }
  if (!upstream || upstream.protocol !== "https:" || (upstream.pathname !== "/" && upstream.pathname !== "") || upstream.search || upstream.username) {
    add("upstream", `'${o.upstream}' is not an https://host:port URL`, "give the UMS address, e.g. https://127.0.0.1:8443 (the UMS serves devices over HTTPS only)");
  }
  for (const field of ["certificateChain", "privateKey", "clientCaChain", "crl", "upstreamTrustedCa"] as const) {
    const file = o[field];
    if (file === undefined) continue;
    if (UNSAFE_IN_NGINX_STRING.test(file)) add(field, `'${file}' contains a character nginx.conf cannot hold (", $, \\ or a control character)`, "use a path without them");
    else if (!fs.existsSync(file)) add(field, `file '${file}' does not exist`, "give an existing PEM file (see 'ums-edge pki init')");
  }
  if (UNSAFE_IN_NGINX_STRING.test(o.dir)) add("dir", `'${o.dir}' contains a character nginx.conf cannot hold`, "use a directory path without \", $, \\ or control characters");
  if (o.host !== undefined && !/^[A-Za-z0-9.:-]+$/.test(o.host)) add("host", `'${o.host}' is not an address or host name`, "give an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0");
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) add("port", `${port} is not a TCP port`, "give 0 (pick a free one) or 1-65535");
  if (port === 0 && (o.commandPrefix?.length ?? 0) > 0) {
    add("port", "a free port cannot be picked from outside the command prefix (e.g. another network namespace)", "set 'port' when 'commandPrefix' is set");
  }
  if (!HEADER_NAME.test(o.forwardedCertHeader ?? DEFAULT_FORWARDED_CERT_HEADER)) {
    add("forwardedCertHeader", `'${o.forwardedCertHeader}' is not an HTTP header name`, "use letters, digits and '-' only, e.g. X-Amzn-Mtls-Clientcert-Leaf");
  }
  for (const p of o.clientCertificateRequiredPaths ?? []) {
    if (!ALLOWED_PATH_PREFIXES.some((prefix) => p.startsWith(prefix)) || !/^[A-Za-z0-9/_.-]+$/.test(p)) {
      add("clientCertificateRequiredPaths", `'${p}' is not a plain path under ${ALLOWED_PATH_PREFIXES.join(", ")}`, "list paths the proxy forwards, e.g. /device-connector/v1/ws");
    }
  }
  const scale = o.scale;
  if (scale && (!Number.isInteger(scale.workerProcesses) || scale.workerProcesses < 1 || scale.workerProcesses > 64)) add("scale.workerProcesses", `${scale.workerProcesses} is not a number of workers`, "give 1-64");
  if (scale && (!Number.isInteger(scale.workerConnections) || scale.workerConnections < 16 || scale.workerConnections >= scale.workerRlimitNofile)) {
    add("scale.workerConnections", `${scale.workerConnections} connections with worker_rlimit_nofile ${scale.workerRlimitNofile}`, "give at least 16, and fewer than worker_rlimit_nofile (each connection is a descriptor)");
  }
  const depth = o.verifyDepth ?? DEFAULT_VERIFY_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > 10) add("verifyDepth", `${depth} is not a usable verification depth`, "give 1-10 (the UMS device CA chain needs 1)");
  return problems;
}

/** nginx's `user` when it runs as root: workers drop to nobody (Debian's group is nogroup). */
function defaultWorkerUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let groups = "";
  try {
    groups = fs.readFileSync("/etc/group", "utf8");
  } catch {
    /* unreadable: assume a group named like the user */
  }
  return /^nogroup:/m.test(groups) ? "nobody nogroup" : "nobody nobody";
}

/** The last lines of a log file (for error messages). */
function tail(file: string, lines = 8): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** A reverse proxy in front of the UMS: a real nginx process with a generated config (topology `reverse-proxy`). */
export class NginxReverseProxy {
  constructor(private readonly options: NginxReverseProxyOptions) {}

  /** Validates the options, writes and checks nginx.conf, starts nginx and waits until it listens. */
  async start(): Promise<StartedNginxReverseProxy> {
    const o = this.options;
    const problems = nginxReverseProxyProblems(o);
    if (problems.length) throw new ProblemsError(problems, "the reverse proxy options are not usable:");
    const binary = resolveNginxBinary(o.nginxBinary);
    const revoked = o.crl ? readRevokedSerials(o.crl, o.clientCaChain) : { ok: true as const, serials: [] };
    if (!revoked.ok) throw new ProblemsError(revoked.problems, "the reverse proxy options are not usable:");

    const dir = path.resolve(o.dir);
    fs.mkdirSync(path.join(dir, "temp"), { recursive: true });
    const host = o.host ?? "127.0.0.1";
    const port = o.port || (await pickFreePort(host));
    const upstream = new URL(o.upstream);
    const files = {
      configPath: path.join(dir, "nginx.conf"),
      pidPath: path.join(dir, "nginx.pid"),
      accessLog: path.join(dir, "access.log"),
      errorLog: path.join(dir, "error.log"),
    };
    const render = (revokedSerials: readonly string[]) => renderNginxConfig({
      prefixDir: dir,
      listenHost: host,
      listenPort: port,
      certificateChain: path.resolve(o.certificateChain),
      privateKey: path.resolve(o.privateKey),
      clientCaChain: path.resolve(o.clientCaChain),
      revokedSerials,
      verifyDepth: o.verifyDepth ?? DEFAULT_VERIFY_DEPTH,
      forwardedCertHeader: o.forwardedCertHeader ?? DEFAULT_FORWARDED_CERT_HEADER,
      clientCertificateRequiredPaths: o.clientCertificateRequiredPaths ?? [ROUTES.deviceSocket],
      upstream: upstream.origin,
      upstreamTrustedCa: o.upstreamTrustedCa && path.resolve(o.upstreamTrustedCa),
      upstreamServerName: o.upstreamServerName ?? upstream.hostname.replace(/^\[|\]$/g, ""),
      accessLog: files.accessLog,
      errorLog: files.errorLog,
      workerUser: defaultWorkerUser(),
      scale: o.scale,
    });
    fs.writeFileSync(files.configPath, render(revoked.serials), { mode: 0o644 });

    const started = await runNginx(files, { dir, host, port, binary, commandPrefix: o.commandPrefix, startTimeoutMs: o.startTimeoutMs });
    // A new CRL (or device CA chain): the revoked serials are rendered into the config, so nginx reloads.
    started.onStop(
      watchFiles([o.clientCaChain, ...(o.crl ? [o.crl] : [])], o.trustPollMs ?? 250, () => {
        const next = o.crl ? readRevokedSerials(o.crl, o.clientCaChain) : { ok: true as const, serials: [] };
        if (!next.ok) return void started.note(`the new CRL was not applied: ${next.problems.map((p) => p.problem).join("; ")}`);
        fs.writeFileSync(files.configPath, render(next.serials), { mode: 0o644 });
        started.reload().then(
          () => started.note(`reloaded: ${next.serials.length} revoked device certificate serial(s)`),
          (e: Error) => started.note(`reload failed: ${e.message}`),
        );
      }),
    );
    return started;
  }
}

/** The files of one nginx run: its config, and the pid file and logs the config names. */
export interface NginxRunFiles {
  readonly configPath: string;
  readonly pidPath: string;
  readonly accessLog: string;
  readonly errorLog: string;
}

export interface NginxRunOptions {
  /** nginx's prefix directory (`-p`). */
  readonly dir: string;
  /** Where the config listens. */
  readonly host: string;
  readonly port: number;
  /** @default "nginx" (see resolveNginxBinary) */
  readonly binary?: string;
  /** Words run before nginx (e.g. `ip netns exec ns1`). @default [] */
  readonly commandPrefix?: readonly string[];
  /** @default 10000 */
  readonly startTimeoutMs?: number;
}

/**
 * Checks a written nginx.conf (`nginx -t`) and runs nginx on it in the foreground until it listens:
 * the reverse proxy's start, and the ALB bench's nginx fronts (configs of their own).
 */
export async function runNginx(files: NginxRunFiles, o: NginxRunOptions): Promise<StartedNginxReverseProxy> {
  const binary = resolveNginxBinary(o.binary);
  // -p/-c/-e keep nginx away from the system's config, pid and log paths, also while testing.
  const base = ["-p", `${o.dir}/`, "-c", files.configPath, "-e", files.errorLog];
  const prefix = o.commandPrefix ?? [];
  const run = (args: string[]) => (prefix.length ? { cmd: prefix[0], args: [...prefix.slice(1), binary, ...args] } : { cmd: binary, args });

  const check = run([...base, "-t", "-q"]);
  const checked = spawnSync(check.cmd, check.args, { encoding: "utf8" });
  if (checked.error || checked.status !== 0) {
    const why = (checked.stderr || checked.error?.message || "").trim() || tail(files.errorLog);
    throw new UserError(`nginx rejected the generated config ${files.configPath}:\n${why}`);
  }

  fs.rmSync(files.pidPath, { force: true });
  const main = run([...base, "-g", "daemon off; master_process on;"]);
  const child = spawn(main.cmd, main.args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const checkConfig = (): string | undefined => {
    const r = spawnSync(check.cmd, check.args, { encoding: "utf8" });
    return r.error || r.status !== 0 ? (r.stderr || r.error?.message || "").trim() || tail(files.errorLog) : undefined;
  };
  const started = new StartedNginxReverseProxy(child, o.host, o.port, o.dir, files, checkConfig);
  try {
    await started.waitUntilListening(o.startTimeoutMs ?? 10_000, () => stderr);
  } catch (e) {
    await started.stop();
    throw e;
  }
  return started;
}

export class StartedNginxReverseProxy {
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly onExit = () => {
    // Our process is going away: do not leave nginx running (SIGTERM = nginx's fast shutdown).
    if (this.exitCode === undefined) this.child.kill("SIGTERM");
  };

  constructor(
    private readonly child: ChildProcess,
    /** The address nginx listens on. */
    readonly host: string,
    /** The port nginx listens on. */
    readonly port: number,
    /** The directory nginx runs in. */
    readonly dir: string,
    private readonly files: NginxRunFiles,
    /** `nginx -t` on the config file: undefined when it is good, else why not. */
    private readonly checkConfig: () => string | undefined = () => undefined,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        process.off("exit", this.onExit);
        resolve(this.exitCode);
      });
      child.once("error", () => {
        this.exitCode = -1;
        process.off("exit", this.onExit);
        resolve(-1);
      });
    });
    process.on("exit", this.onExit);
  }

  /** Device-facing base URL, `https://host:port`. */
  get url(): string {
    return `https://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get configPath(): string {
    return this.files.configPath;
  }

  get logs(): { readonly access: string; readonly error: string } {
    return { access: this.files.accessLog, error: this.files.errorLog };
  }

  /** PID of the nginx master process (or of the command prefix that runs it). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private readonly stopHooks: (() => void)[] = [];

  /** @internal Runs `hook` when nginx is stopped (a file watch). */
  onStop(hook: () => void): void {
    this.stopHooks.push(hook);
  }

  /** @internal A line of ours in nginx's error log (what a reload did), as `ums-edge:` notices. */
  note(text: string): void {
    try {
      fs.appendFileSync(this.files.errorLog, `${new Date().toISOString()} [notice] ums-edge: ${text}\n`);
    } catch {
      // The log directory is gone: nginx is stopping.
    }
  }

  /**
   * `nginx -s reload`: checks the config file, sends SIGHUP to the master and resolves once workers
   * of the new configuration run. New connections get the new config; the old workers finish what
   * they hold, and close open WebSockets after the config's worker_shutdown_timeout (nginx docs,
   * "Controlling nginx": old worker processes "continue to service old requests" and then exit).
   */
  async reload(timeoutMs = 5000): Promise<void> {
    const bad = this.checkConfig();
    if (bad) throw new UserError(`nginx rejected the new config ${this.files.configPath}; the running config stays:\n${bad}`);
    const before = new Set(this.workerPids());
    this.child.kill("SIGHUP");
    const deadline = Date.now() + timeoutMs;
    // Done when a new worker runs and every old one has stopped accepting (gone, or titled "is shutting down").
    const retired = (pid: number) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("shutting down");
      } catch {
        return true;
      }
    };
    while (Date.now() < deadline) {
      const now = this.workerPids();
      if (now.some((p) => !before.has(p)) && [...before].every(retired)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`nginx started no worker of the new configuration within ${timeoutMs} ms; see ${this.files.errorLog}`);
  }

  /** The master's child processes (its workers), from /proc. */
  private workerPids(): number[] {
    try {
      const pid = this.child.pid!;
      return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** @internal Resolves once nginx wrote its pid file (written after the listening sockets are bound). */
  async waitUntilListening(timeoutMs: number, stderr: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitCode !== undefined) {
        const why = stderr().trim() || tail(this.files.errorLog);
        throw new UserError(`nginx exited while starting (code ${this.exitCode}):\n${why}\n  config: ${this.files.configPath}`);
      }
      if (fs.existsSync(this.files.pidPath) && fs.readFileSync(this.files.pidPath, "utf8").trim() !== "") return;
      if (Date.now() > deadline) throw new Error(`nginx did not start within ${timeoutMs} ms; see ${this.files.errorLog}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Stops nginx gracefully (SIGQUIT: finish requests; open WebSockets are closed after the config's
   * worker_shutdown_timeout) and waits for it to exit; escalates to SIGTERM, then SIGKILL.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    for (const hook of this.stopHooks.splice(0)) hook();
    for (const [signal, wait] of [["SIGQUIT", timeoutMs], ["SIGTERM", 2000], ["SIGKILL", 2000]] as const) {
      if (this.exitCode !== undefined) return;
      this.child.kill(signal);
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, wait).unref())]);
    }
  }
}
