/**
 * Messages on the device WebSocket (`/device-connector/v1/ws`), one JSON object per text frame.
 * IGEL's OS 12 protocol is closed; this is our model of it (design section 6). Both ends parse with
 * parseMessage, so a malformed frame is refused the same way everywhere.
 */

export const COMMANDS = ["reboot", "shutdown", "settings2tc"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Largest frame either end accepts. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** WebSocket close codes and what they mean here (4xxx: application-defined). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policy: 1008,
  tooLarge: 1009,
  badMessage: 4400,
  unauthenticated: 4401,
  /** The server failed (e.g. its database is unreachable); the device reconnects later. */
  internal: 1011,
  /** The same device connected again; the older socket is closed. */
  replaced: 4409,
} as const;

export interface HelloMessage {
  readonly type: "hello";
  readonly unitId: string;
  readonly mac: string;
  readonly firmware: string;
}
export interface HeartbeatMessage {
  readonly type: "heartbeat";
  readonly sentAt: number;
}
/** The device has received the command (it will not be re-executed if delivered again). */
export interface CommandAckMessage {
  readonly type: "command-ack";
  readonly commandId: string;
}
export interface CommandResultMessage {
  readonly type: "command-result";
  readonly commandId: string;
  readonly status: "ok" | "failed";
  readonly detail?: string;
}
export type DeviceMessage = HelloMessage | HeartbeatMessage | CommandAckMessage | CommandResultMessage;

export interface WelcomeMessage {
  readonly type: "welcome";
  readonly unitId: string;
  readonly serverTime: number;
  /** Heartbeat interval the device should use, in ms. */
  readonly heartbeatMs: number;
}
export interface HeartbeatAckMessage {
  readonly type: "heartbeat-ack";
  readonly sentAt: number;
}
export interface CommandMessage {
  readonly type: "command";
  readonly commandId: string;
  readonly command: CommandName;
  /** settings2tc: the settings pushed to the device. */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
}
/** Sent before the server closes the socket for a reason the device should log. */
export interface ErrorMessage {
  readonly type: "error";
  readonly reason: string;
}
export type ServerMessage = WelcomeMessage | HeartbeatAckMessage | CommandMessage | ErrorMessage;

export class MessageError extends Error {
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}

type Shape = Record<string, "string" | "number" | "status" | "command" | "settings?" | "string?">;
const DEVICE_SHAPES: Record<DeviceMessage["type"], Shape> = {
  hello: { unitId: "string", mac: "string", firmware: "string" },
  heartbeat: { sentAt: "number" },
  "command-ack": { commandId: "string" },
  "command-result": { commandId: "string", status: "status", detail: "string?" },
};
const SERVER_SHAPES: Record<ServerMessage["type"], Shape> = {
  welcome: { unitId: "string", serverTime: "number", heartbeatMs: "number" },
  "heartbeat-ack": { sentAt: "number" },
  command: { commandId: "string", command: "command", settings: "settings?" },
  error: { reason: "string" },
};

function fieldOk(kind: Shape[string], v: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string" && v.length > 0 && v.length <= 256;
    case "string?":
      return v === undefined || (typeof v === "string" && v.length <= 4096);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "status":
      return v === "ok" || v === "failed";
    case "command":
      return typeof v === "string" && (COMMANDS as readonly string[]).includes(v);
    case "settings?":
      return (
        v === undefined ||
        (typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => ["string", "number", "boolean"].includes(typeof x)))
      );
  }
}

function parseWith<T>(shapes: Record<string, Shape>, raw: string | Buffer, side: string): T {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_MESSAGE_BYTES) throw new MessageError(CLOSE.tooLarge, `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    throw new MessageError(CLOSE.unsupportedData, "message is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new MessageError(CLOSE.badMessage, "message is not a JSON object");
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(shapes, type)) {
    throw new MessageError(CLOSE.badMessage, `unknown ${side} message type ${JSON.stringify(type)}; expected one of ${Object.keys(shapes).join(", ")}`);
  }
  for (const [field, kind] of Object.entries(shapes[type])) {
    if (!fieldOk(kind, (value as Record<string, unknown>)[field])) {
      throw new MessageError(CLOSE.badMessage, `'${type}' message has an invalid '${field}' (expected ${kind.replace("?", ", optional")})`);
    }
  }
  return value as T;
}

/** Parses a frame from a device; throws MessageError with the close code to use. */
export function parseDeviceMessage(raw: string | Buffer): DeviceMessage {
  return parseWith<DeviceMessage>(DEVICE_SHAPES, raw, "device");
}

/** Parses a frame from the server (UMS or ICG); throws MessageError. */
export function parseServerMessage(raw: string | Buffer): ServerMessage {
  return parseWith<ServerMessage>(SERVER_SHAPES, raw, "server");
}
