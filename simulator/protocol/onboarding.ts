/** `POST /device-connector/v1/onboard`: a device enrolls with a one-time key and a CSR. */
export interface OnboardRequest {
  readonly enrollmentKey: string;
  /** PKCS#10 PEM, CN = the unit id. */
  readonly csr: string;
  readonly unitId: string;
  readonly mac: string;
  readonly firmware: string;
}

export interface OnboardResponse {
  readonly unitId: string;
  /** The device id the UMS assigned (IMI `id`). */
  readonly deviceId: string;
  /** The signed device certificate (PEM). */
  readonly certificate: string;
  /** The issuing CA chain (PEM), intermediate first: what the device presents after its certificate. */
  readonly chain: string;
  /** Where the device opens its management WebSocket (the cluster address). */
  readonly clusterAddress?: string;
}

/** Every refusal body, from every component: the rule that refused and why. */
export interface Refusal {
  readonly error: string;
  readonly reason: string;
  /** Which component refused: ums, icg, alb, proxy. */
  readonly by: string;
}

export const MAX_ONBOARD_BODY_BYTES = 16 * 1024;
