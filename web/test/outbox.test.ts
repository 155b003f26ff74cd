import { describe, expect, it } from "vitest";
import { Api } from "../src/api";
import { Auth } from "../src/auth";
import { setLang } from "../src/i18n";
import { liftWords } from "../src/lift";
import { type Entry, Outbox, newKey, transient } from "../src/outbox";
import { startOfToday } from "../src/today";

/** A storage the outbox writes to, as localStorage does. */
const BASE = "http://twin.test";

function memory(): Pick<Storage, "getItem" | "setItem" | "removeItem"> {
  const items = new Map<string, string>();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
}

function entry(stopId: number, outcome: "ok" | "defect" = "ok"): Entry {
  return { user: "insp", roundId: 7, stopId, body: { outcome, note: outcome === "defect" ? "漏水" : null, at: "2026-12-07T09:00:00Z", key: `key-${stopId}-0000` }, photo: null };
}

describe("the inspector's outbox", () => {
  it("keeps results through a dead network and a server error, then sends each once, in order", async () => {
    const sent: string[] = [];
    let answer: "down" | "error" | "ok" = "down";
    const api = new Api(
      new Auth(memory()),
      async (request: Request) => {
        if (answer === "down") throw new TypeError("Failed to fetch");
        if (answer === "error") return new Response(JSON.stringify({ detail: "boom" }), { status: 500 });
        sent.push(`${new URL(request.url).pathname} ${JSON.parse(await request.text()).key}`);
        return new Response(JSON.stringify({ id: sent.length, ticket_id: null }), { status: 201 });
      },
      BASE,
    );
    const storage = memory();
    const outbox = new Outbox(api, "insp", storage);
    outbox.add(entry(1));
    await expect(outbox.flush()).rejects.toThrow();
    outbox.add(entry(2, "defect"));
    answer = "error";
    await expect(outbox.flush()).rejects.toThrow();
    expect(outbox.entries().map((e) => e.stopId)).toEqual([1, 2]);
    expect(new Outbox(api, "insp", storage).has(2)).toBe(true);
    answer = "ok";
    const done: number[] = [];
    outbox.onSent((e) => {
      done.push(e.stopId);
      expect(outbox.has(e.stopId)).toBe(false);
    });
    await outbox.flush();
    expect(sent).toEqual(["/api/inspections/rounds/7/stops/1 key-1-0000", "/api/inspections/rounds/7/stops/2 key-2-0000"]);
    expect(done).toEqual([1, 2]);
    expect(outbox.entries()).toEqual([]);
  });

  it("hands back a refused result and goes on with the next", async () => {
    const api = new Api(
      new Auth(memory()),
      async (request: Request) =>
        request.url.endsWith("/1") ? new Response(JSON.stringify({ detail: "stop: already recorded" }), { status: 422 }) : new Response(JSON.stringify({ id: 2, ticket_id: null }), { status: 201 }),
      BASE,
    );
    const outbox = new Outbox(api, "insp", memory());
    const refused: number[] = [];
    outbox.onRefused((e) => refused.push(e.stopId));
    outbox.add(entry(1));
    outbox.add(entry(2));
    await outbox.flush();
    expect(refused).toEqual([1]);
    expect(outbox.entries()).toEqual([]);
  });

  it("sends only the signed-in user's results, keeping the others'", async () => {
    const sent: string[] = [];
    const api = new Api(
      new Auth(memory()),
      async (request: Request) => {
        sent.push(new URL(request.url).pathname);
        return new Response(JSON.stringify({ id: 1, ticket_id: null }), { status: 201 });
      },
      BASE,
    );
    const storage = memory();
    new Outbox(api, "insp", storage).add(entry(1));
    const next = new Outbox(api, "insp2", storage);
    next.add({ ...entry(2), user: "insp2" });
    await next.flush();
    expect(sent).toEqual(["/api/inspections/rounds/7/stops/2"]);
    expect(next.has(1)).toBe(false);
    expect(new Outbox(api, "insp", storage).entries().map((e) => e.stopId)).toEqual([1]);
  });

  it("tells passing failures from refusals and makes distinct keys", () => {
    expect(transient(new TypeError("x"))).toBe(true);
    expect(newKey()).toMatch(/^[0-9a-f]{32}$/);
    expect(newKey()).not.toBe(newKey());
  });
});

describe("today on the tablet", () => {
  it("starts at local midnight with the offset", () => {
    const text = startOfToday(new Date(2026, 11, 7, 15, 30));
    expect(text).toMatch(/^2026-12-07T00:00:00[+-]\d\d:\d\d$/);
    expect(new Date(text).getTime()).toBe(new Date(2026, 11, 7).getTime());
  });
});

describe("an elevator in words", () => {
  it("says where it is and where it goes, in both languages", () => {
    const r = (value: number | string | boolean) => ({ value, unit: null, time: 0 });
    setLang("en", null);
    expect(liftWords({ floor: r(5), direction: r("up") }, "online")).toBe("At floor 5 · going up");
    expect(liftWords({ floor: r(1), direction: r("idle"), door_open: r(true) }, "online")).toBe("At floor 1 · parked · door open");
    expect(liftWords({}, "offline")).toBe("Elevator offline, state unknown");
    expect(liftWords({}, "online")).toBe("No elevator state yet");
    setLang("zh", null);
    expect(liftWords({ floor: r(3), direction: r("down") }, "online")).toBe("停在 3 层 · 下行");
  });
});
