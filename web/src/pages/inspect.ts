/**
 * `/inspect`: the inspector's tablet. The signed-in inspector's round for today, stop by stop in
 * walking order on a 2D plan per floor (the floor changes said where they fall), each stop
 * recorded as OK or a defect with a note and a photo, and the progress. Results go through the
 * outbox, so a round walked where the network drops loses nothing and sends nothing twice; a
 * note being typed is kept on the tablet until its result is queued.
 */
import "../style.css";
import { may } from "../actions";
import { floorName } from "../address";
import { colourOf } from "../catalogue";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { t } from "../i18n";
import { type Entry, Outbox, newKey } from "../outbox";
import { RETRY_MS, notice, patiently } from "../patience";
import { PlanView } from "../plan2d";
import { centreOf } from "../scene/geometry";
import { boot, languageButton, logoutButton, showError, type Shell } from "../shell";
import { startOfToday } from "../today";
import type { FloorPlan, XY } from "../types";

/** One stop of a round, as the server lists it. */
export interface Stop {
  id: number;
  seq: number;
  name: string;
  floor_id: number | null;
  device_id: number | null;
  space_id: number;
  leg: number[];
  visit: { outcome: string; ticket_id: number | null } | null;
}

/** A round of the signed-in inspector, as the server lists it. */
export interface Round {
  id: number;
  /** The signed-in user, since the tablet asks for its own rounds. */
  inspector: string;
  status: string;
  estimated_minutes: number;
  length: number;
  stops: Stop[];
}

const PHOTO_SIDE = 1280;

async function inspect(): Promise<void> {
  const shell = await boot({ page: "inspect" });
  const query = { mine: true, since: startOfToday() };
  const { api } = shell;
  const rounds: Round[] = (await patiently(() => api.call("GET /api/inspections/rounds", api.client.GET("/api/inspections/rounds", { params: { query } })))).items;
  replace(must("#top"), h("div", { class: "brand" }, h("span", { class: "logo" }), t("inspect.title")), h("span", { class: "crumbs" }), h("a", { class: "ghost link", href: "/" }, t("nav.site")), languageButton(), logoutButton(shell.api), shell.indicator);
  const round = rounds.find((r) => r.status !== "done" && r.stops.length > 0) ?? rounds[0];
  if (!round) {
    replace(must("#side"), h("p", { class: "muted" }, t("inspect.none")));
    hooks.set({ panel: "round:none" });
    return;
  }
  new RoundView(shell, round).start();
}

class RoundView {
  private current = 0;
  private readonly plans = new Map<number, Promise<FloorPlan>>();
  /** The shown floor's live device health: one subscription, moved with the floor. */
  private floor: { id: number; sub: string } | null = null;
  private view: PlanView | null = null;
  private readonly outbox: Outbox;
  private allowed = true;
  private readonly head = h("div");
  private readonly formBox = h("div");
  private readonly list = h("ol", { class: "stops" });

  constructor(
    private readonly shell: Shell,
    private readonly round: Round,
  ) {
    this.outbox = new Outbox(shell.api, round.inspector);
    shell.store.onDevices(() => this.view?.recolour());
  }

  start(): void {
    this.current = this.nextOpen();
    this.outbox.onChange(() => this.renderSide());
    this.outbox.onRefused((entry, error) => this.refused(entry, error));
    this.outbox.onSent((entry) => {
      const stop = this.round.stops.find((s) => s.id === entry.stopId);
      if (stop) stop.visit = { outcome: entry.body.outcome, ticket_id: entry.ticketId ?? null };
      this.renderSide();
    });
    window.addEventListener("online", () => this.send());
    setInterval(() => this.send(), RETRY_MS);
    void may(this.shell.api, "inspection.write").then((allowed) => {
      this.allowed = allowed;
      const submit = this.formBox.querySelector<HTMLButtonElement>("button[type=submit]");
      if (submit && !allowed) submit.disabled = true;
    });
    this.render();
    this.send();
  }

  private recorded(stop: Stop): boolean {
    return stop.visit !== null || this.outbox.has(stop.id);
  }

  private nextOpen(): number {
    const next = this.round.stops.findIndex((s) => !this.recorded(s));
    return next < 0 ? this.round.stops.length : next;
  }

  private send(): void {
    if (this.outbox.entries().length === 0) return;
    this.outbox.flush().then(
      () => notice("outbox", null),
      () => notice("outbox", t("inspect.offline", { n: this.outbox.entries().length })),
    );
  }

  /** A result the server refused: say so, and give the stop back with its note so nothing typed is lost. */
  private refused(entry: Entry, error: unknown): void {
    showError(error);
    if (entry.body.note) localStorage.setItem(draftKey(entry.stopId), entry.body.note);
    this.current = Math.max(0, this.round.stops.findIndex((s) => s.id === entry.stopId));
    this.render();
  }

  render(): void {
    if (!this.head.isConnected) replace(must("#side"), this.head, this.formBox, this.list);
    this.renderForm();
    this.renderSide();
    void this.drawFloor().catch(showError);
  }

  private renderSide(): void {
    const stops = this.round.stops;
    const done = stops.filter((s) => this.recorded(s)).length;
    const waiting = this.outbox.entries().length;
    hooks.set({ panel: `round:${this.round.id}:${done}/${stops.length}`, outbox: waiting });
    const items: HTMLElement[] = [];
    stops.forEach((stop, i) => {
      const previous = stops[i - 1];
      if (previous && previous.floor_id !== stop.floor_id) items.push(h("li", { class: "floor-change muted small" }, t("inspect.floor_change", { floor: this.floorLabel(stop.floor_id) })));
      const state = stop.visit ? "done" : this.outbox.has(stop.id) ? "done queued" : "";
      items.push(
        h(
          "li",
          { class: [i === this.current ? "active" : "", state].join(" ").trim(), "data-stop": String(stop.id), onclick: () => this.go(i) },
          h("b", {}, t("inspect.stop", { n: i + 1 })),
          " ",
          stop.name,
          stop.visit?.outcome === "defect" ? h("span", { class: "badge" }, t("inspect.fault")) : null,
        ),
      );
    });
    const percent = stops.length ? Math.round((100 * done) / stops.length) : 100;
    replace(
      this.head,
      h("h2", {}, t("inspect.round", { id: this.round.id })),
      h("p", { class: "muted", "data-progress": `${done}/${stops.length}` }, t("inspect.progress", { done, total: stops.length })),
      h("div", { class: "progress" }, h("span", { style: `width:${percent}%` })),
      waiting ? h("p", { class: "muted small", "data-waiting": String(waiting) }, t("inspect.waiting", { n: waiting })) : null,
    );
    replace(this.list, ...items);
  }

  /** Show the form of the current stop; the rest of the side panel follows the queue without touching it. */
  private renderForm(): void {
    const done = this.current >= this.round.stops.length;
    replace(this.formBox, done ? h("p", { class: "alert-box" }, t("inspect.done")) : this.form());
  }

  private floorLabel(floorId: number | null): string {
    const plan = floorId === null ? undefined : this.known.get(floorId);
    return plan ? plan.floor.name || floorName(plan.floor.level) : `#${floorId ?? "?"}`;
  }

  private readonly known = new Map<number, FloorPlan>();

  private go(index: number): void {
    this.current = index;
    this.render();
  }

  private form(): HTMLElement {
    const stop = this.round.stops[this.current];
    if (!stop) return h("div");
    const recorded = this.recorded(stop);
    const note = h("textarea", { name: "note", placeholder: t("inspect.note"), maxlength: 2000 });
    note.value = localStorage.getItem(draftKey(stop.id)) ?? "";
    note.addEventListener("input", () => localStorage.setItem(draftKey(stop.id), note.value));
    const photo = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
    const submit = h("button", { type: "submit", class: "primary" }, t("inspect.submit"));
    submit.disabled = recorded || !this.allowed;
    const form = h(
      "form",
      { class: "card result-form" },
      h("h3", {}, t("inspect.stop", { n: this.current + 1 }), " · ", stop.name),
      recorded ? h("p", { class: "muted small" }, t("inspect.saved")) : null,
      h("div", { class: "choice" }, radio("ok", t("inspect.ok"), true), radio("defect", t("inspect.fault"), false)),
      note,
      h("label", { class: "small" }, t("inspect.photo"), " ", photo),
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit.disabled = true;
      const outcome = (form.querySelector("input[name=result]:checked") as HTMLInputElement | null)?.value === "defect" ? "defect" : "ok";
      void shrink(photo.files?.[0] ?? null).then(
        (image) => this.record(stop, outcome, note.value.trim(), outcome === "defect" ? image : null),
        (error: unknown) => {
          submit.disabled = false;
          showError(error);
        },
      );
    });
    return form;
  }

  private record(stop: Stop, outcome: "ok" | "defect", note: string, photo: string | null): void {
    this.outbox.add({ user: this.round.inspector, roundId: this.round.id, stopId: stop.id, body: { outcome, note: note || null, at: new Date().toISOString(), key: newKey() }, photo });
    localStorage.removeItem(draftKey(stop.id));
    this.send();
    this.go(this.nextOpen());
  }

  private async drawFloor(): Promise<void> {
    const stops = this.round.stops;
    const focus = stops[Math.min(this.current, stops.length - 1)];
    if (!focus || focus.floor_id === null) return;
    const floorId = focus.floor_id;
    const floorsInOrder = [...new Set(stops.map((s) => s.floor_id).filter((f): f is number => f !== null))];
    const plan = await this.plan(floorId);
    await Promise.all(floorsInOrder.map((id) => this.plan(id)));
    this.follow(floorId);
    const { catalogue } = this.shell;
    const targets = new Set(stops.map((s) => s.device_id).filter((d): d is number => d !== null));
    const view = new PlanView(plan, {
      spaceColour: (s) => colourOf(catalogue, "space_kinds", s.kind),
      deviceColour: (d) => colourOf(catalogue, "device_health", this.shell.store.devices.get(String(d.id))?.health ?? d.health),
      kindColour: (k) => colourOf(catalogue, "device_kinds", k),
      // Only the round's targets get a pin: the plan shows the walk, not every device of the floor.
      filter: (d) => targets.has(Number(d.id)),
    });
    this.view = view;
    const centres = new Map(plan.spaces.map((s) => [Number(s.id), centreOf(s.polygon)]));
    const here = stops.map((s, i) => ({ s, i })).filter(({ s }) => s.floor_id === floorId);
    const at = (s: Stop): XY | null => {
      const device = s.device_id === null ? undefined : plan.devices.find((d) => Number(d.id) === s.device_id);
      return device ? [device.position[0], device.position[1]] : (centres.get(s.space_id) ?? null);
    };
    // The walk on this floor: every leg's rooms that lie here, then the stop itself.
    const line: XY[] = [];
    for (const { s } of here) {
      for (const space of s.leg) {
        const centre = centres.get(space);
        if (centre) line.push(centre);
      }
      const point = at(s);
      if (point) line.push(point);
    }
    const points = here.map(({ s }) => at(s)).filter((p): p is XY => p !== null);
    view.route(line, points, here.findIndex(({ i }) => i === this.current));
    const tabs = floorsInOrder.map((id) =>
      h(
        "button",
        { type: "button", class: id === floorId ? "seg active" : "seg", "data-floor": String(id), onclick: () => this.go(stops.findIndex((s) => s.floor_id === id)) },
        this.floorLabel(id),
      ),
    );
    replace(must("#stage"), h("div", { class: "floor-tabs" }, ...tabs), view.svg);
    hooks.set({ floor: String(floorId), devices: plan.devices.length, spaces: plan.spaces.length, route: line.length });
    this.renderSide();
  }

  private follow(floorId: number): void {
    if (this.floor?.id === floorId) return;
    if (this.floor) this.shell.live.unsubscribe(this.floor.sub);
    this.floor = { id: floorId, sub: this.shell.live.subscribe(`floor:${floorId}`, ["status", "alarm"]) };
  }

  private plan(floorId: number): Promise<FloorPlan> {
    let plan = this.plans.get(floorId);
    if (!plan) {
      plan = patiently(() => this.shell.api.plan(floorId)).then((p) => (this.known.set(floorId, p), p));
      this.plans.set(floorId, plan);
    }
    return plan;
  }
}

function draftKey(stopId: number): string {
  return `twin.inspect.draft.${stopId}`;
}

function radio(value: string, label: string, checked: boolean): HTMLElement {
  return h("label", {}, h("input", { type: "radio", name: "result", value, checked }), label);
}

/** Return a photo as a JPEG data URL no wider or taller than a tablet needs, small enough to queue. */
async function shrink(file: File | null): Promise<string | null> {
  if (!file) return null;
  const image = await createImageBitmap(file);
  const scale = Math.min(1, PHOTO_SIDE / Math.max(image.width, image.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  canvas.getContext("2d")?.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.85);
}

inspect().catch(showError);
