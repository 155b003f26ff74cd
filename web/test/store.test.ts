import { describe, expect, it } from "vitest";
import type { EventMessage } from "../src/live";
import { idFromPath, LiveStore } from "../src/store";

const path = (device: number): string[] => ["site:1", "building:3", "floor:12", "space:77", `device:${device}`];
let seq = 0;
const event = (kind: string, device: number, data: Record<string, unknown>): EventMessage => ({
  type: "event",
  stream: "site:1",
  seq: ++seq,
  kind,
  path: path(device),
  data,
});

describe("LiveStore", () => {
  it("coalesces readings by device until the frame flushes them", () => {
    const store = new LiveStore();
    const notified: string[][] = [];
    store.onDevices((changed) => notified.push([...changed].sort()));
    for (let i = 0; i < 100; i++) {
      store.applyEvent(event("telemetry", 901, { quantity: "temperature", value: 20 + i, unit: "°C", time: i }));
      store.applyEvent(event("telemetry", 902, { quantity: "pressure", value: i, unit: "MPa", time: i }));
    }
    store.applyEvent(event("telemetry", 901, { quantity: "humidity", value: 55, unit: "%", time: 100 }));
    expect(notified).toEqual([]);
    expect(store.coalesced).toBe(198);

    expect([...store.flush()].sort()).toEqual(["901", "902"]);
    expect(notified).toEqual([["901", "902"]]);
    const d = store.devices.get("901");
    expect(d?.state.temperature?.value).toBe(119);
    expect(d?.state.humidity?.value).toBe(55);
    expect(d?.lastSeen).toBe(100);
    expect(store.flush().size).toBe(0);
  });

  it("applies alarms at once, never merged, and forgets cleared ones", () => {
    const store = new LiveStore();
    const heard: [string, boolean][] = [];
    store.onAlarm((alarm, _path, fresh) => heard.push([String(alarm.id), fresh]));
    store.applyEvent(event("alarm", 901, { id: 1, severity: "critical", state: "raised" }));
    store.applyEvent(event("alarm", 901, { id: 2, severity: "major", state: "raised" }));
    expect(heard).toEqual([["1", true], ["2", true]]);
    expect(store.alarmsOf("901").map((a) => a.id)).toEqual([1, 2]);
    store.applyEvent(event("alarm", 901, { id: 1, severity: "critical", state: "acknowledged" }));
    expect(heard.at(-1)).toEqual(["1", false]);
    expect(store.alarms.size).toBe(2);
    store.applyEvent(event("alarm", 901, { id: 1, severity: "critical", state: "cleared" }));
    expect([...store.alarms.keys()]).toEqual(["2"]);
  });

  it("replaces what a snapshot covers and keeps status changes", () => {
    const store = new LiveStore();
    store.applyEvent(event("telemetry", 901, { quantity: "t", value: 1, unit: null, time: 1 }));
    store.applySnapshot({
      type: "snapshot",
      sub: "s1",
      stream: "site:1",
      seq: 9,
      devices: [{ id: 901, health: "online", state: { t: { value: 5, unit: null, time: 2 } } }],
      alarms: [{ id: 7, severity: "major", state: "raised", device_id: 901 }],
    });
    // The reading older than the snapshot is not applied over it.
    expect(store.flush().size).toBe(0);
    expect(store.devices.get("901")?.state.t?.value).toBe(5);
    expect(store.alarmsOf("901")).toHaveLength(1);
    store.applyEvent(event("status", 901, { health: "offline", last_seen: 3 }));
    store.flush();
    expect(store.devices.get("901")?.health).toBe("offline");
    store.clear();
    expect(store.devices.size + store.alarms.size).toBe(0);
  });

  it("passes imports and inspections through untouched", () => {
    const store = new LiveStore();
    const kinds: string[] = [];
    store.onOther((e) => kinds.push(e.kind));
    store.applyEvent(event("import", 901, { id: 3, status: "running", progress: 0.5 }));
    store.applyEvent(event("ticket", 901, { id: 4, status: "open" }));
    expect(kinds).toEqual(["import"]);
  });

  it("finds ids in event paths", () => {
    expect(idFromPath(path(901), "floor")).toBe("12");
    expect(idFromPath(path(901), "device")).toBe("901");
    expect(idFromPath(["site:1"], "device")).toBeNull();
  });
});
