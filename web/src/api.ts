/**
 * The REST client, typed by the server's own OpenAPI document (src/api/schema.d.ts, generated
 * by scripts/openapi): a path, method, parameter or field the server lacks is a type error.
 * Every request carries the bearer token, a 401 ends the session (the page then shows the
 * login form), and any other failure becomes an `ApiError` naming the request. A route the
 * server does not have is a bug, logged and never read as an empty answer; only a 404 on an
 * object that does not exist (`notFoundAs`) may be.
 */
import createClient, { type Client } from "openapi-fetch";
import { adaptCatalogue, adaptDevice, adaptHistory, adaptHit, adaptPlan, adaptScene, stepText } from "./adapt";
import type { components, paths } from "./api/schema";
import type { Auth } from "./auth";
import { t } from "./i18n";
import type { Catalogue, DeviceDetail, FloorPlan, History, Scene, SearchHit, SiteSummary, SpaceDetail } from "./types";

export type Schemas = components["schemas"];

/** FastAPI's answer for a path or method it has no route for (a resource it lacks names itself). */
const NO_ROUTE = new Set(["Not Found", "Method Not Allowed"]);

/** A failed request, with the method and path it was for so the message says where. */
export class ApiError extends Error {
  /** The server has no such route: the view and the server disagree, which is never an empty answer. */
  readonly missingRoute: boolean;

  constructor(
    readonly status: number,
    readonly what: string,
    readonly detail: string,
  ) {
    super(status === 0 ? t("error.network", { what: `${what} ${detail}` }) : t("error.http", { status, what: `${what} ${detail}` }));
    this.name = "ApiError";
    this.missingRoute = (status === 404 || status === 405) && NO_ROUTE.has(detail);
    if (this.missingRoute) console.error(`the server has no route for ${what}`);
  }
}

export type Fetch = (input: Request) => Promise<Response>;

/** What every openapi-fetch call answers. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Typed calls to the twin server. */
export class Api {
  /** The typed client: new code calls `api.client.GET("/api/…", …)` through `api.call`. */
  readonly client: Client<paths>;

  constructor(
    private readonly auth: Auth,
    fetcher: Fetch = (input) => fetch(input),
    base = "",
  ) {
    this.client = createClient<paths>({ baseUrl: base || location.origin, fetch: fetcher });
    this.client.use({
      onRequest: ({ request }) => {
        request.headers.set("Accept", "application/json");
        const token = this.auth.token;
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }

  /** Await one typed call and return its data, or throw an `ApiError` naming the request. */
  async call<T>(what: string, pending: Promise<Answer<T>>): Promise<T> {
    let answer: Answer<T>;
    try {
      answer = await pending;
    } catch (error) {
      throw new ApiError(0, what, error instanceof Error ? error.message : String(error));
    }
    const { response } = answer;
    if (response.status === 401 && !what.includes(" /api/auth/")) this.auth.expire();
    if (!response.ok) throw new ApiError(response.status, what, detailOf(answer.error, response));
    return answer.data as T;
  }

  /** Sign in with a username and password and keep the tokens. */
  async login(username: string, password: string): Promise<void> {
    this.auth.save(await this.call("POST /api/auth/login", this.client.POST("/api/auth/login", { body: { username, password } })));
  }

  /**
   * End the session on the server, so its tokens stop working there too, then forget them here
   * (which shows the login form again). Forgotten even when the server cannot be reached.
   */
  async logout(): Promise<void> {
    const refresh = this.auth.refreshToken;
    try {
      const body = refresh ? { refresh_token: refresh } : {};
      await this.call("POST /api/auth/logout", this.client.POST("/api/auth/logout", { body }));
    } finally {
      this.auth.expire();
    }
  }

  /** Exchange an emergency link's key for a token, for the responder who has no account. */
  async emergency(key: string): Promise<void> {
    const pair = await this.call("POST /api/auth/emergency", this.client.POST("/api/auth/emergency", { body: { key } }));
    this.auth.save(pair as unknown as Schemas["TokenPair"]);
  }

  async catalogue(): Promise<Catalogue> {
    return adaptCatalogue(await this.call("GET /api/catalogue", this.client.GET("/api/catalogue")));
  }

  async sites(): Promise<SiteSummary[]> {
    return (await this.call("GET /api/sites", this.client.GET("/api/sites"))).items;
  }

  /** Load a site's scene and, where a model was imported, the GLB storeys that draw it. */
  async scene(siteId: string | number): Promise<Scene> {
    const site_id = Number(siteId);
    const [raw, models] = await Promise.all([
      this.call(`GET /api/sites/${site_id}/scene`, this.client.GET("/api/sites/{site_id}/scene", { params: { path: { site_id } } })),
      this.call(`GET /api/sites/${site_id}/models`, this.client.GET("/api/sites/{site_id}/models", { params: { path: { site_id } } })),
    ]);
    return adaptScene(raw, models);
  }

  async plan(floorId: string | number): Promise<FloorPlan> {
    const floor_id = Number(floorId);
    return adaptPlan(await this.call(`GET /api/floors/${floor_id}/plan`, this.client.GET("/api/floors/{floor_id}/plan", { params: { path: { floor_id } } })));
  }

  /** Load a device with its active alarms, open tickets and latest values. */
  async device(deviceId: string | number): Promise<DeviceDetail> {
    const device_id = Number(deviceId);
    const path = { params: { path: { device_id } } };
    const [raw, state] = await Promise.all([
      this.call(`GET /api/devices/${device_id}`, this.client.GET("/api/devices/{device_id}", path)),
      this.call(`GET /api/devices/${device_id}/state`, this.client.GET("/api/devices/{device_id}/state", path)),
    ]);
    return adaptDevice(raw, state);
  }

  /** Load a space with the active alarms and open tickets in it. */
  space(spaceId: string | number): Promise<SpaceDetail> {
    const space_id = Number(spaceId);
    return this.call(`GET /api/spaces/${space_id}`, this.client.GET("/api/spaces/{space_id}", { params: { path: { space_id } } }));
  }

  async history(deviceId: string | number, quantity: string, fromS: number, toS: number, stepS: number, unit: string | null = null): Promise<History> {
    const iso = (s: number): string => new Date(s * 1000).toISOString();
    const device_id = Number(deviceId);
    const query = { quantity, from: iso(fromS), to: iso(toS), step: stepText(stepS) };
    const raw = await this.call(
      `GET /api/devices/${device_id}/history`,
      this.client.GET("/api/devices/{device_id}/history", { params: { path: { device_id }, query } }),
    );
    return adaptHistory(raw, unit);
  }

  async search(q: string): Promise<SearchHit[]> {
    const { items } = await this.call("GET /api/search", this.client.GET("/api/search", { params: { query: { q } } }));
    if (!items) throw new Error(t("error.contract", { what: "GET /api/search: items" }));
    return items.map(adaptHit);
  }
}

/** Return a rejection handler that answers `fallback` for a missing object (a 404 naming it) and rethrows the rest. */
export function notFoundAs<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof ApiError && error.status === 404 && !error.missingRoute) return fallback;
    throw error;
  };
}

/** Percent-encode one path segment of an id. */
export function enc(id: string | number): string {
  return encodeURIComponent(String(id));
}

function detailOf(body: unknown, response: Response): string {
  if (typeof body === "object" && body !== null && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  }
  return response.statusText;
}
