/** A compass rose that turns with the camera, so north is never lost on a rotated site. */
import { Vector3 } from "three";
import { h } from "./dom";
import { headingOf } from "./frame";
import { t } from "./i18n";
import type { Viewer } from "./scene/viewer";

/** Build the compass and keep it turned with the camera. */
export function compass(viewer: Viewer): HTMLElement {
  const needle = h("div", { class: "needle" }, h("span", {}, t("nav.compass_north")));
  const element = h("div", { class: "compass", title: t("nav.compass_north") }, needle);
  const direction = new Vector3();
  viewer.onFrame(() => {
    viewer.camera.getWorldDirection(direction);
    needle.style.transform = `rotate(${-headingOf(direction)}deg)`;
  });
  return element;
}
