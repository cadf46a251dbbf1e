import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { Testing, TerraformStack } from "cdktf";
import { EdgeStack } from "../../stacks/edge-stack";
import { DirectStack } from "../../stacks/direct-stack";
import { directStackProps, edgeStackProps, stageAssets, synthesize } from "../../stacks/app";
import { AcmCertificate, DataAwsAmi, Eip, IamInstanceProfile, IamRolePolicyAttachment, Instance, Lb, LbListener, LbListenerRule, LbTargetGroup, LbTrustStore, LbTrustStoreRevocation, S3Bucket, S3BucketPolicy, S3BucketPublicAccessBlock, S3BucketServerSideEncryptionConfiguration, S3BucketVersioning, VpcSecurityGroupIngressRule } from "../../stacks/aws";
import { TRAVERSAL_DENY_PATTERNS, TRAVERSAL_DENY_REGEX } from "../../stacks/path-allow-list";
import type { EdgeConfig, StackSpec } from "../../stacks/config/load-config";
import { loadTestConfig, tempDir } from "../helpers/config";
import { testLabPki, testPkiDir } from "../helpers/lab-pki";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let config: EdgeConfig;
beforeAll(async () => {
  await testLabPki();
  config = await loadTestConfig();
});

function spec(variant: string, cfg = config): StackSpec {
  const found = cfg.stacks.find((s) => s.variant === variant);
  if (!found) throw new Error(`no stack ${variant} in config`);
  return found;
}

function synthOf(variant: string, cfg = config): string {
  const app = Testing.app();
  const s = spec(variant, cfg);
  const stack: TerraformStack = s.mtlsMode ? new EdgeStack(app, edgeStackProps(cfg, s, stageAssets(cfg, tempDir()))) : new DirectStack(app, directStackProps(cfg, s));
  return Testing.synth(stack);
}

function resources(synth: string, type: string): Json[] {
  return Object.values((JSON.parse(synth).resource?.[type] ?? {}) as Record<string, Json>);
}

function outputs(synth: string): Record<string, Json> {
  return JSON.parse(synth).output ?? {};
}

const ALLOWED = ["/device-connector/*", "/ums-appproxy/*", "/wums-app/*", "/webapp/*"];

describe("verify variant (ums-alb-verify)", () => {
  let synth: string;
  beforeAll(() => (synth = synthOf("ums-alb-verify")));

  test("8443 listener has mTLS verify with the trust store, 443 listener has no mTLS", () => {
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 8443,
      protocol: "HTTPS",
      ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificate_arn: expect.stringMatching(/^\$\{aws_acm_certificate\..+\.arn\}$/),
      mutual_authentication: expect.objectContaining({
        mode: "verify",
        trust_store_arn: expect.stringMatching(/^\$\{aws_lb_trust_store\..+\.arn\}$/),
        ignore_client_certificate_expiry: false,
        advertise_trust_store_ca_names: "off",
      }),
    });
    const listeners = resources(synth, "aws_lb_listener");
    expect(listeners.map((l) => l.port).sort()).toEqual([443, 8443]);
    const plain = listeners.find((l) => l.port === 443)!;
    expect(plain.mutual_authentication).toBeUndefined();
    expect(plain.certificate_arn).toEqual(listeners.find((l) => l.port === 8443)!.certificate_arn);
  });

  test("443 refuses a client's own forwarded-certificate header with a rule ahead of the allow-list (renamed or not)", () => {
    const rules = resources(synth, "aws_lb_listener_rule");
    const deny = rules.find((r) => r.condition.some((c: Json) => c.http_header))!;
    expect(deny).toMatchObject({
      priority: 1,
      condition: [{ http_header: { http_header_name: "X-Amzn-Mtls-Clientcert-Leaf", values: ["*"] } }],
      action: [expect.objectContaining({ type: "fixed-response", fixed_response: expect.objectContaining({ status_code: "400" }) })],
    });
    const tlsListener = Object.entries(JSON.parse(synth).resource.aws_lb_listener as Record<string, Json>).find(([, l]) => l.port === 443)![0];
    expect(deny.listener_arn).toBe(`\${aws_lb_listener.${tlsListener}.arn}`);
    expect(Math.min(...rules.map((r) => r.priority))).toBe(deny.priority);

    const renamed = { ...config, stacks: [{ ...spec("ums-alb-verify"), headerNames: { leaf: "X-Client-Cert-Leaf" } }] } as EdgeConfig;
    const renamedRules = resources(synthOf("ums-alb-verify", renamed), "aws_lb_listener_rule");
    expect(renamedRules.find((r) => r.priority === 1)!.condition).toEqual([{ http_header: { http_header_name: "X-Client-Cert-Leaf", values: ["*"] } }]);
  });

  test("trust store is pinned to the version of the CA bundle object, with the CRL as revocation", () => {
    const objects = resources(synth, "aws_s3_object");
    const bundle = objects.find((o) => o.key === "trust-store/client-ca-chain.pem")!;
    expect(bundle.source).toMatch(/^assets\/.+\/client-ca-chain\.pem$/);
    expect(bundle.source_hash).toBe(`\${filemd5("${bundle.source}")}`);
    expect(synth).toHaveResourceWithProperties(LbTrustStore, {
      ca_certificates_bundle_s3_key: expect.stringMatching(/aws_s3_object\..+\.key/),
      ca_certificates_bundle_s3_object_version: expect.stringMatching(/aws_s3_object\..+\.version_id/),
    });
    expect(synth).toHaveResourceWithProperties(LbTrustStoreRevocation, {
      trust_store_arn: expect.stringMatching(/aws_lb_trust_store\..+\.arn/),
      revocations_s3_object_version: expect.stringMatching(/aws_s3_object\..+\.version_id/),
    });
    expect(objects.find((o) => o.key === "trust-store/revocations.crl.pem")).toBeDefined();
  });

  test("trust store and log buckets are private, versioned, encrypted and TLS-only", () => {
    expect(resources(synth, "aws_s3_bucket")).toHaveLength(2);
    expect(resources(synth, "aws_s3_bucket_versioning").every((v) => v.versioning_configuration.status === "Enabled")).toBe(true);
    expect(resources(synth, "aws_s3_bucket_versioning")).toHaveLength(2);
    expect(synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfiguration, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    const blocks = resources(synth, "aws_s3_bucket_public_access_block");
    expect(blocks).toHaveLength(2);
    for (const b of blocks) expect(b).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    for (const p of resources(synth, "aws_s3_bucket_policy")) {
      const policy = JSON.parse(p.policy);
      expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    }
    expect(synth).toHaveResource(S3BucketVersioning);
    expect(synth).toHaveResource(S3BucketPublicAccessBlock);
    expect(synth).toHaveResource(S3BucketPolicy);
  });

  test("ACM certificate reads the three files with file(); no private key inline; chain without the leaf", () => {
    const [cert] = resources(synth, "aws_acm_certificate");
    expect(cert.private_key).toMatch(/^\$\{file\("assets\/.+\/private_key\.pem"\)\}$/);
    expect(cert.certificate_body).toMatch(/^\$\{file\("assets\/.+\/headonly-body\.pem"\)\}$/);
    expect(cert.certificate_chain).toMatch(/^\$\{file\("assets\/.+\.pem"\)\}$/);
    expect(synth).not.toContain("PRIVATE KEY");
    expect(synth).toHaveResource(AcmCertificate);
  });

  test("ALB is internet-facing, writes every attribute with its default, drops invalid headers, writes access and connection logs", () => {
    expect(synth).toHaveResourceWithProperties(Lb, {
      internal: false,
      load_balancer_type: "application",
      drop_invalid_header_fields: true,
      idle_timeout: 60,
      client_keep_alive: 3600,
      xff_header_processing_mode: "append",
      enable_xff_client_port: false,
      preserve_host_header: false,
      desync_mitigation_mode: "defensive",
      enable_deletion_protection: false,
      access_logs: expect.objectContaining({ enabled: true, prefix: "alb/access" }),
      connection_logs: expect.objectContaining({ enabled: true, prefix: "alb/connection" }),
      depends_on: [expect.stringMatching(/^aws_s3_bucket_policy\./)],
    });
  });

  test("log bucket policy lets the regional ELB account write under both log prefixes", () => {
    const policies = resources(synth, "aws_s3_bucket_policy").map((p) => JSON.parse(p.policy));
    const allow = policies.flatMap((p) => p.Statement).find((s: Json) => s.Sid === "AllowElbLogDelivery");
    expect(allow.Principal).toEqual({ AWS: "arn:aws:iam::054676820928:root" });
    expect(allow.Action).toBe("s3:PutObject");
    expect(allow.Resource).toEqual(["access", "connection", "health"].map((kind) => expect.stringMatching(new RegExp(`/alb/${kind}/AWSLogs/\\$\\{data\\.aws_caller_identity\\..+\\.account_id\\}/\\*$`))));
  });

  test("path allow-list: traversal spellings 400 first, then the four IGEL prefixes forwarded within AWS's three values per condition, everything else a fixed 404", () => {
    const rules = resources(synth, "aws_lb_listener_rule").filter((r) => r.condition.some((c: Json) => c.path_pattern));
    const byListener = new Map<string, Json[]>();
    for (const r of rules) byListener.set(r.listener_arn, [...(byListener.get(r.listener_arn) ?? []), r]);
    expect(byListener.size).toBe(2);
    const badRequest = [{ type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: "400", message_body: "Bad Request" } }];
    const forward = [{ type: "forward", target_group_arn: expect.stringMatching(/aws_lb_target_group\./) }];
    for (const listenerRules of byListener.values()) {
      const ordered = [...listenerRules].sort((a, b) => a.priority - b.priority);
      expect(ordered.map((r) => [r.priority, r.condition, r.action])).toEqual([
        [2, [{ path_pattern: { values: [...TRAVERSAL_DENY_PATTERNS] } }], badRequest],
        [3, [{ path_pattern: { regex_values: [...TRAVERSAL_DENY_REGEX] } }], badRequest],
        [10, [{ path_pattern: { values: ALLOWED.slice(0, 3) } }], forward],
        [11, [{ path_pattern: { values: ALLOWED.slice(3) } }], forward],
      ]);
    }
    for (const l of resources(synth, "aws_lb_listener")) {
      expect(l.default_action).toEqual([{ type: "fixed-response", fixed_response: { content_type: "text/plain", status_code: "404", message_body: "Not Found" } }]);
    }
    expect(synth).toHaveResource(LbListenerRule);
  });

  test("target group: HTTPS 8443 with the UMS health check /info, success code 200", () => {
    expect(synth).toHaveResourceWithProperties(LbTargetGroup, {
      port: 8443,
      protocol: "HTTPS",
      target_type: "instance",
      health_check: expect.objectContaining({ path: "/info", protocol: "HTTPS", matcher: "200" }),
    });
  });

  test("Windows Server 2022 instance with IMDSv2, encrypted root volume and an Elastic IP", () => {
    expect(synth).toHaveDataSourceWithProperties(DataAwsAmi, {
      most_recent: true,
      owners: ["amazon"],
      filter: expect.arrayContaining([{ name: "name", values: ["Windows_Server-2022-English-Full-Base-*"] }]),
    });
    expect(synth).toHaveResourceWithProperties(Instance, {
      ami: expect.stringMatching(/data\.aws_ami\./),
      metadata_options: expect.objectContaining({ http_tokens: "required" }),
      root_block_device: expect.objectContaining({ encrypted: true }),
    });
    expect(synth).toHaveResourceWithProperties(Eip, { domain: "vpc", instance: expect.stringMatching(/aws_instance\./) });
  });

  test("security groups: ALB admits 8443 and 443 from device CIDRs; the instance admits 8443 only from the ALB", () => {
    const ingress = resources(synth, "aws_vpc_security_group_ingress_rule");
    const fromDevices = ingress.filter((r) => r.cidr_ipv4 === "198.51.100.0/24");
    expect(fromDevices.map((r) => r.from_port).sort()).toEqual([443, 8443]);
    const fromAlb = ingress.filter((r) => r.referenced_security_group_id);
    expect(fromAlb).toHaveLength(1);
    expect(fromAlb[0]).toMatchObject({ from_port: 8443, to_port: 8443, ip_protocol: "tcp" });
    // The instance's group is the one referencing the ALB's group, and nothing else admits to it.
    const instanceSg = resources(synth, "aws_instance")[0].vpc_security_group_ids[0];
    expect(ingress.filter((r) => r.security_group_id === instanceSg)).toEqual([fromAlb[0]]);
    expect(synth).toHaveResource(VpcSecurityGroupIngressRule);
  });

  test("outputs: ALB DNS name, cluster and enrollment addresses, trust store ARN, public IP, application.yml", () => {
    const out = outputs(synth);
    expect(Object.keys(out).sort()).toEqual(["alb_dns_name", "cluster_address", "device_enrollment_address", "public_ip", "servers", "trust_store_arn", "ums_application_yml"]);
    expect(out.cluster_address.value).toBe("ums.lab.test:8443");
    expect(out.device_enrollment_address.value).toBe("ums.lab.test:443");
    expect(out.ums_application_yml.value).toBe(
      "igel:\n  client-cert-forwarding:\n    enabled: true\n    encodingType: URL_AWS\n    client-cert-forwarded-header: X-Amzn-Mtls-Clientcert-Leaf\n",
    );
  });
});

describe("passthrough variant (ums-alb-passthrough)", () => {
  let synth: string;
  beforeAll(() => (synth = synthOf("ums-alb-passthrough")));

  test("one 8443 listener with mode passthrough and none of the verify-only fields", () => {
    const listeners = resources(synth, "aws_lb_listener");
    expect(listeners).toHaveLength(1);
    expect(listeners[0].port).toBe(8443);
    expect(listeners[0].mutual_authentication).toEqual({ mode: "passthrough" });
  });

  test("no trust store, no trust store bucket; ALB SG admits 8443 only", () => {
    expect(resources(synth, "aws_lb_trust_store")).toHaveLength(0);
    expect(resources(synth, "aws_lb_trust_store_revocation")).toHaveLength(0);
    expect(resources(synth, "aws_s3_bucket")).toHaveLength(1);
    const fromDevices = resources(synth, "aws_vpc_security_group_ingress_rule").filter((r) => r.cidr_ipv4);
    expect(fromDevices.map((r) => r.from_port)).toEqual([8443]);
  });

  test("outputs the chain header application.yml and no enrollment address", () => {
    const out = outputs(synth);
    expect(out.device_enrollment_address).toBeUndefined();
    expect(out.trust_store_arn).toBeUndefined();
    expect(out.ums_application_yml.value).toContain("client-cert-forwarded-header: X-Amzn-Mtls-Clientcert\n");
  });
});

describe("ICG backend", () => {
  test("health check /usg/check-status, no path allow-list by default, Linux AMI", () => {
    const synth = synthOf("icg-alb-verify");
    expect(synth).toHaveResourceWithProperties(LbTargetGroup, { health_check: expect.objectContaining({ path: "/usg/check-status", matcher: "200" }) });
    // Only the 443 listener's refusal of a client's own certificate header; no allow-list.
    expect(resources(synth, "aws_lb_listener_rule").map((r) => Object.keys(r.condition[0]))).toEqual([["http_header"]]);
    for (const l of resources(synth, "aws_lb_listener")) expect(l.default_action[0].type).toBe("forward");
    expect(synth).toHaveDataSourceWithProperties(DataAwsAmi, { owners: ["099720109477"] });
  });

  test("icg-alb-passthrough has one passthrough listener", () => {
    const listeners = resources(synthOf("icg-alb-passthrough"), "aws_lb_listener");
    expect(listeners.map((l) => [l.port, l.mutual_authentication.mode])).toEqual([[8443, "passthrough"]]);
  });
});

describe("ums-direct", () => {
  test("no ALB; the instance admits 8443 from the device CIDRs", () => {
    const synth = synthOf("ums-direct");
    expect(resources(synth, "aws_lb")).toHaveLength(0);
    expect(resources(synth, "aws_lb_listener")).toHaveLength(0);
    const ingress = resources(synth, "aws_vpc_security_group_ingress_rule");
    expect(ingress).toEqual([expect.objectContaining({ from_port: 8443, to_port: 8443, cidr_ipv4: "198.51.100.0/24" })]);
    expect(outputs(synth).ums_application_yml.value).toContain("enabled: false");
  });
});

describe("options from the config", () => {
  test("verify-only options, TLS policy and renamed headers reach the listener and application.yml", async () => {
    const cfg = await loadTestConfig({
      stacks: [
        {
          variant: "ums-alb-verify",
          ignoreClientCertificateExpiry: true,
          advertiseTrustStoreCaNames: "on",
          sslPolicy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
          headerNames: { leaf: "X-Device-Cert" },
        },
      ],
    });
    const synth = synthOf("ums-alb-verify", cfg);
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 8443,
      ssl_policy: "ELBSecurityPolicy-TLS13-1-3-2021-06",
      routing_http_request_x_amzn_mtls_clientcert_leaf_header_name: "X-Device-Cert",
      mutual_authentication: expect.objectContaining({ ignore_client_certificate_expiry: true, advertise_trust_store_ca_names: "on" }),
    });
    expect(outputs(synth).ums_application_yml.value).toContain("client-cert-forwarded-header: X-Device-Cert\n");
  });

  test("pathAllowList: false forwards everything on a UMS", async () => {
    const cfg = await loadTestConfig({ stacks: [{ variant: "ums-alb-passthrough", pathAllowList: false }] });
    const synth = synthOf("ums-alb-passthrough", cfg);
    expect(resources(synth, "aws_lb_listener_rule")).toHaveLength(0);
    expect(resources(synth, "aws_lb_listener")[0].default_action[0].type).toBe("forward");
  });

  test("an existing ACM certificate ARN replaces the import", async () => {
    const arn = "arn:aws:acm:eu-central-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100";
    const withArn = await loadTestConfig({ stacks: [{ variant: "ums-alb-passthrough" }], certificates: { labPki: testPkiDir(), webCertificateArn: arn } });
    const synth = synthOf("ums-alb-passthrough", withArn);
    expect(resources(synth, "aws_acm_certificate")).toHaveLength(0);
    expect(resources(synth, "aws_lb_listener")[0].certificate_arn).toBe(arn);
  });

  test("a region opened after August 2022 grants the log delivery service principal", async () => {
    const cfg = await loadTestConfig({ region: "mx-central-1", stacks: [{ variant: "ums-alb-passthrough" }] });
    const policy = JSON.parse(resources(synthOf("ums-alb-passthrough", cfg), "aws_s3_bucket_policy")[0].policy);
    expect(policy.Statement[1].Principal).toEqual({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
  });
});

describe("deployment settings from the config", () => {
  test("load balancer attributes, health-check thresholds and health-check logs reach aws_lb and the target group", async () => {
    const cfg = await loadTestConfig({
      logs: { prefix: "edge", healthCheckLogs: true },
      stacks: [
        {
          variant: "ums-alb-passthrough",
          loadBalancer: { idleTimeoutSeconds: 600, clientKeepAliveSeconds: 7200, deletionProtection: true, dropInvalidHeaderFields: false, xffHeaderProcessingMode: "remove", enableXffClientPort: true, preserveHostHeader: true, desyncMitigationMode: "strictest" },
          healthCheck: { path: "/info?full", intervalSeconds: 10, timeoutSeconds: 4, healthyThreshold: 3, unhealthyThreshold: 3, matcher: "200-299" },
        },
      ],
    });
    const synth = synthOf("ums-alb-passthrough", cfg);
    expect(synth).toHaveResourceWithProperties(Lb, {
      idle_timeout: 600,
      client_keep_alive: 7200,
      enable_deletion_protection: true,
      drop_invalid_header_fields: false,
      xff_header_processing_mode: "remove",
      enable_xff_client_port: true,
      preserve_host_header: true,
      desync_mitigation_mode: "strictest",
      health_check_logs: { bucket: expect.stringMatching(/aws_s3_bucket\./), prefix: "edge/health", enabled: true },
    });
    expect(synth).toHaveResourceWithProperties(LbTargetGroup, {
      health_check: expect.objectContaining({ path: "/info?full", interval: 10, timeout: 4, healthy_threshold: 3, unhealthy_threshold: 3, matcher: "200-299" }),
    });
  });

  test("without health-check logs the load balancer has no health_check_logs block", () => {
    expect(resources(synthOf("ums-alb-verify"), "aws_lb")[0].health_check_logs).toBeUndefined();
  });

  test("an extra listener and a changed port: each gets its security group rule, the allow-list, and the verify settings", async () => {
    const cfg = await loadTestConfig({ stacks: [{ variant: "ums-alb-verify", listeners: { tls: { port: 4443 }, admin: { port: 9443, mtls: "verify" } } }] });
    const synth = synthOf("ums-alb-verify", cfg);
    const listeners = resources(synth, "aws_lb_listener");
    expect(listeners.map((l) => [l.port, l.mutual_authentication?.mode ?? "off"]).sort()).toEqual([
      [4443, "off"],
      [8443, "verify"],
      [9443, "verify"],
    ]);
    const fromDevices = resources(synth, "aws_vpc_security_group_ingress_rule").filter((r) => r.cidr_ipv4 === "198.51.100.0/24");
    expect(fromDevices.map((r) => r.from_port).sort()).toEqual([4443, 8443, 9443]);
    // Four allow-list rules per listener, and the certificate-header refusal on the listener without mTLS.
    expect(resources(synth, "aws_lb_listener_rule")).toHaveLength(13);
    expect(outputs(synth).device_enrollment_address.value).toBe("ums.lab.test:4443");
  });

  test("local state: a path relative to the stack directory, beside the synth output", () => {
    const json = JSON.parse(synthOf("ums-alb-verify"));
    expect(json.terraform.backend).toEqual({ local: { path: "../../../terraform.ums-alb-verify.tfstate" } });
    expect(JSON.stringify(json)).not.toContain(process.cwd());
  });

  test("state.s3: an encrypted S3 backend per stack with S3's own lock file", async () => {
    const cfg = await loadTestConfig({ state: { s3: { bucket: "acme-terraform-state", key: "ums-edge/prod", region: "eu-west-1" } }, stacks: [{ variant: "ums-direct" }] });
    const json = JSON.parse(synthOf("ums-direct", cfg));
    expect(json.terraform.backend).toEqual({ s3: { bucket: "acme-terraform-state", key: "ums-edge/prod/ums-direct.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true } });
  });

  test("the log bucket keeps its logs on destroy unless logs.forceDestroy; the trust store bucket may always go", async () => {
    const byDefault = resources(synthOf("ums-alb-verify"), "aws_s3_bucket");
    const logBucket = (list: Json[]) => list.find((b) => String(b.bucket_prefix).includes("-logs-"))!;
    expect(logBucket(byDefault).force_destroy).toBe(false);
    expect(byDefault.find((b) => String(b.bucket_prefix).includes("-truststore-"))!.force_destroy).toBe(true);
    const cfg = await loadTestConfig({ logs: { forceDestroy: true }, stacks: [{ variant: "ums-alb-passthrough" }] });
    expect(logBucket(resources(synthOf("ums-alb-passthrough", cfg), "aws_s3_bucket")).force_destroy).toBe(true);
    expect(synthOf("ums-alb-passthrough", cfg)).toHaveResource(S3Bucket);
  });

  test("instance.adminCidrs opens RDP to a UMS and SSH to an ICG, from those networks only", async () => {
    const cfg = await loadTestConfig({ instance: { adminCidrs: ["203.0.113.7/32"] }, stacks: [{ variant: "ums-alb-verify" }, { variant: "icg-alb-verify" }] });
    for (const [variant, port] of [["ums-alb-verify", 3389], ["icg-alb-verify", 22]] as const) {
      const admin = resources(synthOf(variant, cfg), "aws_vpc_security_group_ingress_rule").filter((r) => r.cidr_ipv4 === "203.0.113.7/32");
      expect(admin).toEqual([expect.objectContaining({ from_port: port, to_port: port, ip_protocol: "tcp" })]);
    }
    expect(resources(synthOf("ums-alb-verify"), "aws_vpc_security_group_ingress_rule").some((r) => r.from_port === 3389)).toBe(false);
  });

  test("instance.ssm attaches an instance profile with AmazonSSMManagedInstanceCore", async () => {
    const cfg = await loadTestConfig({ instance: { ssm: true }, stacks: [{ variant: "ums-direct" }] });
    const synth = synthOf("ums-direct", cfg);
    expect(synth).toHaveResourceWithProperties(IamRolePolicyAttachment, { policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" });
    expect(synth).toHaveResource(IamInstanceProfile);
    expect(synth).toHaveResourceWithProperties(Instance, { iam_instance_profile: expect.stringMatching(/aws_iam_instance_profile\..+\.name/) });
    const role = resources(synth, "aws_iam_role")[0];
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
    expect(resources(synthOf("ums-direct"), "aws_iam_role")).toHaveLength(0);
  });

  test("instance.count: servers spread over the ALB subnets, every one registered in the target group, all listed in the outputs", async () => {
    const cfg = await loadTestConfig({ instance: { count: 3 }, stacks: [{ variant: "ums-alb-verify" }] });
    const synth = synthOf("ums-alb-verify", cfg);
    const instances = resources(synth, "aws_instance").sort((a, b) => a.tags.Name.localeCompare(b.tags.Name));
    expect(instances.map((i) => i.subnet_id)).toEqual(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0aaaaaaaaaaaaaaa1"]);
    expect(instances.map((i) => i.tags.Name)).toEqual(["ums-edge-uv-ums-1", "ums-edge-uv-ums-2", "ums-edge-uv-ums-3"]);
    expect(new Set(instances.map((i) => i.vpc_security_group_ids[0])).size).toBe(1);
    const attachments = resources(synth, "aws_lb_target_group_attachment");
    expect(attachments.map((a) => a.target_id).sort()).toEqual(Object.keys(JSON.parse(synth).resource.aws_instance).map((k) => `\${aws_instance.${k}.id}`).sort());
    expect(resources(synth, "aws_eip")).toHaveLength(3);
    expect(resources(synth, "aws_vpc_security_group_egress_rule").filter((r) => r.referenced_security_group_id)).toHaveLength(1);
    const servers = outputs(synth).servers.value as Json[];
    expect(servers).toHaveLength(3);
    expect(servers[0]).toEqual({ instance_id: expect.stringMatching(/aws_instance\./), public_ip: expect.stringMatching(/aws_eip\./), private_ip: expect.stringMatching(/private_ip/), subnet_id: expect.stringMatching(/subnet_id/) });
    expect(outputs(synth).servers.description).toContain("assign the same web certificate to all of them");
  });
});

describe("synthesize() output", () => {
  let out: string;
  beforeAll(() => {
    out = tempDir();
    synthesize(config, out);
  });

  test("writes <out>/stacks/<stack>/cdk.tf.json for all five stacks", () => {
    for (const name of ["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify", "icg-alb-passthrough", "ums-direct"]) {
      expect(fs.existsSync(path.join(out, "stacks", name, "cdk.tf.json"))).toBe(true);
    }
  });

  test("assets resolve relative to the stack; the private key copy is 0600; the ACM chain omits the leaf; nothing is staged outside the stacks", () => {
    expect(fs.readdirSync(out).sort()).toEqual(["manifest.json", "stacks"]);
    const stackDir = path.join(out, "stacks", "ums-alb-verify");
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const cert = Object.values(json.resource.aws_acm_certificate as Record<string, Json>)[0];
    const fileOf = (expr: string) => path.join(stackDir, /file\("(.+)"\)/.exec(expr)![1]);
    expect(fs.statSync(fileOf(cert.private_key)).mode & 0o777).toBe(0o600);
    const body = new X509Certificate(fs.readFileSync(fileOf(cert.certificate_body)));
    const chainText = fs.readFileSync(fileOf(cert.certificate_chain), "utf8");
    expect(chainText).not.toContain(body.toString().trim());
    expect(new X509Certificate(chainText).subject).toBe(body.issuer);
  });
});
