/**
 * The renderer, the camera and its orbit controls, and the frame loop. Site content hangs
 * under `root`, a group in the site's local frame (see frame.ts), so nothing else ever
 * swaps axes.
 */
import {
  ACESFilmicToneMapping,
  AmbientLight,
  Color,
  DirectionalLight,
  Fog,
  Group,
  HemisphereLight,
  Matrix4,
  PerspectiveCamera,
  Raycaster,
  Scene,
  SRGBColorSpace,
  Vector2,
  Vector3,
  WebGLRenderer,
} from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { FRAME_MATRIX } from "../frame";
import { hooks } from "../hooks";

export type FrameCallback = (nowMs: number, dtMs: number) => void;

const BACKGROUND = "#0b1220";
/**
 * The pixel ratio when WebGL runs on the CPU (SwiftShader, llvmpipe: a server or kiosk without a
 * GPU). A frame's cost there is its pixels times the shading of each, on the cores the page and
 * the server share; a quarter of the pixels keeps a moving view and the live readings fluid.
 */
export const SOFTWARE_PIXEL_RATIO = 0.5;

/** Return whether a WebGL renderer string names a software rasteriser. */
export function isSoftwareGl(renderer: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
}

/** Keep drawing every frame this long after the camera last moved, so motion settles smoothly. */
const SETTLE_MS = 800;

/** One WebGL view filling its container. */
export class Viewer {
  readonly renderer: WebGLRenderer;
  readonly scene = new Scene();
  readonly camera = new PerspectiveCamera(45, 1, 0.5, 20_000);
  readonly controls: OrbitControls;
  readonly root = new Group();
  private readonly callbacks = new Set<FrameCallback>();
  private readonly frameTimes: number[] = [];
  private last = 0;
  private stopped = false;
  private readonly lastView = new Matrix4();
  private movingUntil = 0;
  private readonly drawn: (() => void)[] = [];
  /**
   * Whether something drawn changed since the last frame. A still picture is not drawn again:
   * on a software GPU (or a wall display's small one) a frame of the site costs hundreds of
   * milliseconds of the machine's cores, which the live readings and the server also need.
   */
  private dirty = true;
  /** Whether the GL is a software rasteriser, which draws at a lower resolution. */
  readonly software: boolean;

  constructor(readonly container: HTMLElement) {
    this.renderer = new WebGLRenderer({ antialias: true, powerPreference: "high-performance" });
    this.software = isSoftwareGl(rendererName(this.renderer.getContext()));
    this.renderer.setPixelRatio(this.software ? SOFTWARE_PIXEL_RATIO : Math.min(window.devicePixelRatio, 2));
    this.renderer.outputColorSpace = SRGBColorSpace;
    this.renderer.toneMapping = ACESFilmicToneMapping;
    container.appendChild(this.renderer.domElement);
    this.renderer.domElement.classList.add("viewer-canvas");

    this.scene.background = new Color(BACKGROUND);
    this.scene.fog = new Fog(BACKGROUND, 800, 4000);
    this.root.matrixAutoUpdate = false;
    this.root.matrix.copy(FRAME_MATRIX);
    this.scene.add(this.root);
    this.scene.add(new HemisphereLight("#bcd4ff", "#1a2233", 1.1));
    this.scene.add(new AmbientLight("#ffffff", 0.25));
    const sun = new DirectionalLight("#fff4e0", 1.6);
    sun.position.set(300, 600, 200);
    this.scene.add(sun);

    this.camera.position.set(300, 300, 300);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.08;
    this.controls.maxPolarAngle = Math.PI * 0.495;
    this.controls.screenSpacePanning = false;

    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
    requestAnimationFrame((t) => this.frame(t));
  }

  /** Run `callback` before every frame; returns the function that stops it. */
  onFrame(callback: FrameCallback): () => void {
    this.callbacks.add(callback);
    return () => this.callbacks.delete(callback);
  }

  /** Draw the next frame: something in the scene changed (a colour, a model, a marker). */
  invalidate(): void {
    this.dirty = true;
  }

  /** Resolve once the next frame has been rendered (forced). */
  nextDrawn(): Promise<void> {
    this.dirty = true;
    return new Promise((resolve) => this.drawn.push(resolve));
  }

  /** Cast a ray from a pointer position on the canvas. */
  raycaster(clientX: number, clientY: number): Raycaster {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    const raycaster = new Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    return raycaster;
  }

  /** Return where a world point is drawn on the page, in CSS pixels, or null when it is behind the camera. */
  screenOf(world: Vector3): [number, number] | null {
    this.camera.updateMatrixWorld();
    const ndc = world.clone().project(this.camera);
    if (ndc.z > 1) return null;
    const rect = this.renderer.domElement.getBoundingClientRect();
    return [rect.left + ((ndc.x + 1) / 2) * rect.width, rect.top + ((1 - ndc.y) / 2) * rect.height];
  }

  /** Return the median and 95th percentile frame times of the last few seconds, in ms. */
  frameStats(): { median: number; p95: number; frames: number } {
    const sorted = [...this.frameTimes].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { median: at(0.5), p95: at(0.95), frames: sorted.length };
  }

  /** Stop the loop, for pages that tear the view down. */
  dispose(): void {
    this.stopped = true;
    this.renderer.dispose();
  }

  private resize(): void {
    const { clientWidth: w, clientHeight: h } = this.container;
    if (w === 0 || h === 0) return;
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.renderer.setSize(w, h, false);
    this.dirty = true;
  }

  private frame(now: number): void {
    if (this.stopped) return;
    const dt = this.last === 0 ? 16 : now - this.last;
    this.last = now;
    const started = performance.now();
    for (const callback of this.callbacks) callback(now, dt);
    this.controls.update();
    this.camera.updateMatrixWorld();
    if (!this.camera.matrixWorld.equals(this.lastView)) {
      this.lastView.copy(this.camera.matrixWorld);
      this.movingUntil = now + SETTLE_MS;
    }
    if (now > this.movingUntil && !this.dirty) {
      requestAnimationFrame((t) => this.frame(t));
      return;
    }
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    const spent = performance.now() - started;
    this.frameTimes.push(spent);
    if (this.frameTimes.length > 240) this.frameTimes.shift();
    if (this.root.children.length > 0) hooks.firstFrame();
    hooks.set({ frameMedianMs: this.frameStats().median, frames: hooks.state.frames + 1, frameTimesMs: this.frameTimes });
    for (const resolve of this.drawn.splice(0)) resolve();
    requestAnimationFrame((t) => this.frame(t));
  }
}

/** Return the name of the GL behind a context (the unmasked one where the browser tells it). */
function rendererName(gl: WebGLRenderingContext | WebGL2RenderingContext): string {
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}
