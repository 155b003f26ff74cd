import { describe, expect, it } from "vitest";
import { Api } from "../src/api";
import { Auth, type TokenStore } from "../src/auth";

function memory(): TokenStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe("logout", () => {
  it("ends the session on the server with its refresh token, then forgets the tokens and asks for a login", async () => {
    const store = memory();
    const auth = new Auth(store);
    auth.save({ access_token: "access-1", refresh_token: "refresh-1", expires_in: 900, token_type: "bearer" });
    const calls: { url: string; method: string; body: string; authorization: string | null }[] = [];
    const api = new Api(
      auth,
      async (request: Request) => {
        const { pathname } = new URL(request.url);
        calls.push({ url: pathname, method: request.method, body: await request.text(), authorization: request.headers.get("Authorization") });
        return new Response(null, { status: 204 });
      },
      "http://twin.test",
    );
    let asked = 0;
    auth.onExpired(() => asked++);
    await api.logout();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    if (!call) throw new Error("logout sent nothing");
    expect(call.url).toBe("/api/auth/logout");
    expect(call.method).toBe("POST");
    expect(JSON.parse(call.body)).toEqual({ refresh_token: "refresh-1" });
    expect(call.authorization).toBe("Bearer access-1");
    expect(store.items.size).toBe(0);
    expect(asked).toBe(1);
  });

  it("forgets the tokens even when the server cannot be reached", async () => {
    const store = memory();
    const auth = new Auth(store);
    auth.save({ access_token: "access-1", refresh_token: "refresh-1", expires_in: 900, token_type: "bearer" });
    const api = new Api(
      auth,
      async () => {
        throw new Error("offline");
      },
      "http://twin.test",
    );
    await expect(api.logout()).rejects.toThrow("offline");
    expect(auth.token).toBeNull();
    expect(auth.refreshToken).toBeNull();
  });
});
