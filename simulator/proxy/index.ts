export * from "./nginx-reverse-proxy";
export { renderNginxConfig } from "./nginx-config";
export type { NginxConfigParams } from "./nginx-config";
export { resolveNginxBinary, NGINX_FIX } from "./nginx-binary";
