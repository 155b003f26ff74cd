import { describe, expect, it } from "vitest";
import { parseFrame, SEEN_WINDOW, Sequences } from "../src/messages";
import { goLive, liveHarness } from "./fakes";

const snapshot = (sub: string, stream: string, seq: number) => ({ type: "snapshot", sub, scope: "site:1", stream, seq, devices: [], alarms: [] });
const event = (seq: number, kind = "alarm", stream = "site:1") => ({ type: "event", stream, seq, kind, path: ["site:1"], data: {} });

describe("array frames", () => {
  it("handles every message of a batched frame, in order", () => {
    const { client, last, seen } = liveHarness();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive([snapshot("s1", "site:1", 10), event(11), { type: "ping" }, event(12, "status")]);
    expect(seen.snapshots).toBe(1);
    expect(seen.events).toEqual([11, 12]);
    expect(last().sent.at(-1)).toEqual({ type: "pong" });
  });

  it("stops reading a batch once a resync in it ended the connection", () => {
    const { client, last, seen, sockets } = liveHarness();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive([snapshot("s1", "site:1", 10), { type: "resync" }, event(11)]);
    expect(seen.resyncs).toBe(1);
    expect(seen.events).toEqual([]);
    expect(sockets).toHaveLength(1);
  });

  it("ignores what is not a message object", () => {
    expect(parseFrame("not json")).toEqual([]);
    expect(parseFrame("[1, null, [], {\"type\":\"ping\"}]")).toEqual([{ type: "ping" }]);
    expect(parseFrame("{\"type\":\"ping\"}")).toEqual([{ type: "ping" }]);
  });
});

describe("sequence numbers and telemetry", () => {
  it("never drops a reading by its sequence number", () => {
    const { client, last, seen } = liveHarness();
    client.subscribe("floor:12");
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "floor:12", 100));
    // Coalesced readings overtake an alarm and lag behind it: all reach the store.
    last().receive([event(105, "telemetry", "floor:12"), event(101, "alarm", "floor:12"), event(103, "telemetry", "floor:12"), event(99, "telemetry", "floor:12")]);
    expect(seen.events).toEqual([105, 101, 103, 99]);
    expect(client.sequences.get("floor:12")).toBe(101);
  });

  it("still drops a repeated alarm and resumes from the last non-telemetry number", () => {
    const { client, last, seen, clock } = liveHarness();
    client.subscribe("floor:12", ["telemetry", "alarm"]);
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "floor:12", 100));
    last().receive([event(101, "alarm", "floor:12"), event(140, "telemetry", "floor:12"), event(101, "alarm", "floor:12")]);
    expect(seen.events).toEqual([101, 140]);
    last().drop(1006);
    clock.advance(1000);
    goLive(last());
    expect(last().sent.at(-1)).toMatchObject({ type: "subscribe", resume: { stream: "floor:12", seq: 101 } });
  });

  it("tells a repeat by its very number: one stream serves every subscription of a site", () => {
    const seqs = new Sequences();
    seqs.start("site:1@run", 40);
    expect(seqs.accept({ stream: "site:1@run", seq: 44, kind: "billing" })).toBe(true);
    // Held for a second subscription while its snapshot was read, so it comes after 44.
    expect(seqs.accept({ stream: "site:1@run", seq: 42, kind: "billing" })).toBe(true);
    expect(seqs.accept({ stream: "site:1@run", seq: 44, kind: "billing" })).toBe(false);
    expect(seqs.get("site:1@run")).toBe(44);
  });

  it("forgets numbers beyond its window and counts what fell out as seen", () => {
    const seqs = new Sequences();
    for (let seq = 1; seq <= SEEN_WINDOW + 10; seq++) expect(seqs.accept({ stream: "s", seq, kind: "alarm" })).toBe(true);
    expect(seqs.accept({ stream: "s", seq: 5, kind: "alarm" })).toBe(false);
    expect(seqs.accept({ stream: "s", seq: SEEN_WINDOW + 5, kind: "alarm" })).toBe(false);
    expect(seqs.accept({ stream: "s", seq: SEEN_WINDOW + 11, kind: "alarm" })).toBe(true);
  });

  it("follows a resumed stream without asking for a snapshot", () => {
    const { client, last, seen, clock } = liveHarness();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "site:1", 10));
    last().drop();
    clock.advance(1000);
    goLive(last());
    last().receive([{ type: "resumed", sub: "s1", stream: "site:1", seq: 10 }, event(11), event(12)]);
    expect(seen.resumed).toBe(1);
    expect(seen.snapshots).toBe(1);
    expect(seen.events).toEqual([11, 12]);
  });
});

describe("resync", () => {
  it("drops live state, closes, reconnects and subscribes without resume", () => {
    const { client, last, seen, sockets, clock, states } = liveHarness();
    client.subscribe("building:3");
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "site:1", 50));
    last().receive({ type: "resync" });
    expect(seen.resyncs).toBe(1);
    expect(client.sequences.size).toBe(0);
    expect(last().closed?.code).toBe(1000);
    // Nothing more is said on the dying socket; a fresh one follows after the shortest delay.
    expect(last().sent.filter((m) => m.type === "subscribe")).toHaveLength(1);
    expect(states.at(-1)).toEqual(["reconnecting", 500]);
    clock.advance(500);
    expect(sockets).toHaveLength(2);
    goLive(last());
    const again = last().sent.at(-1);
    expect(again).toMatchObject({ type: "subscribe", sub: "s1", scope: "building:3" });
    expect(again).not.toHaveProperty("resume");
    // The new stream starts lower than before and is accepted.
    last().receive(snapshot("s1", "site:1", 5));
    last().receive(event(6));
    expect(seen.events).toEqual([6]);
  });

  it("treats close 4000 as a resync", () => {
    const { client, last, seen, clock } = liveHarness();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "site:1", 50));
    last().drop(4000);
    expect(seen.resyncs).toBe(1);
    clock.advance(1000);
    goLive(last());
    expect(last().sent.at(-1)).not.toHaveProperty("resume");
  });

  it("resumes after an idle timeout (4408), which is not a resync", () => {
    const { client, last, seen, clock } = liveHarness();
    client.subscribe("site:1");
    client.connect();
    goLive(last());
    last().receive(snapshot("s1", "site:1", 50));
    last().drop(4408);
    clock.advance(1000);
    goLive(last());
    expect(seen.resyncs).toBe(0);
    expect(last().sent.at(-1)).toMatchObject({ resume: { stream: "site:1", seq: 50 } });
  });
});

describe("subscription changes", () => {
  it("sends a floor subscription with its rate, and its removal, and forgets it on reconnection", () => {
    const { client, last, clock } = liveHarness();
    const site = client.subscribe("site:1", ["alarm"]);
    client.connect();
    goLive(last());
    const floor = client.subscribe("floor:12", ["telemetry", "status"], { rate: 2 });
    expect(last().sent.at(-1)).toEqual({ type: "subscribe", sub: floor, scope: "floor:12", kinds: ["telemetry", "status"], rate: 2 });
    client.unsubscribe(floor);
    expect(last().sent.at(-1)).toEqual({ type: "unsubscribe", sub: floor });
    expect([...client.scopes.values()]).toEqual(["site:1"]);
    last().drop();
    clock.advance(1000);
    goLive(last());
    expect(last().sent.filter((m) => m.type === "subscribe").map((m) => m.sub)).toEqual([site]);
  });

  it("holds a subscription made while offline until the server is ready", () => {
    const { client, last, clock } = liveHarness();
    client.connect();
    goLive(last());
    last().drop();
    const sub = client.subscribe("floor:7");
    expect(last().sent.some((m) => m.type === "subscribe")).toBe(false);
    const removed = client.subscribe("floor:8");
    client.unsubscribe(removed);
    clock.advance(1000);
    last().open();
    expect(last().sent).toEqual([{ type: "auth", token: "tok" }]);
    last().receive({ type: "ready" });
    expect(last().sent.slice(1)).toEqual([{ type: "subscribe", sub, scope: "floor:7", kinds: ["telemetry", "status", "alarm", "ticket", "billing"] }]);
  });

  it("drops a refused subscription and keeps the connection", () => {
    const { client, last, seen, clock } = liveHarness();
    client.subscribe("site:1");
    const denied = client.subscribe("building:99");
    client.connect();
    goLive(last());
    last().receive({ type: "error", sub: denied, code: 403, message: "not yours" });
    expect(seen.refused).toEqual([[denied, "building:99", 403]]);
    expect(client.state).toBe("live");
    expect(seen.unauthorized).toBe(0);
    last().drop();
    clock.advance(1000);
    goLive(last());
    expect(last().sent.filter((m) => m.type === "subscribe").map((m) => m.scope)).toEqual(["site:1"]);
  });

  it("asks for a login on a 401 error message, falls back on 4403, and waits longer on 4429", () => {
    const first = liveHarness();
    first.client.connect();
    first.last().open();
    first.last().receive({ type: "error", code: 401, message: "bad token" });
    expect(first.seen.unauthorized).toBe(1);
    expect(first.client.state).toBe("closed");

    const second = liveHarness();
    second.client.connect();
    goLive(second.last());
    second.last().drop(4403);
    expect(second.seen.forbidden).toBe(1);
    expect(second.seen.unauthorized).toBe(0);
    second.clock.advance(60_000);
    expect(second.client.state).toBe("closed");

    const third = liveHarness();
    third.client.connect();
    goLive(third.last());
    third.last().drop(4429);
    expect(third.states.at(-1)).toEqual(["reconnecting", 8000]);
  });

  it("takes its silence limit from the announced heartbeat", () => {
    const { client, last, clock } = liveHarness("tok", { silenceMs: undefined });
    client.connect();
    goLive(last(), { heartbeat_s: 5 });
    clock.advance(14_000);
    expect(client.state).toBe("live");
    clock.advance(1_000);
    expect(client.state).toBe("reconnecting");
  });
});
