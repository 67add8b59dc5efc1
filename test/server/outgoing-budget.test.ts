/** The server's outgoing-data budget: per connection, and across every connection. */
import { describe, expect, it } from "vitest";
import { OutgoingBudget } from "../../src/ssh/server/outgoing-budget.js";

describe("OutgoingBudget", () => {
  it("asks a producer to wait once its connection holds more than its share", () => {
    const server = new OutgoingBudget({ perConnection: 100, total: 1000 });
    const a = server.connection();
    expect(a.charge(60)).toBe(false);
    expect(a.charge(60)).toBe(true);
    a.release(120);
    expect(a.total).toBe(0);
    expect(a.charge(60)).toBe(false);
  });

  it("asks every producer to wait while the server as a whole is over, and lets them go once released", () => {
    const server = new OutgoingBudget({ perConnection: 100, total: 150 });
    const stalled = [server.connection(), server.connection()];
    expect(stalled[0]!.charge(80)).toBe(false);
    expect(stalled[1]!.charge(80)).toBe(true); // 160 held in total
    const healthy = server.connection();
    expect(healthy.charge(10)).toBe(true); // under its own share, but the server is over
    healthy.release(10);
    stalled[1]!.release(80); // that client went away
    expect(server.total).toBe(80);
    expect(healthy.charge(10)).toBe(false);
  });
});
