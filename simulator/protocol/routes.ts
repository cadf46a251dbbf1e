import { HEALTH_CHECK_PATH } from "../../core/igel";

/** The HTTP routes of the mock UMS and the ICG (design section 6). */
export const ROUTES = {
  info: HEALTH_CHECK_PATH.ums,
  serverStatus: "/umsapi/v3/serverstatus",
  login: "/umsapi/v3/login",
  logout: "/umsapi/v3/logout",
  thinclients: "/umsapi/v3/thinclients",
  /** `GET /umsapi/v3/commands/<exec_id>`: one command's state (mock UMS addition to IMI). */
  commands: "/umsapi/v3/commands",
  /** `POST /umsapi/v3/enrollmentkeys {"count": N}`: mint one-time enrollment keys (mock UMS addition). */
  enrollmentKeys: "/umsapi/v3/enrollmentkeys",
  onboard: "/device-connector/v1/onboard",
  deviceSocket: "/device-connector/v1/ws",
  appProxy: "/ums-appproxy/v1/apps",
  webApp: "/wums-app/",
  legacyWebApp: "/webapp/",
  icgStatus: HEALTH_CHECK_PATH.icg,
  /** The UMS's outgoing WebSocket to the ICG (ours; a real ICG's tunnel protocol is closed). */
  icgTunnel: "/usg/v1/tunnel",
} as const;
