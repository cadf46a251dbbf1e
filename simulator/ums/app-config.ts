/**
 * The UMS `application.yml` reader. It moved to simulator/protocol/app-config.ts so that the ICG
 * (which reads the same `igel.client-cert-forwarding` block) shares it without importing the UMS;
 * this module keeps the names the UMS and its users import.
 */
export { parseAppConfig, loadAppConfig, describeForwarding, DEFAULT_APP_CONFIG, UMS_READER, ICG_READER } from "../../core/ums-app-config";
export type { AppConfig as UmsAppConfig, AppConfig, ClientCertForwarding, ForwardingEncoding, ConfigReader } from "../../core/ums-app-config";
