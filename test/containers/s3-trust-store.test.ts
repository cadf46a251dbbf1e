import * as fs from "node:fs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AlbEmulator } from "../../simulator/alb";
import { s3Client, s3TrustStoreLoader, s3TrustStoreLoaderFromFlags, S3ObjectLocation } from "../../simulator/alb/s3-trust-store";
import type { LabPki } from "../../simulator/pki";
import { ContainerRuntime, deployStackToS3, listKeys, logBucket, S3Deployment, trustStoreObjects } from "../../simulator/runtime/containers";
import type { Lab } from "../../simulator/runtime/lab";
import { startTopology } from "../../simulator/runtime/topologies/start-topology";
import { testLab } from "../helpers/lab";
import { testLabPki } from "../helpers/lab-pki";
import { request } from "../alb/helpers/client";
import { synthesizeTestStacks, SynthesizedStacks } from "../alb/helpers/stacks";
import { describeWithEngine, describeWithLocalStack } from "./support/availability";
import { FakeS3 } from "./support/fake-s3";

/**
 * The trust store the way the real ALB gets it: the stack's S3 objects are deployed (buckets from
 * their prefixes, versioning, the CA bundle and the CRL), and the ALB emulator reads the bundle
 * through the S3 API at the bucket, key and version the stack's aws_lb_trust_store names. Against
 * an in-process S3 here; against LocalStack where its image is available.
 */

let pki: LabPki;
let synth: SynthesizedStacks;
let stackDir: string;

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([{ variant: "ums-alb-verify" }]);
  stackDir = synth.stacks["ums-alb-verify"];
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
});

afterAll(() => synth?.cleanup());

/** The rogue CA that issued the `other-ca` lab device: a bundle that does not trust our devices. */
function rogueBundle(of: LabPki = pki): Buffer {
  const blocks = fs.readFileSync(of.devices["other-ca"].chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  return Buffer.from(blocks.slice(1).join(""));
}

/** Whether the listener's TLS handshake admits a device certificate (any HTTP answer means it did). */
async function admits(url: string, kind: "good" | "other-ca" | "revoked", devices: LabPki = pki): Promise<boolean> {
  return request(`${url}/device-connector/v1/ws`, { cert: devices.devices[kind] }).then(
    () => true,
    () => false,
  );
}

/** Deploys the stack and uploads a second, rogue version of the bundle under the same key. */
async function deployWithRogueVersion(client: S3Client): Promise<{ deployment: S3Deployment; original: S3ObjectLocation; rogue: S3ObjectLocation; revocations: readonly S3ObjectLocation[] }> {
  const deployment = await deployStackToS3(stackDir, client, { suffix: "t1" });
  const { bundle, revocations } = trustStoreObjects(stackDir, deployment);
  const put = await client.send(new PutObjectCommand({ Bucket: bundle.bucket, Key: bundle.key, Body: rogueBundle() }));
  return { deployment, original: bundle, rogue: { ...bundle, versionId: put.VersionId }, revocations };
}

describe("the trust store through the S3 API (an in-process S3)", () => {
  let s3: FakeS3;
  let client: S3Client;
  let endpoint: string;

  beforeAll(async () => {
    s3 = new FakeS3();
    endpoint = (await s3.start()).url;
    client = s3Client(endpoint, "eu-central-1");
  });

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  test("deploying the stack names buckets from their prefixes and resolves the trust store's bucket, key and version", async () => {
    const deployment = await deployStackToS3(stackDir, client, { suffix: "a1" });
    const objects = trustStoreObjects(stackDir, deployment);
    expect(objects.trustStore).toMatch(/^aws_lb_trust_store\./);
    expect(objects.bundle).toEqual({ bucket: "ums-edge-uv-truststore-a1", key: "trust-store/client-ca-chain.pem", versionId: expect.stringMatching(/^[\w-]{16}$/) });
    expect(objects.revocations).toEqual([{ bucket: "ums-edge-uv-truststore-a1", key: "trust-store/revocations.crl.pem", versionId: expect.any(String) }]);
    expect(logBucket(stackDir, deployment)).toBe("ums-edge-uv-logs-a1");
    // What was uploaded is the stack's asset, byte for byte.
    expect(s3.requests.filter((r) => r.method === "PUT" && r.key).map((r) => r.key).sort()).toEqual(["trust-store/client-ca-chain.pem", "trust-store/revocations.crl.pem"]);
  });

  test("the emulator serves with the bundle version the trust store names, not the asset file and not the latest", async () => {
    const { original, rogue, revocations } = await deployWithRogueVersion(client);
    const start = (bundle: S3ObjectLocation, crls: readonly S3ObjectLocation[]) =>
      new AlbEmulator({ stackDir, target: "127.0.0.1:9", ports: { 8443: 0, 443: 0 }, healthCheckScale: 0.05, trustStoreLoader: s3TrustStoreLoader({ bundle, revocations: crls, endpoint }) }).start();
    const withOriginal = await start(original, revocations);
    try {
      expect(await admits(withOriginal.listenerUrl(8443), "good")).toBe(true);
      expect(await admits(withOriginal.listenerUrl(8443), "other-ca")).toBe(false);
      // The CRL came from S3 too.
      expect(await admits(withOriginal.listenerUrl(8443), "revoked")).toBe(false);
    } finally {
      await withOriginal.stop();
    }
    // No CRL with the rogue bundle: a CRL must be signed by a CA of the bundle (as on AWS).
    const withRogue = await start(rogue, []);
    try {
      expect(await admits(withRogue.listenerUrl(8443), "good")).toBe(false);
      expect(await admits(withRogue.listenerUrl(8443), "other-ca")).toBe(true);
    } finally {
      await withRogue.stop();
    }
    const reads = s3.requests.filter((r) => r.method === "GET" && r.key === original.key).map((r) => r.versionId);
    expect(reads.slice(-2)).toEqual([original.versionId, rogue.versionId]);
  });

  test.each([
    [{ trustStoreS3: "https://bucket/key" }, /--trust-store-s3: 'https:\/\/bucket\/key' is not an S3 object URL\n  fix: give s3:\/\/BUCKET\/KEY/],
    [{ revocationS3: ["s3://b-1/crl.pem"] }, /--revocation-s3 and --s3-endpoint need --trust-store-s3/],
    [{ trustStoreS3: "s3://b-1/k", s3Endpoint: "localhost:4566" }, /--s3-endpoint: 'localhost:4566' is not an http\(s\):\/\/host:port URL/],
  ])("bad flags %j are refused with the fix", (flags, message) => {
    expect(() => s3TrustStoreLoaderFromFlags(flags)).toThrow(message);
  });

  test("a missing object and an unreachable S3 are user errors that say what to do", async () => {
    const missing = s3TrustStoreLoader({ bundle: { bucket: "ums-edge-uv-truststore-a1", key: "nope.pem" }, endpoint });
    await expect(new AlbEmulator({ stackDir, target: "127.0.0.1:9", ports: { 8443: 0, 443: 0 }, trustStoreLoader: missing }).start()).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/s3:\/\/ums-edge-uv-truststore-a1\/nope\.pem at http:\/\/127\.0\.0\.1:\d+ does not exist \(NoSuchKey\)\n  fix: upload it first/),
    });
    const closed = s3TrustStoreLoader({ bundle: { bucket: "b-1", key: "k" }, endpoint: "http://127.0.0.1:9", timeoutMs: 2000 });
    await expect(new AlbEmulator({ stackDir, target: "127.0.0.1:9", ports: { 8443: 0, 443: 0 }, trustStoreLoader: closed }).start()).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/cannot reach S3 at http:\/\/127\.0\.0\.1:9 .*\n  fix: start LocalStack/s),
    });
  });
});

describeWithEngine("the container runtime deploys the stack's S3 objects and the ALB reads them there", () => {
  let s3: FakeS3;
  let client: S3Client;
  let lab: Lab;
  let runtime: ContainerRuntime;

  beforeAll(async () => {
    s3 = new FakeS3();
    // Containers reach this process at their network's gateway address.
    await s3.start("0.0.0.0");
    client = s3Client(`http://127.0.0.1:${s3.port}`, "eu-central-1");
    lab = await testLab("containers-s3");
    runtime = await ContainerRuntime.start({
      ensureImages: false,
      s3: async ({ hostAddress }) => ({ endpoint: `http://${hostAddress}:${s3.port}`, client, description: "an in-process S3", stop: async () => undefined }),
    });
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
    client?.destroy();
    await s3?.stop();
  });

  test("the bundle and the CRL are read from S3 at the versions the stack pins (also after a newer version is uploaded), and the logs land in the log bucket under the stack's prefixes", async () => {
    const first = await startTopology("alb-verify", runtime, lab);
    let bundleKey: string;
    try {
      const gets = s3.requests.filter((r) => r.method === "GET" && r.key.endsWith(".pem"));
      expect(gets.map((r) => r.key).sort()).toEqual(["trust-store/client-ca-chain.pem", "trust-store/revocations.crl.pem"]);
      for (const g of gets) {
        expect(g.versionId).toMatch(/^[\w-]{16}$/);
        // From the ALB's container, not from this process.
        expect(g.from).not.toMatch(/^(127\.|::1|::ffff:127\.)/);
      }
      bundleKey = gets.find((g) => g.key.endsWith("client-ca-chain.pem"))!.key;
      const url = first.devices.clusterUrl;
      expect(await admits(url, "good", lab.pki)).toBe(true);
      expect(await admits(url, "other-ca", lab.pki)).toBe(false);
      // The CRL came from S3 too.
      expect(await admits(url, "revoked", lab.pki)).toBe(false);
    } finally {
      await first.stop();
    }
    const bucket = s3.requests.find((r) => r.method === "PUT" && r.key === bundleKey)!.bucket;
    const logBucket = s3.requests.find((r) => r.method === "PUT" && !r.key && /logs/.test(r.bucket))!.bucket;
    const logKeys = await listKeys(client, logBucket, "");
    expect(logKeys.some((k) => /^alb\/connection\/AWSLogs\/123456789012\/elasticloadbalancing\/eu-central-1\/\d{4}\/\d{2}\/\d{2}\/conn_log_/.test(k))).toBe(true);
    expect(logKeys.some((k) => /^alb\/access\/AWSLogs\//.test(k))).toBe(true);

    // A newer (rogue) version under the same key: the trust store still names the deployed version.
    const pinned = s3.requests.filter((r) => r.method === "GET" && r.key === bundleKey)[0].versionId;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: bundleKey, Body: rogueBundle(lab.pki) }));
    const again = await startTopology("alb-verify", runtime, lab, { instance: "again" });
    try {
      expect(await admits(again.devices.clusterUrl, "good", lab.pki)).toBe(true);
      expect(await admits(again.devices.clusterUrl, "other-ca", lab.pki)).toBe(false);
      expect(s3.requests.filter((r) => r.method === "GET" && r.key === bundleKey).map((r) => r.versionId)).toEqual([pinned, pinned]);
    } finally {
      await again.stop();
    }
  });
});

describeWithLocalStack("LocalStack's S3 holds the trust store, the CRL and the logs", () => {
  let lab: Lab;
  let runtime: ContainerRuntime;
  const notes: string[] = [];

  beforeAll(async () => {
    lab = await testLab("containers-localstack");
    runtime = await ContainerRuntime.start({ ensureImages: false, note: (n) => notes.push(n) });
  }, 240_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  test("devices onboard through an ALB whose trust store and CRL come from LocalStack; a revoked device is refused; the logs are delivered to the log bucket", async () => {
    expect(runtime.describe()).toMatch(/LocalStack/);
    const topology = await startTopology("alb-verify", runtime, lab);
    try {
      expect(await admits(topology.devices.clusterUrl, "good", lab.pki)).toBe(true);
      expect(await admits(topology.devices.clusterUrl, "revoked", lab.pki)).toBe(false);
    } finally {
      await topology.stop();
    }
    expect(notes.join("\n")).toMatch(/S3: \d+ log object\(s\) delivered to s3:\/\/\S+ \(alb\/(access|connection)/);
  });
});
