/**
 * How long ago, for people: "12 s ago", "3 min ago", "5 h ago", "2 d ago", or "in 4 s" for a time ahead
 * of `nowMs`. One rule for the status page (server side), the CLI and the browser: the service serves
 * this function's compiled source in front of service/status/static/status.js (service/status/assets.ts),
 * so it must stay self-contained (no imports, no other names).
 */
export function ago(ms: number, nowMs: number): string {
  const d = Math.round((nowMs - ms) / 1000);
  const a = Math.abs(d);
  const t =
    a < 90
      ? `${a} s`
      : a < 5400
        ? `${Math.round(a / 60)} min`
        : a < 172800
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86400)} d`;
  return d >= 0 ? `${t} ago` : `in ${t}`;
}
