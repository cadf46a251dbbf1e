import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { Runtime } from "../runtime";
import type { Lab, AppConfigName } from "../lab";
import { REVERSE_PROXY_HEADER } from "../lab";
import type { RunningComponent } from "../component-process";
import { NginxReverseProxy, proxyTlsFilesFromLabPki, StartedNginxReverseProxy } from "../../proxy/nginx-reverse-proxy";
import { readStackSecurityGroups } from "../security-groups/read-stack";
import { REVERSE_PROXY_SECURITY_GROUPS, ICG_SECURITY_GROUPS } from "../security-groups/topology-groups";
import type { SecurityGroupLayout } from "../security-groups/model";
import { startAlb, startUms, runDir, UmsReady } from "./components";
import { startIcg } from "./icg-component";
import type { StartedTopology, TopologyName, DeviceEndpoints } from "./topology";

export interface TopologyOptions {
  /** Replace the UMS application.yml the topology would use (to show a misconfiguration). */
  readonly umsAppConfig?: AppConfigName;
  /** A suffix for the run directory when one topology is started more than once. */
  readonly instance?: string;
  /** Heartbeat interval the UMS tells devices (benches holding many sessions use a longer one). @default 1000 */
  readonly umsHeartbeatMs?: number;
  /** Processes of the ALB emulator (node:cluster workers; each holds its share of the connections). @default 1 */
  readonly albWorkers?: number;
}

const ALB_STACKS = {
  "alb-verify": "ums-alb-verify",
  "alb-passthrough": "ums-alb-passthrough",
  "icg-alb-verify": "icg-alb-verify",
  "icg-alb-passthrough": "icg-alb-passthrough",
} as const;

/** The security groups of a topology: from its synthesized stack where it has one, else the hand-written layouts. */
export function securityGroupsOf(name: TopologyName, lab: Lab): SecurityGroupLayout {
  if (name === "direct") {
    // ums-direct's instance group, placed where the direct UMS runs: facing the devices.
    const layout = readStackSecurityGroups(path.join(lab.stackDir("ums-direct"), "cdk.tf.json"));
    return { ...layout, placement: { public: layout.placement.private ?? [] } };
  }
  if (name === "reverse-proxy") return REVERSE_PROXY_SECURITY_GROUPS;
  if (name === "icg") return ICG_SECURITY_GROUPS;
  return readStackSecurityGroups(path.join(lab.stackDir(ALB_STACKS[name]), "cdk.tf.json"));
}

/** Stops what was started, newest first, ignoring errors: used on failure and on stop(). */
async function stopAll(stoppers: Array<() => Promise<void>>): Promise<void> {
  for (const stop of [...stoppers].reverse()) await stop().catch(() => undefined);
}

/**
 * Starts one topology's components on the runtime and applies its security groups. Nothing is left
 * running if a component fails to start.
 */
export async function startTopology(name: TopologyName, runtime: Runtime, lab: Lab, options: TopologyOptions = {}): Promise<StartedTopology> {
  const t0 = performance.now();
  const stoppers: Array<() => Promise<void>> = [];
  const components: Record<string, RunningComponent<unknown>> = {};
  const track = <R,>(c: RunningComponent<R>): RunningComponent<R> => {
    components[c.name] = c;
    stoppers.push(() => c.stop());
    return c;
  };
  const dir = runDir(lab, options.instance ? `${name}-${options.instance}` : name);
  const trust = { serverName: lab.pki.fqdn, trustedCaFile: lab.pki.web.rootCert };
  const logOf = (component: string) => path.join(dir, `${component}.log`);
  // The direct topology's UMS faces the devices (public side); everywhere else it is private.
  const adminOf = (u: UmsReady) => ({ baseUrl: u.url, caFile: lab.pki.web.rootCert, serverName: lab.pki.fqdn, side: name === "direct" ? ("public" as const) : ("private" as const) });

  try {
    // Security groups first, as in AWS: they exist before the instances boot, and connections the
    // components open are tracked by the rules from their first packet.
    await runtime.isolate(securityGroupsOf(name, lab));
    let devices: DeviceEndpoints;
    let ums: UmsReady;
    let front: StartedTopology["front"] = "none";
    let albLogsDir: string | undefined;
    let nginxLogs: StartedTopology["nginxLogs"];

    if (name === "direct") {
      // No front: the UMS faces the devices itself (public side), its SG from the ums-direct stack.
      ums = track(await startUms(runtime, lab, { heartbeatMs: options.umsHeartbeatMs, appConfig: options.umsAppConfig ?? "no-forwarding", side: "public", logFile: logOf("ums") })).ready;
      devices = { enrollmentUrl: ums.url, clusterUrl: ums.url, webAppUrl: ums.url, ...trust };
    } else if (name === "reverse-proxy") {
      ums = track(await startUms(runtime, lab, { heartbeatMs: options.umsHeartbeatMs, appConfig: options.umsAppConfig ?? "reverse-proxy", logFile: logOf("ums") })).ready;
      const proxy: StartedNginxReverseProxy = await new NginxReverseProxy({
        dir: path.join(dir, "nginx"),
        upstream: `https://${ums.host}:${ums.port}`,
        ...proxyTlsFilesFromLabPki(lab.pki),
        forwardedCertHeader: REVERSE_PROXY_HEADER,
        host: runtime.address("public"),
        port: runtime.isolated ? 8443 : 0,
        commandPrefix: runtime.commandPrefix("public"),
      }).start();
      stoppers.push(() => proxy.stop());
      devices = { enrollmentUrl: proxy.url, clusterUrl: proxy.url, webAppUrl: proxy.url, ...trust };
      front = "nginx";
      nginxLogs = proxy.logs;
    } else if (name === "icg") {
      const icg = track(await startIcg(runtime, lab, { side: "public", logFile: logOf("icg") }));
      ums = track(await startUms(runtime, lab, { heartbeatMs: options.umsHeartbeatMs, appConfig: options.umsAppConfig ?? "no-forwarding", icgUrl: icg.ready.url, logFile: logOf("ums") })).ready;
      devices = { enrollmentUrl: icg.ready.url, clusterUrl: icg.ready.url, webAppUrl: icg.ready.url, ...trust };
      front = "icg";
    } else {
      const stackDir = lab.stackDir(ALB_STACKS[name]);
      const verify = name.endsWith("-verify");
      const behindIcg = name.startsWith("icg-");
      albLogsDir = path.join(dir, "alb-logs");
      let target: { host: string; port: number };
      if (behindIcg) {
        // The ICG is the ALB's target (private side); the UMS connects out to it.
        const icg = track(await startIcg(runtime, lab, { side: "private", appConfig: verify ? "alb-verify" : "alb-passthrough", logFile: logOf("icg") }));
        // The ICG has 8443 on the private side; the UMS (its listener is for the admin API here) takes another port.
        ums = track(await startUms(runtime, lab, { heartbeatMs: options.umsHeartbeatMs, appConfig: "no-forwarding", icgUrl: icg.ready.url, side: "private", port: 9443, logFile: logOf("ums") })).ready;
        target = { host: icg.ready.host, port: icg.ready.port };
        front = "alb";
      } else {
        ums = track(await startUms(runtime, lab, { heartbeatMs: options.umsHeartbeatMs, appConfig: options.umsAppConfig ?? (verify ? "alb-verify" : "alb-passthrough"), logFile: logOf("ums") })).ready;
        target = { host: ums.host, port: ums.port };
        front = "alb";
      }
      const alb = track(await startAlb(runtime, { stackDir, target, logsDir: albLogsDir, listenerPorts: verify ? [8443, 443] : [8443], workers: options.albWorkers, logFile: logOf("alb") }));
      const mtlsUrl = alb.ready.listeners["8443"];
      const tlsUrl = verify ? alb.ready.listeners["443"] : mtlsUrl;
      devices = { enrollmentUrl: tlsUrl, clusterUrl: mtlsUrl, webAppUrl: tlsUrl, ...trust };
    }
    const started: StartedTopology = {
      name,
      runtime,
      front,
      devices,
      admin: adminOf(ums),
      ums: { host: ums.host, port: ums.port },
      albLogsDir,
      nginxLogs,
      components,
      startMs: Math.round(performance.now() - t0),
      stop: async () => {
        await stopAll(stoppers);
        await runtime.isolate(undefined);
      },
    };
    return started;
  } catch (e) {
    await stopAll(stoppers);
    await runtime.isolate(undefined).catch(() => undefined);
    throw e;
  }
}
