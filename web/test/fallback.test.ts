import { describe, expect, it } from "vitest";
import { Fallback } from "../src/fallback";
import { newestAge } from "../src/indicator";
import { FakeClock } from "./fakes";

/** Let the pending promise callbacks of the polled tasks run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("REST fallback", () => {
  it("polls only from a failed connection until the socket is live", async () => {
    const clock = new FakeClock();
    const fallback = new Fallback(10_000, clock);
    let calls = 0;
    fallback.add(async () => {
      calls += 1;
      return true;
    });
    const heard: boolean[] = [];
    fallback.onChange((active) => heard.push(active));
    fallback.follow("connecting");
    fallback.follow("authenticating");
    expect(fallback.active).toBe(false);
    clock.advance(60_000);
    expect(calls).toBe(0);

    fallback.follow("reconnecting");
    expect(fallback.active).toBe(true);
    expect(calls).toBe(1);
    await settle();
    expect(fallback.dataAgeMs()).toBe(0);
    // The attempts in between keep it polling.
    fallback.follow("connecting");
    clock.advance(10_000);
    expect(calls).toBe(2);
    clock.advance(5_000);
    fallback.follow("live");
    expect(fallback.active).toBe(false);
    clock.advance(60_000);
    expect(calls).toBe(2);
    expect(heard).toEqual([true, false]);
  });

  it("keeps the data age of the last poll that got data", async () => {
    const clock = new FakeClock();
    const fallback = new Fallback(10_000, clock);
    let ok = true;
    fallback.add(async () => {
      if (!ok) throw new Error("offline");
      return true;
    });
    fallback.start();
    await settle();
    ok = false;
    clock.advance(30_000);
    await settle();
    expect(fallback.dataAgeMs()).toBe(30_000);
  });

  it("is not active on a page with nothing to poll", () => {
    const fallback = new Fallback(10_000, new FakeClock());
    fallback.start();
    expect(fallback.active).toBe(false);
    const remove = fallback.add(async () => false);
    expect(fallback.active).toBe(true);
    remove();
    expect(fallback.active).toBe(false);
  });

  it("shows the age of the newest data, live or polled", () => {
    expect(newestAge(null, null)).toBeNull();
    expect(newestAge(5_000, null)).toBe(5_000);
    expect(newestAge(50_000, 3_000)).toBe(3_000);
  });
});
