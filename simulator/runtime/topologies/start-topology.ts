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
}

const ALB_STACKS = {
  "alb-verify": "ums-alb-verify",
  "alb-passthrough": "ums-alb-passthrough",
  "icg-alb-verify": "icg-alb-verify",
  "icg-alb-passthrough": "icg-alb-passthrough",
} as const;

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
  // The direct topology's UMS faces the devices (public side); everywhere else it is private.
  const adminOf = (u: UmsReady) => ({ baseUrl: u.url, caFile: lab.pki.web.rootCert, serverName: lab.pki.fqdn, side: name === "direct" ? ("public" as const) : ("private" as const) });
  let layout: SecurityGroupLayout | undefined;

  try {
    let devices: DeviceEndpoints;
    let ums: UmsReady;
    let front: StartedTopology["front"] = "none";
    let albLogsDir: string | undefined;
    let nginxLogs: StartedTopology["nginxLogs"];

    if (name === "direct") {
      // No front: the UMS faces the devices itself (public side), its SG from the ums-direct stack.
      ums = track(await startUms(runtime, lab, { appConfig: options.umsAppConfig ?? "no-forwarding", side: "public" })).ready;
      devices = { enrollmentUrl: ums.url, clusterUrl: ums.url, webAppUrl: ums.url, ...trust };
      layout = readStackSecurityGroups(path.join(lab.stackDir("ums-direct"), "cdk.tf.json"));
      layout = { ...layout, placement: { public: layout.placement.private ?? [] } };
    } else if (name === "reverse-proxy") {
      ums = track(await startUms(runtime, lab, { appConfig: options.umsAppConfig ?? "reverse-proxy" })).ready;
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
      layout = REVERSE_PROXY_SECURITY_GROUPS;
    } else if (name === "icg") {
      const icg = track(await startIcg(runtime, lab, { side: "public" }));
      ums = track(await startUms(runtime, lab, { appConfig: options.umsAppConfig ?? "no-forwarding", icgUrl: icg.ready.url })).ready;
      devices = { enrollmentUrl: icg.ready.url, clusterUrl: icg.ready.url, webAppUrl: icg.ready.url, ...trust };
      front = "icg";
      layout = ICG_SECURITY_GROUPS;
    } else {
      const stackDir = lab.stackDir(ALB_STACKS[name]);
      const verify = name.endsWith("-verify");
      const behindIcg = name.startsWith("icg-");
      albLogsDir = path.join(dir, "alb-logs");
      let target: { host: string; port: number };
      if (behindIcg) {
        // The ICG is the ALB's target (private side); the UMS connects out to it.
        const icg = track(await startIcg(runtime, lab, { side: "private", appConfig: verify ? "alb-verify" : "alb-passthrough" }));
        ums = track(await startUms(runtime, lab, { appConfig: "no-forwarding", icgUrl: icg.ready.url, side: "private" })).ready;
        target = { host: icg.ready.host, port: icg.ready.port };
        front = "alb";
      } else {
        ums = track(await startUms(runtime, lab, { appConfig: options.umsAppConfig ?? (verify ? "alb-verify" : "alb-passthrough") })).ready;
        target = { host: ums.host, port: ums.port };
        front = "alb";
      }
      const alb = track(await startAlb(runtime, { stackDir, target, logsDir: albLogsDir, listenerPorts: verify ? [8443, 443] : [8443] }));
      const mtlsUrl = alb.ready.listeners["8443"];
      const tlsUrl = verify ? alb.ready.listeners["443"] : mtlsUrl;
      devices = { enrollmentUrl: tlsUrl, clusterUrl: mtlsUrl, webAppUrl: tlsUrl, ...trust };
      layout = readStackSecurityGroups(path.join(stackDir, "cdk.tf.json"));
    }
    await runtime.isolate(layout);
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
    throw e;
  }
}
