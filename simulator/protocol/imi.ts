import type { CommandName } from "./messages";

/** Shapes of IGEL's IMI API v3 that the mock UMS reproduces (a subset). */

export interface ImiThinClient {
  readonly id: string;
  readonly unitID: string;
  readonly mac: string;
  readonly name: string;
  readonly firmwareVersion: string;
  readonly online: boolean;
  readonly lastContact?: string;
}

/** Body of `POST /umsapi/v3/thinclients?command=...`. */
export type ImiCommandTargets = ReadonlyArray<{ readonly id: string; readonly type: "tc" }>;

export type CommandState = "QUEUED" | "DELIVERED" | "ACKNOWLEDGED" | "SUCCESS" | "FAILED";

export interface ImiCommandExec {
  readonly id: string;
  readonly exec_id: string;
  readonly mac: string;
  readonly command: CommandName;
  readonly state: CommandState;
  readonly message: string;
}

export interface ImiCommandExecList {
  readonly CommandExecList: readonly ImiCommandExec[];
}

export interface ImiServerStatus {
  readonly rmGuiServerVersion: string;
  readonly buildNumber: number;
  readonly serverUUID: string;
  readonly server: string;
  readonly status: "ok";
}
