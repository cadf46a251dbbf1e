import * as fs from "node:fs";
import * as path from "node:path";
import { launch } from "../../simulator/runtime/launch";
import { startComponent } from "../../simulator/runtime/component-process";
import { runNginx } from "../../simulator/proxy/nginx-reverse-proxy";
import { pickFreePort } from "../../simulator/proxy/free-port";
import { frontConfig, upstreamConfig, NginxFiles } from "./nginx-configs";
import { onInterrupt } from "./interrupt";
import type { BareConfig } from "./bare-tls-server";

/**
 * The fronts the ALB bench compares, each terminating the same mTLS with the same certificates in
 * front of the same upstream: nginx (a config doing what the emulator's verify listener does), the
 * ALB emulator (started by the product's launcher, as `ums-edge alb`), and a bare Node TLS server
 * answering by itself (the ceiling). Each runs with a given number of processes.
 */

export type FrontKind = "nginx" | "emulator" | "bare";

export interface StartedFront {
  readonly port: number;
  /** The front's root process (its workers are its descendants). */
  readonly pid: number;
  stop(): Promise<void>;
}

export interface Front {
  readonly name: string;
  readonly kind: FrontKind;
  readonly processes: number;
  start(): Promise<StartedFront>;
}

/** What every front serves: the stack's web certificate and trust store, in a scratch directory. */
export interface FrontFiles {
  /** The synthesized ums-alb-verify stack the emulator runs. */
  readonly stackDir: string;
  /** Listener ports of that stack (the emulator maps each to a free local port). */
  readonly listenerPorts: readonly number[];
  /** Server certificate followed by its chain. */
  readonly certFile: string;
  readonly keyFile: string;
  /** The trust store's CA bundle (device CA chain). */
  readonly caBundleFile: string;
  /** Where the nginx prefixes go. */
  readonly workDir: string;
}

const HOST = "127.0.0.1";

/** nginx on a bench config, in its own prefix directory under the work directory. */
async function startNginx(files: FrontFiles, name: string, config: (f: NginxFiles, port: number) => string): Promise<StartedFront> {
  const prefix = path.join(files.workDir, name);
  fs.mkdirSync(prefix, { recursive: true });
  const port = await pickFreePort(HOST);
  const configPath = path.join(prefix, "nginx.conf");
  fs.writeFileSync(configPath, config({ prefix, certFile: files.certFile, keyFile: files.keyFile }, port));
  const nginx = await runNginx(
    { configPath, pidPath: path.join(prefix, "nginx.pid"), accessLog: path.join(prefix, "access.log"), errorLog: path.join(prefix, "error.log") },
    { dir: prefix, host: HOST, port },
  );
  return tracked({ port, pid: nginx.pid!, stop: () => nginx.stop(3000) });
}

/** Stopped on Ctrl-C too. */
function tracked(front: StartedFront): StartedFront {
  const forget = onInterrupt(() => front.stop());
  return { ...front, stop: () => (forget(), front.stop()) };
}

/** The upstream behind every front: nginx answering 200 "ok" over HTTPS. */
export function startUpstream(files: FrontFiles): Promise<StartedFront> {
  return startNginx(files, "upstream", (f, port) => upstreamConfig(f, port));
}

const plural = (n: number, one: string, many: string) => `${n} ${n > 1 ? many : one}`;

/** The three fronts with `processes` processes each, forwarding to `upstreamPort`. */
export function frontsWith(files: FrontFiles, processes: number, upstreamPort: number): Front[] {
  return [
    {
      name: `nginx (${plural(processes, "worker", "workers")})`,
      kind: "nginx",
      processes,
      start: () => startNginx(files, `front-${processes}`, (f, port) => frontConfig(f, { port, upstreamPort, caBundleFile: files.caBundleFile, workers: processes })),
    },
    {
      name: `ALB emulator (${plural(processes, "process", "processes")})`,
      kind: "emulator",
      processes,
      start: async () => {
        const alb = await launch("alb", {
          stack: files.stackDir,
          targets: [`${HOST}:${upstreamPort}`],
          ports: files.listenerPorts.map((p) => `${p}=0`),
          workers: processes > 1 ? processes : undefined,
        });
        // The mTLS verify listener is the one measured.
        const verify = Object.entries(alb.ready.mtls).find(([, mode]) => mode === "verify")?.[0];
        const url = verify && alb.ready.listeners[verify];
        if (!url) {
          await alb.stop();
          throw new Error(`the ALB emulator of ${files.stackDir} has no mTLS verify listener`);
        }
        return tracked({ port: Number(new URL(url).port), pid: alb.pid!, stop: () => alb.stop() });
      },
    },
    {
      name: `bare Node TLS server (${plural(processes, "process", "processes")})`,
      kind: "bare",
      processes,
      start: async () => {
        const config: BareConfig = { keyFile: files.keyFile, certFile: files.certFile, port: 0, workers: processes };
        const bare = await startComponent<{ port: number }>({ name: "bare-tls-server", command: process.execPath, args: [path.join(__dirname, "bare-tls-server.js"), JSON.stringify(config)] });
        return tracked({ port: bare.ready.port, pid: bare.pid!, stop: () => bare.stop() });
      },
    },
  ];
}
