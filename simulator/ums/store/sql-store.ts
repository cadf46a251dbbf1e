import { randomUUID } from "node:crypto";
import type { CommandName } from "../../protocol/messages";
import type { CommandState } from "../../protocol/imi";
import type { DeviceRecord, DeviceRegistry, OnboardResult } from "../device-registry";
import type { CommandQueue, CommandRecord, DeviceReport, Settings } from "../command-queue";
import { EnrollmentKeys, KeyCheck, keyHash, newKey } from "../enrollment-keys";
import type { RevokedCertificates } from "../revoked-certificates";
import type { SqlDriver, SqlRow } from "./sql-driver";
import { ensureSchema } from "./schema";

/**
 * The UMS's state in a SQL database: devices, enrollment keys (hashes), the command queue and the
 * certificates the UMS revoked. Every change that must not happen twice (spending a key, using up a
 * re-enrollment permission, claiming a command for delivery, finishing it) is ONE conditional
 * statement, so it is atomic on SQLite and on PostgreSQL alike, between requests and between the
 * servers of a cluster. The same statements run on both (sql-driver.ts).
 */

const num = (v: unknown): number => Number(v);
const date = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : new Date(Number(v)));
const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v));

function toDevice(r: SqlRow): DeviceRecord {
  return {
    id: String(r.id),
    unitId: String(r.unit_id),
    mac: String(r.mac),
    firmware: String(r.firmware),
    name: String(r.name),
    enrolledBy: r.enrolled_by as DeviceRecord["enrolledBy"],
    enrolledAt: new Date(num(r.enrolled_at)),
    certificateSerial: text(r.certificate_serial),
    reenrollmentAllowed: num(r.reenrollment_allowed) === 1,
    online: num(r.online) === 1,
    lastContact: date(r.last_contact),
    settings: JSON.parse(String(r.settings)) as DeviceRecord["settings"],
    connections: num(r.connections),
    server: text(r.server),
  };
}

function toCommand(r: SqlRow): CommandRecord {
  return {
    execId: String(r.exec_id),
    deviceId: String(r.device_id),
    mac: String(r.mac),
    command: r.command as CommandName,
    settings: r.settings === null || r.settings === undefined ? undefined : (JSON.parse(String(r.settings)) as Settings),
    state: r.state as CommandState,
    message: String(r.message),
    deliveries: num(r.deliveries),
    queuedAt: new Date(num(r.queued_at)),
    deliveredAt: date(r.delivered_at),
    acknowledgedAt: date(r.acknowledged_at),
    finishedAt: date(r.finished_at),
    deliveredBy: text(r.delivered_by),
  };
}

// Due: not finished. An acknowledged command whose result never came (its server died between the
// ack and the result) is sent again too: the device answers from memory (same commandId), so its
// result is not lost. Within one session a command goes out once (the session's own sent set).
const DUE = "('QUEUED', 'DELIVERED', 'ACKNOWLEDGED')";

export class SqlUmsStore {
  readonly devices: DeviceRegistry;
  readonly keys: EnrollmentKeys;
  readonly commands: CommandQueue;
  readonly revoked: RevokedCertificates;

  private constructor(readonly db: SqlDriver) {
    this.devices = new SqlDevices(db);
    this.keys = new SqlKeys(db);
    this.commands = new SqlCommands(db);
    this.revoked = new SqlRevoked(db);
  }

  /** Checks (or creates) the schema; refuses a database it must not touch (schema.ts). */
  static async open(db: SqlDriver): Promise<SqlUmsStore> {
    try {
      await ensureSchema(db);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new SqlUmsStore(db);
  }

  get location(): string {
    return this.db.location;
  }

  /** Marks offline the devices this server held when it stopped or died (a restart on the same address); undefined: every device. */
  async forgetSessionsOf(server: string | undefined): Promise<void> {
    if (server === undefined) await this.db.query("UPDATE devices SET online = 0 WHERE online = 1");
    else await this.db.query("UPDATE devices SET online = 0 WHERE server = $1 AND online = 1", [server]);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

async function nextValue(db: SqlDriver, counter: "device" | "command"): Promise<number> {
  const [row] = await db.query("UPDATE ums_counters SET value = value + 1 WHERE name = $1 RETURNING value", [counter]);
  return num(row.value);
}

class SqlDevices implements DeviceRegistry {
  constructor(private readonly db: SqlDriver) {}

  async enroll(input: { unitId: string; mac: string; firmware: string; enrolledBy: DeviceRecord["enrolledBy"]; certificateSerial?: string }): Promise<DeviceRecord> {
    const serial = input.certificateSerial ?? null;
    const [updated] = await this.db.query(
      "UPDATE devices SET mac = $2, firmware = $3, certificate_serial = COALESCE($4, certificate_serial) WHERE unit_id = $1 RETURNING *",
      [input.unitId, input.mac, input.firmware, serial],
    );
    if (updated) return toDevice(updated);
    const id = String(await nextValue(this.db, "device"));
    // Another server may have enrolled the same unit in between: then its row wins and is updated.
    const [row] = await this.db.query(
      `INSERT INTO devices (id, unit_id, mac, firmware, name, enrolled_by, enrolled_at, certificate_serial)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (unit_id) DO UPDATE SET mac = $3, firmware = $4, certificate_serial = COALESCE($8, devices.certificate_serial)
       RETURNING *`,
      [id, input.unitId, input.mac, input.firmware, `igel-${input.unitId.slice(-6).toLowerCase()}`, input.enrolledBy, Date.now(), serial],
    );
    return toDevice(row);
  }

  async onboard(input: { unitId: string; mac: string; firmware: string; certificateSerial: string }): Promise<OnboardResult> {
    // A known unit: only with the administrator's permission, which this one statement uses up.
    const [reenrolled] = await this.db.query(
      `UPDATE devices SET reenrollment_allowed = 0, replaced_serial = certificate_serial, certificate_serial = $2, mac = $3, firmware = $4
       WHERE unit_id = $1 AND reenrollment_allowed = 1 RETURNING *`,
      [input.unitId, input.certificateSerial, input.mac, input.firmware],
    );
    if (reenrolled) return { ok: true, device: toDevice(reenrolled), replacedSerial: text(reenrolled.replaced_serial) };
    const known = await this.byUnitId(input.unitId);
    if (known) return { ok: false, device: known };
    const id = String(await nextValue(this.db, "device"));
    const [inserted] = await this.db.query(
      `INSERT INTO devices (id, unit_id, mac, firmware, name, enrolled_by, enrolled_at, certificate_serial)
       VALUES ($1, $2, $3, $4, $5, 'onboarding', $6, $7) ON CONFLICT (unit_id) DO NOTHING RETURNING *`,
      [id, input.unitId, input.mac, input.firmware, `igel-${input.unitId.slice(-6).toLowerCase()}`, Date.now(), input.certificateSerial],
    );
    if (inserted) return { ok: true, device: toDevice(inserted) };
    // Enrolled by a concurrent request (or another server) between the two statements.
    return { ok: false, device: (await this.byUnitId(input.unitId))! };
  }

  async allowReenrollment(id: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.db.query("UPDATE devices SET reenrollment_allowed = 1 WHERE id = $1 RETURNING *", [id]);
    return row ? toDevice(row) : undefined;
  }

  async connected(id: string, server: string): Promise<void> {
    await this.db.query("UPDATE devices SET online = 1, last_contact = $2, connections = connections + 1, server = $3 WHERE id = $1", [id, Date.now(), server]);
  }

  async disconnected(id: string, server: string): Promise<void> {
    // Only this server's session: a device that already moved to another server stays online there.
    await this.db.query("UPDATE devices SET online = 0, last_contact = $2 WHERE id = $1 AND server = $3", [id, Date.now(), server]);
  }

  async mergeSettings(id: string, settings: Settings): Promise<void> {
    const device = await this.byId(id);
    if (!device) return;
    await this.db.query("UPDATE devices SET settings = $2 WHERE id = $1", [id, JSON.stringify({ ...device.settings, ...settings })]);
  }

  async byUnitId(unitId: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.db.query("SELECT * FROM devices WHERE unit_id = $1", [unitId]);
    return row ? toDevice(row) : undefined;
  }

  async byId(id: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.db.query("SELECT * FROM devices WHERE id = $1", [id]);
    return row ? toDevice(row) : undefined;
  }

  async list(): Promise<DeviceRecord[]> {
    // Numeric order of the IMI ids (1001, 1002, ...), which are all digits.
    return (await this.db.query("SELECT * FROM devices ORDER BY LENGTH(id), id")).map(toDevice);
  }
}

class SqlKeys implements EnrollmentKeys {
  constructor(private readonly db: SqlDriver) {}

  async add(keys: readonly string[]): Promise<void> {
    for (const k of keys) if (k.length > 0) await this.db.query("INSERT INTO enrollment_keys (key_hash) VALUES ($1) ON CONFLICT (key_hash) DO NOTHING", [keyHash(k)]);
  }

  async mint(count: number): Promise<string[]> {
    const minted = Array.from({ length: count }, newKey);
    await this.add(minted);
    return minted;
  }

  async check(key: string): Promise<KeyCheck> {
    const [row] = await this.db.query("SELECT spent FROM enrollment_keys WHERE key_hash = $1", [keyHash(key)]);
    return row === undefined ? "unknown" : num(row.spent) === 1 ? "used" : "usable";
  }

  async consume(key: string): Promise<KeyCheck> {
    const [spent] = await this.db.query("UPDATE enrollment_keys SET spent = 1, spent_at = $2 WHERE key_hash = $1 AND spent = 0 RETURNING key_hash", [keyHash(key), Date.now()]);
    return spent ? "usable" : this.check(key);
  }

  async counts(): Promise<{ usable: number; used: number }> {
    const [row] = await this.db.query("SELECT COUNT(*) AS total, COALESCE(SUM(spent), 0) AS used FROM enrollment_keys");
    return { usable: num(row.total) - num(row.used), used: num(row.used) };
  }
}

class SqlCommands implements CommandQueue {
  constructor(private readonly db: SqlDriver) {}

  async enqueue(target: { deviceId: string; mac: string }, command: CommandName, settings?: Settings): Promise<CommandRecord> {
    const seq = await nextValue(this.db, "command");
    const [row] = await this.db.query(
      `INSERT INTO commands (exec_id, seq, device_id, mac, command, settings, state, message, queued_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'QUEUED', 'queued until the device is online', $7) RETURNING *`,
      [randomUUID(), seq, target.deviceId, target.mac, command, settings === undefined ? null : JSON.stringify(settings), Date.now()],
    );
    await this.db.notifyCommandsQueued(target.deviceId);
    return toCommand(row);
  }

  async due(deviceId: string): Promise<CommandRecord[]> {
    return (await this.db.query(`SELECT * FROM commands WHERE device_id = $1 AND state IN ${DUE} ORDER BY seq`, [deviceId])).map(toCommand);
  }

  async claim(execId: string, server: string): Promise<CommandRecord | undefined> {
    const [row] = await this.db.query(
      `UPDATE commands SET deliveries = deliveries + 1, delivered_at = $2, delivered_by = $3, state = 'DELIVERED',
         message = CASE WHEN deliveries = 0 THEN 'sent; waiting for the device''s ack'
                        ELSE 'sent again (delivery ' || CAST(deliveries + 1 AS TEXT) || ') after a reconnect; waiting for the device''s ack' END
       WHERE exec_id = $1 AND state IN ${DUE} RETURNING *`,
      [execId, Date.now(), server],
    );
    return row ? toCommand(row) : undefined;
  }

  async acknowledge(deviceId: string, execId: string): Promise<DeviceReport> {
    const [row] = await this.db.query(
      `UPDATE commands SET state = 'ACKNOWLEDGED', acknowledged_at = $3, message = 'acknowledged by the device; waiting for its result'
       WHERE exec_id = $1 AND device_id = $2 AND state IN ${DUE} RETURNING exec_id`,
      [execId, deviceId, Date.now()],
    );
    return row ? "applied" : this.whyNot(deviceId, execId);
  }

  async complete(deviceId: string, execId: string, status: "ok" | "failed", detail?: string): Promise<DeviceReport> {
    const now = Date.now();
    const [row] = await this.db.query(
      `UPDATE commands SET state = $3, message = $4, finished_at = $5, acknowledged_at = COALESCE(acknowledged_at, $5)
       WHERE exec_id = $1 AND device_id = $2 AND state NOT IN ('SUCCESS', 'FAILED') RETURNING exec_id`,
      [execId, deviceId, status === "ok" ? "SUCCESS" : "FAILED", detail ?? (status === "ok" ? "executed" : "the device reported a failure"), now],
    );
    return row ? "applied" : this.whyNot(deviceId, execId);
  }

  /** After a conditional update changed nothing: another device's (or no) command, or already done. */
  private async whyNot(deviceId: string, execId: string): Promise<DeviceReport> {
    const record = await this.get(execId);
    return !record || record.deviceId !== deviceId ? "unknown-command" : "duplicate";
  }

  async get(execId: string): Promise<CommandRecord | undefined> {
    const [row] = await this.db.query("SELECT * FROM commands WHERE exec_id = $1", [execId]);
    return row ? toCommand(row) : undefined;
  }

  async list(deviceId?: string): Promise<CommandRecord[]> {
    const rows =
      deviceId === undefined ? await this.db.query("SELECT * FROM commands ORDER BY seq") : await this.db.query("SELECT * FROM commands WHERE device_id = $1 ORDER BY seq", [deviceId]);
    return rows.map(toCommand);
  }

  async counts(): Promise<Record<CommandState, number>> {
    const counts: Record<CommandState, number> = { QUEUED: 0, DELIVERED: 0, ACKNOWLEDGED: 0, SUCCESS: 0, FAILED: 0 };
    for (const r of await this.db.query("SELECT state, COUNT(*) AS n FROM commands GROUP BY state")) counts[r.state as CommandState] = num(r.n);
    return counts;
  }
}

class SqlRevoked implements RevokedCertificates {
  constructor(private readonly db: SqlDriver) {}

  async revoke(serial: string, why: string): Promise<void> {
    await this.db.query("INSERT INTO revoked_certificates (serial, reason) VALUES ($1, $2) ON CONFLICT (serial) DO UPDATE SET reason = $2", [serial.toUpperCase(), why]);
  }

  async reason(serial: string): Promise<string | undefined> {
    const [row] = await this.db.query("SELECT reason FROM revoked_certificates WHERE serial = $1", [serial.toUpperCase()]);
    return text(row?.reason);
  }
}
