/**
 * `/inspect`: the inspector's tablet. Today's round stop by stop on the floor plans, the
 * route drawn through the stops of each floor, and the result form for the current stop.
 */
import "../style.css";
import { may } from "../actions";
import { floorName } from "../address";
import { colourOf } from "../catalogue";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { t } from "../i18n";
import { PlanView } from "../plan2d";
import { notFoundAs } from "../api";
import { boot, languageButton, logoutButton, showError, type Shell } from "../shell";
import type { FloorPlan, XY, XYZ } from "../types";

/** One stop of a round, as the server lists it. */
export interface Stop {
  id: string | number;
  name: string;
  floor_id: string | number;
  device_id?: string | number | null;
  space_id?: string | number | null;
  position: XYZ;
  done?: boolean;
}

export interface Round {
  id: string | number;
  name: string;
  stops: Stop[];
}

async function inspect(): Promise<void> {
  const shell = await boot({ page: "inspect" });
  const { api } = shell;
  // Until the server offers today's rounds, a 404 is an honest "no round today", not a failure.
  const rounds = (await api.request<{ items: Round[] }>("GET", "/api/inspections/today").catch(notFoundAs({ items: [] as Round[] }))).items;
  replace(must("#top"), h("div", { class: "brand" }, h("span", { class: "logo" }), t("inspect.title")), h("span", { class: "crumbs" }), h("a", { class: "ghost link", href: "/" }, t("nav.site")), languageButton(), logoutButton(shell.api), shell.indicator);
  const round = rounds[0];
  if (!round) {
    replace(must("#side"), h("p", { class: "muted" }, t("inspect.none")));
    return;
  }
  new RoundView(shell, round).render();
}

class RoundView {
  private current: number;
  private readonly plans = new Map<string, Promise<FloorPlan>>();
  /** The shown floor's live device health: one subscription, moved with the floor. */
  private floor: { id: string; sub: string } | null = null;
  private view: PlanView | null = null;

  constructor(
    private readonly shell: Shell,
    private readonly round: Round,
  ) {
    this.current = Math.max(0, round.stops.findIndex((s) => !s.done));
    if (round.stops.every((s) => s.done)) this.current = round.stops.length;
    shell.store.onDevices(() => this.view?.recolour());
  }

  render(): void {
    const stops = this.round.stops;
    const done = stops.filter((s) => s.done).length;
    hooks.set({ panel: `round:${this.round.id}:${done}/${stops.length}` });
    const list = h(
      "ol",
      { class: "stops" },
      ...stops.map((stop, i) =>
        h(
          "li",
          { class: [i === this.current ? "active" : "", stop.done ? "done" : ""].join(" ").trim(), onclick: () => this.go(i) },
          h("b", {}, t("inspect.stop", { n: i + 1 })),
          " ",
          stop.name,
        ),
      ),
    );
    replace(
      must("#side"),
      h("h2", {}, this.round.name),
      h("p", { class: "muted" }, t("inspect.progress", { done, total: stops.length })),
      this.current < stops.length ? this.form() : h("p", { class: "alert-box" }, t("inspect.done")),
      list,
    );
    void this.drawFloor().catch(showError);
  }

  private go(index: number): void {
    this.current = index;
    this.render();
  }

  private form(): HTMLElement {
    const stop = this.round.stops[this.current];
    if (!stop) return h("div");
    const note = h("textarea", { name: "note", placeholder: t("inspect.note") });
    const submit = h("button", { type: "submit", class: "primary" }, t("inspect.submit"));
    const form = h(
      "form",
      { class: "card result-form" },
      h("h3", {}, t("inspect.stop", { n: this.current + 1 }), " · ", stop.name),
      h("div", { class: "choice" }, radio("ok", t("inspect.ok"), true), radio("fault", t("inspect.fault"), false)),
      note,
      submit,
    );
    void may(this.shell.api, "inspection.submit").then((allowed) => (submit.disabled = !allowed));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const result = (form.querySelector("input[name=result]:checked") as HTMLInputElement | null)?.value ?? "ok";
      submit.disabled = true;
      const path = `/api/inspections/${encodeURIComponent(String(this.round.id))}/stops/${encodeURIComponent(String(stop.id))}`;
      this.shell.api.request("POST", path, { result, note: note.value }).then(
        () => {
          stop.done = true;
          const next = this.round.stops.findIndex((s) => !s.done);
          this.go(next < 0 ? this.round.stops.length : next);
        },
        (error: unknown) => {
          submit.disabled = false;
          showError(error);
        },
      );
    });
    return form;
  }

  private async drawFloor(): Promise<void> {
    const stops = this.round.stops;
    const focus = stops[Math.min(this.current, stops.length - 1)];
    if (!focus) return;
    const floorId = String(focus.floor_id);
    const floorsInOrder = [...new Set(stops.map((s) => String(s.floor_id)))];
    const plan = await this.plan(floorId);
    this.follow(floorId);
    const { catalogue } = this.shell;
    const view = new PlanView(plan, {
      spaceColour: (s) => colourOf(catalogue, "space_kinds", s.kind),
      deviceColour: (d) => colourOf(catalogue, "device_health", this.shell.store.devices.get(String(d.id))?.health ?? d.health),
      kindColour: (k) => colourOf(catalogue, "device_kinds", k),
    });
    this.view = view;
    const here = stops.map((s, i) => ({ s, i })).filter(({ s }) => String(s.floor_id) === floorId);
    const points: XY[] = here.map(({ s }) => [s.position[0], s.position[1]]);
    view.route(points, points, here.findIndex(({ i }) => i === this.current));
    const tabs = floorsInOrder.map((id) =>
      h(
        "button",
        {
          type: "button",
          class: id === floorId ? "seg active" : "seg",
          onclick: () => this.go(stops.findIndex((s) => String(s.floor_id) === id)),
        },
        id === floorId ? plan.floor.name || floorName(plan.floor.level) : `${t("inspect.route")} ${floorsInOrder.indexOf(id) + 1}`,
      ),
    );
    replace(must("#stage"), h("div", { class: "floor-tabs" }, ...tabs), view.svg);
    hooks.set({ floor: floorId, devices: plan.devices.length, spaces: plan.spaces.length });
  }

  private follow(floorId: string): void {
    if (this.floor?.id === floorId) return;
    if (this.floor) this.shell.live.unsubscribe(this.floor.sub);
    this.floor = { id: floorId, sub: this.shell.live.subscribe(`floor:${floorId}`, ["status", "alarm"]) };
  }

  private plan(floorId: string): Promise<FloorPlan> {
    let plan = this.plans.get(floorId);
    if (!plan) {
      plan = this.shell.api.plan(floorId);
      this.plans.set(floorId, plan);
    }
    return plan;
  }
}

function radio(value: string, label: string, checked: boolean): HTMLElement {
  return h("label", {}, h("input", { type: "radio", name: "result", value, checked }), label);
}

inspect().catch(showError);
