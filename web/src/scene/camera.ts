/** Camera moves: fly to a place, and the slow tour of the wall display. */
import { Vector3 } from "three";
import { toThree } from "../frame";
import type { XYZ } from "../types";
import type { Viewer } from "./viewer";

export interface View {
  position: Vector3;
  target: Vector3;
}

/** Ease in and out, so a flight starts and lands gently. */
export function ease(t: number): number {
  const k = Math.min(1, Math.max(0, t));
  return k < 0.5 ? 4 * k * k * k : 1 - (-2 * k + 2) ** 3 / 2;
}

/**
 * Return the view that looks at a local-frame point from `distance` metres, from the compass
 * `heading` (degrees, 0 = from the south looking north) and `pitch` above the horizon.
 */
export function viewOf(target: XYZ, distance: number, heading = 30, pitch = 40): View {
  const h = (heading * Math.PI) / 180;
  const p = (pitch * Math.PI) / 180;
  const [tx, ty, tz] = target;
  const horizontal = distance * Math.cos(p);
  const eye: XYZ = [tx - horizontal * Math.sin(h), ty - horizontal * Math.cos(h), tz + distance * Math.sin(p)];
  return { position: new Vector3(...toThree(...eye)), target: new Vector3(...toThree(...target)) };
}

/** Return the view between two, `t` of the way (eased). */
export function between(from: View, to: View, t: number): View {
  const k = ease(t);
  return { position: from.position.clone().lerp(to.position, k), target: from.target.clone().lerp(to.target, k) };
}

const flights = new WeakMap<Viewer, symbol>();

/** Fly the viewer's camera to a view; resolves on landing, or early if another flight starts. */
export function flyTo(viewer: Viewer, to: View, durationMs = 1200): Promise<void> {
  const from: View = { position: viewer.camera.position.clone(), target: viewer.controls.target.clone() };
  const flight = Symbol("flight");
  flights.set(viewer, flight);
  return new Promise((resolve) => {
    let elapsed = 0;
    const stop = viewer.onFrame((_now, dt) => {
      if (flights.get(viewer) !== flight) {
        stop();
        resolve();
        return;
      }
      elapsed += dt;
      const view = between(from, to, elapsed / durationMs);
      viewer.camera.position.copy(view.position);
      viewer.controls.target.copy(view.target);
      if (elapsed >= durationMs) {
        stop();
        resolve();
      }
    });
  });
}
