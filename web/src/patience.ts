/**
 * Waiting out a server that fails or a network that drops: a translated notice that stays while
 * it lasts, and the same request again a little later. A refusal (a 4xx) is not waited out.
 */
import { h } from "./dom";
import { t } from "./i18n";
import { transient } from "./outbox";

/** How long to wait before asking again. */
export const RETRY_MS = 5_000;

/** Show a notice of one kind (replacing the last of that kind), or take it away with `null`. */
export function notice(kind: string, text: string | null): void {
  const box = document.querySelector(`.toast[data-notice="${kind}"]`) ?? document.body.appendChild(h("div", { class: "toast notice", role: "status", "data-notice": kind }));
  if (text === null) box.remove();
  else box.textContent = text;
}

/** Call `load` until it answers, with a notice while the server or the network fails; a refusal is thrown. */
export async function patiently<T>(load: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const result = await load();
      notice("load", null);
      return result;
    } catch (error) {
      if (!transient(error)) throw error;
      notice("load", t("error.retrying", { seconds: RETRY_MS / 1000 }));
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}
