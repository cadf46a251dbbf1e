/**
 * Device certificates the UMS itself revoked (the old certificate of a device the administrator
 * let re-enroll), checked on every device connection on top of the device CA's CRL file.
 * Serials are kept as upper-case hex, as X509Certificate.serialNumber gives them.
 */
export class RevokedCertificates {
  private readonly serials = new Map<string, string>();

  /** Revokes `serial`, remembering why (for refusal reasons). */
  revoke(serial: string, why: string): void {
    this.serials.set(serial.toUpperCase(), why);
  }

  /** Why `serial` was revoked, or undefined when it was not. */
  reason(serial: string): string | undefined {
    return this.serials.get(serial.toUpperCase());
  }

  get size(): number {
    return this.serials.size;
  }
}
