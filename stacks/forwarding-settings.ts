import { stringify } from "yaml";
import type { StackSpec } from "./config/load-config";
import { STACK_VARIANT } from "../core/stack-variants";
import { MTLS_HEADER_DISPLAY } from "../core/aws-headers";

/** The `igel.client-cert-forwarding` block of the UMS (or ICG) application.yml, as an object. */
export interface ClientCertForwarding {
  readonly enabled: boolean;
  readonly encodingType?: "URL_AWS";
  readonly "client-cert-forwarded-header"?: string;
}

/** The header the backend must read for this stack: the ALB's (possibly renamed) header of its mode. */
export function forwardedHeaderOf(spec: StackSpec): string | undefined {
  if (!spec.mtlsMode) return undefined;
  const renamed = spec.mtlsMode === "verify" ? spec.headerNames.leaf : spec.headerNames.clientcert;
  return renamed ?? MTLS_HEADER_DISPLAY[STACK_VARIANT[spec.variant].forwardedHeader!];
}

export function forwardingFor(spec: StackSpec): ClientCertForwarding {
  const header = forwardedHeaderOf(spec);
  return header ? { enabled: true, encodingType: "URL_AWS", "client-cert-forwarded-header": header } : { enabled: false };
}

/** The application.yml text to paste into `<UMS>\rmguiserver\conf\appconfig\application.yml`. */
export function applicationYmlFor(spec: StackSpec): string {
  return stringify({ igel: { "client-cert-forwarding": forwardingFor(spec) } });
}
