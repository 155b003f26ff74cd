/**
 * What every page does first: pick the language, make sure there is a token, load the
 * catalogue, and open the one live socket with the store behind it (and the REST fallback
 * that stands in while the socket cannot connect).
 */
import { Api, ApiError } from "./api";
import { Auth } from "./auth";
import { h } from "./dom";
import { Fallback } from "./fallback";
import { hooks } from "./hooks";
import { initLang, lang, setLang, t } from "./i18n";
import { indicator } from "./indicator";
import { LiveClient, liveUrl, type SocketLike } from "./live";
import { askLogin } from "./login";
import { LiveStore } from "./store";
import type { Catalogue } from "./types";

export interface Shell {
  api: Api;
  auth: Auth;
  catalogue: Catalogue;
  live: LiveClient;
  store: LiveStore;
  fallback: Fallback;
  /** Kinds the hub refused this role on some subscription (billing for a responder). */
  denied: Set<string>;
  indicator: HTMLElement;
}

/** How often the REST fallback re-reads while the live socket is down. */
export const POLL_MS = 10_000;

export interface ShellOptions {
  page: string;
  /** Get a token some other way than the login form (the responder's emergency key). */
  authenticate?: (api: Api) => Promise<void>;
}

/** Boot a page; resolves once signed in with the catalogue loaded and the socket opening. */
export async function boot(options: ShellOptions): Promise<Shell> {
  initLang(location.search);
  document.title = t("app.title");
  hooks.set({ page: options.page });
  const auth = new Auth();
  const api = new Api(auth);
  const signIn = (expired: boolean): Promise<void> => (options.authenticate ? options.authenticate(api) : askLogin(api, expired));
  if (!auth.token) await signIn(false);

  let catalogue: Catalogue;
  try {
    catalogue = await api.catalogue();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    await signIn(true);
    catalogue = await api.catalogue();
  }

  const store = new LiveStore();
  const fallback = new Fallback(POLL_MS);
  const denied = new Set<string>();
  let light: ReturnType<typeof indicator> | null = null;
  const live = new LiveClient({
    url: liveUrl(location),
    token: () => auth.token,
    socket: (url) => new WebSocket(url) as unknown as SocketLike,
    handlers: {
      snapshot: (m) => {
        for (const kind of m.denied ?? []) denied.add(kind);
        store.applySnapshot(m);
      },
      event: (m) => store.applyEvent(m),
      resync: () => store.clear(),
      state: (s, retry) => {
        fallback.follow(s);
        light?.state(s, retry);
      },
      unauthorized: () => auth.expire(),
      forbidden: () => fallback.start(),
      refused: (_sub, scope, code) => console.warn(t("live.refused", { code, scope })),
    },
  });
  light = indicator(live, fallback);
  auth.onExpired(() => {
    live.close();
    void signIn(true).then(() => live.connect());
  });
  const flush = (): void => {
    store.flush();
    hooks.set({ alarms: store.alarms.size, scopes: [...live.scopes.values()] });
    requestAnimationFrame(flush);
  };
  requestAnimationFrame(flush);
  live.connect();
  return { api, auth, catalogue, live, store, fallback, denied, indicator: light.element };
}

/** A button that switches between Chinese and English and reloads the labels. */
export function languageButton(): HTMLButtonElement {
  const button = h("button", { class: "ghost lang", type: "button" }, t("app.language"));
  button.addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    location.reload();
  });
  return button;
}

/** A button that ends the session on the server and asks for a login again. */
export function logoutButton(api: Api): HTMLButtonElement {
  const button = h("button", { class: "ghost logout", type: "button" }, t("app.logout"));
  button.addEventListener("click", () => void api.logout().catch(showError));
  return button;
}

/** Show a failure where a person sees it, and keep it for the tests. */
export function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  hooks.error(message);
  document.body.appendChild(h("div", { class: "toast error", role: "alert" }, message));
}
