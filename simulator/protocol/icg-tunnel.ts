import { z } from "zod";
import { CLOSE, MAX_MESSAGE_BYTES, MessageError } from "./messages";
import { MAX_ONBOARD_BODY_BYTES } from "./onboarding";

/**
 * The tunnel between a UMS and an ICG (`wss://<icg>/usg/v1/tunnel`): the UMS connects out, both
 * sides authenticate with certificates, and everything devices do through the ICG travels over
 * this one WebSocket as JSON text frames. IGEL's ICG protocol is closed; this is our model of it.
 *
 *   UMS → ICG  register          the device CA chain and CRL (how the ICG learns whom to admit)
 *   UMS → ICG  trust-update      a new device CA chain or CRL while registered (a device revoked since)
 *   ICG → UMS  registered
 *   ICG → UMS  http-request      a device's onboarding request     → UMS answers http-response
 *   ICG → UMS  session-open      a verified device's socket         → UMS answers session-accepted | session-refused
 *   both       session-frame     one device WebSocket frame, either way
 *   both       session-close     one side of a device socket closed (code and reason)
 */

/** Largest tunnel frame either side accepts (a relayed frame plus its envelope, with room). */
export const TUNNEL_MAX_BYTES = 1024 * 1024;

/** Close code for device sockets when the UMS tunnel behind them goes away: 1012 "service restart". */
export const CLOSE_UMS_GONE = 1012;

/** `GET /usg/check-status`: `init` while a UMS is connecting, `ok` with a UMS, `warn` without one, `err` when unusable. */
export const ICG_STATUSES = ["init", "ok", "warn", "err"] as const;
export type IcgStatus = (typeof ICG_STATUSES)[number];
export interface IcgStatusBody {
  readonly status: IcgStatus;
}
/** Header on the status answer that says why, in a sentence (the body keeps the ICG's shape). */
export const ICG_STATUS_REASON_HEADER = "x-icg-status-reason";

const id = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'");
const text = (max: number) => z.string().max(max);
const headers = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, "must be header names"), z.string().max(16 * 1024));
const PEM_BYTES = 256 * 1024;
/** Base64 of a relayed HTTP body; onboarding is the only body relayed. */
const body = z.string().max(Math.ceil((MAX_ONBOARD_BODY_BYTES * 4) / 3) + 4 * 1024);
const closeCode = z.number().int().min(1000).max(4999);

const register = z.strictObject({
  type: z.literal("register"),
  umsVersion: text(64),
  /** The UMS cluster FQDN (for the ICG's logs). */
  fqdn: text(253),
  /** The device CA chain the UMS issues device certificates from (PEM). */
  deviceCaChain: z.string().min(1).max(PEM_BYTES),
  /** The device CA's CRL (PEM), when the UMS checks revocation. */
  crl: z.string().max(PEM_BYTES).optional(),
});
/** The UMS's device CA chain or CRL changed: the ICG judges devices by these from now on (as after a new 'register'). */
const trustUpdate = z.strictObject({
  type: z.literal("trust-update"),
  deviceCaChain: z.string().min(1).max(PEM_BYTES),
  crl: z.string().max(PEM_BYTES).optional(),
});
const registered = z.strictObject({ type: z.literal("registered"), icgVersion: text(64), serverName: text(253) });
const httpRequest = z.strictObject({
  type: z.literal("http-request"),
  id,
  method: z.string().regex(/^[A-Z]{1,16}$/, "must be an HTTP method"),
  path: z.string().startsWith("/").max(2048),
  headers,
  body,
  /** The device's address as the ICG saw it (`ip:port`). */
  remote: text(128),
});
const httpResponse = z.strictObject({ type: z.literal("http-response"), id, status: z.number().int().min(100).max(599), headers, body: z.string().max(PEM_BYTES) });
const sessionOpen = z.strictObject({
  type: z.literal("session-open"),
  sid: id,
  unitId: text(64),
  /** The chain the ICG verified, leaf first (PEM): the UMS verifies it again. */
  chain: z.string().min(1).max(64 * 1024),
  source: z.enum(["tls-peer", "forwarded-header"]),
  remote: text(128),
});
const sessionAccepted = z.strictObject({ type: z.literal("session-accepted"), sid: id });
const sessionRefused = z.strictObject({ type: z.literal("session-refused"), sid: id, status: z.number().int().min(400).max(599), error: text(64), reason: text(1024) });
const sessionFrame = z.strictObject({
  type: z.literal("session-frame"),
  sid: id,
  /**
   * The frame's bytes, base64 — also for text frames, so that an envelope's size never depends on
   * how much JSON escaping a device's bytes need (one frame can never outgrow the tunnel's limit).
   */
  data: z.string().max(MAX_MESSAGE_BYTES * 6),
  /** It was a binary frame (devices send text; the UMS refuses binary with a close code). */
  binary: z.boolean().optional(),
});
const sessionClose = z.strictObject({ type: z.literal("session-close"), sid: id, code: closeCode, reason: text(123) });

export type RegisterMessage = z.infer<typeof register>;
export type TrustUpdateMessage = z.infer<typeof trustUpdate>;
export type RegisteredMessage = z.infer<typeof registered>;
export type HttpRequestMessage = z.infer<typeof httpRequest>;
export type HttpResponseMessage = z.infer<typeof httpResponse>;
export type SessionOpenMessage = z.infer<typeof sessionOpen>;
export type SessionAcceptedMessage = z.infer<typeof sessionAccepted>;
export type SessionRefusedMessage = z.infer<typeof sessionRefused>;
export type SessionFrameMessage = z.infer<typeof sessionFrame>;
export type SessionCloseMessage = z.infer<typeof sessionClose>;

export type UmsToIcgMessage = RegisterMessage | TrustUpdateMessage | HttpResponseMessage | SessionAcceptedMessage | SessionRefusedMessage | SessionFrameMessage | SessionCloseMessage;
export type IcgToUmsMessage = RegisteredMessage | HttpRequestMessage | SessionOpenMessage | SessionFrameMessage | SessionCloseMessage;

const UMS_TO_ICG = { register, "trust-update": trustUpdate, "http-response": httpResponse, "session-accepted": sessionAccepted, "session-refused": sessionRefused, "session-frame": sessionFrame, "session-close": sessionClose } as const;
const ICG_TO_UMS = { registered, "http-request": httpRequest, "session-open": sessionOpen, "session-frame": sessionFrame, "session-close": sessionClose } as const;

function parseWith<T>(schemas: Record<string, z.ZodType>, raw: string | Buffer, from: string): T {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.length;
  if (size > TUNNEL_MAX_BYTES) throw new MessageError(CLOSE.tooLarge, `tunnel message of ${size} bytes exceeds ${TUNNEL_MAX_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  } catch {
    throw new MessageError(CLOSE.unsupportedData, "tunnel message is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new MessageError(CLOSE.badMessage, "tunnel message is not a JSON object");
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !Object.prototype.hasOwnProperty.call(schemas, type)) {
    throw new MessageError(CLOSE.badMessage, `unknown tunnel message type ${JSON.stringify(type)?.slice(0, 40)} from the ${from}; expected one of ${Object.keys(schemas).join(", ")}`);
  }
  const parsed = schemas[type].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(message)";
    throw new MessageError(CLOSE.badMessage, `'${type}' tunnel message has an invalid '${field}': ${issue.message}`);
  }
  return parsed.data as T;
}

/** Parses a tunnel frame the ICG received from the UMS; throws MessageError with the close code to use. */
export function parseUmsToIcg(raw: string | Buffer): UmsToIcgMessage {
  return parseWith<UmsToIcgMessage>(UMS_TO_ICG, raw, "UMS");
}

/** Parses a tunnel frame the UMS received from the ICG; throws MessageError with the close code to use. */
export function parseIcgToUms(raw: string | Buffer): IcgToUmsMessage {
  return parseWith<IcgToUmsMessage>(ICG_TO_UMS, raw, "ICG");
}

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let out = text;
  while (Buffer.byteLength(out) > 120) out = out.slice(0, -1);
  return `${out}…`;
}
