import { UserError } from "../../../core/errors";
import { NETWORK_SIDES, NetworkSide } from "../security-groups/model";

/**
 * Default subnets: devices come from a documentation range (RFC 5737, looks like the internet),
 * the VPC sides from private space. Labs never share a namespace, so parallel labs may reuse them.
 */
export const DEFAULT_SUBNETS: Readonly<Record<NetworkSide, string>> = {
  internet: "198.51.100.0/24",
  public: "10.201.1.0/24",
  private: "10.201.2.0/24",
};

export interface SideAddressing {
  readonly subnet: string;
  readonly prefixLength: number;
  /** The router's address on this side (the side's default gateway). */
  readonly gateway: string;
  /** The side namespace's own address. */
  readonly address: string;
}

function toInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Router = first host of the subnet, the side = second. Throws a UserError for a bad or overlapping subnet. */
export function planAddresses(subnets: Partial<Record<NetworkSide, string>> = {}): Readonly<Record<NetworkSide, SideAddressing>> {
  const plan = {} as Record<NetworkSide, SideAddressing & { start: number; end: number }>;
  for (const side of NETWORK_SIDES) {
    const subnet = subnets[side] ?? DEFAULT_SUBNETS[side];
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(subnet);
    const len = m ? Number(m[2]) : NaN;
    if (!m || m[1].split(".").some((o) => Number(o) > 255) || len < 8 || len > 30) {
      throw new UserError(`netns subnets.${side}: '${subnet}' is not an IPv4 subnet of /8 to /30\n  fix: give e.g. '${DEFAULT_SUBNETS[side]}'`);
    }
    const size = 2 ** (32 - len);
    const start = toInt(m[1]) - (toInt(m[1]) % size);
    plan[side] = { subnet: `${toIp(start)}/${len}`, prefixLength: len, gateway: toIp(start + 1), address: toIp(start + 2), start, end: start + size - 1 };
  }
  for (const [i, a] of NETWORK_SIDES.entries()) {
    for (const b of NETWORK_SIDES.slice(i + 1)) {
      if (plan[a].start <= plan[b].end && plan[b].start <= plan[a].end) {
        throw new UserError(`netns subnets: '${plan[a].subnet}' (${a}) and '${plan[b].subnet}' (${b}) overlap\n  fix: give each side its own subnet`);
      }
    }
  }
  return Object.fromEntries(NETWORK_SIDES.map((s) => [s, { subnet: plan[s].subnet, prefixLength: plan[s].prefixLength, gateway: plan[s].gateway, address: plan[s].address }])) as Record<NetworkSide, SideAddressing>;
}
