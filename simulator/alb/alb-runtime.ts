import * as fs from "node:fs";
import * as path from "node:path";
import { createHash, createPrivateKey } from "node:crypto";
import { createSecureContext } from "node:tls";
import { ChainVerifier, TrustStoreError } from "../pki/chain-verify";
import { ProblemsError, Problem } from "../../core/errors";
import { MTLS_HEADERS } from "../../core/aws-headers";
import type { ListenerModel, StackModel } from "../terraform/stack-model";
import { certificateArn, loadBalancerId, targetGroupArn, AwsNaming } from "./aws-ids";
import { ClientCertPolicy } from "./client-cert";
import type { AlbEvent } from "./events";
import type { ListenerContext } from "./listener-context";
import { ListenerServer, ListenerTls } from "./listener-server";
import { LogFile } from "./log-files";
import { ListenerRules } from "./rules";
import { TargetAddress, TargetGroupPool } from "./target-pool";
import { TargetConnections } from "./target-connections";
import { listenerLines } from "./forwarding";
import { securityPolicy, KNOWN_POLICY_EXAMPLES } from "./tls-policy";

/**
 * Everything that serves traffic for one stack, built from the model: target pools, listener
 * contexts and (unbound) listener servers. Built in the process that serves; the same code runs
 * in each worker process when the emulator uses several.
 */

export interface RuntimeSettings {
  readonly targets: readonly TargetAddress[];
  readonly logsDir?: string;
  readonly accountId: string;
  readonly targetTimeoutMs?: number;
  readonly connectTimeoutMs: number;
  readonly emit: (e: AlbEvent) => void;
  /** The IP of this "node" in log file names. */
  readonly nodeIp: string;
}

export interface ServedListener {
  /** As last applied (reload() replaces it and `files`). */
  readonly model: ListenerModel;
  readonly server: ListenerServer;
  /** Fingerprints of what it serves (the files may be gone by the next reload). */
  readonly files: ListenerFiles;
}

export class AlbRuntime {
  readonly pools: Map<string, TargetGroupPool>;
  readonly listeners: ServedListener[];
  readonly logs: LogFile[] = [];
  /** Keep-alive connections to the targets, shared by the listeners of this process. */
  readonly targets: TargetConnections;

  constructor(
    readonly stack: StackModel,
    settings: RuntimeSettings,
  ) {
    const naming: AwsNaming = { region: stack.region ?? "us-east-1", accountId: settings.accountId };
    const elbId = loadBalancerId(stack.loadBalancer.name);
    const targetTimeoutMs = settings.targetTimeoutMs ?? stack.loadBalancer.idleTimeoutSeconds * 1000;
    this.targets = new TargetConnections({ connectTimeoutMs: settings.connectTimeoutMs, targetTimeoutMs });
    this.pools = new Map([...stack.targetGroups.values()].map((g) => [g.address, new TargetGroupPool(g, settings.targets)]));
    const targetGroupArns = new Map([...stack.targetGroups.values()].map((g) => [g.address, targetGroupArn(naming, g.name, g.address)]));
    const logFile = (kind: "access" | "connection") => {
      const s = kind === "access" ? stack.loadBalancer.accessLogs : stack.loadBalancer.connectionLogs;
      if (!settings.logsDir || !s.enabled) return undefined;
      const f = new LogFile({ root: settings.logsDir, prefix: s.prefix, accountId: naming.accountId, region: naming.region, loadBalancerId: elbId, nodeIp: settings.nodeIp, filePrefix: kind === "connection" ? "conn_log_" : "" });
      this.logs.push(f);
      return f;
    };
    const accessLog = logFile("access");
    const connectionLog = logFile("connection");
    const loaded = loadListenerFiles(stack);
    this.listeners = loaded.map(({ model, tls, verifier }) => {
      const renamed = new Set(Object.values(model.headerNames).filter((n) => !Object.values<string>(MTLS_HEADERS).includes(n)));
      const ctx: ListenerContext = {
        model,
        rules: new ListenerRules(model),
        pools: this.pools,
        mtlsHeaderNames: renamed,
        targets: this.targets,
        listenerLines: listenerLines(model.port),
        accessLog,
        elbId,
        certificateArn: certificateArn(naming, model.certificate!.address),
        targetGroupArns,
        targetTimeoutMs,
        connectTimeoutMs: settings.connectTimeoutMs,
        idleTimeoutMs: stack.loadBalancer.idleTimeoutSeconds * 1000,
        headTimeoutMs: stack.loadBalancer.idleTimeoutSeconds * 1000,
        clientKeepAliveMs: stack.loadBalancer.clientKeepAliveSeconds * 1000,
        desyncMode: stack.loadBalancer.desyncMitigationMode,
        forwarding: {
          dropInvalidHeaderFields: stack.loadBalancer.dropInvalidHeaderFields,
          xffHeaderProcessingMode: stack.loadBalancer.xffHeaderProcessingMode,
          enableXffClientPort: stack.loadBalancer.enableXffClientPort,
          preserveHostHeader: stack.loadBalancer.preserveHostHeader,
        },
        emit: settings.emit,
      };
      return { model, files: describeListenerFiles(model), server: new ListenerServer({ ctx, policy: new ClientCertPolicy(model, verifier), tls, connectionLog }) };
    });
  }

  /**
   * Applies a re-read stack to the listeners in place, as AWS applies a changed trust store or a
   * re-imported certificate to a running load balancer: ELB API Reference, "ModifyTrustStore"
   * ("Update the ca certificate bundle for the specified trust store", the S3 object version naming
   * the bundle) and "AddTrustStoreRevocations"; ACM user guide, "Reimport a certificate" (the
   * certificate is replaced "while preserving the AWS service associations of the original
   * certificate"). Throws (a ProblemsError naming the files at fault) and changes nothing when a file
   * is unusable: AWS refuses such an update (InvalidCaCertificatesBundle, InvalidRevocationContent)
   * and the trust store keeps its bundle. Only certificates, trust stores and revocations are
   * applied; `changes` lists what differs.
   */
  reload(stack: StackModel): ReloadChange[] {
    const loaded = loadListenerFiles(stack);
    const changes: ReloadChange[] = [];
    const plan = this.listeners.map((served) => {
      const next = loaded.find((l) => l.model.port === served.model.port);
      if (!next) throw new ProblemsError([{ file: stack.file, field: served.model.address, problem: `the listener on port ${served.model.port} is gone from the stack`, fix: "restart the emulator to serve a stack whose listeners changed" }]);
      if (next.model.mutualAuthentication.mode !== served.model.mutualAuthentication.mode) {
        throw new ProblemsError([{ file: stack.file, field: `${served.model.address}.mutual_authentication.mode`, problem: `the mTLS mode changed (${served.model.mutualAuthentication.mode} → ${next.model.mutualAuthentication.mode}); the emulator applies certificate and trust store changes in place, not mode changes`, fix: "restart the emulator to serve the new mode" }]);
      }
      return { served, next };
    });
    for (const { served, next } of plan) {
      const before = served.files;
      const after = describeListenerFiles(next.model);
      served.server.update({ tls: next.tls, policy: new ClientCertPolicy(next.model, next.verifier) });
      for (const key of Object.keys(after) as (keyof ListenerFiles)[]) {
        if (before[key] !== after[key]) changes.push({ listenerPort: next.model.port, what: key, from: before[key], to: after[key] });
      }
      // Rules, header names, policies...: served as they were until a restart; said, not hidden.
      if (settingsOf(served.model) !== settingsOf(next.model)) {
        changes.push({ listenerPort: next.model.port, what: "other-settings", from: "as started", to: "not applied: restart the emulator to serve them" });
      }
      Object.assign(served, { model: next.model, files: after });
    }
    return changes;
  }

  async flushLogs(): Promise<void> {
    await Promise.all(this.logs.map((l) => l.flush()));
  }

  /** Stops serving; the logs' running intervals are delivered as their gzip objects. */
  async close(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.server.close()));
    this.targets.close();
    await Promise.all(this.logs.map((l) => l.close()));
  }
}

/** One thing a reload changed on a listener, each side a short fingerprint of the file's contents. */
export interface ReloadChange {
  readonly listenerPort: number;
  /** A file a listener serves, or `other-settings`: something else of the listener changed, which a reload does not apply. */
  readonly what: keyof ListenerFiles | "other-settings";
  readonly from: string;
  readonly to: string;
}

export interface ListenerFiles {
  readonly certificate: string;
  readonly trustStore: string;
  readonly revocations: string;
}

/** What a listener serves, as fingerprints of contents (the S3 object version AWS pins stands for the same: new contents). */
function describeListenerFiles(model: ListenerModel): ListenerFiles {
  const digest = (files: readonly string[]) => (files.length === 0 ? "none" : createHash("sha256").update(files.map(read).join("\n")).digest("hex").slice(0, 12));
  const ts = model.mutualAuthentication.trustStore;
  return {
    certificate: model.certificate ? digest([model.certificate.bodyFile]) : "none",
    trustStore: ts ? digest([ts.caBundleFile]) : "none",
    revocations: ts ? digest(ts.revocationFiles) : "none",
  };
}

/** A listener's settings apart from its files (asset paths change with their contents). */
function settingsOf(model: ListenerModel): string {
  const ma = model.mutualAuthentication;
  return JSON.stringify({ ...model, certificate: undefined, mutualAuthentication: { ...ma, trustStore: ma.trustStore ? { ...ma.trustStore, caBundleFile: undefined, revocationFiles: undefined } : undefined } });
}

interface LoadedListener {
  readonly model: ListenerModel;
  readonly tls: ListenerTls;
  readonly verifier?: ChainVerifier;
}

function read(file: string): string {
  return fs.readFileSync(file, "utf8");
}

/** The HTTPS listeners the emulator serves. */
export function servedListeners(stack: StackModel): ListenerModel[] {
  return stack.listeners.filter((l) => l.protocol === "HTTPS");
}

/**
 * Reads and checks the files of every HTTPS listener (certificate, key, trust store, CRLs) and its
 * policy; one ProblemsError names every resource and attribute at fault.
 */
export function loadListenerFiles(stack: StackModel): LoadedListener[] {
  const problems: Problem[] = [];
  const at = (address: string, attribute: string, problem: string, fix?: string) => problems.push({ file: stack.file, field: `${address}.${attribute}`, problem, fix });
  const loaded: LoadedListener[] = [];
  for (const model of servedListeners(stack)) {
    const policy = securityPolicy(model.sslPolicy ?? "");
    if (!policy) at(model.address, "ssl_policy", `'${model.sslPolicy}' is not an ELB security policy whose protocols and ciphers the emulator knows (FIPS policies are not emulated)`, `use an ELBSecurityPolicy name such as ${KNOWN_POLICY_EXAMPLES.join(", ")}`);
    const c = model.certificate!;
    const key = read(c.privateKeyFile);
    const cert = read(c.bodyFile) + (c.chainFile ? read(c.chainFile) : "");
    try {
      createPrivateKey(key);
      createSecureContext({ key, cert });
    } catch (e) {
      at(c.address, "private_key", `the certificate and key (${path.relative(stack.dir, c.bodyFile)}, ${path.relative(stack.dir, c.privateKeyFile)}) are unusable: ${(e as Error).message}`, "export the key and certificate of the same keystore entry and synthesize again");
    }
    let verifier: ChainVerifier | undefined;
    const ma = model.mutualAuthentication;
    if (ma.mode === "verify") {
      const ts = ma.trustStore!;
      const bundle = read(ts.caBundleFile);
      try {
        verifier = new ChainVerifier(bundle, ts.revocationFiles.map(read).join("\n") || undefined);
      } catch (e) {
        const why = e instanceof TrustStoreError ? e.message : `cannot be read: ${(e as Error).message}`;
        at(ts.address, "ca_certificates_bundle_s3_key", `the trust store (${path.relative(stack.dir, ts.caBundleFile)}${ts.revocationFiles.length ? ` with ${ts.revocationFiles.length} CRL(s)` : ""}): ${why}`, "export the client certificate chain again from the UMS (PEM) and synthesize again");
      }
    }
    if (policy && verifier !== undefined === (ma.mode === "verify")) {
      loaded.push({
        model,
        verifier,
        tls: { key, cert, policy, advertiseCa: ma.mode === "verify" && ma.advertiseTrustStoreCaNames === "on" ? read(ma.trustStore!.caBundleFile) : undefined },
      });
    }
  }
  if (problems.length > 0) throw new ProblemsError(problems, `${stack.file}: the ALB emulator cannot serve these listeners:`);
  return loaded;
}
