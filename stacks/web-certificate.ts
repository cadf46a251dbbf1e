import { AcmCertificate, AssetType, Construct, Fn, TerraformAsset } from "./aws";
import { propsChecker } from "./props-error";

export interface WebCertificateFiles {
  /** The unencrypted private key (PEM blocks only). */
  readonly privateKey: string;
  /** The certificate alone (`headonly-body.pem` in IGEL's guide). */
  readonly body: string;
  /**
   * The intermediates, issuer of the body first, without the body itself: ACM's `certificate_chain`
   * ("Do not include your end-entity certificate in the intermediate certificate chain").
   * @default none: the body's issuer is a root the clients trust
   */
  readonly chain?: string;
}

export interface WebCertificateProps {
  /** Import these files into ACM. Exactly one of `files` and `existingArn`. @default none */
  readonly files?: WebCertificateFiles;
  /** Use a certificate already in ACM. @default none */
  readonly existingArn?: string;
  /** Name tag of the imported certificate. @default none */
  readonly name?: string;
}

/** Prop checks in the words of the construct's fields. */
export function validateWebCertificateProps(props: WebCertificateProps): void {
  const { check } = propsChecker("WebCertificate");
  check(props.files !== undefined || props.existingArn !== undefined, "files", "You must set 'files' or 'existingArn'");
  check(props.files === undefined || props.existingArn === undefined, "existingArn", "Set only one of 'files' and 'existingArn'");
}

/**
 * The UMS web certificate in ACM. The files become Terraform assets read with file(), so the private
 * key is never written inline into the synthesized JSON.
 */
export class WebCertificate extends Construct {
  readonly certificateArn: string;

  constructor(scope: Construct, id: string, props: WebCertificateProps) {
    super(scope, id);
    validateWebCertificateProps(props);
    if (!props.files) {
      this.certificateArn = props.existingArn!;
      return;
    }
    const asset = (name: string, file: string) => Fn.file(new TerraformAsset(this, name, { path: file, type: AssetType.FILE }).path);
    const { files } = props;
    const certificate = new AcmCertificate(this, "certificate", {
      privateKey: asset("private-key", files.privateKey),
      certificateBody: asset("body", files.body),
      certificateChain: files.chain ? asset("chain", files.chain) : undefined,
      tags: props.name ? { Name: props.name } : undefined,
      lifecycle: { createBeforeDestroy: true },
    });
    this.certificateArn = certificate.arn;
  }
}
