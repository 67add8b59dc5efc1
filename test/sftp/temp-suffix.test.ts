/**
 * Temporary-name suffixes come from a pooled random buffer (src/util/temp-suffix.ts): every one
 * must still be 12 lowercase hex digits, and no two alike, across the refills of the pool.
 */
import { describe, expect, it } from "vitest";
import { tempSuffix } from "../../src/util/temp-suffix.js";

describe("tempSuffix", () => {
  it("gives 12 hex digits, all distinct over several refills of its pool", () => {
    const seen = new Set<string>();
    // 680 suffixes per pool: 5000 crosses seven refills.
    for (let i = 0; i < 5000; i++) {
      const s = tempSuffix();
      expect(s).toMatch(/^[0-9a-f]{12}$/);
      seen.add(s);
    }
    expect(seen.size).toBe(5000);
  });

  it("uses every hex digit in every position (the bytes are not stuck)", () => {
    const digits = Array.from({ length: 12 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...tempSuffix()].forEach((d, p) => digits[p]!.add(d));
    for (const d of digits) expect(d.size).toBe(16);
  });
});
