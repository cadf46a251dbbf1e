import { stringify } from "yaml";
import type { MtlsMode } from "../core/stack-variants";
import { MTLS_HEADER_DISPLAY, MtlsHeaderKey } from "../core/aws-headers";

/** The `igel.client-cert-forwarding` block of the UMS (or ICG) application.yml, as an object. */
export interface ClientCertForwarding {
  readonly enabled: boolean;
  readonly encodingType?: "URL_AWS";
  readonly "client-cert-forwarded-header"?: string;
}

/** The header the backend must read behind a front in `mode`: the ALB's (possibly renamed) header of that mode. */
export function forwardedHeaderOf(mode: MtlsMode | undefined, headerNames: Readonly<Partial<Record<MtlsHeaderKey, string>>> = {}): string | undefined {
  if (!mode) return undefined;
  const key: MtlsHeaderKey = mode === "verify" ? "leaf" : "clientcert";
  return headerNames[key] ?? MTLS_HEADER_DISPLAY[key];
}

export function forwardingFor(mode: MtlsMode | undefined, headerNames?: Readonly<Partial<Record<MtlsHeaderKey, string>>>): ClientCertForwarding {
  const header = forwardedHeaderOf(mode, headerNames);
  return header ? { enabled: true, encodingType: "URL_AWS", "client-cert-forwarded-header": header } : { enabled: false };
}

/** The application.yml text to paste into `<UMS>\rmguiserver\conf\appconfig\application.yml`. */
export function applicationYmlFor(mode: MtlsMode | undefined, headerNames?: Readonly<Partial<Record<MtlsHeaderKey, string>>>): string {
  return stringify({ igel: { "client-cert-forwarding": forwardingFor(mode, headerNames) } });
}
