/**
 * The UI's copy of the live state. Telemetry can arrive far faster than a screen can redraw,
 * so readings are coalesced by device (the newest value of each quantity wins) and applied
 * once per frame by `flush`; alarms are applied at once and never merged away. Tickets and
 * billing live beside them in `ops`.
 */
import { toMillis } from "./age";
import type { EventMessage, SnapshotMessage } from "./messages";
import { inScope, OpsStore } from "./ops";
import type { Alarm, Reading } from "./types";

export interface DeviceLive {
  health: string | null;
  lastSeen: string | number | null;
  state: Record<string, Reading>;
}

interface Pending {
  health?: string;
  lastSeen?: string | number | null;
  state: Record<string, Reading>;
}

export type DeviceListener = (changed: ReadonlySet<string>) => void;
export type AlarmListener = (alarm: Alarm, path: string[], fresh: boolean) => void;
export type OtherListener = (event: EventMessage) => void;

/** Return the id of the last `prefix:` element of an event path, e.g. the device of a reading. */
export function idFromPath(path: readonly string[], prefix: string): string | null {
  for (let i = path.length - 1; i >= 0; i--) {
    const step = path[i];
    if (step?.startsWith(`${prefix}:`)) return step.slice(prefix.length + 1);
  }
  return null;
}

/** An alarm is active until it is cleared; acknowledged ones still show. */
export function isActive(alarm: Alarm): boolean {
  return alarm.state !== "cleared" && alarm.state !== "closed";
}

/** The catalogue keys severities in lower case; the wire may spell them CRITICAL. */
function normalised(alarm: Alarm): Alarm {
  return typeof alarm.severity === "string" ? { ...alarm, severity: alarm.severity.toLowerCase() } : alarm;
}

/**
 * Return whether a reading at `time` may replace the one held at `held`. Readings are
 * idempotent: the server coalesces and rate-limits them, so only their time orders them.
 */
export function newerOrSame(time: unknown, held: Reading | undefined): boolean {
  if (!held) return true;
  const incoming = toMillis(time as string | number | null);
  const current = toMillis(held.time);
  return incoming === null || current === null || incoming >= current;
}

/** Live device values and active alarms, shared by the 3D view, the plan and the panel. */
export class LiveStore {
  readonly devices = new Map<string, DeviceLive>();
  readonly alarms = new Map<string, { alarm: Alarm; path: string[] }>();
  readonly ops = new OpsStore();
  private readonly pending = new Map<string, Pending>();
  private readonly deviceListeners = new Set<DeviceListener>();
  private readonly alarmListeners = new Set<AlarmListener>();
  private readonly otherListeners = new Set<OtherListener>();
  /** Counts events folded into an earlier pending one; the benchmark and tests read it. */
  coalesced = 0;

  /** Replace what a snapshot covers: its devices, its active alarms, tickets and billing. */
  applySnapshot(message: SnapshotMessage): void {
    const changed = new Set<string>();
    for (const device of message.devices ?? []) {
      const id = String(device.id);
      this.pending.delete(id);
      this.devices.set(id, {
        health: device.health ?? null,
        lastSeen: device.last_seen ?? null,
        state: { ...(device.state ?? {}) },
      });
      changed.add(id);
    }
    if (message.alarms) this.replaceAlarms(message.alarms, message.scope);
    this.ops.applySnapshot(message);
    this.notifyDevices(changed);
  }

  private replaceAlarms(alarms: Alarm[], scope: string | undefined): void {
    const listed = new Set(alarms.map((a) => String(a.id)));
    // An alarm of this scope that the snapshot no longer lists was cleared while we were away.
    for (const [id, held] of this.alarms) {
      if (scope !== undefined && inScope(held.path, scope) && !listed.has(id)) {
        this.alarms.delete(id);
        for (const listener of this.alarmListeners) listener({ ...held.alarm, state: "cleared" }, held.path, false);
      }
    }
    for (const raw of alarms) {
      const alarm = normalised(raw);
      if (!isActive(alarm)) continue;
      const path = alarm.path ?? (alarm.device_id != null ? [`device:${alarm.device_id}`] : []);
      this.alarms.set(String(alarm.id), { alarm, path });
      for (const listener of this.alarmListeners) listener(alarm, path, false);
    }
  }

  /** Take one live event: readings wait for the next flush, alarms apply now. */
  applyEvent(event: EventMessage): void {
    const deviceId = idFromPath(event.path, "device") ?? stringOrNull(event.data.device_id);
    switch (event.kind) {
      case "telemetry":
        if (deviceId !== null) this.queueReading(deviceId, event.data);
        break;
      case "status":
        if (deviceId !== null) this.queueStatus(deviceId, event.data);
        break;
      case "alarm":
        this.applyAlarm(event);
        break;
      case "ticket":
      case "billing":
        this.ops.applyEvent(event);
        break;
      default:
        for (const listener of this.otherListeners) listener(event);
    }
  }

  /** Apply the coalesced readings and tell the views which devices changed. */
  flush(): ReadonlySet<string> {
    if (this.pending.size === 0) return new Set();
    const changed = new Set<string>();
    for (const [id, patch] of this.pending) {
      const device = this.devices.get(id) ?? { health: null, lastSeen: null, state: {} };
      if (patch.health !== undefined) device.health = patch.health;
      if (patch.lastSeen !== undefined) device.lastSeen = patch.lastSeen;
      Object.assign(device.state, patch.state);
      this.devices.set(id, device);
      changed.add(id);
    }
    this.pending.clear();
    this.notifyDevices(changed);
    return changed;
  }

  /** Forget everything, as a resync asks; the fresh snapshots refill the store. */
  clear(): void {
    const all = new Set(this.devices.keys());
    this.devices.clear();
    this.pending.clear();
    this.alarms.clear();
    this.ops.clear();
    this.notifyDevices(all);
  }

  /** Return the active alarms of a device. */
  alarmsOf(deviceId: string): Alarm[] {
    const result: Alarm[] = [];
    for (const { alarm, path } of this.alarms.values()) {
      if (String(alarm.device_id ?? idFromPath(path, "device")) === deviceId) result.push(alarm);
    }
    return result;
  }

  onDevices(listener: DeviceListener): () => void {
    this.deviceListeners.add(listener);
    return () => this.deviceListeners.delete(listener);
  }

  onAlarm(listener: AlarmListener): () => void {
    this.alarmListeners.add(listener);
    return () => this.alarmListeners.delete(listener);
  }

  /** Hear the kinds the store does not keep (imports, inspections). */
  onOther(listener: OtherListener): () => void {
    this.otherListeners.add(listener);
    return () => this.otherListeners.delete(listener);
  }

  private queueReading(id: string, data: Record<string, unknown>): void {
    const quantity = stringOrNull(data.quantity);
    if (quantity === null) return;
    const held = this.pending.get(id)?.state[quantity] ?? this.devices.get(id)?.state[quantity];
    if (!newerOrSame(data.time, held)) return;
    const patch = this.patchOf(id);
    if (quantity in patch.state) this.coalesced += 1;
    patch.state[quantity] = {
      value: (data.value ?? null) as Reading["value"],
      unit: stringOrNull(data.unit),
      time: (data.time ?? Date.now() / 1000) as Reading["time"],
    };
    patch.lastSeen = patch.state[quantity].time;
  }

  private queueStatus(id: string, data: Record<string, unknown>): void {
    const patch = this.patchOf(id);
    const health = stringOrNull(data.health);
    if (health !== null) patch.health = health;
    if ("last_seen" in data) patch.lastSeen = data.last_seen as string | number | null;
  }

  private patchOf(id: string): Pending {
    let patch = this.pending.get(id);
    if (!patch) {
      patch = { state: {} };
      this.pending.set(id, patch);
    }
    return patch;
  }

  private applyAlarm(event: EventMessage): void {
    const alarm = normalised(event.data as unknown as Alarm);
    if (alarm.id == null) return;
    const deviceId = idFromPath(event.path, "device");
    const full: Alarm = { ...alarm, device_id: alarm.device_id ?? deviceId ?? undefined, path: event.path };
    const key = String(alarm.id);
    const fresh = !this.alarms.has(key) && isActive(full);
    if (isActive(full)) this.alarms.set(key, { alarm: full, path: event.path });
    else this.alarms.delete(key);
    for (const listener of this.alarmListeners) listener(full, event.path, fresh);
  }

  private notifyDevices(changed: ReadonlySet<string>): void {
    if (changed.size === 0) return;
    for (const listener of this.deviceListeners) listener(changed);
  }
}

function stringOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}
