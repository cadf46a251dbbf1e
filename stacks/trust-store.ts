import { AssetType, Construct, Fn, LbTrustStore, LbTrustStoreRevocation, S3Object, TerraformAsset } from "./aws";
import { SecureBucket } from "./secure-bucket";
import { propsChecker } from "./props-error";

/** Trust store names: ELB API CreateTrustStore, `Name` (1-32 characters, pattern ^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$). */
const TRUST_STORE_NAME = { maxLength: 32, pattern: /^([a-zA-Z0-9]+-)*[a-zA-Z0-9]+$/ } as const;

export interface TrustStoreProps {
  /** Prefix of the bucket name (S3 appends a unique suffix). */
  readonly namePrefix: string;
  /** The trust store's name, unique per region. @default `<namePrefix>-ts` */
  readonly name?: string;
  /** The CA bundle (PEM blocks only, LF), uploaded as the trust store's CA certificates. */
  readonly caBundleFile: string;
  /** A CRL (PEM) of a CA in the bundle, added as the trust store's revocation list. @default none */
  readonly crlFile?: string;
}

/** Prop checks in the words of the construct's fields. */
export function validateTrustStoreProps(props: TrustStoreProps): void {
  const { check } = propsChecker("TrustStore");
  const name = props.name ?? `${props.namePrefix}-ts`;
  check(name.length <= TRUST_STORE_NAME.maxLength, "name", `'name' '${name}' is ${name.length} characters; AWS allows at most ${TRUST_STORE_NAME.maxLength} for a trust store name`);
  check(TRUST_STORE_NAME.pattern.test(name), "name", `'name' '${name}' may hold only letters, digits and single hyphens, not at either end (AWS trust store names)`);
}

/**
 * The ALB trust store for mTLS `verify`: the CA bundle in a private versioned bucket, the trust store
 * pinned to that object's version (a new bundle makes a new version, which updates the trust store).
 */
export class TrustStore extends Construct {
  readonly store: SecureBucket;
  readonly trustStore: LbTrustStore;
  readonly revocation?: LbTrustStoreRevocation;

  constructor(scope: Construct, id: string, props: TrustStoreProps) {
    super(scope, id);
    validateTrustStoreProps(props);
    // Only bundle versions live here: nothing to keep once the stack is destroyed.
    this.store = new SecureBucket(this, "store", { namePrefix: `${props.namePrefix}-truststore-`, forceDestroy: true });
    const bucket = this.store.bucket.id;
    const bundle = this.upload("ca-bundle", props.caBundleFile, "trust-store/client-ca-chain.pem");
    this.trustStore = new LbTrustStore(this, "trust-store", {
      name: props.name ?? `${props.namePrefix}-ts`,
      caCertificatesBundleS3Bucket: bucket,
      caCertificatesBundleS3Key: bundle.key,
      caCertificatesBundleS3ObjectVersion: bundle.versionId,
    });
    if (props.crlFile) {
      const crl = this.upload("crl", props.crlFile, "trust-store/revocations.crl.pem");
      this.revocation = new LbTrustStoreRevocation(this, "revocation", {
        trustStoreArn: this.trustStore.arn,
        revocationsS3Bucket: bucket,
        revocationsS3Key: crl.key,
        revocationsS3ObjectVersion: crl.versionId,
      });
    }
  }

  /** A file of the stack's assets, uploaded after versioning is on (so the object has a version). */
  private upload(id: string, file: string, key: string): S3Object {
    const asset = new TerraformAsset(this, `${id}-asset`, { path: file, type: AssetType.FILE });
    return new S3Object(this, id, {
      bucket: this.store.bucket.id,
      key,
      source: asset.path,
      sourceHash: Fn.filemd5(asset.path),
      contentType: "application/x-pem-file",
      dependsOn: [this.store.versioning],
    });
  }
}
