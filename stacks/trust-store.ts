import { Construct } from "constructs";
import { AssetType, Fn, TerraformAsset } from "cdktf";
import { LbTrustStore, LbTrustStoreRevocation, S3Object } from "./aws";
import { SecureBucket } from "./secure-bucket";

export interface TrustStoreProps {
  /** Prefix of the bucket and trust store names. */
  readonly namePrefix: string;
  /** The UMS client certificate chain (PEM), uploaded as the trust store's CA bundle. */
  readonly caBundleFile: string;
  /** A CRL (PEM) of a CA in the bundle, added as the trust store's revocation list. @default none */
  readonly crlFile?: string;
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
    this.store = new SecureBucket(this, "store", { namePrefix: `${props.namePrefix}-truststore-` });
    const bucket = this.store.bucket.id;
    const bundle = this.upload("ca-bundle", props.caBundleFile, "trust-store/client-ca-chain.pem");
    this.trustStore = new LbTrustStore(this, "trust-store", {
      name: `${props.namePrefix}-ts`,
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
