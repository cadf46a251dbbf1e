import * as fs from "node:fs";
import { readStackSecurityGroups, securityGroupsOfStack, SecurityGroup, StackSecurityGroups } from "../../simulator/terraform/security-groups";
import { StackReader } from "../../simulator/terraform/stack-reader";
import { securityGroupsToNftables } from "../../simulator/runtime/security-groups/nftables";
import { placeSecurityGroups } from "../../simulator/runtime/security-groups/model";
import { UserError } from "../../core/errors";
import { synthesizeTestStacks, TEST_DEVICE_CIDR } from "./synth-stack";

const HTTPS = (port: number) => ({ ipProtocol: "tcp", fromPort: port, toPort: port });

/** The one group whose members have `role`: the load balancer (front) or the instance (backend). */
function groupOf(sg: StackSecurityGroups, role: "front" | "backend"): SecurityGroup {
  const ids = sg.members[role];
  expect(ids).toHaveLength(1);
  return sg.groups.find((g) => g.id === ids[0])!;
}

const readerOf = (doc: Record<string, unknown>) => new StackReader("x/cdk.tf.json", "x", doc);

describe("security groups of a freshly synthesized stack", () => {
  let outdir: string;
  let stacks: Readonly<Record<string, string>>;
  beforeAll(async () => {
    ({ outdir, stacks } = await synthesizeTestStacks(["ums-alb-verify", "ums-alb-passthrough", "ums-direct"]));
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test("ums-alb-verify: the ALB group admits 8443 and 443 from devices; the UMS group admits 8443 from the ALB group only", () => {
    const sg = readStackSecurityGroups(stacks["ums-alb-verify"]);
    const alb = groupOf(sg, "front");
    const ums = groupOf(sg, "backend");
    expect(alb.name).toBe("ums-edge-uv-alb-sg");
    expect(alb.ingress).toEqual(
      expect.arrayContaining([expect.objectContaining({ ...HTTPS(8443), cidrIpv4: TEST_DEVICE_CIDR }), expect.objectContaining({ ...HTTPS(443), cidrIpv4: TEST_DEVICE_CIDR })]),
    );
    expect(alb.ingress).toHaveLength(2);
    expect(alb.egress).toEqual([expect.objectContaining({ ...HTTPS(8443), referencedSecurityGroupId: ums.id })]);
    expect(ums.ingress).toEqual([expect.objectContaining({ ...HTTPS(8443), referencedSecurityGroupId: alb.id, cidrIpv4: undefined })]);
    expect(ums.egress).toEqual([expect.objectContaining({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" })]);
  });

  test("ums-alb-passthrough: one device port on the ALB (8443)", () => {
    const alb = groupOf(readStackSecurityGroups(stacks["ums-alb-passthrough"]), "front");
    expect(alb.ingress).toEqual([expect.objectContaining({ ...HTTPS(8443), cidrIpv4: TEST_DEVICE_CIDR })]);
  });

  test("ums-direct: no ALB, the UMS group admits 8443 from the device CIDRs", () => {
    const sg = readStackSecurityGroups(stacks["ums-direct"]);
    expect(sg.members.front).toEqual([]);
    expect(groupOf(sg, "backend").ingress).toEqual([expect.objectContaining({ ...HTTPS(8443), cidrIpv4: TEST_DEVICE_CIDR })]);
  });

  test("placed on the sides a topology names: the direct UMS faces the devices, behind an ALB it is private", () => {
    const direct = readStackSecurityGroups(stacks["ums-direct"]);
    expect(placeSecurityGroups(direct, { backend: "public", ums: "public" }).placement).toEqual({ public: direct.members.backend });
    const verify = readStackSecurityGroups(stacks["ums-alb-verify"]);
    expect(placeSecurityGroups(verify, { front: "public", backend: "private", ums: "private" }).placement).toEqual({ public: verify.members.front, private: verify.members.backend });
  });
});

describe("stack reader edge cases", () => {
  test("inline ingress blocks and 'self' are read too", () => {
    const layout = securityGroupsOfStack(readerOf({
      resource: {
        aws_security_group: { a: { name: "a-sg", ingress: [{ protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["10.0.0.0/8"], self: true }], egress: [] } },
        aws_instance: { i: { vpc_security_group_ids: ["${aws_security_group.a.id}"] } },
      },
    }));
    expect(layout.groups[0].ingress).toEqual([
      expect.objectContaining({ ...HTTPS(22), cidrIpv4: "10.0.0.0/8" }),
      expect.objectContaining({ ...HTTPS(22), referencedSecurityGroupId: "a" }),
    ]);
    expect(layout.members).toEqual({ front: [], backend: ["a"] });
  });

  test("a rule for a group the stack does not define is a clear error", () => {
    expect(() =>
      securityGroupsOfStack(readerOf({ resource: { aws_vpc_security_group_ingress_rule: { r: { security_group_id: "${aws_security_group.missing.id}", ip_protocol: "tcp" } } } })),
    ).toThrow("x/cdk.tf.json: aws_vpc_security_group_ingress_rule.r belongs to security group '${aws_security_group.missing.id}', which the stack does not define");
  });

  test("an unreadable stack names the fix", () => {
    expect(() => readStackSecurityGroups("/nonexistent/stack")).toThrow(UserError);
    expect(() => readStackSecurityGroups("/nonexistent/stack")).toThrow(/no such stack directory\n  fix: give a directory written by 'ums-edge synth'/);
  });
});

describe("securityGroupsToNftables", () => {
  const members = (id: string) => (id === "alb" ? ["10.201.1.2"] : []);
  const group = (rules: SecurityGroup["ingress"], egress: SecurityGroup["egress"] = []): SecurityGroup => ({ id: "g", name: "g-sg", ingress: rules, egress });

  test("default drop, replies and loopback allowed, one accept line per rule", () => {
    const text = securityGroupsToNftables([group([{ ...HTTPS(8443), referencedSecurityGroupId: "alb", description: "from the ALB" }], [{ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }])], members);
    expect(text).toContain("type filter hook input priority filter; policy drop;");
    expect(text).toContain("type filter hook output priority filter; policy drop;");
    expect(text).toContain("ct state established,related accept");
    expect(text).toContain('iifname "lo" accept');
    expect(text).toContain("# g-sg: from the ALB\n    ip saddr 10.201.1.2 tcp dport 8443 accept");
    expect(text).toContain("ip daddr 0.0.0.0/0 accept");
  });

  test.each([
    [{ ipProtocol: "tcp", fromPort: 8000, toPort: 8443, cidrIpv4: "1.2.3.0/24" }, "ip saddr 1.2.3.0/24 tcp dport 8000-8443 accept"],
    [{ ipProtocol: "udp", cidrIpv4: "1.2.3.4/32" }, "ip saddr 1.2.3.4/32 meta l4proto udp accept"],
    [{ ipProtocol: "icmp", fromPort: 8, toPort: -1, cidrIpv4: "0.0.0.0/0" }, "ip saddr 0.0.0.0/0 meta l4proto icmp icmp type 8 accept"],
    [{ ipProtocol: "6", fromPort: 443, toPort: 443, cidrIpv6: "::/0" }, "ip6 saddr ::/0 tcp dport 443 accept"],
    [{ ipProtocol: "47", cidrIpv4: "10.0.0.0/8" }, "ip saddr 10.0.0.0/8 meta l4proto 47 accept"],
  ])("%j → %s", (rule, line) => {
    expect(securityGroupsToNftables([group([rule])], members)).toContain(`    ${line}\n`);
  });

  test("a group reference with no members admits nobody (a comment, no rule)", () => {
    const text = securityGroupsToNftables([group([{ ...HTTPS(8443), referencedSecurityGroupId: "elsewhere" }])], members);
    expect(text).toContain("(group elsewhere has no members here: admits nobody)");
    expect(text).not.toMatch(/dport 8443 accept/);
  });

  test.each([
    [{ ipProtocol: "gre", cidrIpv4: "0.0.0.0/0" }, "ip_protocol 'gre' is not one AWS accepts"],
    [{ ipProtocol: "tcp", fromPort: 10, toPort: 5, cidrIpv4: "0.0.0.0/0" }, "port range 10-5 is not valid"],
    [{ ipProtocol: "tcp", fromPort: 1, toPort: 1 }, "it names no peer"],
  ])("%j is refused: %s", (rule, message) => {
    expect(() => securityGroupsToNftables([group([rule])], members)).toThrow(message);
  });
});
