/**
 * An elevator's state in words, for a responder deciding whether a car can be used: where it
 * is, where it is going, whether its door is open, or that nothing is known (never a bare value).
 */
import { t } from "./i18n";
import type { Reading } from "./types";

/** Say an elevator's state from its latest readings (floor, direction, running, door_open, state) and health. */
export function liftWords(state: Record<string, Reading>, health: string | null): string {
  if (health === "offline" || health === "unreachable") return t("lift.offline");
  const floor = state.floor?.value;
  const direction = String(state.direction?.value ?? state.state?.value ?? "");
  const running = state.running?.value;
  const parts: string[] = [];
  if (typeof floor === "number") parts.push(t("lift.at_floor", { floor }));
  if (direction === "up") parts.push(t("lift.up"));
  else if (direction === "down") parts.push(t("lift.down"));
  else if (direction === "idle" || running === false) parts.push(t("lift.idle"));
  else if (running === true) parts.push(t("lift.moving"));
  if (state.door_open?.value === true) parts.push(t("lift.door_open"));
  return parts.length ? parts.join(" · ") : t("lift.unknown");
}
