import { startComponent, RunningComponent } from "../component-process";
import type { Runtime } from "../runtime";
import type { NetworkSide } from "../security-groups/model";
import type { Lab, AppConfigName } from "../lab";
import { entry } from "./entries";

export interface IcgReady {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface IcgStart {
  readonly side: NetworkSide;
  /** Forwarded-certificate settings when the ICG is behind an ALB. */
  readonly appConfig?: AppConfigName;
  readonly logFile?: string;
}

export function startIcg(runtime: Runtime, lab: Lab, o: IcgStart): Promise<RunningComponent<IcgReady>> {
  return startComponent<IcgReady>(
    {
      name: "icg",
      logFile: o.logFile,
      command: process.execPath,
      args: [
        entry("icg"),
        "--pki", lab.pki.dir,
        "--host", runtime.address(o.side),
        "--port", String(runtime.isolated ? 8443 : 0),
        ...(o.appConfig ? ["--app-config", lab.appConfigs[o.appConfig]] : []),
      ],
    },
    runtime.spawner(o.side),
  );
}
