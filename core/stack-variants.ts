import type { Backend } from "./igel";
import { DEVICE_PORT, HEALTH_CHECK_PATH } from "./igel";
import type { MtlsHeaderKey } from "./aws-headers";

/**
 * The stack variants of IGEL's guide, one record each: the config schema, the stacks and the
 * simulator all read these, so a variant's listeners, backend and header are written down once.
 */

export const STACK_VARIANTS = ["ums-alb-verify", "ums-alb-passthrough", "icg-alb-verify", "icg-alb-passthrough", "ums-direct"] as const;
export type StackVariant = (typeof STACK_VARIANTS)[number];

/** ALB mutual-TLS modes, spelled as the AWS provider spells them. */
export type MtlsMode = "verify" | "passthrough";

/** The listener ports of the guide's ALB: 8443 with mTLS, 443 without (verify variant only). */
export const MTLS_PORT = DEVICE_PORT;
export const TLS_PORT = 443;

export interface ListenerFacts {
  /** Key of the listener in the stack (`mtls`, `tls`). */
  readonly name: "mtls" | "tls";
  readonly port: number;
  readonly mtls: MtlsMode | "off";
  /** What devices use it for. */
  readonly purpose: string;
}

export interface StackVariantFacts {
  readonly name: StackVariant;
  /** Short code in resource names (keeps them inside AWS's 32-character limits). */
  readonly code: string;
  readonly backend: Backend;
  /** undefined: no load balancer (devices reach the UMS directly). */
  readonly mtlsMode?: MtlsMode;
  /** The load balancer's listeners, mTLS first; none without a load balancer. */
  readonly listeners: readonly ListenerFacts[];
  /** The target group's health-check path (the backend's). */
  readonly healthPath: string;
  /**
   * Whether the load balancer forwards only IGEL's device and web-app paths (404 for the rest) unless
   * the config says otherwise: on for a UMS (IGEL's reverse-proxy guidance), off for an ICG, which is
   * built to face the internet; false without a load balancer.
   */
  readonly pathAllowListByDefault: boolean;
  /** The header the backend reads the client certificate from, before any rename; none without a load balancer. */
  readonly forwardedHeader?: MtlsHeaderKey;
}

const MTLS_VERIFY: ListenerFacts = { name: "mtls", port: MTLS_PORT, mtls: "verify", purpose: "device management with a verified client certificate (the cluster address)" };
const TLS_ENROLLMENT: ListenerFacts = { name: "tls", port: TLS_PORT, mtls: "off", purpose: "onboarding and the web app without a client certificate (the OS 12 device enrollment address)" };
const MTLS_PASSTHROUGH: ListenerFacts = { name: "mtls", port: MTLS_PORT, mtls: "passthrough", purpose: "everything: onboarding, management, web app; the backend verifies the forwarded chain" };

function alb(name: StackVariant, code: string, backend: Backend, mode: MtlsMode): StackVariantFacts {
  return {
    name,
    code,
    backend,
    mtlsMode: mode,
    listeners: mode === "verify" ? [MTLS_VERIFY, TLS_ENROLLMENT] : [MTLS_PASSTHROUGH],
    healthPath: HEALTH_CHECK_PATH[backend],
    pathAllowListByDefault: backend === "ums",
    forwardedHeader: mode === "verify" ? "leaf" : "clientcert",
  };
}

export const STACK_VARIANT: Readonly<Record<StackVariant, StackVariantFacts>> = {
  "ums-alb-verify": alb("ums-alb-verify", "uv", "ums", "verify"),
  "ums-alb-passthrough": alb("ums-alb-passthrough", "up", "ums", "passthrough"),
  "icg-alb-verify": alb("icg-alb-verify", "iv", "icg", "verify"),
  "icg-alb-passthrough": alb("icg-alb-passthrough", "ip", "icg", "passthrough"),
  "ums-direct": { name: "ums-direct", code: "ud", backend: "ums", listeners: [], healthPath: HEALTH_CHECK_PATH.ums, pathAllowListByDefault: false },
};

/** The load-balanced variant with this backend and mTLS mode (every pair has one). */
export function albVariantOf(backend: Backend, mode: MtlsMode): StackVariantFacts {
  const found = Object.values(STACK_VARIANT).find((v) => v.backend === backend && v.mtlsMode === mode);
  if (!found) throw new Error(`no stack variant has backend '${backend}' and mode '${mode}'`);
  return found;
}

export function isStackVariant(value: string): value is StackVariant {
  return (STACK_VARIANTS as readonly string[]).includes(value);
}
