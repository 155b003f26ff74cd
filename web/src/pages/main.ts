/** `/`: the site, its buildings and floors, live devices, search and the panel. */
import "../style.css";
import { may } from "../actions";
import { floorName } from "../address";
import { compass } from "../compass";
import { h, must, replace } from "../dom";
import { hooks } from "../hooks";
import { type MessageKey, t } from "../i18n";
import { linksButton } from "../links";
import { LAYERS, type LayerName, QUIET, RAMP_HIGH, RAMP_LOW } from "../layers";
import { Panel } from "../panel";
import { PlanView } from "../plan2d";
import { FLOOR_MODES, type FloorMode, sortFloors } from "../scene/floors";
import { TwinView } from "../scene/twin";
import { searchBox } from "../search";
import { boot, languageButton, logoutButton, showError } from "../shell";
import { centreOf } from "../scene/geometry";
import type { FloorSummary, SearchHit, XYZ } from "../types";
import { colourOf } from "../catalogue";
import { pickSite } from "./site";

async function main(): Promise<void> {
  const shell = await boot({ page: "main" });
  const { api, catalogue, live } = shell;
  const stage = must<HTMLElement>("#stage");
  const twin = new TwinView(stage, shell);
  const panel = new Panel(shell, (id) => void showDevice(id));
  const crumbs = h("nav", { class: "crumbs" });
  const floorsBox = h("div", { class: "floors" });
  const planBox = h("div", { class: "plan-box", hidden: true });
  let plan: PlanView | null = null;

  const site = await pickSite(api);
  const scene = await api.scene(site.id);
  twin.showScene(scene);
  // The site stays on screen around any building or floor, tinted by its alarms: follow those
  // site-wide; the focused floor's readings, tickets and bills come with its own subscription.
  live.subscribe(`site:${site.id}`, ["alarm"]);

  async function showDevice(id: string): Promise<void> {
    await panel.showDevice(id).catch(showError);
  }

  function renderCrumbs(floor: FloorSummary | null): void {
    const building = scene.buildings.find((b) => String(b.id) === twin.building);
    replace(
      crumbs,
      h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), void twin.flyHome()) }, scene.site.name),
      building && h("span", {}, " › ", building.name),
      floor && h("span", {}, " › ", floor.name || floorName(floor.level)),
    );
  }

  function renderFloors(floor: FloorSummary | null): void {
    const building = scene.buildings.find((b) => String(b.id) === twin.building);
    if (!building) {
      replace(floorsBox);
      floorsBox.hidden = true;
      return;
    }
    floorsBox.hidden = false;
    const buttons = sortFloors(building.floors)
      .reverse()
      .map((f) =>
        h(
          "button",
          {
            type: "button",
            class: String(f.id) === String(floor?.id) ? "floor active" : "floor",
            onclick: () => void twin.openFloor(String(f.id)).catch(showError),
          },
          f.name || floorName(f.level),
        ),
      );
    replace(floorsBox, h("h3", {}, building.name), h("p", { class: "muted small" }, t("nav.keys")), h("div", { class: "floor-list" }, ...buttons));
  }

  function renderPlan(): void {
    const detail = twin.detail;
    if (!detail) {
      replace(planBox);
      plan = null;
      return;
    }
    plan = new PlanView(detail.plan, {
      spaceColour: (s) => twin.spaceColour(s),
      deviceColour: (d) => twin.deviceColour(d),
      kindColour: (k) => colourOf(catalogue, "device_kinds", k),
      onDevice: (d) => void showDevice(String(d.id)),
      onSpace: (s) => void panel.showSpace(s, detail.plan.devices).catch(showError),
    });
    replace(planBox, plan.svg);
  }

  twin.onFloor((floor) => {
    renderCrumbs(floor);
    renderFloors(floor);
    renderPlan();
    showLegend();
  });
  shell.store.onDevices(() => plan?.recolour());
  twin.onRefresh(() => {
    plan?.recolour();
    showLegend();
  });
  shell.store.onAlarm(() => plan?.recolour());
  let planDirty = false;
  shell.store.ops.onChange(() => {
    if (planDirty) return;
    planDirty = true;
    requestAnimationFrame(() => {
      planDirty = false;
      plan?.recolour();
      showDenied();
    });
  });

  const modeButtons = FLOOR_MODES.map((mode) =>
    h("button", { type: "button", class: mode === twin.mode ? "seg active" : "seg", "data-mode": mode }, t(`nav.mode.${mode}` as MessageKey)),
  );
  for (const button of modeButtons) {
    button.addEventListener("click", () => {
      twin.setMode(button.dataset.mode as FloorMode);
      for (const b of modeButtons) b.classList.toggle("active", b === button);
    });
  }
  const layerSelect = h(
    "select",
    { "aria-label": t("layer.title") },
    ...LAYERS.map((layer) => h("option", { value: layer }, t(`layer.${layer}` as MessageKey))),
  );
  const deniedNote = h("p", { class: "muted small", hidden: true }, t("layer.denied"));
  const kindOfLayer: Partial<Record<LayerName, string>> = { alarms: "alarm", tickets: "ticket", billing: "billing" };
  function showDenied(): void {
    const kind = kindOfLayer[layerSelect.value as LayerName];
    deniedNote.hidden = kind === undefined || !shell.denied.has(kind);
  }
  // The energy layer's ramp runs from nothing to the floor's largest use: say what its ends mean.
  const legend = h("div", { class: "legend small", hidden: true, "data-legend": "energy" });
  function showLegend(): void {
    const top = layerSelect.value === "energy" ? twin.energyTop() : null;
    legend.hidden = top === null;
    if (top === null) return;
    replace(
      legend,
      h("span", { class: "ramp", style: `--low:${RAMP_LOW};--high:${RAMP_HIGH}` }),
      h("span", { class: "ends" }, h("span", {}, t("unit.kwh", { n: 0 })), h("span", { "data-top": String(top) }, t("unit.kwh", { n: top.toFixed(1) }))),
      h("span", { class: "quiet" }, h("i", { style: `background:${QUIET}` }), t("layer.no_meter")),
    );
  }
  layerSelect.addEventListener("change", () => {
    twin.setLayer(layerSelect.value as LayerName);
    plan?.recolour();
    showDenied();
    showLegend();
  });
  const planToggle = h("button", { type: "button", class: "seg" }, t("nav.plan2d"));
  planToggle.addEventListener("click", () => {
    planBox.hidden = !planBox.hidden;
    planToggle.textContent = planBox.hidden ? t("nav.plan2d") : t("nav.view3d");
  });

  const linksSlot = h("span", { hidden: true });
  replace(
    must("#top"),
    h("div", { class: "brand" }, h("span", { class: "logo" }), t("app.title")),
    crumbs,
    searchBox(api, (hit) => void goTo(hit).catch(showError), scene.site.example_address),
    h("a", { class: "ghost link", href: "/wall" }, t("app.wall")),
    h("a", { class: "ghost link", href: "/inspect" }, t("app.inspect")),
    linksSlot,
    languageButton(),
    logoutButton(api),
    shell.indicator,
  );
  // Operators and admins make the fire brigade's links; others never see the button.
  void may(api, "emergency.create").then((allowed) => allowed && linksSlot.replaceWith(linksButton(api, site.id)));
  replace(
    must("#side"),
    h("section", { class: "card" }, h("h3", {}, t("layer.title")), layerSelect, deniedNote, legend, h("div", { class: "segs" }, ...modeButtons, planToggle)),
    floorsBox,
  );
  stage.append(planBox, compass(twin.viewer));
  must("#right").appendChild(panel.element);
  renderCrumbs(null);
  renderFloors(null);

  async function goTo(hit: SearchHit): Promise<void> {
    if (hit.type === "building") {
      twin.openBuilding(String(hit.id));
      return;
    }
    const floorId = hit.type === "floor" ? String(hit.id) : hit.floor_id === null ? null : String(hit.floor_id);
    if (floorId === null) {
      if (hit.position) await twin.flyToPoint(hit.position);
      return;
    }
    const detail = await twin.openFloor(floorId, hit.type === "floor");
    if (hit.type === "device") {
      await Promise.all([twin.focusDevice(String(hit.id), "#4cc9f0"), showDevice(String(hit.id))]);
    } else if (hit.type === "unit" && detail) {
      const space = detail.spaces.find((s) => String(s.id) === String(hit.id));
      if (space) void panel.showSpace(space, detail.devices).catch(showError);
      const at: XYZ | null = hit.position ?? (space ? [...centreOf(space.polygon), detail.floor.elevation] : null);
      if (at) {
        twin.markAt(at, "#4cc9f0");
        await twin.flyToPoint(at, 45);
      }
    }
  }

  let down: { x: number; y: number } | null = null;
  stage.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
  stage.addEventListener("pointerup", (e) => {
    if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 5) return;
    if ((e.target as Element).closest(".plan-box, .compass")) return;
    const picked = twin.pick(e.clientX, e.clientY);
    if (picked?.type === "device") void showDevice(String(picked.device.id));
    else if (picked?.type === "space" && twin.detail) void panel.showSpace(picked.space, twin.detail.plan.devices).catch(showError);
    else if (picked?.type === "building") twin.openBuilding(picked.id);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      void twin.step(e.key === "ArrowUp" ? 1 : -1).catch(showError);
    } else if (e.key === "Escape") {
      panel.close();
      void twin.flyHome();
    }
  });
  hooks.set({ buildings: twin.site?.buildings.size ?? 0 });
}

main().catch(showError);
