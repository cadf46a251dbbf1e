import { ROUTES } from "./routes";

/**
 * `GET /ums-appproxy/v1/apps/<app>/<version>`: the UMS as update proxy serves an app's bytes and
 * their digest; the device refuses bytes whose digest differs (a truncated or altered download).
 */

/** Lower-case hex SHA-256 of the body. */
export const APP_DIGEST_HEADER = "x-ums-app-sha256";

/** App names and versions the update proxy accepts (letters, digits, `.`, `_`, `-`). */
export const APP_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function appPath(app: string, version: string): string {
  return `${ROUTES.appProxy}/${encodeURIComponent(app)}/${encodeURIComponent(version)}`;
}

/**
 * The `error` of a refusal saying the update proxy is not available at this address at all (an
 * ICG does not relay it): the device then fetches the app from the IGEL App Portal instead.
 */
export const UPDATE_PROXY_UNAVAILABLE = "update-proxy-unavailable";
