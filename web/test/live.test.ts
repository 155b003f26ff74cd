import { describe, expect, it } from "vitest";
import { backoffDelay, liveUrl } from "../src/live";
import { goLive, liveHarness as setup } from "./fakes";

describe("LiveClient", () => {
  it("authenticates first and subscribes only once ready", () => {
    const { client, last } = setup();
    client.subscribe("floor:12", ["telemetry", "alarm"]);
    client.connect();
    expect(client.state).toBe("connecting");
    last().open();
    expect(client.state).toBe("authenticating");
    expect(last().sent).toEqual([{ type: "auth", token: "tok" }]);
    last().receive({ type: "ready" });
    expect(client.state).toBe("live");
    expect(last().sent[1]).toEqual({ type: "subscribe", sub: "s1", scope: "floor:12", kinds: ["telemetry", "alarm"] });
  });

  it("answers pings and drops replayed events by sequence", () => {
    const { client, last, seen } = setup();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive({ type: "ping" });
    expect(last().sent.at(-1)).toEqual({ type: "pong" });
    last().receive({ type: "snapshot", sub: "s1", stream: "site:1", seq: 10, devices: [], alarms: [] });
    for (const seq of [11, 12, 12, 11, 13]) {
      last().receive({ type: "event", stream: "site:1", seq, kind: "status", path: [], data: {} });
    }
    expect(seen.events).toEqual([11, 12, 13]);
    expect(client.sequences.get("site:1")).toBe(13);
  });

  it("reconnects with doubling, capped backoff and resumes from the last sequence", () => {
    const { client, last, sockets, clock, states } = setup();
    client.subscribe("floor:12", ["telemetry"]);
    client.connect();
    goLive(last());
    last().receive({ type: "snapshot", sub: "s1", stream: "site:1", seq: 120, devices: [], alarms: [] });
    last().receive({ type: "event", stream: "site:1", seq: 123, kind: "status", path: [], data: {} });

    const delays: (number | null)[] = [];
    for (let i = 0; i < 6; i++) {
      last().drop();
      delays.push(states.at(-1)?.[1] ?? null);
      expect(client.state).toBe("reconnecting");
      clock.advance(10_000);
      expect(client.state).toBe("connecting");
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(sockets).toHaveLength(7);

    goLive(last());
    expect(last().sent).toEqual([
      { type: "auth", token: "tok" },
      { type: "subscribe", sub: "s1", scope: "floor:12", kinds: ["telemetry"], resume: { stream: "site:1", seq: 123 } },
    ]);
    // A success resets the backoff.
    last().drop();
    expect(states.at(-1)).toEqual(["reconnecting", 500]);
  });

  it("jitters the delay between half and all of the ceiling", () => {
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });

  it("treats a silent socket as dead", () => {
    const { client, last, clock } = setup();
    client.connect();
    goLive(last());
    clock.advance(29_000);
    last().receive({ type: "ping" });
    clock.advance(29_000);
    expect(client.state).toBe("live");
    clock.advance(1_000);
    expect(client.state).toBe("reconnecting");
    expect(last().closed).toEqual({ code: 1000, reason: "silent" });
    clock.advance(500);
    expect(client.state).toBe("connecting");
  });

  it("stops and asks for a login when the server refuses the token", () => {
    const { client, last, seen, clock } = setup();
    client.connect();
    last().open();
    last().drop(4401);
    expect(client.state).toBe("closed");
    expect(seen.unauthorized).toBe(1);
    clock.advance(60_000);
    expect(client.state).toBe("closed");
  });

  it("does not connect without a token", () => {
    const { client, last, seen } = setup(null);
    client.connect();
    last().open();
    expect(last().sent).toEqual([]);
    expect(seen.unauthorized).toBe(1);
  });

  it("stays closed after close and reports the data age", () => {
    const { client, last, clock, sockets } = setup();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    expect(client.dataAgeMs()).toBeNull();
    last().receive({ type: "snapshot", sub: "s1", stream: "site:1", seq: 1, devices: [], alarms: [] });
    clock.advance(4_000);
    expect(client.dataAgeMs()).toBe(4_000);
    client.close();
    last().drop(1000);
    clock.advance(60_000);
    expect(client.state).toBe("closed");
    expect(sockets).toHaveLength(1);
  });

  it("sends a subscription made while live at once, and its removal", () => {
    const { client, last } = setup();
    client.connect();
    goLive(last());
    const sub = client.subscribe("device:901", ["telemetry"]);
    expect(last().sent.at(-1)).toMatchObject({ type: "subscribe", sub, scope: "device:901" });
    client.unsubscribe(sub);
    expect(last().sent.at(-1)).toEqual({ type: "unsubscribe", sub });
  });

  it("derives the socket address from the page", () => {
    expect(liveUrl({ protocol: "https:", host: "twin.example:8443" })).toBe("wss://twin.example:8443/ws");
    expect(liveUrl({ protocol: "http:", host: "localhost:8000" })).toBe("ws://localhost:8000/ws");
  });
});
