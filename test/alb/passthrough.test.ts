import * as fs from "node:fs";
import { AlbEmulator } from "../../simulator/alb";
import type { StartedAlbEmulator } from "../../simulator/alb";
import { BAD_DEVICE_KINDS, LabPki } from "../../simulator/pki/lab-pki";
import { certificatesFromPem } from "../../core/pem";
import { decodeForwardedCert } from "../../simulator/protocol/forwarded-cert";
import { testLabPki } from "../helpers/lab-pki";
import { startEchoTarget, EchoTarget, EchoReply } from "./helpers/echo-target";
import { synthesizeTestStacks, SynthesizedStacks } from "./helpers/stacks";
import { request } from "./helpers/client";

let pki: LabPki;
let synth: SynthesizedStacks;
let target: EchoTarget;
let alb: StartedAlbEmulator;
let renamed: StartedAlbEmulator;

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-passthrough" }, { variant: "icg-alb-passthrough", headerNames: { clientcert: "X-Device-Chain" } }]);
  target = await startEchoTarget(pki);
  alb = await new AlbEmulator({ stackDir: synth.stacks["ums-alb-passthrough"], target: target.address, ports: { 8443: 0 } }).start();
  renamed = await new AlbEmulator({ stackDir: synth.stacks["icg-alb-passthrough"], target: target.address, ports: { 8443: 0 } }).start();
});

afterAll(async () => {
  await alb?.stop();
  await renamed?.stop();
  await target?.close();
  synth?.cleanup();
});

const echo = (body: string) => JSON.parse(body) as EchoReply;

describe("passthrough mode (ums-alb-passthrough)", () => {
  test("one listener, on 8443", () => {
    expect(alb.listeners.map((l) => [l.port, l.mtls])).toEqual([[8443, "passthrough"]]);
  });

  test.each((["good", ...BAD_DEVICE_KINDS] as const).flatMap((k) => (["TLSv1.2", "TLSv1.3"] as const).map((v) => [k, v] as const)))(
    "%s certificate over %s: the handshake completes and the presented chain is forwarded, leaf first",
    async (kind, version) => {
      const r = await request(`${alb.listenerUrl(8443)}/device-connector/v1/ws-probe`, { cert: pki.devices[kind], maxVersion: version });
      expect(r.status).toBe(200);
      const h = echo(r.body).headers;
      const presented = certificatesFromPem(fs.readFileSync(pki.devices[kind].chain, "utf8"));
      const forwarded = decodeForwardedCert(h["x-amzn-mtls-clientcert"]);
      // TLS 1.2: the chain as the client sent it (read on the wire). TLS 1.3: as OpenSSL and Node rebuild it, the leaf and the
      // presented certificates on its issuer path; a non-CA issuer (no keyCertSign) falls off it (scenarios/assumptions.ts "presented-chain").
      const expected = version === "TLSv1.3" && kind === "non-ca-issuer" ? presented.slice(0, 1) : presented;
      expect(forwarded.map((c) => c.fingerprint256)).toEqual(expected.map((c) => c.fingerprint256));
      expect(h["x-amzn-mtls-clientcert"]).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
      expect(h["x-amzn-mtls-clientcert"]).not.toMatch(/%2B|%3D|%2F/);
      // verify-mode headers are not added in passthrough
      expect(Object.keys(h).filter((k) => k.startsWith("x-amzn-mtls-clientcert-"))).toEqual([]);
    },
  );

  test("no client certificate: forwarded without the header (our assumption; AWS documents nothing)", async () => {
    const r = await request(`${alb.listenerUrl(8443)}/device-connector/v1/onboard`, { method: "POST", body: "{}" });
    expect(r.status).toBe(200);
    const h = echo(r.body).headers;
    expect(h["x-amzn-mtls-clientcert"]).toBeUndefined();
    expect(h["x-forwarded-proto"]).toBe("https");
  });

  test("a client's own X-Amzn-Mtls-Clientcert is removed, with or without a certificate", async () => {
    const spoof = { "X-Amzn-Mtls-Clientcert": "-----BEGIN%20CERTIFICATE-----%0Aforged" };
    const without = echo((await request(`${alb.listenerUrl(8443)}/webapp/`, { headers: spoof })).body);
    expect(without.headers["x-amzn-mtls-clientcert"]).toBeUndefined();
    const withCert = echo((await request(`${alb.listenerUrl(8443)}/webapp/`, { headers: spoof, cert: pki.devices.good })).body);
    expect(withCert.headers["x-amzn-mtls-clientcert"]).not.toContain("forged");
    expect(withCert.rawNames.filter((n) => n.toLowerCase() === "x-amzn-mtls-clientcert")).toHaveLength(1);
  });

  test("a renamed chain header (routing_http_request_x_amzn_mtls_clientcert_header_name)", async () => {
    const r = await request(`${renamed.listenerUrl(8443)}/usg/anything`, { cert: pki.devices.good, headers: { "X-Device-Chain": "forged" } });
    const h = echo(r.body).headers;
    expect(h["x-amzn-mtls-clientcert"]).toBeUndefined();
    expect(decodeForwardedCert(h["x-device-chain"])[0].subject).toContain("CN=lab-device-good");
  });
});
