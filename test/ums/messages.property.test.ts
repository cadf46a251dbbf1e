import fc from "fast-check";
import {
  CLOSE,
  COMMANDS,
  MAX_MESSAGE_BYTES,
  MessageError,
  parseDeviceMessage,
  parseServerMessage,
  DeviceMessage,
  ServerMessage,
} from "../../simulator/protocol/messages";

/**
 * Properties of the WebSocket message parsers both ends use: valid messages round-trip through
 * JSON, and no frame — text or bytes, JSON or not — makes them throw anything but MessageError
 * with a close code the socket can use.
 */

const CLOSE_CODES: readonly number[] = Object.values(CLOSE);

const text = (max = 256) => fc.string({ minLength: 1, maxLength: max });
const settings = fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 40 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()), { maxKeys: 8 });

const deviceMessage: fc.Arbitrary<DeviceMessage> = fc.oneof(
  fc.record({ type: fc.constant("hello" as const), unitId: text(), mac: text(), firmware: text() }),
  fc.record({ type: fc.constant("heartbeat" as const), sentAt: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ type: fc.constant("command-ack" as const), commandId: text() }),
  fc.record(
    { type: fc.constant("command-result" as const), commandId: text(), status: fc.constantFrom("ok" as const, "failed" as const), detail: fc.string({ maxLength: 4096 }) },
    { requiredKeys: ["type", "commandId", "status"] },
  ),
);

const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ type: fc.constant("welcome" as const), unitId: text(), serverTime: fc.integer(), heartbeatMs: fc.integer({ min: 1 }) }),
  fc.record({ type: fc.constant("heartbeat-ack" as const), sentAt: fc.integer() }),
  fc.record({ type: fc.constant("command" as const), commandId: text(), command: fc.constantFrom(...COMMANDS), settings }, { requiredKeys: ["type", "commandId", "command"] }),
  fc.record({ type: fc.constant("error" as const), reason: text() }),
);

/** JSON.stringify turns -0 into 0; compare what actually travels. */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test("valid device messages round-trip, as text and as bytes", () => {
  fc.assert(
    fc.property(deviceMessage, (m) => {
      const wire = JSON.stringify(m);
      expect(parseDeviceMessage(wire)).toEqual(viaJson(m));
      expect(parseDeviceMessage(Buffer.from(wire))).toEqual(viaJson(m));
    }),
    { numRuns: 500 },
  );
});

test("valid server messages round-trip", () => {
  fc.assert(
    fc.property(serverMessage, (m) => {
      expect(parseServerMessage(JSON.stringify(m))).toEqual(viaJson(m));
    }),
    { numRuns: 500 },
  );
});

function parsesOrRefuses(parse: (raw: string | Buffer) => unknown, raw: string | Buffer): void {
  try {
    parse(raw);
  } catch (e) {
    if (!(e instanceof MessageError)) throw new Error(`threw ${(e as Error).constructor.name}: ${(e as Error).message}`);
    expect(CLOSE_CODES).toContain(e.closeCode);
  }
}

test("no frame makes a parser throw anything but MessageError with a known close code", () => {
  const mutatedDevice = fc.tuple(deviceMessage, fc.string({ maxLength: 12 }), fc.jsonValue()).map(([m, key, value]) => JSON.stringify({ ...m, [key]: value }));
  const wrongTypes = fc.record({ type: fc.constantFrom("hello", "heartbeat", "command-ack", "command-result", "welcome", "command", "__proto__", "constructor", "toString"), unitId: fc.jsonValue(), sentAt: fc.jsonValue(), commandId: fc.jsonValue(), status: fc.jsonValue(), command: fc.jsonValue(), settings: fc.jsonValue() }).map((o) => JSON.stringify(o));
  const frames = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    mutatedDevice,
    wrongTypes,
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  );
  fc.assert(
    fc.property(frames, (raw) => {
      parsesOrRefuses(parseDeviceMessage, raw);
      parsesOrRefuses(parseServerMessage, raw);
    }),
    { numRuns: 2000 },
  );
});

test.each([
  ["not JSON", CLOSE.unsupportedData, "{hello"],
  ["a JSON array", CLOSE.badMessage, "[]"],
  ["an unknown type", CLOSE.badMessage, '{"type":"telemetry"}'],
  ["a command not in COMMANDS", CLOSE.badMessage, '{"type":"command","commandId":"x","command":"format-disk"}'],
  ["more than MAX_MESSAGE_BYTES", CLOSE.tooLarge, JSON.stringify({ type: "heartbeat", sentAt: 1, pad: "x".repeat(MAX_MESSAGE_BYTES) })],
])("%s is refused with close code %i", (_what, code, raw) => {
  const parse = raw.includes('"command"') ? parseServerMessage : parseDeviceMessage;
  expect(() => parse(raw)).toThrow(expect.objectContaining({ closeCode: code }));
});
