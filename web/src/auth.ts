/**
 * The session's tokens live in sessionStorage: they vanish with the tab, so a wall display
 * or a borrowed tablet does not stay signed in for the next person.
 */
import type { TokenPair } from "./types";

const ACCESS = "twin.access_token";
const REFRESH = "twin.refresh_token";

export type TokenStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Return the browser's session storage, or a memory one where there is none. */
export function defaultStore(): TokenStore {
  if (typeof sessionStorage !== "undefined") return sessionStorage;
  const memory = new Map<string, string>();
  return {
    getItem: (k) => memory.get(k) ?? null,
    setItem: (k, v) => void memory.set(k, v),
    removeItem: (k) => void memory.delete(k),
  };
}

/** Holds the bearer token and tells the pages when it stops being accepted. */
export class Auth {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly store: TokenStore = defaultStore()) {}

  /** Return the current access token, or null when signed out. */
  get token(): string | null {
    return this.store.getItem(ACCESS);
  }

  /** Return the session's refresh token, the one logout ends the session with (none for an emergency link). */
  get refreshToken(): string | null {
    return this.store.getItem(REFRESH);
  }

  /** Keep a freshly issued token pair. */
  save(tokens: TokenPair): void {
    this.store.setItem(ACCESS, tokens.access_token);
    if (tokens.refresh_token) this.store.setItem(REFRESH, tokens.refresh_token);
  }

  /** Forget the tokens and tell every listener that the user must sign in again. */
  expire(): void {
    this.store.removeItem(ACCESS);
    this.store.removeItem(REFRESH);
    for (const listener of this.listeners) listener();
  }

  /** Call `listener` whenever the server refuses the token; returns the function that stops it. */
  onExpired(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
