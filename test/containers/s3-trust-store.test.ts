import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { AlbEmulator } from "../../simulator/alb";
import { s3Client, s3TrustStoreLoader, s3TrustStoreLoaderFromFlags, S3ObjectLocation } from "../../simulator/alb/s3-trust-store";
import type { LabPki } from "../../simulator/pki";
import {
  ContainerNetwork,
  ContainerTopology,
  deployStackToS3,
  listKeys,
  logBucket,
  S3Deployment,
  startLocalStack,
  StartedAlbEmulatorContainer,
  StartedContainerNetwork,
  StartedUmsEdgeLocalStack,
  trustStoreObjects,
  uploadLogTree,
} from "../../simulator/runtime/containers";
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
function rogueBundle(): Buffer {
  const blocks = fs.readFileSync(pki.devices["other-ca"].chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  return Buffer.from(blocks.slice(1).join(""));
}

/** Whether the listener's TLS handshake admits a device certificate (any HTTP answer means it did). */
async function admits(url: string, kind: "good" | "other-ca" | "revoked"): Promise<boolean> {
  return request(`${url}/device-connector/v1/ws`, { cert: pki.devices[kind] }).then(
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

describeWithEngine("the ALB emulator container reads its trust store through the S3 API", () => {
  let s3: FakeS3;
  let network: StartedContainerNetwork;

  beforeAll(async () => {
    s3 = new FakeS3();
    // Containers reach this process at their network's gateway address.
    await s3.start("0.0.0.0");
    network = await new ContainerNetwork({ name: `ums-edge-s3-${process.pid}` }).start();
  });

  afterAll(async () => {
    await network?.stop();
    await s3?.stop();
  });

  test("with the rogue bundle version from S3 the ALB refuses the good device it admits with the stack's asset", async () => {
    const client = s3Client(`http://127.0.0.1:${s3.port}`, "eu-central-1");
    // No CRL with the rogue bundle: a CRL must be signed by a CA of the bundle (as on AWS).
    const { rogue } = await deployWithRogueVersion(client);
    client.destroy();
    const { connectEngine } = await import("../../simulator/runtime/containers");
    const info = (await (await connectEngine()).network.getById(network.getName()).inspect()) as { IPAM: { Config: Array<{ Gateway: string }> } };
    const endpoint = `http://${info.IPAM.Config[0].Gateway}:${s3.port}`;
    const topo = await new ContainerTopology({ topology: "alb-verify", pki: pki.dir, stackDir, awsNetwork: network, trustStoreS3: { endpoint, bundle: rogue } }).start();
    try {
      const alb = topo.front as StartedAlbEmulatorContainer;
      expect(await admits(alb.getListenerUrl(8443), "good")).toBe(false);
      expect(await admits(alb.getListenerUrl(8443), "other-ca")).toBe(true);
      expect(s3.requests).toContainEqual(expect.objectContaining({ method: "GET", key: rogue.key, versionId: rogue.versionId, from: expect.not.stringMatching(/^(127\.|::1|::ffff:127\.)/) }));
    } finally {
      await topo.stop();
    }
  });
});

describeWithLocalStack("LocalStack's S3 holds the trust store, the CRL and the logs", () => {
  let network: StartedContainerNetwork;
  let localstack: StartedUmsEdgeLocalStack;
  let client: S3Client;
  let deployment: S3Deployment;

  beforeAll(async () => {
    network = await new ContainerNetwork({ name: `ums-edge-aws-${process.pid}` }).start();
    localstack = await startLocalStack({ network });
    client = localstack.s3();
    deployment = await deployStackToS3(stackDir, client);
  }, 180_000);

  afterAll(async () => {
    client?.destroy();
    await localstack?.stop();
    await network?.stop();
  });

  test("devices onboard through an ALB whose trust store and CRL come from LocalStack; a revoked device is refused; the logs land in the log bucket", async () => {
    const { bundle, revocations } = trustStoreObjects(stackDir, deployment);
    expect(revocations).toHaveLength(1);
    const topo = await new ContainerTopology({
      topology: "alb-verify",
      pki: pki.dir,
      stackDir,
      enrollmentKeys: ["ek-ls-1"],
      awsNetwork: network,
      trustStoreS3: { endpoint: localstack.getInternalEndpoint(), bundle, revocations },
    }).start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ums-edge-ls-logs-"));
    try {
      const alb = topo.front as StartedAlbEmulatorContainer;
      const fleet = await topo.fleet({ count: 1, enrollmentKeys: ["ek-ls-1"], bootMs: 50, handshakeTimeoutMs: 5000 }).start();
      const revoked = await topo.fleet({ identities: ["revoked"], maxAttempts: 1, exitWhenSettled: true }).start();
      try {
        await fleet.waitForOnline(1, 30_000);
        const settled = await revoked.waitForSettled(20_000);
        expect(settled.states).toEqual({ failed: 1 });
        expect(Object.keys(settled.lastRefusals).join()).toMatch(/connect: TLS/);
      } finally {
        await Promise.all([fleet.stop(), revoked.stop()]);
      }
      await new Promise((r) => setTimeout(r, 500));
      const logs = await alb.copyLogsTo(dir);
      const keys = await uploadLogTree(client, logs, logBucket(stackDir, deployment));
      expect(keys.some((k) => /AWSLogs\/\d{12}\/elasticloadbalancing\/eu-central-1\/.*conn_log_/.test(k))).toBe(true);
      const stored = await listKeys(client, logBucket(stackDir, deployment), "alb/connection/AWSLogs/");
      expect(stored.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await topo.stop();
    }
  });
});
