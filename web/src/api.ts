/**
 * The REST client: every request carries the bearer token, a 401 ends the session (the page
 * then shows the login form), and any other failure becomes an `ApiError` naming the request.
 */
import { adaptCatalogue, adaptDevice, adaptHistory, adaptHit, adaptScene, stepText } from "./adapt";
import type { Auth } from "./auth";
import { t } from "./i18n";
import type {
  Catalogue,
  DeviceDetail,
  FloorPlan,
  History,
  Scene,
  SearchHit,
  SiteSummary,
  TokenPair,
} from "./types";

/** A failed request, with the method and path it was for so the message says where. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly what: string,
    detail: string,
  ) {
    super(status === 0 ? t("error.network", { what: `${what} ${detail}` }) : t("error.http", { status, what: `${what} ${detail}` }));
    this.name = "ApiError";
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Typed calls to the twin server. */
export class Api {
  constructor(
    private readonly auth: Auth,
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
    private readonly base = "",
  ) {}

  /** Send one request and decode its JSON answer. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.auth.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await this.fetcher(this.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, what, error instanceof Error ? error.message : String(error));
    }
    if (response.status === 401 && !path.startsWith("/api/auth/")) this.auth.expire();
    if (!response.ok) throw new ApiError(response.status, what, await detailOf(response));
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** Sign in with a username and password and keep the tokens. */
  async login(username: string, password: string): Promise<void> {
    this.auth.save(await this.request<TokenPair>("POST", "/api/auth/login", { username, password }));
  }

  /**
   * End the session on the server, so its tokens stop working there too, then forget them here
   * (which shows the login form again). Forgotten even when the server cannot be reached.
   */
  async logout(): Promise<void> {
    const refresh = this.auth.refreshToken;
    try {
      await this.request<void>("POST", "/api/auth/logout", refresh ? { refresh_token: refresh } : {});
    } finally {
      this.auth.expire();
    }
  }

  /** Exchange an emergency link's key for a token, for the responder who has no account. */
  async emergency(key: string): Promise<void> {
    this.auth.save(await this.request<TokenPair>("POST", "/api/auth/emergency", { key }));
  }

  async catalogue(): Promise<Catalogue> {
    return adaptCatalogue(await this.request("GET", "/api/catalogue"));
  }

  async sites(): Promise<SiteSummary[]> {
    return (await this.request<{ items: SiteSummary[] }>("GET", "/api/sites")).items;
  }

  /** Load a site's scene and, where a model was imported, the GLB storeys that draw it. */
  async scene(siteId: string | number): Promise<Scene> {
    const [raw, models] = await Promise.all([
      this.request<Json>("GET", `/api/sites/${enc(siteId)}/scene`),
      this.request<Json>("GET", `/api/sites/${enc(siteId)}/models`).catch(() => null),
    ]);
    return adaptScene(raw, models);
  }

  plan(floorId: string | number): Promise<FloorPlan> {
    return this.request("GET", `/api/floors/${enc(floorId)}/plan`);
  }

  /** Load a device with its latest values (the state may be missing: the panel then shows none). */
  async device(deviceId: string | number): Promise<DeviceDetail> {
    const [raw, state] = await Promise.all([
      this.request<Json>("GET", `/api/devices/${enc(deviceId)}`),
      this.request<Json>("GET", `/api/devices/${enc(deviceId)}/state`).catch(() => null),
    ]);
    return adaptDevice(raw, state);
  }

  async history(deviceId: string | number, quantity: string, fromS: number, toS: number, stepS: number, unit: string | null = null): Promise<History> {
    const iso = (s: number): string => new Date(s * 1000).toISOString();
    const q = new URLSearchParams({ quantity, from: iso(fromS), to: iso(toS), step: stepText(stepS) });
    return adaptHistory(await this.request("GET", `/api/devices/${enc(deviceId)}/history?${q.toString()}`), unit);
  }

  async search(query: string): Promise<SearchHit[]> {
    const q = new URLSearchParams({ q: query });
    return (await this.request<{ items: Json[] }>("GET", `/api/search?${q.toString()}`)).items.map(adaptHit);
  }
}

type Json = Record<string, unknown>;

/** Return a rejection handler that answers `fallback` for a 404 (an endpoint not there yet) and rethrows the rest. */
export function notFoundAs<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof ApiError && error.status === 404) return fallback;
    throw error;
  };
}

/** Percent-encode one path segment of an id. */
export function enc(id: string | number): string {
  return encodeURIComponent(String(id));
}

async function detailOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: unknown };
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
  } catch {
    return response.statusText;
  }
}
