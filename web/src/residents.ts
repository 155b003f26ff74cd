/**
 * A unit's residents in the side panel: masked as the server sends them, and, for a role that may
 * read personal data, a reveal that asks why. The server checks the role, needs the reason and
 * audits the read; the view only hides the action from roles it would refuse.
 */
import { may } from "./actions";
import type { Api } from "./api";
import { h, replace } from "./dom";
import { type MessageKey, t } from "./i18n";

/** One resident as `GET /api/units/{id}/residents` lists them. */
interface Resident {
  id: number;
  name: string;
  phone: string | null;
  relation: string;
}

interface Residents {
  masked: boolean;
  items: Resident[];
}

/** The shortest reason the server accepts, so the button stays off until one is typed. */
const MIN_REASON = 4;

async function read(api: Api, unitId: number, reason: string | null): Promise<Residents> {
  const query = reason === null ? {} : { reveal: true, reason };
  const answer = await api.call(
    `GET /api/units/${unitId}/residents`,
    api.client.GET("/api/units/{unit_id}/residents", { params: { path: { unit_id: unitId }, query } }),
  );
  return answer as unknown as Residents;
}

function rows(list: Residents): HTMLElement {
  if (list.items.length === 0) return h("p", { class: "muted" }, t("residents.none"));
  return h(
    "ul",
    { class: "list residents", "data-masked": String(list.masked) },
    ...list.items.map((r) =>
      h(
        "li",
        { class: "resident", "data-resident": r.id },
        h("span", { class: "name" }, r.name),
        " ",
        h("span", { class: "phone" }, r.phone ?? ""),
        " ",
        h("span", { class: "muted" }, t(`residents.relation.${r.relation}` as MessageKey)),
      ),
    ),
  );
}

/**
 * Return the residents section of a unit, or null for a role that sees no billing (the server
 * answers such a role 404). `fail` shows a refused reveal.
 */
export async function residentsSection(api: Api, unitId: number, fail: (error: unknown) => void): Promise<HTMLElement | null> {
  const [sees, reveals] = await Promise.all([may(api, "billing.read"), may(api, "pii.read")]);
  if (!sees) return null;
  const box = h("div", { class: "residents-box" }, rows(await read(api, unitId, null)));
  const section = h("section", { class: "residents-section" }, h("h3", {}, t("residents.title")), box);
  if (!reveals) return section;
  const reason = h("input", { class: "reveal-reason", name: "reason", maxlength: "200", placeholder: t("residents.reason"), "aria-label": t("residents.reason") });
  const button = h("button", { type: "button", "data-action": "reveal", disabled: true }, t("residents.reveal"));
  const form = h("div", { class: "row actions" }, reason, button);
  reason.addEventListener("input", () => {
    button.disabled = reason.value.trim().length < MIN_REASON;
  });
  button.addEventListener("click", () => {
    button.disabled = true;
    read(api, unitId, reason.value.trim())
      .then((list) => {
        replace(box, rows(list));
        form.remove();
      })
      .catch((error: unknown) => {
        button.disabled = false;
        fail(error);
      });
  });
  section.append(form);
  return section;
}
