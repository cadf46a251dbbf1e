import type { ImiThinClient } from "../protocol/imi";

/**
 * The devices the UMS knows: enrolled at onboarding, or adopted the first time a device with a
 * valid certificate from the device CA says hello (e.g. a lab certificate that never onboarded).
 * Onboarding never takes over a known unit id: a device that must be enrolled again (new disk, new
 * key) needs the administrator's permission for that one device first (`allowReenrollment`, the IMI
 * call `POST /umsapi/v3/thinclients/<id>/reenrollment`), which one onboarding then uses up.
 */

export interface DeviceRecord {
  /** IMI id, assigned by the UMS. */
  readonly id: string;
  readonly unitId: string;
  readonly mac: string;
  readonly firmware: string;
  readonly name: string;
  readonly enrolledBy: "onboarding" | "certificate";
  readonly enrolledAt: Date;
  /** Serial of the certificate issued at onboarding or last seen, hex. */
  readonly certificateSerial?: string;
  /** The administrator allowed one re-enrollment of this unit id (used up by the next onboarding). */
  readonly reenrollmentAllowed: boolean;
  readonly online: boolean;
  /** When its last session opened or closed (heartbeats are not written to the database). */
  readonly lastContact?: Date;
  /** Settings last pushed with settings2tc and reported applied. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly connections: number;
  /** The UMS server that holds (or last held) its session. */
  readonly server?: string;
}

/** What an onboarding did: a new or re-enrolled device (`replacedSerial`: its old certificate, to revoke), or a refusal. */
export type OnboardResult = { ok: true; device: DeviceRecord; replacedSerial?: string } | { ok: false; device: DeviceRecord };

/** Where the UMS keeps its devices (store/sql-store.ts: SQLite for one UMS, PostgreSQL for a cluster). */
export interface DeviceRegistry {
  /** Returns the device with this unit id (mac, firmware and serial updated), creating it if it is new. */
  enroll(input: { unitId: string; mac: string; firmware: string; enrolledBy: DeviceRecord["enrolledBy"]; certificateSerial?: string }): Promise<DeviceRecord>;
  /**
   * Onboarding of `unitId`, atomically: a new device is enrolled; a known one only when its
   * re-enrollment was allowed, which this uses up (two servers racing: one wins).
   */
  onboard(input: { unitId: string; mac: string; firmware: string; certificateSerial: string }): Promise<OnboardResult>;
  /** The administrator lets the device with this IMI id onboard once more; undefined for an unknown id. */
  allowReenrollment(id: string): Promise<DeviceRecord | undefined>;
  /** The device's session opened on `server`: online, one more connection. */
  connected(id: string, server: string): Promise<void>;
  /** The device's session on `server` closed: offline, unless it is already online on another server. */
  disconnected(id: string, server: string): Promise<void>;
  /** Settings a settings2tc command applied, merged into what the device has. */
  mergeSettings(id: string, settings: Readonly<Record<string, string | number | boolean>>): Promise<void>;
  byUnitId(unitId: string): Promise<DeviceRecord | undefined>;
  byId(id: string): Promise<DeviceRecord | undefined>;
  list(): Promise<DeviceRecord[]>;
}

export function toImiThinClient(d: DeviceRecord): ImiThinClient {
  return {
    id: d.id,
    unitID: d.unitId,
    mac: d.mac,
    name: d.name,
    firmwareVersion: d.firmware,
    online: d.online,
    lastContact: d.lastContact?.toISOString(),
  };
}
