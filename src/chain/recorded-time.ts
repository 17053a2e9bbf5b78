/**
 * A timestamptz as the registry returns it. PostgreSQL holds 4713 BC to 294276 AD and
 * ±infinity; a JavaScript Date holds ±100,000,000 days around 1970 and parses only some of
 * PostgreSQL's text forms (not " BC", not an offset with seconds). Such a value is still a valid
 * row: what a replay needs of it (SOURCE_DATE_EPOCH) is computed from the text itself.
 */

export type RecordedTime =
  /** A Date holds it. */
  | { kind: "date"; date: Date; epochSeconds: number }
  /** Valid in PostgreSQL, outside what a Date holds (e.g. 294276-12-31): whole seconds only. */
  | { kind: "beyond-date"; text: string; epochSeconds: number }
  /** `infinity` or `-infinity`: no point in time at all. */
  | { kind: "infinite"; text: string };

/** Whole Unix seconds, truncated toward zero (SOURCE_DATE_EPOCH's rule, also before 1970). */
export function epochSecondsOf(date: Date): number {
  // `+ 0` turns the -0 of Math.trunc(-0.5) into 0.
  return Math.trunc(date.getTime() / 1000) + 0;
}

/** Largest |milliseconds| a Date holds (ECMAScript's time value range). */
const MAX_DATE_MS = 8.64e15;

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// What to_jsonb() writes: 2026-01-02T03:04:05.678+00:00, 294276-12-31T00:00:00+00:00,
// 4713-01-01T00:00:00+00:00 BC, an offset with seconds (+00:19:32) for historic zones.
const PG_TIMESTAMP =
  /^(\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

function fromText(text: string): RecordedTime | undefined {
  const m = PG_TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60)
    return undefined;
  const sign = m[9] === "-" ? -1 : 1;
  const offset = sign * (Number(m[10] ?? 0) * 3600 + Number(m[11] ?? 0) * 60 + Number(m[12] ?? 0));
  // Year 1 BC is year 0 of the proleptic calendar.
  const astronomical = m[13] === undefined ? year : 1 - year;
  const whole = daysFromCivil(astronomical, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  const fraction = Number(m[7] ?? 0);
  const epochSeconds = whole < 0 && fraction > 0 ? whole + 1 : whole;
  const ms = whole * 1000 + Math.floor(fraction * 1000);
  if (Math.abs(ms) <= MAX_DATE_MS) return { kind: "date", date: new Date(ms), epochSeconds };
  return { kind: "beyond-date", text, epochSeconds };
}

/**
 * A timestamp from either backend: a Date (native columns, possibly invalid when the driver
 * could not parse it), ±Infinity (a native `infinity`), or to_jsonb's text. Undefined: not a
 * timestamp at all.
 */
export function parseRecordedTime(value: Date | string | number): RecordedTime | undefined {
  if (typeof value === "number") {
    return value === Infinity || value === -Infinity
      ? { kind: "infinite", text: value > 0 ? "infinity" : "-infinity" }
      : undefined;
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime())
      ? undefined
      : { kind: "date", date: value, epochSeconds: epochSecondsOf(value) };
  }
  if (value === "infinity" || value === "-infinity") return { kind: "infinite", text: value };
  // Whatever a Date parses as before (ISO text with a usual offset), it parses the same way now.
  const date = new Date(value);
  if (!Number.isNaN(date.getTime())) return { kind: "date", date, epochSeconds: epochSecondsOf(date) };
  return fromText(value);
}
