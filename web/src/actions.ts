/**
 * What the signed-in role may do, and the actions on alarms and tickets, through the typed
 * client. The server decides; the view only hides buttons that would be refused.
 */
import type { Api, Schemas } from "./api";

/** The actions the pages offer, each checked against the server permission that allows it. */
const PERMISSION = {
  "alarm.ack": "alarm.ack",
  "ticket.write": "ticket.write",
  "inspection.write": "inspection.write",
  "emergency.create": "emergency.create",
  "billing.read": "billing.read",
  "pii.read": "pii.read",
} as const;

export type Action = keyof typeof PERMISSION;

let permissions: Promise<Set<string>> | null = null;

/** Return whether the current role may perform an action (as `GET /api/me` lists its permissions). */
export async function may(api: Api, action: Action): Promise<boolean> {
  permissions ??= api.call("GET /api/me", api.client.GET("/api/me")).then((me) => new Set(me.permissions));
  return (await permissions).has(PERMISSION[action]);
}

type AlarmAnswer = Promise<Schemas["AlarmPublic"]>;

/** Acknowledge an alarm (who and when are recorded by the server). */
export function acknowledge(api: Api, alarmId: number, note: string | null = null): AlarmAnswer {
  const params = { path: { alarm_id: alarmId } };
  return api.call(`POST /api/alarms/${alarmId}/ack`, api.client.POST("/api/alarms/{alarm_id}/ack", { params, body: { note } }));
}

/** Give an alarm to someone who may handle alarms there. */
export function assign(api: Api, alarmId: number, assignee: string): AlarmAnswer {
  const params = { path: { alarm_id: alarmId } };
  return api.call(`POST /api/alarms/${alarmId}/assign`, api.client.POST("/api/alarms/{alarm_id}/assign", { params, body: { assignee } }));
}

/** Clear an alarm by hand. */
export function clear(api: Api, alarmId: number): AlarmAnswer {
  const params = { path: { alarm_id: alarmId } };
  return api.call(`POST /api/alarms/${alarmId}/clear`, api.client.POST("/api/alarms/{alarm_id}/clear", { params, body: {} }));
}

/** Open a repair ticket from an alarm; the alarm and the ticket then name each other. */
export function ticketFromAlarm(
  api: Api,
  alarmId: number,
  category: Schemas["TicketCategory"],
  priority: Schemas["TicketPriority"],
): Promise<Schemas["TicketOpened"]> {
  const params = { path: { alarm_id: alarmId } };
  return api.call(`POST /api/alarms/${alarmId}/ticket`, api.client.POST("/api/alarms/{alarm_id}/ticket", { params, body: { category, priority } }));
}

/** Open a ticket on a device or a place. */
export function openTicket(api: Api, body: Schemas["TicketCreate"]): Promise<Schemas["TicketPublic"]> {
  return api.call("POST /api/tickets", api.client.POST("/api/tickets", { body }));
}

/** Attach a photo to a ticket, as the multipart field `file`. */
export function attachPhoto(api: Api, ticketId: number, photo: Blob): Promise<Schemas["PhotoPublic"]> {
  const form = new FormData();
  // A File keeps its name; a Blob (a shrunk or queued photo) is named by its type.
  form.append("file", photo, photo instanceof File ? photo.name : `photo.${photo.type === "image/png" ? "png" : "jpg"}`);
  return api.call(
    `POST /api/uploads/tickets/${ticketId}/photos`,
    api.client.POST("/api/uploads/tickets/{ticket_id}/photos", {
      params: { path: { ticket_id: ticketId } },
      body: { file: "" },
      bodySerializer: () => form,
    }),
  );
}
