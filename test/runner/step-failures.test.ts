/** Every way a step can fail is reported as its own kind, and the engine is left clean. */
import { afterAll, describe, expect, it } from "vitest";
import { LABEL, labelFilter } from "../../src/runner/index.js";
import { TRANSPORTS, engine, pythonRunner, textOf } from "./step-fixture.js";

describe.each(TRANSPORTS)("step failures, through %s", (transport) => {
  const runPython = pythonRunner(transport);

  afterAll(async () => {
    expect(await engine.listContainers([labelFilter(LABEL.run, `test-${process.pid}`)])).toEqual([]);
    expect(await engine.listVolumes([labelFilter(LABEL.run, `test-${process.pid}`)])).toEqual([]);
  });

  it("reports a non-zero exit with its status and the tail of stderr", async () => {
    const { result } = await runPython(`import sys
sys.stderr.write("x" * 10000 + "\\nthe last words\\n")
sys.exit(3)
`);
    expect(result).toMatchObject({ status: "failed", failure: "exit", exitCode: 3 });
    if (result.status !== "failed") return;
    expect(result.stderrTail?.endsWith("the last words\n")).toBe(true);
    expect(result.stderrTail!.length).toBeLessThanOrEqual(4096);
  });

  it("kills a step at its time limit", async () => {
    const started = Date.now();
    const { result } = await runPython("import time\ntime.sleep(60)\n", { timeoutMs: 1500 });
    expect(result).toMatchObject({ status: "failed", failure: "timeout" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("reports a memory hog as oom", async () => {
    const { result } = await runPython(
      'b = b"x" * (512 * 2**20)\nopen("/out/output", "wb").write(b[:10])\n',
      {
        memoryBytes: 64 * 2 ** 20,
      },
    );
    expect(result).toMatchObject({ status: "failed", failure: "oom" });
  });

  it("contains a fork bomb within 256 processes, and the host runs the next step", async () => {
    const { result, output } = await runPython(
      `import os, time
n = 0
try:
    while n < 10000:
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
except OSError:
    pass
open("/out/output", "w").write(str(n))
os._exit(0)
`,
      { timeoutMs: 30_000 },
    );
    // Either the script stopped at the limit (and said how far it got), or the step failed: both contained.
    if (result.status === "succeeded") expect(Number(output!.toString())).toBeLessThan(256);
    expect(textOf(await runPython('open("/out/output", "w").write("fine")'))).toBe("fine");
  });

  it("rejects a step that writes no output, or a symlink as output", async () => {
    expect((await runPython("pass\n")).result).toMatchObject({ status: "failed", failure: "output" });
    const link = await runPython('import os\nos.symlink("/etc/passwd", "/out/output")\n');
    expect(link.result).toMatchObject({ status: "failed", failure: "output" });
    if (link.result.status === "failed") expect(link.result.reason).toMatch(/symbolic link/);
    const dir = await runPython(
      'import os\nos.mkdir("/out/output")\nopen("/out/output/x", "w").write("x")\n',
    );
    expect(dir.result).toMatchObject({ status: "failed", failure: "output" });
  });

  it("rejects an output over the size limit", async () => {
    const { result } = await runPython('open("/out/output", "wb").write(b"x" * 5000)\n', {
      maxOutputBytes: 4096,
    });
    expect(result).toMatchObject({ status: "failed" });
    if (result.status === "failed") expect(["output", "exit"]).toContain(result.failure);
  });

  it("reports an image that does not exist as a start failure", async () => {
    const { result } = await runPython("pass\n", { image: "replay-no-such-image:never" });
    expect(result).toMatchObject({ status: "failed", failure: "start" });
  });

  it("stops and removes the container when the signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 1500);
    const started = Date.now();
    const { result } = await runPython("import time\ntime.sleep(60)\n", { signal: controller.signal });
    expect(result).toMatchObject({ status: "failed", failure: "interrupted" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
