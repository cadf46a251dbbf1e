import { resolveNginxBinary } from "../../simulator/proxy/nginx-binary";

/** Why the real-nginx tests cannot run here, or undefined when they can (for the skipped test's name). */
export function nginxUnavailableReason(): string | undefined {
  try {
    resolveNginxBinary();
    return undefined;
  } catch {
    return "nginx is not installed, run scripts/ensure-system-tools.sh";
  }
}
