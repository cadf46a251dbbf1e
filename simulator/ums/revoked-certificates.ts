/**
 * Device certificates the UMS itself revoked (the old certificate of a device the administrator
 * let re-enroll), checked on every device connection on top of the device CA's CRL file. Kept in
 * the UMS store, so every server of a cluster refuses them. Serials are upper-case hex, as
 * X509Certificate.serialNumber gives them.
 */
export interface RevokedCertificates {
  /** Revokes `serial`, remembering why (for refusal reasons). */
  revoke(serial: string, why: string): Promise<void>;
  /** Why `serial` was revoked, or undefined when it was not. */
  reason(serial: string): Promise<string | undefined>;
}
