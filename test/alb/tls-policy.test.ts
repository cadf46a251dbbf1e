import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { AlbEmulator } from "../../simulator/alb";
import type { AlbEvent, StartedAlbEmulator } from "../../simulator/alb";
import { SECURITY_POLICIES, securityPolicy } from "../../simulator/alb/tls-policy";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget } from "./helpers/echo-target";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { logLines } from "./helpers/client";

/**
 * The listener's TLS as its security policy and AWS say: exactly the policy's protocols and
 * ciphers, a client with nothing in common refused in the handshake, client renegotiation
 * refused, no resumption on mTLS listeners, and the key exchange group in the connection log.
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let logsDir: string;
const started: StartedAlbEmulator[] = [];
const events: AlbEvent[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }]);
  target = await startEchoTarget(pki);
  logsDir = fs.mkdtempSync(path.join(os.tmpdir(), "alb-tls-"));
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.stop()));
  await target?.close();
  synth?.cleanup();
  if (logsDir) fs.rmSync(logsDir, { recursive: true, force: true });
});

/** The verify stack with every listener on `policy`. */
async function albWith(policy: string, logs = false): Promise<StartedAlbEmulator> {
  const dir = editedStack(synth.stacks["ums-alb-verify"], (json) => {
    for (const l of Object.values(json.resource.aws_lb_listener) as { ssl_policy?: string }[]) l.ssl_policy = policy;
  });
  const alb = await new AlbEmulator({ stackDir: dir, target: target.address, ports: { 8443: 0, 443: 0 }, logsDir: logs ? path.join(logsDir, policy) : undefined, onEvent: (e) => events.push(e) }).start();
  started.push(alb);
  return alb;
}

interface Handshake {
  readonly protocol?: string;
  readonly cipher?: string;
  readonly error?: string;
  readonly reused?: boolean;
  readonly session?: Buffer;
  readonly group?: string;
}

function handshake(url: string, o: tls.ConnectionOptions & { withCert?: boolean } = {}): Promise<Handshake> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    let s: tls.TLSSocket;
    try {
      s = tls.connect({
        host: u.hostname,
        port: Number(u.port),
        rejectUnauthorized: false,
        servername: "ums.lab.test",
        ...(o.withCert ? { key: fs.readFileSync(pki.devices.good.key), cert: fs.readFileSync(pki.devices.good.chain) } : {}),
        ...o,
      });
    } catch (e) {
      return resolve({ error: (e as Error).message }); // a cipher this OpenSSL does not have
    }
    s.on("session", (b) => (session = b));
    s.once("secureConnect", () => {
      // Give TLS 1.3 tickets (sent after the handshake) and a certificate refusal time to arrive.
      s.write("GET /wums-app/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      s.once("data", () => {
        const info = { protocol: s.getProtocol() ?? undefined, cipher: s.getCipher()?.name, reused: s.isSessionReused(), group: (s.getEphemeralKeyInfo() as { name?: string } | null)?.name, session };
        s.end();
        setTimeout(() => resolve({ ...info, session: session ?? info.session }), 50);
      });
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/** TLS 1.2 ciphers an RSA certificate can negotiate: the ECDSA ones need an ECDSA certificate. */
const RSA_CIPHERS = [...new Set([...SECURITY_POLICIES.values()].flatMap((p) => p.ciphers))].filter((c) => !c.startsWith("TLS_") && !c.includes("ECDSA"));
const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

describe("each policy offers exactly AWS's protocols and ciphers", () => {
  test.each(["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10", "ELBSecurityPolicy-TLS-1-2-2017-01", "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-3-2021-06"])("%s", async (name) => {
    const policy = securityPolicy(name)!;
    const alb = await albWith(name);
    const url = alb.listenerUrl(443);
    const accepted: string[] = [];
    for (const cipher of RSA_CIPHERS) {
      const h = await handshake(url, { maxVersion: "TLSv1.2", ciphers: `${cipher}:@SECLEVEL=0` });
      if (h.cipher) accepted.push(h.cipher);
    }
    for (const suite of TLS13_SUITES) {
      // Node needs a TLS 1.2 cipher in the list; a TLS 1.3 handshake ignores it.
      const h = await handshake(url, { minVersion: "TLSv1.3", ciphers: `${suite}:ECDHE-RSA-AES128-GCM-SHA256` });
      if (h.cipher) accepted.push(h.cipher);
    }
    // DES-CBC3-SHA is not in Node's OpenSSL; the RSA ciphers of the policy are exactly those a client gets.
    expect(accepted.sort()).toEqual(policy.ciphers.filter((c) => !c.includes("ECDSA") && c !== "DES-CBC3-SHA").sort());
    const versions: string[] = [];
    for (const v of ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const) {
      const h = await handshake(url, { minVersion: v, maxVersion: v, ciphers: "DEFAULT:@SECLEVEL=0" });
      if (h.protocol) versions.push(h.protocol);
    }
    expect(versions).toEqual(policy.protocols);
  });

  test("the server's preference decides (AWS: the first cipher on the server's list the client offers)", async () => {
    const alb = await albWith("ELBSecurityPolicy-2016-08");
    const h = await handshake(alb.listenerUrl(443), { maxVersion: "TLSv1.2", ciphers: "AES256-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256" });
    expect(h.cipher).toBe("ECDHE-RSA-AES128-GCM-SHA256");
  });

  test("post-quantum 2025-09 policies offer their 2021-06 namesake's ciphers; FIPS policies are refused by name", async () => {
    expect(securityPolicy("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")).toMatchObject({ ciphers: securityPolicy("ELBSecurityPolicy-TLS13-1-2-Res-2021-06")!.ciphers, derivedFrom: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" });
    await expect(albWith("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04")).rejects.toThrow(/ssl_policy.*'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04' is not an ELB security policy whose protocols and ciphers the emulator knows/s);
  });
});

describe("the default policy (TLS13-1-2-2021-06) on the verify stack", () => {
  let alb: StartedAlbEmulator;
  beforeAll(async () => {
    alb = await albWith("ELBSecurityPolicy-TLS13-1-2-2021-06", true);
  });

  test("a client offering only ciphers outside the policy fails the handshake; logged Failed:UnmappedConnectionError, explained", async () => {
    const h = await handshake(alb.listenerUrl(8443), { withCert: true, maxVersion: "TLSv1.2", ciphers: "AES128-SHA:ECDHE-RSA-AES128-SHA" });
    expect(h.error).toBe("ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
    await alb.flushLogs();
    const line = logLines(alb.connectionLogDir, "connection").find((f) => f[10] === "Failed:UnmappedConnectionError" && f[3] === "8443");
    expect(line?.slice(4, 10)).toEqual(["-", "-", "-", "-", "-", "-"]);
    expect(events).toContainEqual(expect.objectContaining({ kind: "connection-refused", listenerPort: 8443, reason: expect.stringMatching(/no cipher in common: the client offered TLSv1\.2 with AES128-SHA, ECDHE-RSA-AES128-SHA; listener policy ELBSecurityPolicy-TLS13-1-2-2021-06 offers/) }));
  });

  test("client-initiated renegotiation is refused (and the connection does not go on as if it had been)", async () => {
    const u = new URL(alb.listenerUrl(443));
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false, maxVersion: "TLSv1.2" }, () => {
        s.renegotiate({}, (err) => resolve(err ? (err as NodeJS.ErrnoException).code ?? err.message : "renegotiated"));
      });
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(outcome).toMatch(/NO_RENEGOTIATION/);
  });

  test.each(["TLSv1.2", "TLSv1.3"] as const)("%s: no session resumption on the mTLS listener; resumption on 443, logged chosen_cert_arn session-reused", async (version) => {
    const mtls = await handshake(alb.listenerUrl(8443), { withCert: true, maxVersion: version, minVersion: version });
    expect(mtls.protocol).toBe(version);
    const again = await handshake(alb.listenerUrl(8443), { withCert: true, maxVersion: version, minVersion: version, session: mtls.session });
    expect(again.reused).toBe(false);
    const first = await handshake(alb.listenerUrl(443), { maxVersion: version, minVersion: version });
    expect(first.session).toBeDefined();
    const resumed = await handshake(alb.listenerUrl(443), { maxVersion: version, minVersion: version, session: first.session });
    expect(resumed.reused).toBe(true);
    await alb.flushLogs();
    const access = logLines(alb.accessLogDir, "access").filter((f) => f[12].includes(":443/wums-app/") && f[15] === version);
    expect(access.map((f) => f[19])).toContain("session-reused");
    expect(access.map((f) => f[19])).toContainEqual(expect.stringMatching(/^arn:aws:acm:eu-central-1:123456789012:certificate\/[0-9a-f-]{36}$/));
  });

  test.each([
    [8443, "TLSv1.3", undefined, "x25519", "X25519"],
    [8443, "TLSv1.3", "P-384", "secp384r1", "secp384r1"],
    // A key share for a group the listener does not offer: HelloRetryRequest for the server's first group the client supports.
    [8443, "TLSv1.3", "P-521:P-256", "secp256r1", "prime256v1"],
    [8443, "TLSv1.2", "P-256", "secp256r1", "prime256v1"],
    [8443, "TLSv1.2", undefined, "x25519", "X25519"],
    [443, "TLSv1.2", "P-384:P-256", "secp256r1", "prime256v1"],
    [443, "TLSv1.3", "P-256:X25519", "secp256r1", "prime256v1"],
  ] as const)("listener %s, %s with groups %s: tls_keyexchange %s (what the client negotiated)", async (port, version, curve, logged, clientSees) => {
    const h = await handshake(alb.listenerUrl(port), { withCert: port === 8443, minVersion: version, maxVersion: version, ...(curve ? { ecdhCurve: curve } : {}) });
    expect(h.group).toBe(clientSees);
    await alb.flushLogs();
    const line = logLines(alb.connectionLogDir, "connection").filter((f) => f[10] === "Success" && f[4] === version && f[3] === String(port)).pop()!;
    expect(line[12]).toBe(logged);
  });
});
