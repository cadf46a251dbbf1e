import * as fs from "node:fs";
import * as path from "node:path";
import { UserError } from "../../core/errors";

/** Where distributions put nginx; root's PATH has /usr/sbin, a normal user's often does not. */
const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/bin"];

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export const NGINX_FIX =
  "run scripts/ensure-system-tools.sh (as root it installs it with 'apt-get install -y nginx-light'), or install nginx yourself, or set the proxy's 'nginxBinary' option to its path";

/**
 * The nginx executable: `binary` itself when it names a path, else the first `binary` on PATH or in
 * the sbin directories. Throws a UserError naming the fix when there is none.
 */
export function resolveNginxBinary(binary = "nginx"): string {
  if (binary.includes("/")) {
    if (executable(binary)) return path.resolve(binary);
    throw new UserError(`nginx not found: '${binary}' is not an executable file.\n  fix: ${NGINX_FIX}`);
  }
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    if (executable(candidate)) return candidate;
  }
  throw new UserError(`nginx not found: no '${binary}' on PATH or in ${EXTRA_DIRS.join(", ")}.\n  fix: ${NGINX_FIX}`);
}
