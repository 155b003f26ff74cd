/**
 * The side panel: a device (live values, a history chart, its alarms and tickets, and the
 * actions the role allows) or a household unit (address, kind, its devices, its residents masked).
 */
import { ago, toMillis } from "./age";
import { displayAddress } from "./address";
import { alarmList, markAlarm, ticketList, type AttentionContext, type Subject } from "./attention";
import { colourOf, fireSafetyKinds, labelIn } from "./catalogue";
import { historyChart } from "./chart";
import { h, replace } from "./dom";
import { hooks } from "./hooks";
import { t } from "./i18n";
import { residentsSection } from "./residents";
import { showError, type Shell } from "./shell";
import type { DeviceDetail, PlacedDevice, Reading, Space } from "./types";
import { formatValue } from "./values";

const DAY_S = 86_400;

/** The panel element and what is shown in it. */
export class Panel {
  readonly element = h("aside", { class: "panel", hidden: true, "aria-live": "polite" });
  private stopLive: (() => void) | null = null;

  constructor(
    private readonly shell: Shell,
    private readonly onDevice: (id: string) => void = () => undefined,
  ) {}

  /** Close the panel. */
  close(): void {
    this.stopLive?.();
    this.stopLive = null;
    this.element.hidden = true;
    hooks.set({ panel: null });
  }

  /** Show a device, loading its details and following its live values and alarms. */
  async showDevice(deviceId: string): Promise<void> {
    this.open(h("p", { class: "muted" }, t("panel.loading")));
    const { api, catalogue, store } = this.shell;
    const detail = await api.device(deviceId);
    const subject: Subject = {
      device_id: detail.id,
      category: fireSafetyKinds(catalogue).has(detail.kind) ? "fire_safety" : "other",
      title: t("panel.ticket_title", { device: detail.name }),
    };
    const alarmsBox = h("div", { class: "attention" });
    const ticketsBox = h("div", { class: "attention" });
    const ctx = this.attention(async () => {
      const fresh = await api.device(deviceId);
      await draw(fresh.alarms, fresh.tickets);
    });
    const draw = async (alarms: DeviceDetail["alarms"], tickets: DeviceDetail["tickets"]): Promise<void> => {
      const [a, b] = await Promise.all([alarmList(ctx, alarms, subject), ticketList(ctx, tickets, subject)]);
      replace(alarmsBox, a);
      replace(ticketsBox, b);
    };
    await draw(detail.alarms, detail.tickets);
    const values = h("table", { class: "values" });
    const healthBadge = h("span", { class: "badge" });
    const lastSeen = h("span", { class: "muted" });
    const paint = (): void => {
      const live = store.devices.get(deviceId);
      const state = { ...detail.state, ...(live?.state ?? {}) };
      const health = live?.health ?? detail.health;
      healthBadge.textContent = labelIn(catalogue, "device_health", health);
      healthBadge.style.setProperty("--c", colourOf(catalogue, "device_health", health));
      const seen = toMillis(live?.lastSeen ?? detail.last_seen);
      lastSeen.textContent = `${t("panel.last_seen")} ${seen === null ? t("panel.never") : ago(seen, Date.now())}`;
      replace(values, ...valueRows(state));
    };
    paint();
    const stopValues = store.onDevices((changed) => {
      if (changed.has(deviceId)) paint();
    });
    // Another operator's acknowledgement shows at once from the live event; the sections are then re-read.
    const stopAlarms = store.onAlarm((alarm) => {
      if (String(alarm.device_id) !== deviceId) return;
      markAlarm(alarmsBox, catalogue, alarm);
      void ctx.refresh();
    });
    this.stopLive = () => {
      stopValues();
      stopAlarms();
    };
    const kindColour = colourOf(catalogue, "device_kinds", detail.kind);
    const chartBox = h("div", { class: "chart" });
    const quantities = Object.keys(detail.state).filter((q) => typeof detail.state[q]?.value === "number");
    const picker = h("select", { class: "quantity", "aria-label": t("panel.history") }, ...quantities.map((q) => h("option", { value: q }, q)));
    picker.addEventListener("change", () => void this.drawHistory(chartBox, deviceId, picker.value, kindColour, detail.state[picker.value]?.unit ?? null));
    replace(
      this.element,
      this.header(labelIn(catalogue, "device_kinds", detail.kind), detail.name, kindColour),
      h("p", { class: "path" }, detail.path.map((p) => p.name).join(" › ")),
      h("div", { class: "row" }, healthBadge, lastSeen),
      h("p", { class: "muted" }, `${t("panel.tag")} ${detail.tag ?? ""}`),
      h("h3", {}, t("panel.live")),
      values,
      quantities.length > 0 && h("h3", {}, t("panel.history"), " ", picker),
      quantities.length > 0 && chartBox,
      h("h3", {}, t("panel.alarms")),
      alarmsBox,
      h("h3", {}, t("panel.tickets")),
      ticketsBox,
    );
    hooks.set({ panel: `device:${deviceId}` });
    const first = quantities[0];
    if (first) await this.drawHistory(chartBox, deviceId, first, kindColour, detail.state[first]?.unit ?? null);
  }

  /** Show a unit or room of the plan, the devices in it, and its active alarms and open tickets. */
  async showSpace(space: Space, devices: readonly PlacedDevice[]): Promise<void> {
    const { api, catalogue } = this.shell;
    const here = devices.filter((d) => String(d.space_id) === String(space.id));
    const detail = await api.space(space.id);
    const subject: Subject = { place_id: space.id, category: "other", title: displayAddress(space.address) || space.name };
    const ctx = this.attention(() => this.showSpace(space, devices));
    const residents = space.kind === "unit" ? await residentsSection(api, Number(space.id), showError) : null;
    const list = h(
      "ul",
      { class: "list" },
      ...here.map((d) =>
        h(
          "li",
          { class: "clickable", onclick: () => this.onDevice(String(d.id)) },
          h("span", { class: "swatch", style: `--c:${colourOf(catalogue, "device_kinds", d.kind)}` }),
          `${labelIn(catalogue, "device_kinds", d.kind)} · ${d.name}`,
        ),
      ),
    );
    this.open(
      this.header(labelIn(catalogue, "space_kinds", space.kind), displayAddress(space.address) || space.name, colourOf(catalogue, "space_kinds", space.kind)),
      space.address ? h("p", { class: "muted" }, `${t("panel.address")} ${space.address}`) : null,
      h("h3", {}, t("panel.devices_here")),
      here.length > 0 ? list : h("p", { class: "muted" }, t("panel.no_values")),
      residents,
      h("h3", {}, t("panel.alarms")),
      await alarmList(ctx, detail.alarms, subject),
      h("h3", {}, t("panel.tickets")),
      await ticketList(ctx, detail.tickets, subject),
    );
    hooks.set({ panel: `space:${space.id}` });
  }

  /** The context of the alarm and ticket sections: re-reading the object after an action (one read at a time). */
  private attention(reload: () => Promise<void>): AttentionContext {
    // One read at a time; a change heard during a read asks for one more, so the last read is after it.
    let running: Promise<void> | null = null;
    let again = false;
    const refresh = (): Promise<void> => {
      if (running) {
        again = true;
        return running;
      }
      running = reload().finally(() => {
        running = null;
        if (again) {
          again = false;
          void refresh();
        }
      });
      return running;
    };
    return { api: this.shell.api, catalogue: this.shell.catalogue, refresh, fail: showError };
  }

  private open(...children: (Node | null | false)[]): void {
    this.stopLive?.();
    this.stopLive = null;
    replace(this.element, ...children);
    this.element.hidden = false;
  }

  private header(kind: string, name: string, colour: string): HTMLElement {
    return h(
      "header",
      { class: "panel-head" },
      h("div", {}, h("span", { class: "kind", style: `--c:${colour}` }, kind), h("h2", {}, name)),
      h("button", { class: "ghost close", type: "button", "aria-label": t("panel.close"), onclick: () => this.close() }, "×"),
    );
  }

  private async drawHistory(box: HTMLElement, deviceId: string, quantity: string, colour: string, unit: string | null): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    try {
      const history = await this.shell.api.history(deviceId, quantity, now - DAY_S, now, 300, unit);
      replace(box);
      historyChart(box, history, colour);
    } catch (error) {
      replace(box, h("p", { class: "muted" }, (error as Error).message));
    }
  }
}

function valueRows(state: Record<string, Reading>): HTMLElement[] {
  const entries = Object.entries(state);
  if (entries.length === 0) return [h("tr", {}, h("td", { class: "muted" }, t("panel.no_values")))];
  return entries.map(([quantity, reading]) =>
    h(
      "tr",
      { "data-quantity": quantity },
      h("th", {}, quantity),
      h("td", { class: "value" }, formatValue(reading.value), h("span", { class: "unit" }, reading.unit ? ` ${reading.unit}` : "")),
    ),
  );
}
