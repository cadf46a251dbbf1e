export { MockUms, StartedMockUms, DEFAULT_ADMIN, MOCK_UMS_VERSION } from "./mock-ums";
export type { MockUmsOptions, UmsEndpoints } from "./mock-ums";
export { ImiClient, ImiHttpError } from "./imi-client";
export type { ImiClientOptions, HttpAnswer } from "./imi-client";
export type { LogEntry } from "../common/structured-log";
export type { AdminCredentials } from "./admin-auth";
export { appPackage } from "./app-proxy";
export { WEB_APP_MARKER } from "./web-app";
export type { IcgLinkOptions } from "./icg-connector";
