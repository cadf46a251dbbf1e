import { ROUTES } from "../protocol/routes";
import { sendHtml } from "../common/http-io";
import type { Router } from "./router";

/**
 * The UMS Web App (`/wums-app/`, and the older `/webapp/`): a small page a browser loads without a
 * client certificate. The marker comment lets probes tell this page from a proxy's error page.
 */

export const WEB_APP_MARKER = "<!-- ums-edge mock UMS web app -->";

function page(title: string, fqdn: string): string {
  return `<!doctype html>
<html lang="en">
${WEB_APP_MARKER}
<head><meta charset="utf-8"><title>${title}</title></head>
<body>
<h1>${title}</h1>
<p>Mock IGEL UMS Web App for ${fqdn}. Signed in: nobody (this page needs no client certificate).</p>
</body>
</html>
`;
}

export function registerWebApp(router: Router, fqdn: string): void {
  for (const [prefix, title] of [
    [ROUTES.webApp, "UMS Web App"],
    [ROUTES.legacyWebApp, "UMS Web App (webapp)"],
  ] as const) {
    const html = page(title, fqdn);
    router.add("GET", `${prefix}*`, ({ res }) => sendHtml(res, 200, html));
  }
}
