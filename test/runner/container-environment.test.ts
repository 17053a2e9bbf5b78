/** What the step sees, line by line against the contract ("Container steps"). */
import { afterAll, describe, expect, it } from "vitest";
import { contentHashOf } from "../../src/hashing/index.js";
import { bytesSource } from "../../src/runner/index.js";
import { CONTRACT_ENV, TRANSPORTS, executors, pythonRunner, textOf } from "./step-fixture.js";

// The command runs before /out/output is opened: the listing must see an empty /out.
const SHELL_PROBE = `import subprocess, sys
text = subprocess.run(["sh", "-c", sys.argv[1]], capture_output=True, text=True).stdout
open("/out/output", "w").write(text)
`;

describe.each(TRANSPORTS)("the sandbox a step sees, through %s", (transport) => {
  const runPython = pythonRunner(transport);
  const shell = async (cmd: string): Promise<string> =>
    textOf(await runPython(SHELL_PROBE, { command: ["python3", "/code/main.py", cmd] }));

  afterAll(() => {
    // Host mounts fall back to archives when the engine refuses them: here it must not have.
    expect(executors[transport].transport).toBe(transport);
  });

  it("has exactly the contract's environment variables, user, host name and working directory", async () => {
    const env = await shell("env | sort");
    const expected = Object.entries({ ...CONTRACT_ENV, HOSTNAME: "replay", PWD: "/work" })
      .map(([k, v]) => `${k}=${v}`)
      .sort();
    // `sh` itself adds SHLVL? dash does not; PWD is the shell's. Nothing from the host.
    expect(env.trim().split("\n").sort()).toEqual(expected);
    expect(await shell("id -u; id -g; hostname; pwd")).toBe("65534\n65534\nreplay\n/work\n");
  });

  it("has root-owned /in and /code, and empty writable /out, /work and /tmp", async () => {
    const listing = await shell(
      "stat -c '%n %U:%G %a' /in /code /out /work /tmp; find /out /work /tmp -mindepth 1 | wc -l",
    );
    expect(listing).toBe(
      "/in root:root 755\n/code root:root 755\n/out nobody:nogroup 755\n/work nobody:nogroup 755\n/tmp root:root 1777\n0\n",
    );
    const files = await shell("stat -c '%n %U:%G %a %s %Y' /in/source /in/params.json /code/main.py");
    expect(files).toBe(
      `/in/source root:root 444 8 1700000000\n/in/params.json root:root 444 4 1700000000\n/code/main.py root:root 444 ${Buffer.byteLength(SHELL_PROBE)} 1700000000\n`,
    );
  });

  it("has no network: only lo, connections and name resolution fail", async () => {
    const out = textOf(
      await runPython(`import os, socket
lines = [" ".join(sorted(os.listdir("/sys/class/net")))]
for what, f in [("connect", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)),
                ("resolve", lambda: socket.getaddrinfo("deb.debian.org", 80))]:
    try:
        f(); lines.append(what + " ok")
    except OSError as e:
        lines.append(what + " failed")
open("/out/output", "w").write("\\n".join(lines))
`),
    );
    expect(out).toBe("lo\nconnect failed\nresolve failed");
  });

  it("cannot change its inputs, its code or the root file system; can write /out, /work and /tmp", async () => {
    const out = textOf(
      await runPython(`import os
res = []
for p in ["/in/source", "/in/new", "/code/x", "/code/main.py", "/x", "/etc/passwd", "/usr/local/x", "/out/x", "/work/x", "/tmp/x"]:
    try:
        with open(p, "a") as f: f.write("x")
        res.append(p + " writable")
    except OSError:
        res.append(p + " refused")
for p in ["/in/source", "/code/main.py"]:
    try:
        os.chmod(p, 0o666); res.append(p + " chmod ok")
    except OSError:
        res.append(p + " chmod refused")
open("/out/output", "w").write("\\n".join(res))
`),
    );
    expect(out.split("\n")).toEqual([
      "/in/source refused",
      "/in/new refused",
      "/code/x refused",
      "/code/main.py refused",
      "/x refused",
      "/etc/passwd refused",
      "/usr/local/x refused",
      "/out/x writable",
      "/work/x writable",
      "/tmp/x writable",
      "/in/source chmod refused",
      "/code/main.py chmod refused",
    ]);
  });

  it("reads exactly the bytes put in, and params.json as given", async () => {
    const bytes = Buffer.alloc(3 * 2 ** 20 + 7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    const params = Buffer.from('{"a":[1,2],"b":"é"}');
    const out = textOf(
      await runPython(
        `import hashlib
h = lambda p: "sha256:" + hashlib.sha256(open(p, "rb").read()).hexdigest()
open("/out/output", "w").write(h("/in/source") + " " + h("/in/other") + " " + open("/in/params.json").read())
`,
        { inputs: [bytesSource("source", bytes), bytesSource("other", Buffer.from(""))], params },
      ),
    );
    expect(out).toBe(`${contentHashOf(bytes)} ${contentHashOf(Buffer.alloc(0))} ${params.toString()}`);
  });

  it("gives the same output bytes whatever the host's TZ, locale, umask and environment", async () => {
    const probe = `import os, subprocess, time
u = os.umask(0); os.umask(u)
text = subprocess.run(["sh", "-c", "env | sort; date; locale 2>/dev/null; ls -l --time-style=full-iso /in /code"], capture_output=True, text=True).stdout
open("/out/output", "w").write(f"umask={u:o}\\n{time.strftime('%c %Z', time.localtime(int(os.environ['SOURCE_DATE_EPOCH'])))}\\n{text}")
`;
    const first = await runPython(probe);
    const saved = {
      TZ: process.env.TZ,
      LANG: process.env.LANG,
      LC_ALL: process.env.LC_ALL,
      FOO: process.env.FOO,
    };
    const savedUmask = process.umask(0o077);
    Object.assign(process.env, { TZ: "Asia/Tokyo", LANG: "de_DE.UTF-8", LC_ALL: "de_DE.UTF-8", FOO: "leak" });
    try {
      const second = await runPython(probe);
      expect(textOf(second)).not.toContain("leak");
      // Only the `date` line depends on the wall clock; everything else must be identical.
      const stable = (s: string) => s.split("\n").filter((l) => !/^\w{3} \w{3} .* UTC \d{4}$/.test(l));
      expect(stable(textOf(second))).toEqual(stable(textOf(first)));
      expect(textOf(first)).toContain("umask=22\nTue Nov 14 22:13:20 2023 UTC\n");
    } finally {
      process.umask(savedUmask);
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) Reflect.deleteProperty(process.env, k);
        else process.env[k] = v;
      }
    }
  });
});
