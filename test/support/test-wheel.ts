/**
 * Builds a tiny pure-Python wheel in a folder (a local wheelhouse), deterministically, with
 * the host's python3 zipfile module, and returns the requirements.lock line pinning it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const WHEEL_SCRIPT = `
import base64, hashlib, sys, zipfile
out, name, version, module_source = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
dist = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": module_source.encode(),
    f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n".encode(),
    f"{dist}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: replay-runner-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = "".join(
    f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\\n"
    for p, b in files.items()
) + f"{dist}/RECORD,,\\n"
files[f"{dist}/RECORD"] = record.encode()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for p, b in files.items():
        info = zipfile.ZipInfo(p, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, b)
`;

export interface TestWheel {
  file: string;
  sha256: string;
  /** `name==version --hash=sha256:<hex>\n`, pip's hash-checking format. */
  lockLine: string;
}

export async function buildTestWheel(
  wheelhouse: string,
  name: string,
  version: string,
  moduleSource: string,
): Promise<TestWheel> {
  await mkdir(wheelhouse, { recursive: true });
  const file = path.join(wheelhouse, `${name}-${version}-py3-none-any.whl`);
  await run("python3", ["-c", WHEEL_SCRIPT, file, name, version, moduleSource]);
  const sha256 = createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
  return { file, sha256, lockLine: `${name}==${version} --hash=sha256:${sha256}\n` };
}
