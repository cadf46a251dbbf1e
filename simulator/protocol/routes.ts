/**
 * The HTTP routes of the mock UMS and the ICG (design section 6), and the path prefixes the IGEL
 * reverse-proxy guidance says must reach the UMS.
 */
export const ROUTES = {
  info: "/info",
  serverStatus: "/umsapi/v3/serverstatus",
  login: "/umsapi/v3/login",
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
  icgStatus: "/usg/check-status",
  /** The UMS's outgoing WebSocket to the ICG (ours; a real ICG's tunnel protocol is closed). */
  icgTunnel: "/usg/v1/tunnel",
} as const;

/** Path patterns in ALB listener-rule syntax (`*` matches any characters). */
export const ALLOWED_PATH_PATTERNS = ["/device-connector/*", "/ums-appproxy/*", "/wums-app/*", "/webapp/*"] as const;

/** The same allow-list as plain prefixes, for nginx locations and simple checks. */
export const ALLOWED_PATH_PREFIXES = ALLOWED_PATH_PATTERNS.map((p) => p.slice(0, -1));

export const HEALTH_CHECK_PATH = { ums: ROUTES.info, icg: ROUTES.icgStatus } as const;
