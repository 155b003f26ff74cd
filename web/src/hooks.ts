/**
 * `window.__twin`: what the browser tests and the benchmark read, so they never scrape the DOM
 * for numbers. First-frame time is measured from navigation start.
 */
export interface TwinHooks {
  page: string;
  firstFrameMs: number | null;
  frameMedianMs: number;
  /** Frames rendered since load, and the last 240 frames' render times: the benchmark takes a window's tail from them. */
  frames: number;
  frameTimesMs: number[];
  buildings: number;
  devices: number;
  spaces: number;
  connection: string;
  dataAgeMs: number | null;
  floor: string | null;
  panel: string | null;
  alarms: number;
  errors: string[];
  /** Floor-plan re-reads made while the live socket is down. */
  polls: number;
  /** Whether REST polling stands in for the live socket now. */
  polling: boolean;
  /** The scopes the page is subscribed to, for tests to see that it follows the screen. */
  scopes: string[];
  /** The wall's last take-over: the floor it isolated, the place it pulses, ms after the alarm arrived. */
  takeover: { alarm: string; floor: string; place: string | null; ms: number } | null;
  /** How much the wall's building cards show to fit every building: full, compact or dense. */
  wallDensity: string | null;
  /** Buildings drawn from their imported model, and those whose model failed to load. */
  models: number;
  modelsFailed: number;
  /** Storey models (GLB files) of the site, those loaded into the scene, and when the last one was drawn (ms since navigation). */
  storeys: number;
  storeysLoaded: number;
  storeysMs: number | null;
  /** Inspection results kept on the tablet, not yet held by the server. */
  outbox: number;
  /** Points of the walking route drawn on the shown plan (inspector's and responder's). */
  route: number;
  /** The colour a focused floor's device is painted and where on the page, for tests to read its pixels. */
  probe: ((deviceId: string) => { colour: string; x: number; y: number } | null) | null;
  /** The colour each room of the focused floor is painted in the 3D view now, by space id. */
  spaceColours: (() => Record<string, string>) | null;
}

const state: TwinHooks = {
  page: "",
  firstFrameMs: null,
  frameMedianMs: 0,
  frames: 0,
  frameTimesMs: [],
  buildings: 0,
  devices: 0,
  spaces: 0,
  connection: "idle",
  dataAgeMs: null,
  floor: null,
  panel: null,
  alarms: 0,
  errors: [],
  polls: 0,
  polling: false,
  scopes: [],
  takeover: null,
  wallDensity: null,
  models: 0,
  modelsFailed: 0,
  storeys: 0,
  storeysLoaded: 0,
  storeysMs: null,
  outbox: 0,
  route: 0,
  probe: null,
  spaceColours: null,
};

export const hooks = {
  /** Merge figures into the hook object. */
  set(patch: Partial<TwinHooks>): void {
    Object.assign(state, patch);
  },
  /** Record the first frame that drew site content; later calls change nothing. */
  firstFrame(): void {
    if (state.firstFrameMs === null) state.firstFrameMs = Math.round(performance.now());
  },
  /** Keep an error the page showed, for tests to report. */
  error(message: string): void {
    state.errors.push(message);
  },
  state,
};

declare global {
  interface Window {
    __twin: TwinHooks;
  }
}

if (typeof window !== "undefined") window.__twin = state;
