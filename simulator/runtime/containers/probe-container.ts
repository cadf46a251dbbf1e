import type { TcpProbeResult } from "../netns/netns-lab";
import { PROBE_SCRIPT } from "../netns/netns-lab";
import { ComponentContainer, ComponentContainerOptions } from "./component-container";
import { imageName } from "./images";

/**
 * One TCP connect from inside a Docker network: a short-lived container of the node image on the
 * networks of a side (e.g. the devices' network) runs the same probe the namespace runtime runs in
 * a namespace, prints the result and exits. This is how the bypass row is proved: from where the
 * devices are, not from this process (which reaches every network through the engine's bridges).
 */

const RESULTS: readonly TcpProbeResult[] = ["connected", "refused", "timeout", "unreachable", "error"];

const resultOf = (lines: readonly string[]): TcpProbeResult | undefined => lines.map((l) => l.trim()).find((l): l is TcpProbeResult => (RESULTS as readonly string[]).includes(l));

export interface TcpProbeOptions extends ComponentContainerOptions {
  readonly host: string;
  readonly port: number;
  /** @default 1500 */
  readonly timeoutMs?: number;
}

export class TcpProbeContainer extends ComponentContainer {
  constructor(options: TcpProbeOptions) {
    super(options.image ?? imageName("node"), "probe", options, [], (out) => resultOf(out.lines) !== undefined);
    this.withEnvironment({ PROBE_HOST: options.host, PROBE_PORT: String(options.port), PROBE_TIMEOUT: String(options.timeoutMs ?? 1500) });
    // The answer ends with a newline (the script prints none) and the container stays up until it is
    // read: one that exits at once can end its log stream before the answer arrives (measured: 3 of
    // 7 bypass probes lost theirs).
    this.withCommand(["-e", `process.exit = () => { process.stdout.write("\\n"); setTimeout(() => undefined, 60000); };\n${PROBE_SCRIPT}`]);
  }

  /** Runs the probe and removes the container; the connect's outcome. */
  async probe(): Promise<TcpProbeResult> {
    const { started, output } = await this.startComponent();
    await started.stop({ timeout: 0 }).catch(() => undefined);
    return resultOf(output.lines) ?? "error";
  }
}
