import { describe, expect, it } from "vitest";
import type { EventMessage, SnapshotMessage } from "../src/messages";
import { billingState, OpsStore } from "../src/ops";

const path = (space: number, building = 3): string[] => ["site:1", `building:${building}`, "floor:12", `space:${space}`];
const snapshot = (patch: Partial<SnapshotMessage>): SnapshotMessage => ({ type: "snapshot", sub: "s1", stream: "x", seq: 1, devices: [], alarms: [], ...patch });
let seq = 0;
const event = (kind: string, data: Record<string, unknown>, p = path(40)): EventMessage => ({ type: "event", stream: "x", seq: ++seq, kind, path: p, data });

describe("tickets and billing from the hub", () => {
  it("counts open tickets per room and overdue ones per building", () => {
    const ops = new OpsStore();
    let changes = 0;
    ops.onChange(() => (changes += 1));
    ops.applySnapshot(
      snapshot({
        scope: "site:1",
        tickets: [
          { id: 1, status: "open", place_id: 40, path: path(40), overdue: true },
          { id: 2, status: "assigned", place_id: 40, path: path(40), overdue: false },
          { id: 3, status: "in_progress", place_id: 41, path: path(41, 4), overdue: true },
        ],
      }),
    );
    expect(changes).toBe(1);
    expect(Object.fromEntries(ops.openTicketsByPlace())).toEqual({ "40": 2, "41": 1 });
    expect(ops.overdueIn("building:3")).toBe(1);
    expect(ops.overdueIn("building:4")).toBe(1);

    ops.applyEvent(event("ticket", { id: 1, action: "update", status: "resolved" }));
    ops.applyEvent(event("ticket", { id: 9, action: "create", status: "open", overdue: true }, path(42)));
    expect(Object.fromEntries(ops.openTicketsByPlace())).toEqual({ "40": 1, "41": 1, "42": 1 });
    expect(ops.overdueIn("building:3")).toBe(1);
    ops.applyEvent(event("ticket", { id: 9, action: "delete" }, path(42)));
    expect(ops.tickets.has("9")).toBe(false);
  });

  it("replaces the tickets of a scope with those of its snapshot", () => {
    const ops = new OpsStore();
    ops.applySnapshot(snapshot({ scope: "site:1", tickets: [{ id: 1, status: "open", path: path(40) }, { id: 2, status: "open", path: path(50, 4) }] }));
    ops.applySnapshot(snapshot({ scope: "building:3", tickets: [] }));
    expect([...ops.tickets.keys()]).toEqual(["2"]);
    // A snapshot without tickets (the kind not asked for) leaves them alone.
    ops.applySnapshot(snapshot({ scope: "site:1" }));
    expect([...ops.tickets.keys()]).toEqual(["2"]);
  });

  it("keeps each household's standing and the payment rate of each scope", () => {
    const ops = new OpsStore();
    ops.applySnapshot(
      snapshot({
        scope: "building:3",
        billing: {
          units: [
            { id: 40, status: "paid", overdue_days: 0, overdue_amount: 0 },
            { id: 41, status: "overdue", overdue_days: 45, overdue_amount: "320.50" },
          ],
          rate: 0.875,
        },
      }),
    );
    expect(ops.rates.get("building:3")).toBe(0.875);
    expect(ops.billing.get("41")).toEqual({ standing: "overdue", status: "overdue", overdueDays: 45, overdueAmount: 320.5 });
    ops.applyEvent(event("billing", { id: 41, action: "update", status: "paid", overdue_days: 0, overdue_amount: 0 }, path(41)));
    expect(ops.billing.get("41")?.status).toBe("paid");
    expect(ops.rates.get("building:3")).toBe(1);
    ops.applyEvent(event("billing", { id: 40, action: "update", status: "partly_paid" }, path(40)));
    expect(ops.rates.get("building:3")).toBe(0.5);
    // A unit of no scope held changes no rate.
    ops.applyEvent(event("billing", { id: 77, action: "update", status: "overdue" }, path(77, 4)));
    expect([...ops.rates.keys()]).toEqual(["building:3"]);
    ops.clear();
    expect(ops.billing.size + ops.rates.size + ops.tickets.size).toBe(0);
  });

  it("maps the server's standings onto the layer's three states", () => {
    expect(["paid", "partial", "partly_paid", "overdue", "unpaid", "no_bills", null].map(billingState)).toEqual([
      "paid",
      "partial",
      "partial",
      "overdue",
      null,
      null,
      null,
    ]);
  });
});
