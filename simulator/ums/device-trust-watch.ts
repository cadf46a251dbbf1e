import * as fs from "node:fs";
import { ChainVerifier } from "../pki";
import { watchFiles } from "../common/file-watch";

/**
 * The UMS's device CA chain and CRL files, watched: when the administrator revokes a device (a new
 * CRL) or the device CA changes, the UMS judges every connection from then on by the new files,
 * without a restart, and tells whoever relays devices for it (the ICG) through `onUpdate`. An
 * unusable new file is reported through `onError` and the previous trust stays.
 */
export interface DeviceTrustWatchOptions {
  readonly chainFile: string;
  /** Undefined: revocation is not checked. */
  readonly crlFile?: string;
  /** Check interval, ms; 0 never checks. */
  readonly pollMs: number;
  readonly onUpdate: (verifier: ChainVerifier, chainPem: string, crlPem: string | undefined) => void;
  readonly onError: (reason: string) => void;
}

export class DeviceTrustWatch {
  private readonly files: string[];
  readonly stop: () => void;

  constructor(private readonly o: DeviceTrustWatchOptions) {
    this.files = [o.chainFile, ...(o.crlFile ? [o.crlFile] : [])];
    this.stop = watchFiles(this.files, o.pollMs, () => this.reload());
  }

  /** Reads the files again now. */
  reload(): void {
    try {
      const chain = fs.readFileSync(this.o.chainFile, "utf8");
      const crl = this.o.crlFile ? fs.readFileSync(this.o.crlFile, "utf8") : undefined;
      this.o.onUpdate(new ChainVerifier(chain, crl), chain, crl);
    } catch (e) {
      this.o.onError(`${this.files.join(", ")}: ${(e as Error).message}; the previous device CA chain and CRL stay`);
    }
  }
}
