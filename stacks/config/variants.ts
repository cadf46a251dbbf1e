import { MTLS_HEADER_DISPLAY } from "../../simulator/protocol/aws-headers";
import type { StackVariant } from "./schema";

export type Backend = "ums" | "icg";
export type MtlsMode = "verify" | "passthrough";

export interface VariantFacts {
  readonly backend: Backend;
  /** undefined: no ALB in front (ums-direct). */
  readonly mtlsMode?: MtlsMode;
}

export const VARIANT_FACTS: Readonly<Record<StackVariant, VariantFacts>> = {
  "ums-alb-verify": { backend: "ums", mtlsMode: "verify" },
  "ums-alb-passthrough": { backend: "ums", mtlsMode: "passthrough" },
  "icg-alb-verify": { backend: "icg", mtlsMode: "verify" },
  "icg-alb-passthrough": { backend: "icg", mtlsMode: "passthrough" },
  "ums-direct": { backend: "ums" },
};

/** The header the backend must read the client certificate from (IGEL guide, application.yml). */
export function defaultForwardedHeader(mode: MtlsMode): string {
  return mode === "verify" ? MTLS_HEADER_DISPLAY.leaf : MTLS_HEADER_DISPLAY.clientcert;
}
