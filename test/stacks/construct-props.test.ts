import { Testing, TerraformStack } from "cdktf";
import { AlbFront, AlbFrontProps } from "../../stacks/alb-front";
import { TrustStore, TrustStoreProps } from "../../stacks/trust-store";
import { WebCertificate, WebCertificateProps } from "../../stacks/web-certificate";
import { BackendServers, BackendServersProps } from "../../stacks/backend-servers";
import { PathAllowList, PathAllowListProps } from "../../stacks/path-allow-list";
import { EdgeStack, EdgeStackProps } from "../../stacks/edge-stack";
import { DirectStack, DirectStackProps } from "../../stacks/direct-stack";
import { PropsError } from "../../stacks/props-error";
import { Lb } from "../../stacks/aws";

/**
 * Every construct refuses bad props before building anything, with a typed PropsError whose message
 * names the construct, the prop and the mode. Messages are compared exactly.
 */

const front: AlbFrontProps = {
  namePrefix: "ums-edge-uv",
  backend: "ums",
  mode: "verify",
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-a", "subnet-b"],
  clientCidrs: ["198.51.100.0/24"],
  certificateArn: "arn:aws:acm:eu-central-1:123456789012:certificate/x",
  trustStoreArn: "arn:aws:elasticloadbalancing:eu-central-1:123456789012:truststore/ts/1",
  logs: { bucket: "logs", accessPrefix: "alb/access", connectionPrefix: "alb/connection" },
};
const passthrough: AlbFrontProps = { ...front, mode: "passthrough", trustStoreArn: undefined };

function refusal(build: (stack: TerraformStack) => void): { error: unknown; message: string } {
  const stack = new TerraformStack(Testing.app(), "test");
  try {
    build(stack);
  } catch (error) {
    return { error, message: (error as Error).message };
  }
  throw new Error("the props were accepted");
}

test.each<[string, Partial<AlbFrontProps>, string]>([
  ["verify without a trust store", { trustStoreArn: undefined }, "AlbFront: You must set 'trustStoreArn' when 'mode' is 'verify'"],
  ["a trust store on passthrough", { mode: "passthrough" }, "AlbFront: 'trustStoreArn' must not be set when 'mode' is 'passthrough'"],
  ["a verify-only option on passthrough", { ...passthrough, ignoreClientCertificateExpiry: true }, "AlbFront: 'ignoreClientCertificateExpiry' applies only when 'mode' is 'verify' (it is 'passthrough')"],
  [
    "three verify listeners on one load balancer",
    { listeners: { mtls: { port: 8443, mtls: "verify" }, second: { port: 9443, mtls: "verify" }, third: { port: 10443, mtls: "verify" } } },
    "AlbFront: 'listeners' has 3 listeners with 'mtls' 'verify' (mtls, second, third); AWS allows at most 2 per load balancer",
  ],
  [
    "a passthrough listener on a verify front",
    { listeners: { mtls: { port: 8443, mtls: "verify" }, other: { port: 9443, mtls: "passthrough" } } },
    "AlbFront: listener 'other' has 'mtls' 'passthrough' but 'mode' is 'verify'; every mTLS listener of a front uses its 'mode' (the backend reads one forwarded header)",
  ],
  ["two listeners on one port", { listeners: { mtls: { port: 8443, mtls: "verify" }, tls: { port: 8443, mtls: "off" } } }, "AlbFront: listeners 'mtls' and 'tls' both use port 8443"],
  ["no mTLS listener in an mTLS mode", { listeners: { tls: { port: 443, mtls: "off" } } }, "AlbFront: no listener has 'mtls' 'verify'; 'mode' 'verify' needs at least one"],
  ["a port out of range", { listeners: { mtls: { port: 70000, mtls: "verify" } } }, "AlbFront: listener 'mtls' has 'port' 70000; use 1-65535"],
  ["one subnet", { subnetIds: ["subnet-a"] }, "AlbFront: 'subnetIds' needs at least two subnets in different Availability Zones, got 1"],
  ["a name prefix too long", { namePrefix: "a".repeat(29) }, `AlbFront: 'namePrefix' '${"a".repeat(29)}' makes the load balancer name '${"a".repeat(29)}-alb' 33 characters long; AWS allows at most 32`],
  ["a name prefix with an underscore", { namePrefix: "ums_edge" }, "AlbFront: 'namePrefix' 'ums_edge' must be letters, digits and single hyphens, not starting with 'internal-' (ELB load balancer names)"],
  ["a passthrough header renamed on verify", { headerNames: { clientcert: "X-Chain" } }, "AlbFront: 'headerNames.clientcert' renames a header a 'verify' listener does not add (it is a passthrough header)"],
  ["a header name with a colon", { headerNames: { leaf: "X-Leaf:" } }, "AlbFront: 'headerNames.leaf' 'X-Leaf:' is not an HTTP header name"],
  ["a TLS policy that is not one", { sslPolicy: "TLS13" }, "AlbFront: 'sslPolicy' 'TLS13' is not an ELB security policy name (ELBSecurityPolicy-...)"],
  ["a health-check path without a slash", { healthCheck: { path: "info" } }, "AlbFront: 'healthCheck.path' 'info' must start with '/' and be at most 1024 characters"],
  ["a health-check timeout not below the interval", { healthCheck: { intervalSeconds: 10, timeoutSeconds: 10 } }, "AlbFront: 'healthCheck.timeoutSeconds' must be less than 'healthCheck.intervalSeconds'"],
  ["a health-check threshold of 1", { healthCheck: { unhealthyThreshold: 1 } }, "AlbFront: 'healthCheck.unhealthyThreshold' 1 is outside 2-10"],
  ["an idle timeout over AWS's maximum", { attributes: { idleTimeoutSeconds: 4001 } }, "AlbFront: 'attributes.idleTimeoutSeconds' 4001 is outside 1-4000"],
  ["a client keep-alive under AWS's minimum", { attributes: { clientKeepAliveSeconds: 59 } }, "AlbFront: 'attributes.clientKeepAliveSeconds' 59 is outside 60-604800"],
])("AlbFront refuses %s", (_name, change, expected) => {
  const { error, message } = refusal((s) => new AlbFront(s, "front", { ...front, ...change }));
  expect(error).toBeInstanceOf(PropsError);
  expect((error as PropsError).construct).toBe("AlbFront");
  expect(message).toBe(expected);
});

const trust: TrustStoreProps = { namePrefix: "ums-edge-uv", caBundleFile: __filename };
test.each<[string, Partial<TrustStoreProps>, string]>([
  ["a trust store name of 33 characters", { name: "t".repeat(33) }, `TrustStore: 'name' '${"t".repeat(33)}' is 33 characters; AWS allows at most 32 for a trust store name`],
  ["a name prefix that makes the name too long", { namePrefix: "p".repeat(30) }, `TrustStore: 'name' '${"p".repeat(30)}-ts' is 33 characters; AWS allows at most 32 for a trust store name`],
  ["a name ending in a hyphen", { name: "ums-edge-" }, "TrustStore: 'name' 'ums-edge-' may hold only letters, digits and single hyphens, not at either end (AWS trust store names)"],
])("TrustStore refuses %s", (_name, change, expected) => {
  const { error, message } = refusal((s) => new TrustStore(s, "trust", { ...trust, ...change }));
  expect(error).toBeInstanceOf(PropsError);
  expect(message).toBe(expected);
});

test.each<[string, WebCertificateProps, string]>([
  ["neither files nor an ARN", {}, "WebCertificate: You must set 'files' or 'existingArn'"],
  ["both files and an ARN", { files: { privateKey: __filename, body: __filename }, existingArn: "arn:aws:acm:x" }, "WebCertificate: Set only one of 'files' and 'existingArn'"],
])("WebCertificate refuses %s", (_name, props, expected) => {
  const { error, message } = refusal((s) => new WebCertificate(s, "web", props));
  expect(error).toBeInstanceOf(PropsError);
  expect(message).toBe(expected);
});

const servers: BackendServersProps = { namePrefix: "ums-edge-uv", backend: "ums", vpcId: "vpc-1", subnetIds: ["subnet-a"], admit: { cidrs: ["198.51.100.0/24"] } };
test.each<[string, Partial<BackendServersProps>, string]>([
  ["no servers", { count: 0 }, "BackendServers: 'count' 0 is not a number of servers (1-1000)"],
  ["no subnet", { subnetIds: [] }, "BackendServers: 'subnetIds' is empty; the servers need a subnet"],
  ["no one admitted", { admit: { cidrs: [] } }, "BackendServers: 'admit.cidrs' is empty: nothing could reach port 8443"],
])("BackendServers refuses %s", (_name, change, expected) => {
  const { error, message } = refusal((s) => new BackendServers(s, "server", { ...servers, ...change }));
  expect(error).toBeInstanceOf(PropsError);
  expect(message).toBe(expected);
});

const rules: PathAllowListProps = { listenerArn: "arn:listener", targetGroupArn: "arn:tg" };
test.each<[string, Partial<PathAllowListProps>, string]>([
  ["an empty allow-list", { allowedPatterns: [] }, "PathAllowList: 'allowedPatterns' is empty; give at least one path pattern (or leave the allow-list off)"],
  ["a percent sign in a path pattern", { allowedPatterns: ["/a%2e/*"] }, `PathAllowList: 'allowedPatterns' value '/a%2e/*' is not an ALB path pattern (a '/' then A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?)`],
  ["six wildcards in one pattern", { allowedPatterns: ["/*/*/*/*/*/*"] }, "PathAllowList: 'allowedPatterns' value '/*/*/*/*/*/*' has 6 wildcards; AWS allows at most 5 per rule"],
])("PathAllowList refuses %s", (_name, change, expected) => {
  const { error, message } = refusal((s) => new PathAllowList(s, "rules", { ...rules, ...change }));
  expect(error).toBeInstanceOf(PropsError);
  expect(message).toBe(expected);
});

const edge: EdgeStackProps = {
  stackName: "ums-alb-verify",
  provider: { region: "eu-central-1", tags: {} },
  namePrefix: "ums-edge-uv",
  fqdn: "ums.example.test",
  webCertificate: { existingArn: "arn:aws:acm:eu-central-1:123456789012:certificate/x" },
  front: { backend: "ums", mode: "verify", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"], clientCidrs: ["0.0.0.0/0"] },
  servers: { subnetIds: ["subnet-a"] },
};
test.each<[string, Partial<EdgeStackProps>, string]>([
  ["verify without a trust store", {}, "EdgeStack: You must set 'trustStore' when 'front.mode' is 'verify'"],
  ["passthrough with a trust store", { front: { ...edge.front, mode: "passthrough" }, trustStore: { caBundleFile: __filename } }, "EdgeStack: 'trustStore' must not be set when 'front.mode' is 'passthrough'"],
])("EdgeStack refuses %s", (_name, change, expected) => {
  let error: unknown;
  try {
    new EdgeStack(Testing.app(), { ...edge, ...change });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PropsError);
  expect((error as Error).message).toBe(expected);
});

test("DirectStack refuses more than one server (no load balancer to spread devices over)", () => {
  const props: DirectStackProps = { stackName: "ums-direct", provider: { region: "eu-central-1", tags: {} }, namePrefix: "ums-edge-ud", fqdn: "ums.example.test", server: { vpcId: "vpc-1", subnetIds: ["subnet-a"], count: 2 }, clientCidrs: ["0.0.0.0/0"] };
  expect(() => new DirectStack(Testing.app(), props)).toThrow(new PropsError("DirectStack", "server.count", "'server.count' must be 1: without a load balancer devices reach one server"));
});

test("the construct defaults come from the constructs: a front with only its required props synthesizes with the variant's listeners and health path", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  new AlbFront(stack, "front", { ...passthrough, backend: "icg" });
  const synth = Testing.synth(stack);
  const json = JSON.parse(synth);
  const listeners = Object.values(json.resource.aws_lb_listener as Record<string, { port: number; ssl_policy: string; default_action: Array<{ type: string }> }>);
  expect(listeners.map((l) => [l.port, l.ssl_policy, l.default_action[0].type])).toEqual([[8443, "ELBSecurityPolicy-TLS13-1-2-2021-06", "forward"]]);
  const tg = Object.values(json.resource.aws_lb_target_group as Record<string, { health_check: object }>)[0];
  expect(tg.health_check).toEqual({ enabled: true, protocol: "HTTPS", port: "traffic-port", path: "/usg/check-status", matcher: "200", interval: 30, timeout: 5, healthy_threshold: 5, unhealthy_threshold: 2 });
  expect(synth).toHaveResourceWithProperties(Lb, { idle_timeout: 60, client_keep_alive: 3600, drop_invalid_header_fields: true, xff_header_processing_mode: "append", enable_xff_client_port: false, preserve_host_header: false, desync_mitigation_mode: "defensive", enable_deletion_protection: false });
});
