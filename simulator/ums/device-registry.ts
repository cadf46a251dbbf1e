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
  mac: string;
  firmware: string;
  readonly name: string;
  readonly enrolledBy: "onboarding" | "certificate";
  readonly enrolledAt: Date;
  /** Serial of the certificate issued at onboarding or last seen, hex. */
  certificateSerial?: string;
  /** The administrator allowed one re-enrollment of this unit id (used up by the next onboarding). */
  reenrollmentAllowed: boolean;
  online: boolean;
  lastContact?: Date;
  /** Settings last pushed with settings2tc and reported applied. */
  settings: Record<string, string | number | boolean>;
  connections: number;
}

export class DeviceRegistry {
  private readonly byUnit = new Map<string, DeviceRecord>();
  private readonly byIdMap = new Map<string, DeviceRecord>();
  private nextId = 1001;

  /** Returns the device with this unit id, creating it if it is new. */
  enroll(input: { unitId: string; mac: string; firmware: string; enrolledBy: DeviceRecord["enrolledBy"]; certificateSerial?: string }): DeviceRecord {
    const existing = this.byUnit.get(input.unitId);
    if (existing) {
      existing.mac = input.mac;
      existing.firmware = input.firmware;
      if (input.certificateSerial) existing.certificateSerial = input.certificateSerial;
      return existing;
    }
    const record: DeviceRecord = {
      id: String(this.nextId++),
      unitId: input.unitId,
      mac: input.mac,
      firmware: input.firmware,
      name: `igel-${input.unitId.slice(-6).toLowerCase()}`,
      enrolledBy: input.enrolledBy,
      enrolledAt: new Date(),
      certificateSerial: input.certificateSerial,
      reenrollmentAllowed: false,
      online: false,
      settings: {},
      connections: 0,
    };
    this.byUnit.set(record.unitId, record);
    this.byIdMap.set(record.id, record);
    return record;
  }

  /**
   * Onboarding of `unitId`: a new device is enrolled; a known one only when its re-enrollment was
   * allowed, which this uses up. `replacedSerial` is the certificate the device had until now (to revoke).
   */
  onboard(input: { unitId: string; mac: string; firmware: string; certificateSerial: string }): { ok: true; device: DeviceRecord; replacedSerial?: string } | { ok: false; device: DeviceRecord } {
    const existing = this.byUnit.get(input.unitId);
    if (existing && !existing.reenrollmentAllowed) return { ok: false, device: existing };
    const replacedSerial = existing?.certificateSerial;
    if (existing) existing.reenrollmentAllowed = false;
    const device = this.enroll({ ...input, enrolledBy: "onboarding" });
    return { ok: true, device, replacedSerial };
  }

  /** The administrator lets the device with this IMI id onboard once more; undefined for an unknown id. */
  allowReenrollment(id: string): DeviceRecord | undefined {
    const device = this.byIdMap.get(id);
    if (device) device.reenrollmentAllowed = true;
    return device;
  }

  byUnitId(unitId: string): DeviceRecord | undefined {
    return this.byUnit.get(unitId);
  }

  byId(id: string): DeviceRecord | undefined {
    return this.byIdMap.get(id);
  }

  list(): DeviceRecord[] {
    return [...this.byIdMap.values()];
  }

  get size(): number {
    return this.byIdMap.size;
  }
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
