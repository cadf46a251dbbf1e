import * as fs from "node:fs";
import * as path from "node:path";
import { readStack } from "../../simulator/terraform";
import type { StackModel } from "../../simulator/terraform";
import { ProblemsError, UserError } from "../../core/errors";
import { ALLOWED_PATH_PATTERNS } from "../../core/igel";
import { pemOnly } from "../../core/pem";
import { TRAVERSAL_DENY_PATTERNS, TRAVERSAL_DENY_REGEX } from "../../stacks/path-allow-list";
import { testLabPki } from "../helpers/lab-pki";
import type { LabPki } from "../../simulator/pki/lab-pki";
import { editedStack, synthesizeTestStacks, SynthesizedStacks } from "../alb/helpers/stacks";

let synth: SynthesizedStacks;
let pki: LabPki;
const cleanups: string[] = [];

beforeAll(async () => {
  pki = await testLabPki();
  synth = await synthesizeTestStacks([
    { variant: "ums-alb-verify", ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: "on", headerNames: { leaf: "X-Client-Leaf", subject: "X-Client-Subject" } },
    { variant: "ums-alb-passthrough", headerNames: { clientcert: "X-Client-Chain" } },
    { variant: "icg-alb-verify" },
    { variant: "ums-direct" },
  ]);
});

afterAll(() => {
  synth?.cleanup();
  for (const d of cleanups) fs.rmSync(d, { recursive: true, force: true });
});

const read = (file: string) => fs.readFileSync(file, "utf8");
/** What synth writes for AWS: the PEM blocks of the lab file, LF (node-forge writes the lab files with CRLF). */
const asWritten = (file: string) => pemOnly(read(file), ["CERTIFICATE", "X509 CRL", "RSA PRIVATE KEY", "PRIVATE KEY"]).text;
const listener = (m: StackModel, port: number) => m.listeners.find((l) => l.port === port)!;

describe("readStack on a synthesized ums-alb-verify stack", () => {
  let m: StackModel;
  beforeAll(() => {
    m = readStack(synth.stacks["ums-alb-verify"]);
  });

  test("names the stack, region, load balancer and its log settings", () => {
    expect(m.name).toBe("ums-alb-verify");
    expect(m.region).toBe("eu-central-1");
    expect(m.loadBalancer.name).toBe("ums-edge-uv-alb");
    expect(m.loadBalancer.accessLogs).toEqual({ enabled: true, prefix: "alb/access" });
    expect(m.loadBalancer.connectionLogs).toEqual({ enabled: true, prefix: "alb/connection" });
  });

  test("has the mTLS listener on 8443 and the plain TLS listener on 443, both HTTPS with the web certificate", () => {
    expect(m.listeners.map((l) => [l.port, l.protocol, l.mutualAuthentication.mode])).toEqual([
      [443, "HTTPS", "off"],
      [8443, "HTTPS", "verify"],
    ]);
    for (const l of m.listeners) {
      expect(l.sslPolicy).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
      expect(read(l.certificate!.bodyFile)).toBe(asWritten(pki.web.headOnlyBody));
      expect(read(l.certificate!.privateKeyFile)).toBe(asWritten(pki.web.privateKey));
      expect(read(l.certificate!.chainFile!)).toContain("BEGIN CERTIFICATE");
      expect(l.certificate!.bodyFile.startsWith(synth.stacks["ums-alb-verify"])).toBe(true);
    }
  });

  test("resolves the trust store to the CA bundle and CRL assets, with expiry and CA-name settings", () => {
    const ma = listener(m, 8443).mutualAuthentication;
    expect(ma.trustStore!.address).toMatch(/^aws_lb_trust_store\./);
    expect(read(ma.trustStore!.caBundleFile)).toBe(asWritten(pki.clientCaChain));
    expect(ma.trustStore!.revocationFiles.map(read)).toEqual([asWritten(pki.crl)]);
    expect(ma.ignoreClientCertificateExpiry).toBe(true);
    expect(ma.advertiseTrustStoreCaNames).toBe("on");
  });

  test("reads renamed mTLS headers (lower-case) and keeps AWS's names for the others", () => {
    expect(listener(m, 8443).headerNames).toEqual({
      clientcert: "x-amzn-mtls-clientcert",
      leaf: "x-client-leaf",
      serialNumber: "x-amzn-mtls-clientcert-serial-number",
      issuer: "x-amzn-mtls-clientcert-issuer",
      subject: "x-client-subject",
      validity: "x-amzn-mtls-clientcert-validity",
    });
    expect(listener(m, 443).headerNames.leaf).toBe("x-amzn-mtls-clientcert-leaf");
  });

  test("has the traversal deny rules (a path pattern and a regular expression), the path allow-list rules and a 404 fixed response as default action", () => {
    const badRequest = [{ type: "fixed-response", statusCode: 400, contentType: "text/plain", messageBody: "Bad Request" }];
    const forward = [{ type: "forward", targetGroup: expect.stringMatching(/^aws_lb_target_group\./) }];
    for (const l of m.listeners) {
      // 443 (no mTLS) first refuses a client's own (renamed) certificate header.
      const headerRule = l.port === 443 ? [[1, [{ kind: "http-header", name: "x-client-leaf", values: ["*"] }], [{ ...badRequest[0], messageBody: "X-Client-Leaf is not accepted on this listener" }]]] : [];
      expect(l.rules.map((r) => [r.priority, r.conditions, r.actions])).toEqual([
        ...headerRule,
        [2, [{ kind: "path-pattern", values: [...TRAVERSAL_DENY_PATTERNS] }], badRequest],
        [3, [{ kind: "path-pattern", values: [], regexValues: [...TRAVERSAL_DENY_REGEX] }], badRequest],
        [10, [{ kind: "path-pattern", values: ALLOWED_PATH_PATTERNS.slice(0, 3) }], forward],
        [11, [{ kind: "path-pattern", values: ALLOWED_PATH_PATTERNS.slice(3) }], forward],
      ]);
      expect(l.defaultActions).toEqual([{ type: "fixed-response", statusCode: 404, contentType: "text/plain", messageBody: "Not Found" }]);
    }
  });

  test("reads the load balancer's attributes as the stack writes them", () => {
    expect(m.loadBalancer).toMatchObject({
      idleTimeoutSeconds: 60,
      clientKeepAliveSeconds: 3600,
      dropInvalidHeaderFields: true,
      xffHeaderProcessingMode: "append",
      enableXffClientPort: false,
      preserveHostHeader: false,
      desyncMitigationMode: "defensive",
    });
  });

  test("has the HTTPS 8443 target group with the UMS health check and one attachment", () => {
    const groups = [...m.targetGroups.values()];
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      protocol: "HTTPS",
      port: 8443,
      healthCheck: { enabled: true, protocol: "HTTPS", path: "/info", port: "traffic-port", matcher: "200", intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2 },
    });
    expect(groups[0].targets).toEqual([{ address: expect.stringMatching(/^aws_lb_target_group_attachment\./), targetId: expect.stringContaining("aws_instance."), port: 8443 }]);
  });
});

describe("readStack on the other variants", () => {
  test("ums-alb-passthrough: one passthrough listener on 8443 with the renamed chain header", () => {
    const m = readStack(synth.stacks["ums-alb-passthrough"]);
    expect(m.listeners).toHaveLength(1);
    expect(m.listeners[0].port).toBe(8443);
    expect(m.listeners[0].mutualAuthentication).toEqual({ mode: "passthrough", ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: "off" });
    expect(m.listeners[0].headerNames.clientcert).toBe("x-client-chain");
  });

  test("icg-alb-verify: no allow-list (default action forwards), only the certificate-header refusal on 443, and the ICG health check", () => {
    const m = readStack(synth.stacks["icg-alb-verify"]);
    for (const l of m.listeners) {
      expect(l.rules.map((r) => r.conditions)).toEqual(l.port === 443 ? [[{ kind: "http-header", name: "x-amzn-mtls-clientcert-leaf", values: ["*"] }]] : []);
      expect(l.defaultActions).toEqual([{ type: "forward", targetGroup: expect.any(String) }]);
    }
    expect([...m.targetGroups.values()][0].healthCheck.path).toBe("/usg/check-status");
  });

  test("ums-direct has no load balancer: a ProblemsError says so", () => {
    expect(() => readStack(synth.stacks["ums-direct"])).toThrow(ProblemsError);
    expect(() => readStack(synth.stacks["ums-direct"])).toThrow(/no Application Load Balancer \(no aws_lb resource\)/);
  });

  test("a directory without cdk.tf.json is a UserError naming the directory and the fix", () => {
    const dir = path.dirname(synth.stacks["ums-direct"]);
    expect(() => readStack(dir)).toThrow(UserError);
    expect(() => readStack(dir)).toThrow(`${dir}: there is no cdk.tf.json in this directory`);
  });
});

describe("hand-made stacks: what the reader cannot resolve is reported by resource and attribute", () => {
  const edited = (edit: (json: Record<string, any>) => void) => {
    const dir = editedStack(synth.stacks["ums-alb-verify"], edit);
    cleanups.push(dir);
    return dir;
  };
  const mtlsListener = (json: Record<string, any>) => Object.entries(json.resource.aws_lb_listener).find(([, l]: [string, any]) => l.port === 8443)! as [string, any];

  const problemsOf = (dir: string): ProblemsError => {
    try {
      readStack(dir);
    } catch (e) {
      if (e instanceof ProblemsError) return e;
      throw e;
    }
    throw new Error("expected a ProblemsError");
  };

  test("a data-source reference in certificate_arn", () => {
    let name = "";
    const dir = edited((json) => {
      const [n, l] = mtlsListener(json);
      name = n;
      l.certificate_arn = "${data.aws_acm_certificate.existing.arn}";
    });
    const e = problemsOf(dir);
    expect(e.problems).toEqual([expect.objectContaining({ field: `aws_lb_listener.${name}.certificate_arn`, problem: expect.stringContaining("${data.aws_acm_certificate.existing.arn}") })]);
  });

  test("a variable as the trust store's bundle key", () => {
    const dir = edited((json) => {
      const ts = Object.values(json.resource.aws_lb_trust_store)[0] as Record<string, unknown>;
      ts.ca_certificates_bundle_s3_key = "${var.bundle_key}";
    });
    const [p] = problemsOf(dir).problems;
    expect(p.field).toMatch(/^aws_lb_trust_store\.[^.]+\.ca_certificates_bundle_s3_key$/);
    expect(p.problem).toContain("'${var.bundle_key}' is not something the simulator can resolve");
  });

  test("an ACM certificate given by ARN (outside the stack)", () => {
    const dir = edited((json) => {
      mtlsListener(json)[1].certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
    });
    expect(problemsOf(dir).problems[0].problem).toMatch(/names the listener's certificate outside this stack/);
  });

  test("a reference to a resource that is not in the stack", () => {
    const dir = edited((json) => {
      const rule = Object.values(json.resource.aws_lb_listener_rule)[0] as { action: Array<Record<string, unknown>> };
      rule.action[0].target_group_arn = "${aws_lb_target_group.gone.arn}";
    });
    const [p] = problemsOf(dir).problems;
    expect(p.field).toMatch(/^aws_lb_listener_rule\.[^.]+\.action\[0\]\.target_group_arn$/);
    expect(p.problem).toBe("refers to aws_lb_target_group.gone, which is not in the stack");
  });

  test("a missing CA bundle asset and an absolute source path", () => {
    const dir = edited((json) => {
      const crl = Object.entries(json.resource.aws_s3_object).find(([n]) => n.includes("crl"))![1] as Record<string, unknown>;
      crl.source = "/etc/passwd";
    });
    const bundle = fs.readdirSync(path.join(dir, "assets")).find((d) => d.includes("ca-bundle"))!;
    fs.rmSync(path.join(dir, "assets", bundle), { recursive: true });
    const problems = problemsOf(dir).problems;
    expect(problems.map((p) => p.field)).toEqual([expect.stringMatching(/^aws_s3_object\.trust_ca-bundle[^.]*\.source$/), expect.stringMatching(/^aws_s3_object\.trust_crl[^.]*\.source$/)]);
    expect(problems[0].problem).toMatch(/the asset 'assets\/.*client-ca-chain\.pem' does not exist/);
    expect(problems[1].problem).toContain("'/etc/passwd' is an absolute path");
    expect(problems.every((p) => p.file === path.join(dir, "cdk.tf.json"))).toBe(true);
  });

  test("a load balancer attribute value AWS does not have, and an omitted one (AWS's default)", () => {
    const dir = edited((json) => {
      const lb = Object.values(json.resource.aws_lb)[0] as Record<string, unknown>;
      lb.xff_header_processing_mode = "overwrite";
      delete lb.desync_mitigation_mode;
    });
    expect(problemsOf(dir).problems).toEqual([expect.objectContaining({ field: expect.stringMatching(/^aws_lb\.[^.]+\.xff_header_processing_mode$/), problem: "'overwrite' is not one of append, preserve, remove" })]);
    const kept = edited((json) => {
      delete (Object.values(json.resource.aws_lb)[0] as Record<string, unknown>).desync_mitigation_mode;
    });
    expect(readStack(kept).loadBalancer.desyncMitigationMode).toBe("defensive");
  });

  test("an action type the emulator does not emulate", () => {
    const dir = edited((json) => {
      mtlsListener(json)[1].default_action = [{ type: "redirect", redirect: { status_code: "HTTP_301", port: "443" } }];
    });
    expect(problemsOf(dir).problems[0]).toEqual(expect.objectContaining({ field: expect.stringMatching(/default_action\[0\]\.type$/), problem: expect.stringContaining("'redirect' is not emulated") }));
  });
});
