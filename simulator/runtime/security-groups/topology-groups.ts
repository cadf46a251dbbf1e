import type { RoleSecurityGroups } from "./model";

/*
 * Security groups for the topologies that have no synthesized stack, as an administrator would set
 * them up after IGEL's connection-options article ("Shows from which side firewalls etc. must be
 * opened"). Data only; the ALB and direct topologies read theirs from the synthesized stack.
 */

const HTTPS = { ipProtocol: "tcp", fromPort: 8443, toPort: 8443 } as const;
const ALL_OUT = { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound" } as const;

/** reverse-proxy: devices reach nginx; only nginx reaches the UMS ("inbound connection from the device to the UMS" through the proxy). */
export const REVERSE_PROXY_SECURITY_GROUPS: RoleSecurityGroups = {
  groups: [
    {
      id: "proxy",
      name: "reverse-proxy-sg",
      ingress: [{ ...HTTPS, cidrIpv4: "0.0.0.0/0", description: "HTTPS 8443 from devices" }],
      egress: [{ ...HTTPS, referencedSecurityGroupId: "ums", description: "HTTPS 8443 to the UMS" }],
    },
    { id: "ums", name: "ums-sg", ingress: [{ ...HTTPS, referencedSecurityGroupId: "proxy", description: "HTTPS 8443 from the reverse proxy only" }], egress: [ALL_OUT] },
  ],
  members: { front: ["proxy"], backend: ["ums"] },
};

/** icg: devices and the UMS both connect in to the ICG; nothing connects in to the UMS ("no inbound connection"). */
export const ICG_SECURITY_GROUPS: RoleSecurityGroups = {
  groups: [
    { id: "icg", name: "icg-sg", ingress: [{ ...HTTPS, cidrIpv4: "0.0.0.0/0", description: "HTTPS 8443 from devices and the UMS" }], egress: [ALL_OUT] },
    { id: "ums", name: "ums-sg", ingress: [], egress: [ALL_OUT] },
  ],
  members: { backend: ["icg"], ums: ["ums"] },
};
