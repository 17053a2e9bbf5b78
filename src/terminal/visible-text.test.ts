import { describe, expect, it } from "vitest";
import { visibleJson, visibleLines, visibleText } from "./visible-text.js";

describe("visibleText", () => {
  it("shows every control a terminal interprets as its escape", () => {
    expect(visibleText("a\x1b]0;title\x07b")).toBe("a\\x1b]0;title\\x07b");
    expect(visibleText("\x1b[2J\r\n\t\x00\x7f")).toBe("\\x1b[2J\\r\\n\\t\\x00\\x7f");
    expect(visibleText("\u0080\u009b31m\u009f")).toBe("\\x80\\x9b31m\\x9f");
    expect(visibleText("\u202a\u202b\u202c\u202d\u202e")).toBe("\\u202a\\u202b\\u202c\\u202d\\u202e");
    expect(visibleText("\u2066\u2067\u2068\u2069\u200e\u200f\u061c")).toBe(
      "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
    );
    expect(visibleText("\u2028\u2029")).toBe("\\u2028\\u2029");
  });

  it("leaves printable text alone, and its own output too", () => {
    const text = "fig-3 ✓ Température \\x1b ü 日本 😀";
    expect(visibleText(text)).toBe(text);
    const shown = visibleText("x\x1b[2J\u202e");
    expect(visibleText(shown)).toBe(shown);
  });

  it("keeps the newlines of several lines, and escapes the rest", () => {
    expect(visibleLines("one\x1b[2J\ntwo\r\n")).toBe("one\\x1b[2J\ntwo\\r\n");
  });
});

describe("visibleJson", () => {
  it("escapes what JSON.stringify leaves raw, and is the same JSON value", () => {
    const value = { id: "a\x1b\u009b\u202e\u2028\x7f", n: 1 };
    const text = visibleJson(value);
    expect(text).toBe('{\n  "id": "a\\u001b\\u009b\\u202e\\u2028\\u007f",\n  "n": 1\n}');
    expect(JSON.parse(text)).toEqual(value);
  });
});
