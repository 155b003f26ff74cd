/** "Today" as the tablet's clock and time zone mean it, for asking the server about the day's rounds. */

/** Return the start of today on this tablet, with its offset, as the server's `since` takes it. */
export function startOfToday(now = new Date()): string {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const offset = -midnight.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const pad = (n: number): string => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const date = `${midnight.getFullYear()}-${pad(midnight.getMonth() + 1)}-${pad(midnight.getDate())}`;
  return `${date}T00:00:00${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}
