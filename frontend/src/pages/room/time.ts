// Times in the counseling room are China time (UTC+8) whatever the browser's zone: opening
// hours are "HH:MM" there and appointments are sent with an explicit +08:00 offset.

export interface RoomWindow {
  weekday: number; // ISO: 1 = Monday
  start: string; // HH:MM
  end: string;
}

export interface RoomClosure {
  id: string;
  counselor_id: string | null;
  starts_on: string;
  ends_on: string;
  label: string;
}

const hour = 3600_000;

// chinaParts returns the China date (YYYY-MM-DD) and time (HH:MM) of an instant.
export function chinaParts(iso: string | number | Date): { date: string; time: string } {
  const ms = typeof iso === 'string' ? Date.parse(iso) : typeof iso === 'number' ? iso : iso.getTime();
  const s = new Date(ms + 8 * hour).toISOString();
  return { date: s.slice(0, 10), time: s.slice(11, 16) };
}

// chinaInstant builds the RFC 3339 time of a China date and HH:MM.
export function chinaInstant(date: string, time: string): string {
  return `${date}T${time}:00+08:00`;
}

// isoWeekday of a YYYY-MM-DD date (1 = Monday ... 7 = Sunday).
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function toMin(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

function toHHMM(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
}

// startTimes lists the start times (every `step` minutes) of a `minutes`-long appointment
// that fit in the windows of the date's weekday.
export function startTimes(windows: RoomWindow[], date: string, minutes: number, step = 15): string[] {
  const wd = isoWeekday(date);
  const out: string[] = [];
  for (const w of windows.filter((x) => x.weekday === wd).sort((a, b) => toMin(a.start) - toMin(b.start))) {
    for (let m = toMin(w.start); m + minutes <= toMin(w.end); m += step) out.push(toHHMM(m));
  }
  return out;
}

export function closedOn(closures: RoomClosure[], date: string): boolean {
  return closures.some((c) => c.counselor_id === null && c.starts_on <= date && date <= c.ends_on);
}

// requestableDays lists the next `days` China dates on which the room is open and not
// closed, with the start times still at least an hour ahead of now.
export function requestableDays(windows: RoomWindow[], closures: RoomClosure[], minutes: number, now: number, days = 14):
  { date: string; times: string[] }[] {
  const out: { date: string; times: string[] }[] = [];
  const earliest = now + hour;
  const today = chinaParts(now).date;
  for (let i = 0; i <= days; i++) {
    const date = addDays(today, i);
    if (closedOn(closures, date)) continue;
    const times = startTimes(windows, date, minutes).filter((t) => Date.parse(chinaInstant(date, t)) >= earliest);
    if (times.length > 0) out.push({ date, times });
  }
  return out;
}

// weekStart is the Monday of a China date's week.
export function weekStart(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}
