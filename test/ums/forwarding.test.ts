import * as fs from "node:fs";
import * as https from "node:https";
import { WebSocket, ClientOptions } from "ws";
import { LabPki, LabDeviceKind } from "../../simulator/pki";
import { MockUms, StartedMockUms } from "../../simulator/ums";
import { parseAppConfig } from "../../core/ums-app-config";
import { encodeUrlAws } from "../../simulator/protocol/forwarded-cert";
import { parseServerMessage } from "../../simulator/protocol/messages";
import { testLabPki } from "../helpers/lab-pki";

/**
 * Identity from the forwarded header (forwarding on) or the TLS peer (forwarding off) — never
 * both — as an ALB in front would exercise it. Requests here play the ALB: they carry the headers
 * it would add. The app proxy path is the probe: it needs a device identity and says why not.
 */

const LEAF = "X-Amzn-Mtls-Clientcert-Leaf";
const CHAIN = "X-Amzn-Mtls-Clientcert";
const yml = (header: string, encoding = "    encodingType: URL_AWS\n") =>
  `igel:\n  client-cert-forwarding:\n    enabled: true\n${encoding}    client-cert-forwarded-header: ${header}\n`;

let pki: LabPki;
const started: StartedMockUms[] = [];
let verifyUms: StartedMockUms;
let passthroughUms: StartedMockUms;
let noEncodingUms: StartedMockUms;
let directUms: StartedMockUms;

beforeAll(async () => {
  pki = await testLabPki();
  const start = async (appConfigText?: string) => {
    const ums = await new MockUms({ pki, port: 0, appSizeBytes: 1024, appConfig: appConfigText ? parseAppConfig(appConfigText, "application.yml") : undefined }).start();
    started.push(ums);
    return ums;
  };
  verifyUms = await start(yml(LEAF));
  passthroughUms = await start(yml(CHAIN));
  noEncodingUms = await start(yml(LEAF, ""));
  directUms = await start();
});

afterAll(async () => {
  await Promise.all(started.map((u) => u.stop()));
});

const leafOf = (kind: LabDeviceKind) => fs.readFileSync(pki.devices[kind].cert, "utf8");
const chainOf = (kind: LabDeviceKind) => fs.readFileSync(pki.devices[kind].chain, "utf8");

interface Answer {
  status: number;
  body: { error?: string; reason?: string; by?: string };
}

/** GET the app proxy, optionally with a TLS client certificate and extra headers. */
function probe(ums: StartedMockUms, headers: Record<string, string> = {}, tlsIdentity?: LabDeviceKind): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: ums.host,
        port: ums.port,
        path: "/ums-appproxy/v1/apps/chromium/120.0",
        headers,
        ca: fs.readFileSync(ums.webRootCertPath),
        servername: ums.fqdn,
        cert: tlsIdentity ? chainOf(tlsIdentity) : undefined,
        key: tlsIdentity ? fs.readFileSync(pki.devices[tlsIdentity].key) : undefined,
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("latin1")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: res.statusCode === 200 ? {} : JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("forwarding on, verify mode (X-Amzn-Mtls-Clientcert-Leaf, URL_AWS)", () => {
  test("the leaf in the configured header identifies the device", async () => {
    expect((await probe(verifyUms, { [LEAF]: encodeUrlAws(leafOf("good")) })).status).toBe(200);
  });

  test("a WebSocket session works from the header alone, without a TLS client certificate", async () => {
    const ws = new WebSocket(verifyUms.wsUrl, { ca: fs.readFileSync(verifyUms.webRootCertPath), servername: verifyUms.fqdn, headers: { [LEAF]: encodeUrlAws(leafOf("good")) } } as ClientOptions);
    try {
      const welcome = await new Promise((resolve, reject) => {
        ws.on("open", () => ws.send(JSON.stringify({ type: "hello", unitId: "lab-device-good", mac: "00E0C5000001", firmware: "12.7.1" })));
        ws.on("message", (data: Buffer) => resolve(parseServerMessage(data)));
        ws.on("unexpected-response", (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.on("error", reject);
      });
      expect(welcome).toMatchObject({ type: "welcome", unitId: "lab-device-good" });
    } finally {
      ws.close();
    }
  });

  test("the TLS peer certificate is ignored: a valid one without the header is refused", async () => {
    expect(await probe(verifyUms, {}, "good")).toEqual({
      status: 401,
      body: { error: "no-client-certificate", reason: `no client certificate in header ${LEAF} (forwarding enabled in application.yml); the request carried no certificate header`, by: "ums" },
    });
  });

  test("the wrong header (passthrough's) is refused, naming the header it carried", async () => {
    const answer = await probe(verifyUms, { [CHAIN]: encodeUrlAws(chainOf("good")) });
    expect(answer).toEqual({
      status: 401,
      body: { error: "no-client-certificate", reason: `no client certificate in header ${LEAF} (forwarding enabled in application.yml); requests carried: x-amzn-mtls-clientcert`, by: "ums" },
    });
    const logged = verifyUms.logs.filter((e) => e.event === "refused" && e.reason === answer.body.reason);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ status: 401, path: "/ums-appproxy/v1/apps/chromium/120.0", remote: expect.stringMatching(/^127\.0\.0\.1:/) });
    expect(JSON.stringify(logged[0])).not.toContain("BEGIN");
  });

  test.each([
    ["expired", "certificate-expired"],
    ["not-yet-valid", "certificate-not-yet-valid"],
    ["revoked", "certificate-revoked"],
    ["other-ca", "certificate-untrusted"],
  ] as const)("leaf '%s' in the header: refused by the UMS itself (%s)", async (kind, error) => {
    expect(await probe(verifyUms, { [LEAF]: encodeUrlAws(leafOf(kind)) })).toMatchObject({ status: 401, body: { error, reason: expect.stringContaining(`certificate in header ${LEAF} refused`) } });
  });

  test.each([
    ["a malformed %-escape", 400, "forwarded-certificate-bad-encoding", "%ZZ-----BEGIN"],
    ["text that is no PEM", 400, "forwarded-certificate-not-pem", "hello%20world"],
    ["a PEM block that does not parse", 400, "forwarded-certificate-bad-certificate", encodeUrlAws("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n")],
    ["40 KB, over the decoder's limit", 431, "forwarded-certificate-too-large", "A".repeat(40 * 1024)],
  ])("a header holding %s is refused with %i %s, and the next device is served", async (_what, status, error, value) => {
    expect(await probe(verifyUms, { [LEAF]: value })).toMatchObject({ status, body: { error, by: "ums" } });
    expect((await probe(verifyUms, { [LEAF]: encodeUrlAws(leafOf("good")) })).status).toBe(200);
  });

  test("headers over the server's 64 KiB limit are refused with 431 and a reason", async () => {
    expect(await probe(verifyUms, { [LEAF]: "A".repeat(70 * 1024) })).toEqual({
      status: 431,
      body: { error: "headers-too-large", reason: "the request headers exceed 65536 bytes", by: "ums" },
    });
    expect((await probe(verifyUms, { [LEAF]: encodeUrlAws(leafOf("good")) })).status).toBe(200);
  });
});

describe("forwarding on, passthrough mode (X-Amzn-Mtls-Clientcert: the whole chain)", () => {
  test.each(["good", "too-deep", "x509-v1", "rsa-1024"] as const)("%s: the chain verifies, without the ALB's depth, version and key limits", async (kind) => {
    expect((await probe(passthroughUms, { [CHAIN]: encodeUrlAws(chainOf(kind)) })).status).toBe(200);
  });

  test("'=' escaped as %3D decodes the same", async () => {
    expect((await probe(passthroughUms, { [CHAIN]: encodeUrlAws(chainOf("good")).replace(/=/g, "%3D") })).status).toBe(200);
  });

  test("the leaf alone of a deep chain is untrusted: the UMS cannot build the path", async () => {
    expect(await probe(passthroughUms, { [CHAIN]: encodeUrlAws(leafOf("too-deep")) })).toMatchObject({ status: 401, body: { error: "certificate-untrusted" } });
  });
});

describe("forwarding on without encodingType URL_AWS", () => {
  test("the UMS starts but warns, and refuses URL-encoded headers saying exactly why", async () => {
    expect(noEncodingUms.logs).toContainEqual(expect.objectContaining({ event: "config-warning", level: "warn", warning: expect.stringContaining("encodingType is not set") }));
    expect(await probe(noEncodingUms, { [LEAF]: encodeUrlAws(leafOf("good")) })).toEqual({
      status: 400,
      body: {
        error: "forwarded-certificate-encoding",
        reason: `header ${LEAF} holds a URL-encoded certificate, but encodingType is not URL_AWS in application.yml, so the UMS does not decode it (fix: encodingType: URL_AWS)`,
        by: "ums",
      },
    });
  });
});

describe("forwarding off (direct)", () => {
  test("a forwarded header is ignored; only the TLS peer certificate counts", async () => {
    expect(await probe(directUms, { [LEAF]: encodeUrlAws(leafOf("good")) })).toEqual({
      status: 401,
      body: {
        error: "no-client-certificate",
        reason:
          "no client certificate in the TLS handshake (client-cert forwarding is off in application.yml, so the UMS reads the TLS peer certificate only); the request carried x-amzn-mtls-clientcert-leaf, which the UMS ignores while forwarding is off",
        by: "ums",
      },
    });
    expect((await probe(directUms, {}, "good")).status).toBe(200);
  });
});
