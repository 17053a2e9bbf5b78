/**
 * Untrusted registry values never become markup, and the diff endpoint never reads outside a
 * replay's own output folder (the manifest row's path is database data).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDiffFile } from "../../src/server/diff-files.js";
import { escapeHtml, html, raw } from "../../src/server/pages/html.js";

describe("html escaping", () => {
  it("escapes every interpolated value unless it was built as markup", () => {
    const title = `<script>alert("x")</script>&'`;
    expect(html`<h1 title="${title}">${title}</h1>`.value).toBe(
      '<h1 title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</h1>',
    );
    const items = ["<a>", html`<li>${"<b>"}</li>`];
    // prettier-ignore
    expect(html`<ul>${items}</ul>`.value).toBe("<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>");
    expect(html`${raw("<br>")}${null}${undefined}${false}${0}`.value).toBe("<br>0");
    expect(escapeHtml("a&b")).toBe("a&amp;b");
  });
});

describe("readDiffFile", () => {
  let dir: string;
  let out: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "rr-diff-"));
    out = path.join(dir, "replay");
    await mkdir(path.join(out, "diffs"), { recursive: true });
    await writeFile(path.join(out, "diffs", "s1.diff"), "-a\n+b\n");
    await writeFile(path.join(dir, "secret.txt"), "not yours");
    await symlink(path.join(dir, "secret.txt"), path.join(out, "diffs", "link.diff"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a diff inside the output folder", async () => {
    expect(await readDiffFile(out, "diffs/s1.diff")).toEqual({ text: "-a\n+b\n", truncated: false });
    expect(await readDiffFile(out, "diffs/s1.diff", 3)).toEqual({ text: "-a\n", truncated: true });
  });

  it("refuses paths that leave it: .., absolute, symbolic links, folders, missing files", async () => {
    expect(await readDiffFile(out, "../secret.txt")).toBeNull();
    expect(await readDiffFile(out, path.join(dir, "secret.txt"))).toBeNull();
    expect(await readDiffFile(out, "diffs/link.diff")).toBeNull();
    expect(await readDiffFile(out, "diffs")).toBeNull();
    expect(await readDiffFile(out, ".")).toBeNull();
    expect(await readDiffFile(out, "diffs/none.diff")).toBeNull();
  });
});
