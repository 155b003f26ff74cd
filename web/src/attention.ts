/**
 * The part of a panel that needs a hand: the active alarms of a device or place (severity colour,
 * age, who acknowledged, who is assigned; Acknowledge / Assign / Open ticket / Clear as the role
 * allows), its open tickets (status, SLA due, assignee) and a form for a new ticket with a photo.
 * Each action goes to the server; the panel then re-reads the object, so what it shows is stored.
 */
import { acknowledge, assign, attachPhoto, clear, may, openTicket, ticketFromAlarm } from "./actions";
import { ago, toMillis } from "./age";
import type { Api, Schemas } from "./api";
import { colourOf, isCritical, labelIn } from "./catalogue";
import { h } from "./dom";
import { lang, t } from "./i18n";
import { unreachable } from "./storms";
import type { ActiveAlarm, Catalogue, Ticket } from "./types";

/** What the panel is about: a device's own ticket form sends `device_id`, a place's `place_id`. */
export interface Subject {
  device_id?: number;
  place_id?: number;
  /** The trade a ticket goes to unless the person picks another. */
  category: Schemas["TicketCategory"];
  title: string;
}

export interface AttentionContext {
  api: Api;
  catalogue: Catalogue;
  /** Re-read the object and redraw the panel after an action. */
  refresh: () => Promise<void>;
  /** Show a failed action where the person sees it. */
  fail: (error: unknown) => void;
}

/** Render the active alarms, each with the buttons the role allows. */
export async function alarmList(ctx: AttentionContext, alarms: readonly ActiveAlarm[], subject: Subject): Promise<HTMLElement> {
  if (alarms.length === 0) return h("p", { class: "muted" }, t("panel.no_alarms"));
  const canAct = await may(ctx.api, "alarm.ack");
  const canTicket = canAct && (await may(ctx.api, "ticket.write"));
  return h("ul", { class: "list alarms" }, ...alarms.map((alarm) => alarmItem(ctx, alarm, subject, canAct, canTicket)));
}

function alarmItem(ctx: AttentionContext, alarm: ActiveAlarm, subject: Subject, canAct: boolean, canTicket: boolean): HTMLElement {
  const { api, catalogue } = ctx;
  const first = toMillis(alarm.first_at);
  const facts = [
    first === null ? null : ago(first, Date.now()),
    alarm.acknowledged_by ? t("panel.acked_by", { user: alarm.acknowledged_by }) : null,
    alarm.assignee ? t("panel.assignee", { user: alarm.assignee }) : null,
    alarm.children > 0 ? unreachable(alarm.children) : null,
  ].filter((fact): fact is string => fact !== null);
  const act = (label: string, run: () => Promise<unknown>, name: string): HTMLButtonElement => {
    const button = h("button", { type: "button", class: "small", "data-action": name }, label);
    button.addEventListener("click", () => {
      button.disabled = true;
      run().then(ctx.refresh, (error: unknown) => {
        button.disabled = false;
        ctx.fail(error);
      });
    });
    return button;
  };
  const assignee = h("input", { class: "assignee", name: "assignee", placeholder: t("panel.assign_to"), "aria-label": t("panel.assign_to") });
  const buttons = canAct
    ? h(
        "div",
        { class: "row actions" },
        alarm.state === "raised" && act(t("panel.ack"), () => acknowledge(api, alarm.id), "ack"),
        assignee,
        act(t("panel.assign"), () => assign(api, alarm.id, assignee.value.trim()), "assign"),
        canTicket && alarm.ticket_id === null && act(t("panel.alarm_ticket"), () => ticketFromAlarm(api, alarm.id, subject.category, isCritical(catalogue, alarm.severity) ? "urgent" : "high"), "ticket"),
        act(t("panel.clear"), () => clear(api, alarm.id), "clear"),
      )
    : null;
  return h(
    "li",
    { class: "alarm", "data-alarm": alarm.id, "data-state": alarm.state, style: `--c:${colourOf(catalogue, "alarm_severity", alarm.severity)}` },
    h("span", { class: "badge" }, labelIn(catalogue, "alarm_severity", alarm.severity)),
    " ",
    h("span", { class: "state" }, labelIn(catalogue, "alarm_state", alarm.state)),
    ` ${alarm.message || alarm.rule} `,
    h("span", { class: "muted" }, facts.join(" · ")),
    buttons,
  );
}

/** Show a live alarm change (an acknowledgement, a clear) on its item at once, before the re-read. */
export function markAlarm(root: HTMLElement, catalogue: Catalogue, alarm: { id: number | string; state?: string }): void {
  const item = root.querySelector<HTMLElement>(`li.alarm[data-alarm="${String(alarm.id)}"]`);
  if (!item || alarm.state === undefined) return;
  item.dataset.state = alarm.state;
  const state = item.querySelector(".state");
  if (state) state.textContent = labelIn(catalogue, "alarm_state", alarm.state);
}

/** Render the open tickets and, when the role may write tickets, the form for a new one. */
export async function ticketList(ctx: AttentionContext, tickets: readonly Ticket[], subject: Subject): Promise<HTMLElement> {
  const { catalogue } = ctx;
  const when = new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", { dateStyle: "short", timeStyle: "short" });
  const list = h(
    "ul",
    { class: "list tickets" },
    ...tickets.map((ticket) =>
      h(
        "li",
        { class: "ticket", "data-ticket": ticket.id, style: `--c:${colourOf(catalogue, "ticket_status", ticket.status)}` },
        h("span", { class: "badge" }, labelIn(catalogue, "ticket_status", ticket.status)),
        ` #${ticket.id} ${ticket.title} `,
        h(
          "span",
          { class: ticket.overdue ? "due overdue" : "due muted" },
          ticket.overdue ? t("panel.overdue") : t("panel.sla_due", { time: when.format(new Date(ticket.due_at)) }),
        ),
        ticket.assignee ? h("span", { class: "muted" }, ` · ${t("panel.assignee", { user: ticket.assignee })}`) : null,
      ),
    ),
  );
  const box = h("div", {}, tickets.length > 0 ? list : h("p", { class: "muted" }, t("panel.no_tickets")));
  if (await may(ctx.api, "ticket.write")) box.appendChild(ticketForm(ctx, subject));
  return box;
}

function options(catalogue: Catalogue, vocabulary: "ticket_category" | "ticket_priority", chosen: string): HTMLOptionElement[] {
  return Object.keys(catalogue[vocabulary]).map((key) => {
    const option = h("option", { value: key }, labelIn(catalogue, vocabulary, key));
    option.selected = key === chosen;
    return option;
  });
}

function ticketForm(ctx: AttentionContext, subject: Subject): HTMLFormElement {
  const { api, catalogue } = ctx;
  const category = h("select", { name: "category", "aria-label": t("panel.ticket_category") }, ...options(catalogue, "ticket_category", subject.category));
  const priority = h("select", { name: "priority", "aria-label": t("panel.ticket_priority") }, ...options(catalogue, "ticket_priority", "normal"));
  const description = h("textarea", { name: "description", required: true, rows: 2, placeholder: t("panel.ticket_description") });
  const photo = h("input", { type: "file", name: "photo", accept: "image/jpeg,image/png,image/webp", "aria-label": t("panel.ticket_photo") });
  const submit = h("button", { type: "submit", class: "small" }, t("panel.ticket_submit"));
  const form = h(
    "form",
    { class: "ticket-form" },
    h("h4", {}, t("panel.new_ticket")),
    h("label", {}, t("panel.ticket_category"), " ", category),
    h("label", {}, t("panel.ticket_priority"), " ", priority),
    description,
    h("label", {}, t("panel.ticket_photo"), " ", photo),
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    const body: Schemas["TicketCreate"] = {
      ...(subject.device_id !== undefined ? { device_id: subject.device_id } : { place_id: subject.place_id ?? null }),
      category: category.value as Schemas["TicketCategory"],
      priority: priority.value as Schemas["TicketPriority"],
      title: subject.title,
      description: description.value.trim(),
    };
    const file = photo.files?.[0];
    openTicket(api, body)
      .then((ticket) => (file ? attachPhoto(api, ticket.id, file) : null))
      .then(ctx.refresh, (error: unknown) => {
        submit.disabled = false;
        ctx.fail(error);
      });
  });
  return form;
}
