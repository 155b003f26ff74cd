/**
 * What the signed-in role may do. The server decides; the view only hides buttons that would
 * be refused, and shows everything when the server does not say.
 */
import type { Api } from "./api";

export type Action = "alarm.ack" | "ticket.create" | "inspection.write" | "emergency.create";

let permissions: Promise<Set<string> | null> | null = null;

/** Return whether the current role may perform an action. */
export async function may(api: Api, action: Action): Promise<boolean> {
  permissions ??= api.request<{ permissions?: string[] }>("GET", "/api/me").then(
    (me) => (me.permissions ? new Set(me.permissions) : null),
    () => null,
  );
  const granted = await permissions;
  return granted === null || granted.has(action);
}

/** Acknowledge an alarm. */
export function acknowledge(api: Api, alarmId: string | number): Promise<unknown> {
  return api.request("POST", `/api/alarms/${encodeURIComponent(String(alarmId))}/ack`, {});
}

/** Open a maintenance ticket for a device. */
export function openTicket(api: Api, deviceId: string | number, title: string): Promise<unknown> {
  return api.request("POST", "/api/tickets", { device_id: deviceId, title });
}
