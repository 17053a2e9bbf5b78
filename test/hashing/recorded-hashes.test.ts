import { describe, expect, it } from "vitest";
import { canonicalJson, contentHashOf, envHashOf, inputHashOf } from "../../src/hashing/index.js";

describe("content hash", () => {
  it("is sha256: and the lowercase hex digest of the bytes", () => {
    // The contract's own example: the blob path of "test".
    expect(contentHashOf("test")).toBe(
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    );
  });
});

describe("input_hash", () => {
  const a = contentHashOf("a");
  const b = contentHashOf("b");
  it("is the source's content hash for one input", () => {
    expect(inputHashOf([{ name: "source", contentHash: a }], false)).toBe(a);
  });
  it("hashes name=hash lines in position order for several inputs", () => {
    expect(
      inputHashOf(
        [
          { name: "x.csv", contentHash: a },
          { name: "y.csv", contentHash: b },
        ],
        true,
      ),
    ).toBe(contentHashOf(`x.csv=${a}\ny.csv=${b}\n`));
  });
  it("is null with no input", () => {
    expect(inputHashOf([], false)).toBeNull();
  });
});

describe("env_hash", () => {
  it("hashes base, kind and lock joined by newlines, no trailing newline", () => {
    expect(envHashOf({ baseImage: "replay-base:bookworm", lockfileKind: "none", requirementsLock: "" })).toBe(
      contentHashOf("replay-base:bookworm\nnone\n"),
    );
  });
});

describe("RFC 8785 canonical JSON", () => {
  it("sorts members by UTF-16 code units and uses ECMAScript number forms", () => {
    // Example from RFC 8785, section 3.2.2 and 3.2.3.
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    expect(
      canonicalJson({
        "\u20ac": 1,
        "\r": 2,
        "\ud83d\ude00": 3,
        "\ufb33": 4,
        "1": 5,
        "\u0080": 6,
        "\u00f6": 7,
      }),
    ).toBe('{"\\r":2,"1":5,"\u0080":6,"\u00f6":7,"\u20ac":1,"\ud83d\ude00":3,"\ufb33":4}');
  });
});
