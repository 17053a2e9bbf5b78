/**
 * Image references as docker/distribution's `reference` package parses them (the cases follow
 * its reference_test.go and normalize_test.go): what the engine accepts passes, everything
 * else is refused with what is wrong, before any engine call.
 */
import { describe, expect, it } from "vitest";
import { checkImageReference, quotedReference } from "../../src/images/index.js";

const SHA = "a".repeat(64);

describe("checkImageReference", () => {
  it.each([
    [
      "replay-base:bookworm",
      { domain: "docker.io", path: "library/replay-base", tag: "bookworm", digest: null },
    ],
    ["test_com", { domain: "docker.io", path: "library/test_com", tag: null, digest: null }],
    ["test.com:tag", { domain: "docker.io", path: "library/test.com", tag: "tag", digest: null }],
    ["test.com:5000", { domain: "docker.io", path: "library/test.com", tag: "5000", digest: null }],
    ["test.com/repo:tag", { domain: "test.com", path: "repo", tag: "tag", digest: null }],
    ["test:5000/repo", { domain: "test:5000", path: "repo", tag: null, digest: null }],
    ["localhost/a/b:t", { domain: "localhost", path: "a/b", tag: "t", digest: null }],
    ["[::1]:5000/repo", { domain: "[::1]:5000", path: "repo", tag: null, digest: null }],
    ["Example.COM/a", { domain: "Example.COM", path: "a", tag: null, digest: null }],
    ["a__b/c---d.e_f", { domain: "docker.io", path: "a__b/c---d.e_f", tag: null, digest: null }],
    [
      `test:5000/repo@sha256:${SHA}`,
      { domain: "test:5000", path: "repo", tag: null, digest: `sha256:${SHA}` },
    ],
    [
      `repo:Tag_1.2-x@sha512:${"b".repeat(128)}`,
      { domain: "docker.io", path: "library/repo", tag: "Tag_1.2-x", digest: `sha512:${"b".repeat(128)}` },
    ],
  ])("accepts %s", (text, reference) => {
    expect(checkImageReference(text)).toEqual({ ok: true, reference });
  });

  it.each([
    ["", "it is empty (a repository name needs at least one component)"],
    ["a b", "it contains a space at position 2"],
    ["replay-base:bookworm\n", "it contains a newline at position 21"],
    ["x\r", "it contains a carriage return at position 2"],
    ["a\tb", "it contains a tab at position 2"],
    ["a\u001b]0;title\u0007", "it contains the character U+001B at position 2"],
    ["caf\u00e9", "it contains the character U+00E9 at position 4"],
    [SHA, "it is a 64-digit hexadecimal string, which Docker takes for an image id, not a name"],
    ["Uppercase:latest", 'its repository name "library/Uppercase" must be lowercase'],
    ["docker.io/Lower/Upper", 'its repository name "Lower/Upper" must be lowercase'],
    ["a".repeat(256), "its repository name is 264 characters long; at most 255 are allowed"],
    [
      `repo@md5:${"c".repeat(32)}`,
      'its digest algorithm "md5" is not one Docker knows (sha256, sha384, sha512)',
    ],
    [`repo@sha256:${"c".repeat(63)}`, "its sha256 digest must be 64 lowercase hexadecimal digits"],
    [`repo@sha256:${"C".repeat(64)}`, "its sha256 digest must be 64 lowercase hexadecimal digits"],
  ])("refuses %j: %s", (text, problem) => {
    expect(checkImageReference(text)).toEqual({ ok: false, problem });
  });

  it.each([
    "a//b",
    "/a",
    "a/",
    "-a",
    "a-",
    "a..b",
    "a:",
    ":tag",
    "a:.tag",
    "a:-tag",
    `a:${"t".repeat(129)}`,
    "a@",
    "a@sha256",
    "a@sha256:",
    "a:b:c",
    "[::1]/a@",
    "a___b",
  ])("refuses %j as not in the reference format", (text) => {
    const check = checkImageReference(text);
    expect(check.ok).toBe(false);
    if (!check.ok)
      expect(check.problem).toMatch(
        /^it is not in Docker's reference format \[host\[:port\]\/\]name\[:tag\]\[@digest\]/,
      );
  });
});

describe("quotedReference", () => {
  it("shows a reference quoted, control characters escaped, long ones cut", () => {
    expect(quotedReference('a "b"\\\n\u001b[2J\u009b')).toBe('"a \\"b\\"\\\\\\n\\u001b[2J\\u009b"');
    expect(quotedReference("x".repeat(130), 10)).toBe('"xxxxxxxxxx…" (130 characters)');
  });
});
