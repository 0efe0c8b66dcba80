import { describe, expect, it } from "vitest";
import { age, cell, duration, money } from "./format";

describe("format", () => {
  it("reads durations in the two largest units", () => {
    expect(duration(42)).toBe("42s");
    expect(duration(125)).toBe("2m");
    expect(duration(3 * 3600 + 5 * 60)).toBe("3h 5m");
    expect(duration(3 * 86400 + 7200)).toBe("3d 2h");
    expect(age(null)).toBe("–");
  });
  it("shows money in whole dollars and missing values as a dash", () => {
    expect(money(1234.56)).toBe("$1,235");
    expect(money(null)).toBe("–");
    expect(cell(0.12345)).toBe("0.12");
    expect(cell({ event_id: ["a"] })).toBe('{"event_id":["a"]}');
  });
});
