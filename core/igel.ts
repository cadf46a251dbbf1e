/**
 * Facts about IGEL's products that both the stacks and the simulator rely on, from IGEL's guide
 * ("Configuration of an AWS Application Loadbalancer (ALB) for Deploying the IGEL UMS") and its
 * connection-options article (../shared/seeds/).
 */

/** What sits behind a front: the UMS itself, or an IGEL Cloud Gateway. */
export type Backend = "ums" | "icg";

/** The Unified Protocol port: devices reach the UMS (or ICG) on TCP 8443; the ALB's target group uses it too. */
export const DEVICE_PORT = 8443;

/** The target group's health-check path per backend (IGEL guide, "Creating a Target Group"). */
export const HEALTH_CHECK_PATH: Readonly<Record<Backend, string>> = { ums: "/info", icg: "/usg/check-status" };

/**
 * Paths that must reach the UMS through a reverse proxy (connection-options article): onboarding and
 * device communication, the update proxy, the web app. In ALB listener-rule syntax (`*`: any characters).
 */
export const ALLOWED_PATH_PATTERNS = ["/device-connector/*", "/ums-appproxy/*", "/wums-app/*", "/webapp/*"] as const;

/** The same allow-list as plain prefixes, for nginx locations and simple checks. */
export const ALLOWED_PATH_PREFIXES: readonly string[] = ALLOWED_PATH_PATTERNS.map((p) => p.slice(0, -1));
