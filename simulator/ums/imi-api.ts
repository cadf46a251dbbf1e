import { ROUTES } from "../protocol/routes";
import { COMMANDS, CommandName } from "../protocol/messages";
import type { ImiCommandExecList, ImiEnrollmentKeys, ImiLoginResponse, ImiServerStatus } from "../protocol/imi";
import type { StructuredLogger } from "../common/structured-log";
import { DeviceRegistry, toImiThinClient, DeviceRecord } from "./device-registry";
import { CommandQueue, CommandRecord, Settings, toImiCommandExec } from "./command-queue";
import type { EnrollmentKeys } from "./enrollment-keys";
import { AdminAuth, AuthResult, SESSION_COOKIE } from "./admin-auth";
import { BodyTooLargeError, readBody, sendJson } from "../common/http-io";
import { refuse, RefusalSpec } from "./refusals";
import type { RouteContext, RouteHandler, Router } from "./router";

/**
 * The IMI-shaped administration API (`/umsapi/v3/...`): what a script or the scenarios use to list
 * devices, send commands and read their state. Shapes follow IGEL's IMI v3 where one exists.
 */

export interface ImiDeps {
  readonly log: StructuredLogger;
  readonly registry: DeviceRegistry;
  readonly commands: CommandQueue;
  readonly keys: EnrollmentKeys;
  readonly auth: AdminAuth;
  readonly serverStatus: () => ImiServerStatus;
}

const MAX_IMI_BODY_BYTES = 256 * 1024;
const MAX_MINT = 10_000;

type Targets = Array<{ device: DeviceRecord; settings?: Settings }>;

function isPrimitiveMap(v: unknown): v is Settings {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => ["string", "number", "boolean"].includes(typeof x));
}

/** Checks a command body; returns the targets or the first problem as a refusal. */
async function parseTargets(body: unknown, command: CommandName, registry: DeviceRegistry): Promise<Targets | RefusalSpec> {
  const bad = (reason: string): RefusalSpec => ({ status: 400, error: "bad-imi-body", reason });
  if (!Array.isArray(body) || body.length === 0) return bad(`the body must be a non-empty JSON array like [{"id":"1001","type":"tc"}]`);
  const targets: Targets = [];
  const unknown: string[] = [];
  for (const [i, item] of body.entries()) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return bad(`[${i}] must be an object like {"id":"1001","type":"tc"}`);
    const { id, type, settings, ...rest } = item as Record<string, unknown>;
    if (typeof id !== "string" || id.length === 0) return bad(`[${i}].id must be a device id string (GET ${ROUTES.thinclients} lists them)`);
    if (type !== "tc") return bad(`[${i}].type must be "tc" (got ${JSON.stringify(type)})`);
    if (Object.keys(rest).length > 0) return bad(`[${i}] has unknown field(s) ${Object.keys(rest).join(", ")}`);
    if (settings !== undefined && command !== "settings2tc") return bad(`[${i}].settings is only valid with command=settings2tc`);
    if (settings !== undefined && !isPrimitiveMap(settings)) return bad(`[${i}].settings must map names to strings, numbers or booleans`);
    const device = await registry.byId(id);
    if (!device) unknown.push(id);
    else targets.push({ device, settings });
  }
  if (unknown.length > 0) return { status: 404, error: "unknown-device", reason: `no thin client with id ${unknown.join(", ")}; nothing was queued` };
  return targets;
}

/** The refusal of a failed authentication: 401, or 429 with Retry-After while the account is locked. */
function authRefusal(auth: Extract<AuthResult, { ok: false }>): RefusalSpec {
  if (auth.retryAfterSeconds !== undefined) return { status: 429, error: "account-locked", reason: auth.reason, headers: { "retry-after": String(auth.retryAfterSeconds) } };
  return { status: 401, error: "unauthenticated", reason: auth.reason, headers: { "www-authenticate": 'Basic realm="UMS IMI"' } };
}

export function registerImiRoutes(router: Router, deps: ImiDeps): void {
  const no = (ctx: RouteContext, spec: RefusalSpec) => refuse(deps.log, ctx.req, ctx.res, spec);
  /** Wraps a handler that needs an IMI session. */
  const authed =
    (handler: RouteHandler): RouteHandler =>
    (ctx) => {
      const auth = deps.auth.check(ctx.req);
      if (!auth.ok) return no(ctx, authRefusal(auth));
      return handler(ctx);
    };
  const jsonBody = async (ctx: RouteContext): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    try {
      return { ok: true, value: JSON.parse((await readBody(ctx.req, MAX_IMI_BODY_BYTES)).toString("utf8")) };
    } catch (e) {
      if (e instanceof BodyTooLargeError) no(ctx, { status: 413, error: "body-too-large", reason: e.message });
      else if (e instanceof SyntaxError) no(ctx, { status: 400, error: "bad-imi-body", reason: "the body is not valid JSON" });
      else throw e;
      return { ok: false };
    }
  };

  router.add("GET", ROUTES.serverStatus, ({ res }) => sendJson(res, 200, deps.serverStatus()));

  router.add("POST", ROUTES.login, (ctx) => {
    const auth = deps.auth.checkBasic(ctx.req);
    if (!auth.ok) return no(ctx, authRefusal(auth));
    const session = deps.auth.login();
    deps.log.info("imi-login", { user: auth.username });
    const body: ImiLoginResponse = { message: `${SESSION_COOKIE}=${session}` };
    sendJson(ctx.res, 200, body, { "set-cookie": `${SESSION_COOKIE}=${session}; Path=/umsapi; Secure; HttpOnly` });
  });

  router.add("POST", ROUTES.logout, (ctx) => {
    if (!deps.auth.logout(ctx.req)) return no(ctx, { status: 401, error: "unauthenticated", reason: `no open ${SESSION_COOKIE} session to end` });
    deps.log.info("imi-logout");
    sendJson(ctx.res, 200, { message: "logged out" }, { "set-cookie": `${SESSION_COOKIE}=; Path=/umsapi; Max-Age=0; Secure; HttpOnly` });
  });

  router.add(
    "GET",
    ROUTES.thinclients,
    authed(async ({ res }) => sendJson(res, 200, (await deps.registry.list()).map(toImiThinClient))),
  );

  router.add(
    "GET",
    `${ROUTES.thinclients}/*`,
    authed(async (ctx) => {
      const device = await deps.registry.byId(decodeURIComponent(ctx.rest));
      if (!device) return no(ctx, { status: 404, error: "unknown-device", reason: `no thin client with id '${ctx.rest}'` });
      sendJson(ctx.res, 200, { ...toImiThinClient(device), settings: device.settings, enrolledBy: device.enrolledBy });
    }),
  );

  router.add(
    "POST",
    ROUTES.thinclients,
    authed(async (ctx) => {
      const command = ctx.url.searchParams.get("command");
      if (command === null) return no(ctx, { status: 400, error: "unknown-command", reason: `missing ?command=; expected one of ${COMMANDS.join(", ")}` });
      if (!(COMMANDS as readonly string[]).includes(command)) {
        return no(ctx, { status: 400, error: "unknown-command", reason: `unknown command '${command.slice(0, 40)}'; expected one of ${COMMANDS.join(", ")}` });
      }
      const body = await jsonBody(ctx);
      if (!body.ok) return;
      const targets = await parseTargets(body.value, command as CommandName, deps.registry);
      if (!Array.isArray(targets)) return no(ctx, targets);
      // The store tells the server holding each device's session (this one or another of the cluster), which delivers.
      const records: CommandRecord[] = [];
      for (const t of targets) records.push(await deps.commands.enqueue({ deviceId: t.device.id, mac: t.device.mac }, command as CommandName, t.settings));
      for (const r of records) deps.log.info("command-queued", { execId: r.execId, deviceId: r.deviceId, command: r.command });
      const answer: ImiCommandExecList = { CommandExecList: records.map(toImiCommandExec) };
      sendJson(ctx.res, 200, answer);
    }),
  );

  router.add(
    "GET",
    ROUTES.commands,
    authed(async (ctx) => {
      const device = ctx.url.searchParams.get("device") ?? undefined;
      sendJson(ctx.res, 200, { CommandExecList: (await deps.commands.list(device)).map(toImiCommandExec) });
    }),
  );

  router.add(
    "GET",
    `${ROUTES.commands}/*`,
    authed(async (ctx) => {
      const record = await deps.commands.get(decodeURIComponent(ctx.rest));
      if (!record) return no(ctx, { status: 404, error: "unknown-command-exec", reason: `no command with exec_id '${ctx.rest.slice(0, 64)}'` });
      sendJson(ctx.res, 200, toImiCommandExec(record));
    }),
  );

  router.add(
    "POST",
    ROUTES.enrollmentKeys,
    authed(async (ctx) => {
      const body = await jsonBody(ctx);
      if (!body.ok) return;
      const count = (body.value as { count?: unknown } | null)?.count;
      if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > MAX_MINT) {
        return no(ctx, { status: 400, error: "bad-imi-body", reason: `'count' must be an integer from 1 to ${MAX_MINT} (got ${JSON.stringify(count)})` });
      }
      const answer: ImiEnrollmentKeys = { keys: await deps.keys.mint(count) };
      deps.log.info("enrollment-keys-minted", { count });
      sendJson(ctx.res, 200, answer);
    }),
  );

  // After POST thinclients (a prefix route also matches its base). Mock UMS addition: the administrator lets one device be enrolled again (new disk, new key); its old certificate is revoked then.
  router.add(
    "POST",
    `${ROUTES.thinclients}/*`,
    authed(async (ctx) => {
      const m = /^([^/]+)\/reenrollment$/.exec(ctx.rest);
      if (!m) return no(ctx, { status: 404, error: "no-route", reason: `POST ${ROUTES.thinclients}/<id>/reenrollment is the only action on a thin client here` });
      const device = await deps.registry.allowReenrollment(decodeURIComponent(m[1]));
      if (!device) return no(ctx, { status: 404, error: "unknown-device", reason: `no thin client with id '${m[1].slice(0, 64)}'` });
      deps.log.info("reenrollment-allowed", { deviceId: device.id, unitId: device.unitId });
      sendJson(ctx.res, 200, { id: device.id, unitID: device.unitId, reenrollmentAllowed: true });
    }),
  );
}
