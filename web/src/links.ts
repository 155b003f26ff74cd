/**
 * Emergency links, from the command center: make one for the fire brigade box (its QR code holds
 * the absolute address a phone opens), see which are live, and revoke one at once. The key is
 * shown only when made (the server keeps its hash), so the list names links by number and time.
 * When the server warns that the address is a loopback one, the warning stands above the code.
 */
import type { Api, Schemas } from "./api";
import { h, replace } from "./dom";
import { hooks } from "./hooks";
import { t } from "./i18n";
import { transient } from "./outbox";
import { showError } from "./shell";

type Listed = Schemas["EmergencyLinkPublic"];

/** Return the button that opens the links dialog for a site. */
export function linksButton(api: Api, siteId: string | number): HTMLButtonElement {
  const button = h("button", { type: "button", class: "ghost link", "data-open": "links" }, t("links.title"));
  button.addEventListener("click", () => void new LinksDialog(api, siteId).open());
  return button;
}

class LinksDialog {
  private readonly box = h("div", { class: "card links", role: "dialog", "aria-label": t("links.title") });
  private readonly made = h("div", { class: "made" });
  private readonly list = h("ul", { class: "list" });

  constructor(
    private readonly api: Api,
    private readonly siteId: string | number,
  ) {}

  async open(): Promise<void> {
    document.querySelector(".card.links")?.remove();
    const hours = h("input", { type: "number", name: "hours", min: 1, max: 72, value: 12 });
    const create = h("button", { type: "submit", class: "primary" }, t("links.create"));
    const form = h("form", {}, h("label", { class: "small" }, t("links.hours"), " ", hours), create);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      create.disabled = true;
      this.create(Number(hours.value) || 12).finally(() => (create.disabled = false));
    });
    const close = h("button", { type: "button", class: "ghost" }, t("panel.close"));
    close.addEventListener("click", () => this.box.remove());
    replace(this.box, h("h3", {}, t("links.title")), form, this.made, h("h4", {}, t("links.list")), this.list, close);
    document.body.appendChild(this.box);
    await this.refresh();
  }

  private async create(hours: number): Promise<void> {
    try {
      const body = { site_id: Number(this.siteId), hours };
      const link = await this.api.call("POST /api/emergency-links", this.api.client.POST("/api/emergency-links", { body }));
      const svg = new DOMParser().parseFromString(link.qr_svg, "image/svg+xml").documentElement;
      const qr = h("div", { class: "qr", "data-link": String(link.id) });
      qr.appendChild(document.importNode(svg, true));
      replace(
        this.made,
        link.warning ? h("p", { class: "alert-box", "data-warning": "loopback" }, t("links.loopback")) : null,
        qr,
        h("p", { class: "small" }, h("a", { href: link.url, "data-url": link.url }, link.url)),
        h("p", { class: "muted small" }, t("links.expires", { at: new Date(link.expires_at).toLocaleString() })),
      );
      hooks.set({ panel: `link:${link.id}` });
      await this.refresh();
    } catch (error) {
      showError(transient(error) ? new Error(t("links.retry")) : error);
    }
  }

  private async refresh(): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const query = { ended: true, site_id: Number(this.siteId) };
        const { items } = await this.api.call("GET /api/emergency-links", this.api.client.GET("/api/emergency-links", { params: { query } }));
        replace(this.list, ...items.map((link) => this.row(link)));
        if (items.length === 0) replace(this.list, h("li", { class: "muted" }, t("links.none")));
        return;
      } catch (error) {
        if (!transient(error) || attempt >= 3) return showError(error);
        replace(this.list, h("li", { class: "muted" }, t("links.retry")));
        await new Promise((resolve) => setTimeout(resolve, 2000 * (attempt + 1)));
      }
    }
  }

  private row(link: Listed): HTMLElement {
    const state = link.revoked_at ? t("links.revoked") : link.active ? t("links.active") : t("links.expired");
    const revoke = link.active ? h("button", { type: "button", class: "ghost", "data-revoke": String(link.id) }, t("links.revoke")) : null;
    revoke?.addEventListener("click", () => {
      revoke.disabled = true;
      const path = { link_id: link.id };
      this.api.call(`DELETE /api/emergency-links/${link.id}`, this.api.client.DELETE("/api/emergency-links/{link_id}", { params: { path } })).then(
        () => this.refresh(),
        (error: unknown) => {
          revoke.disabled = false;
          showError(transient(error) ? new Error(t("links.retry")) : error);
        },
      );
    });
    return h(
      "li",
      { "data-link": String(link.id), "data-state": link.revoked_at ? "revoked" : link.active ? "active" : "expired" },
      `#${link.id} · ${state} · ${t("links.expires", { at: new Date(link.expires_at).toLocaleString() })} · ${t("links.uses", { n: link.uses })} `,
      revoke,
    );
  }
}
