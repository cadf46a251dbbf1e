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
export type ImiCommandTargets = ReadonlyArray<{
  readonly id: string;
  readonly type: "tc";
  /** settings2tc only (mock UMS addition): the settings to push, as parameter name → value. */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
}>;

export type CommandState = "QUEUED" | "DELIVERED" | "ACKNOWLEDGED" | "SUCCESS" | "FAILED";

export interface ImiCommandExec {
  readonly id: string;
  readonly exec_id: string;
  readonly mac: string;
  readonly command: CommandName;
  readonly state: CommandState;
  readonly message: string;
  /** Mock UMS additions, for reports: how often it was sent, and when each state was reached (ISO). */
  readonly deliveries?: number;
  readonly queuedAt?: string;
  readonly deliveredAt?: string;
  readonly acknowledgedAt?: string;
  readonly finishedAt?: string;
}

export interface ImiCommandExecList {
  readonly CommandExecList: readonly ImiCommandExec[];
}

/** Answer of `POST /umsapi/v3/login`: the session cookie, as IMI gives it. */
export interface ImiLoginResponse {
  /** `JSESSIONID=<id>` */
  readonly message: string;
}

/** `POST /umsapi/v3/enrollmentkeys` (mock UMS addition): request and answer. */
export interface ImiEnrollmentKeysRequest {
  readonly count: number;
}
export interface ImiEnrollmentKeys {
  readonly keys: readonly string[];
}

export interface ImiServerStatus {
  readonly rmGuiServerVersion: string;
  readonly buildNumber: number;
  readonly serverUUID: string;
  readonly server: string;
  readonly status: "ok";
}
