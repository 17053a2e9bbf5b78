/** RFC 8785 (JCS) canonical JSON: the RFC's own examples, any depth, and what it cannot encode. */
import { describe, expect, it } from "vitest";
import { CanonicalJsonError, canonicalJson, describeJsonError } from "../../src/hashing/index.js";

function nested(depth: number, wrap: (inner: unknown) => unknown, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

describe("canonicalJson", () => {
  it("sorts members by UTF-16 code units and writes numbers as ECMAScript does (RFC 8785 3.2)", () => {
    expect(
      canonicalJson({
        "\u20ac": "Euro",
        "\r": "CR",
        "\ud83d\ude00": "Smiley",
        "1": "One",
        "\u0080": "Ctrl",
        "\u00f6": "Latin",
      }),
    ).toBe('{"\\r":"CR","1":"One","\u0080":"Ctrl","\u00f6":"Latin","\u20ac":"Euro","\ud83d\ude00":"Smiley"}');
    expect(
      canonicalJson([
        JSON.parse("333333333.33333329") as number,
        1e30,
        4.5,
        2e-3,
        0.000000000000000000000000001,
        -0,
      ]),
    ).toBe("[333333333.3333333,1e+30,4.5,0.002,1e-27,0]");
    expect(canonicalJson({ b: [true, null, "x\u2028"], a: { d: 1, c: undefined } })).toBe(
      '{"a":{"d":1},"b":[true,null,"x\u2028"]}',
    );
    expect(canonicalJson([undefined, 1])).toBe("[null,1]");
  });

  it("encodes values 100 000 deep (no recursion on the call stack)", () => {
    const depth = 100_000;
    expect(canonicalJson(nested(depth, (v) => [v], 1))).toBe(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
    expect(canonicalJson(nested(depth, (v) => ({ z: v, a: 0 }), "x"))).toBe(
      `${'{"a":0,"z":'.repeat(depth)}"x"${"}".repeat(depth)}`,
    );
  });

  it("refuses a number it cannot encode, saying where it sits", () => {
    // JSON.parse reads PostgreSQL's 1e400 as Infinity.
    const value = JSON.parse('{"args": {"x": [1, {"y z": 1e400}]}}') as unknown;
    let caught: unknown;
    try {
      canonicalJson(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CanonicalJsonError);
    expect((caught as CanonicalJsonError).path).toEqual(["args", "x", 1, "y z"]);
    expect(describeJsonError("parameters", caught as CanonicalJsonError)).toBe(
      'parameters.args.x[1]["y z"] is Infinity, a number JCS cannot encode (JCS numbers are IEEE 754 doubles: a JSON number beyond their range, such as 1e400, reads as Infinity)',
    );
    expect(() => canonicalJson(-Infinity)).toThrow(/^is -Infinity, a number JCS cannot encode/);
  });
});
