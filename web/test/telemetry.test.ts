import { describe, expect, it } from "vitest";
import type { EventMessage, SnapshotMessage } from "../src/messages";
import { LiveStore, newerOrSame } from "../src/store";

let seq = 0;
const reading = (value: number, time: number | string, device = 901): EventMessage => ({
  type: "event",
  stream: "floor:12",
  seq: ++seq,
  kind: "telemetry",
  path: ["site:1", "building:3", "floor:12", `device:${device}`],
  data: { device_id: device, quantity: "temperature", value, unit: "°C", time },
});
const snapshot = (patch: Partial<SnapshotMessage>): SnapshotMessage => ({ type: "snapshot", sub: "s1", stream: "site:1", seq: 1, devices: [], alarms: [], ...patch });

describe("telemetry is idempotent by time", () => {
  it("keeps the newest reading whatever order readings arrive in", () => {
    const store = new LiveStore();
    store.applyEvent(reading(23, 1_700_000_010.5));
    store.applyEvent(reading(21, 1_700_000_005));
    store.flush();
    expect(store.devices.get("901")?.state.temperature?.value).toBe(23);
    // Late, after the flush: still older than what is held.
    store.applyEvent(reading(19, 1_700_000_001));
    expect(store.flush().size).toBe(0);
    expect(store.devices.get("901")?.state.temperature?.value).toBe(23);
  });

  it("applies a repeat of the same time and anything newer", () => {
    const store = new LiveStore();
    store.applyEvent(reading(23, 100));
    store.flush();
    store.applyEvent(reading(24, 100));
    store.flush();
    expect(store.devices.get("901")?.state.temperature?.value).toBe(24);
    store.applyEvent(reading(25, 101));
    store.flush();
    expect(store.devices.get("901")?.state.temperature).toEqual({ value: 25, unit: "°C", time: 101 });
  });

  it("compares a snapshot's ISO time with an event's epoch seconds", () => {
    const store = new LiveStore();
    store.applySnapshot(snapshot({ devices: [{ id: 901, state: { temperature: { value: 30, unit: "°C", time: "2026-12-02T06:00:10Z" } } }] }));
    store.applyEvent(reading(20, Date.parse("2026-12-02T06:00:05Z") / 1000));
    expect(store.flush().size).toBe(0);
    store.applyEvent(reading(31, Date.parse("2026-12-02T06:00:11Z") / 1000));
    store.flush();
    expect(store.devices.get("901")?.state.temperature?.value).toBe(31);
  });

  it("takes a reading whose time cannot be read rather than freeze the value", () => {
    expect(newerOrSame("garbage", { value: 1, unit: null, time: 10 })).toBe(true);
    expect(newerOrSame(9, { value: 1, unit: null, time: 10 })).toBe(false);
    expect(newerOrSame(9, undefined)).toBe(true);
  });
});

describe("snapshots replace their scope", () => {
  it("forgets alarms of the scope that a fresh snapshot no longer lists, and no others", () => {
    const store = new LiveStore();
    const heard: [string, string | undefined][] = [];
    store.onAlarm((alarm) => heard.push([String(alarm.id), alarm.state]));
    store.applySnapshot(
      snapshot({
        scope: "site:1",
        alarms: [
          { id: 1, severity: "CRITICAL", state: "raised", path: ["site:1", "building:3", "floor:12", "device:901"] },
          { id: 2, severity: "major", state: "raised", path: ["site:1", "building:4", "floor:20", "device:950"] },
        ],
      }),
    );
    expect(store.alarms.get("1")?.alarm.severity).toBe("critical");
    store.applySnapshot(snapshot({ scope: "building:3", alarms: [] }));
    expect([...store.alarms.keys()]).toEqual(["2"]);
    expect(heard.at(-1)).toEqual(["1", "cleared"]);
  });

  it("lower-cases severities of alarm events", () => {
    const store = new LiveStore();
    store.applyEvent({ type: "event", stream: "site:1", seq: 1, kind: "alarm", path: ["site:1", "device:1"], data: { id: 5, severity: "MAJOR", state: "raised" } });
    expect(store.alarmsOf("1")[0]?.severity).toBe("major");
  });
});
