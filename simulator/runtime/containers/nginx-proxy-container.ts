import * as path from "node:path";
import * as tls from "node:tls";
import { ROUTES } from "../../protocol/routes";
import { ProblemsError } from "../../../core/errors";
import { renderNginxConfig } from "../../proxy/nginx-config";
import { DEFAULT_FORWARDED_CERT_HEADER, DEFAULT_VERIFY_DEPTH, nginxReverseProxyProblems, ProxyTlsFiles } from "../../proxy/nginx-reverse-proxy";
import { readRevokedSerials } from "../../proxy/revocation";
import { ComponentContainer, ComponentContainerOptions, StartedComponentContainer } from "./component-container";
import type { ContainerOutput } from "./container-output";
import { connectEngine } from "./engine";
import { imageName } from "./images";

/**
 * The reverse proxy (topology `reverse-proxy`) in a container: Debian's nginx with the config
 * simulator/proxy generates (TLS 1.3, device certificate verified, forwarded header, allow-list),
 * `new NginxProxyContainer({ ...proxyTlsFilesFromLabPki(pki), upstream }).start()`. The TLS files
 * are copied into the container; nginx logs errors to the container's output.
 */

export interface NginxProxyContainerOptions extends ComponentContainerOptions, ProxyTlsFiles {
  /** The UMS as the container reaches it, `https://<ums container>:8443`. */
  readonly upstream: string;
  /** Port nginx listens on in the container. @default 8443 */
  readonly port?: number;
  /** Header carrying the verified device certificate (the UMS `client-cert-forwarded-header`). @default "X-Amzn-Mtls-Clientcert-Leaf" */
  readonly forwardedCertHeader?: string;
  /** Paths nginx answers 401 on without a verified certificate. @default ["/device-connector/v1/ws"] */
  readonly clientCertificateRequiredPaths?: readonly string[];
  /** `ssl_verify_depth`. @default 2 */
  readonly verifyDepth?: number;
  /** A directory on this machine for access.log and error.log (bind-mounted, read while nginx runs). @default access log in the container, errors to its output */
  readonly logsDir?: string;
}

const LAB = "/lab";
const LOGS = "/lab/logs";
const TLS_IN_CONTAINER = { certificateChain: `${LAB}/tls/entire_chain.pem`, privateKey: `${LAB}/tls/private_key.pem`, clientCaChain: `${LAB}/tls/client-ca-chain.pem` };

/** Ready when a TLS handshake on the published port completes (nginx prints no ready line). */
function tlsAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, timeout: 1000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export class NginxProxyContainer extends ComponentContainer {
  constructor(options: NginxProxyContainerOptions) {
    const port = options.port ?? 8443;
    const problems = nginxReverseProxyProblems({ ...options, dir: LAB, port });
    if (problems.length) throw new ProblemsError(problems, "the nginx proxy container options are not usable:");
    const revoked = options.crl ? readRevokedSerials(options.crl, options.clientCaChain) : { ok: true as const, serials: [] };
    if (!revoked.ok) throw new ProblemsError(revoked.problems, "the nginx proxy container options are not usable:");
    super(options.image ?? imageName("nginx"), "nginx", options, [port], async (_out: ContainerOutput, ports) => {
      const host = (await connectEngine()).info.containerRuntime.host;
      return tlsAnswers(host, ports.getBinding(port));
    });
    this.port = port;
    const upstream = new URL(options.upstream);
    const config = renderNginxConfig({
      prefixDir: LAB,
      listenHost: "0.0.0.0",
      listenPort: port,
      certificateChain: TLS_IN_CONTAINER.certificateChain,
      privateKey: TLS_IN_CONTAINER.privateKey,
      clientCaChain: TLS_IN_CONTAINER.clientCaChain,
      revokedSerials: revoked.serials,
      verifyDepth: options.verifyDepth ?? DEFAULT_VERIFY_DEPTH,
      forwardedCertHeader: options.forwardedCertHeader ?? DEFAULT_FORWARDED_CERT_HEADER,
      clientCertificateRequiredPaths: options.clientCertificateRequiredPaths ?? [ROUTES.deviceSocket],
      upstream: upstream.origin,
      upstreamServerName: upstream.hostname,
      accessLog: options.logsDir ? `${LOGS}/access.log` : `${LAB}/access.log`,
      errorLog: options.logsDir ? `${LOGS}/error.log` : "stderr",
      workerUser: "nobody nogroup",
    });
    this.withCopyContentToContainer([{ content: config, target: `${LAB}/nginx.conf` }]);
    this.withCopyFilesToContainer([
      { source: options.certificateChain, target: TLS_IN_CONTAINER.certificateChain },
      { source: options.privateKey, target: TLS_IN_CONTAINER.privateKey, mode: 0o600 },
      { source: options.clientCaChain, target: TLS_IN_CONTAINER.clientCaChain },
    ]);
    this.withCopyContentToContainer([{ content: "", target: `${LAB}/temp/.keep` }]);
    if (options.logsDir) this.withBindMounts([{ source: path.resolve(options.logsDir), target: LOGS, mode: "rw" }]);
    this.withCommand(["-p", `${LAB}/`, "-c", `${LAB}/nginx.conf`, "-e", "stderr", "-g", "daemon off; master_process on;"]);
  }

  private readonly port: number;

  override async start(): Promise<StartedNginxProxyContainer> {
    const { started, output } = await this.startComponent();
    return new StartedNginxProxyContainer(started, {}, output, this.port);
  }
}

export class StartedNginxProxyContainer extends StartedComponentContainer<Record<string, never>> {
  constructor(
    started: ConstructorParameters<typeof StartedComponentContainer>[0],
    ready: Record<string, never>,
    output: ConstructorParameters<typeof StartedComponentContainer>[2],
    private readonly port: number,
  ) {
    super(started, ready, output);
  }

  /** `https://<container name>:<port>`: the cluster address devices on its network use. */
  getInternalUrl(): string {
    return `https://${this.getNetworkHostname()}:${this.port}`;
  }

  /** How this process reaches it (its published port). */
  getUrl(): string {
    const a = this.getReachableAddress(this.port);
    return `https://${a.host}:${a.port}`;
  }
}
