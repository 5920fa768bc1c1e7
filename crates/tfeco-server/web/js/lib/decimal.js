// Exact decimal arithmetic on the API's decimal strings ("12.5", "-0.0000001"), with BigInt: no floats touch
// money. Every function takes and returns strings; a result is rounded only where a number of places is given.

const PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Parses a decimal string into {int: BigInt scaled by 10^scale, scale}; throws RangeError on anything else. */
export function parse(text) {
  const match = PATTERN.exec(String(text).trim());
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) {
    throw new RangeError(`not a decimal number: ${JSON.stringify(text)}`);
  }
  const frac = match[3] ?? "";
  const int = BigInt((match[2] || "0") + frac);
  return { int: match[1] === "-" ? -int : int, scale: frac.length };
}

/** True when `text` is a decimal string (optionally signed, at least one digit). */
export function isDecimal(text) {
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
}

function rescale({ int, scale }, to) {
  return to >= scale ? int * 10n ** BigInt(to - scale) : int / 10n ** BigInt(scale - to);
}

function format(int, scale) {
  const negative = int < 0n;
  let digits = (negative ? -int : int).toString().padStart(scale + 1, "0");
  let text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  if (scale > 0) text = text.replace(/\.?0+$/, "");
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/** Rounds (half away from zero) to `places` decimals. */
export function round(text, places) {
  const value = parse(text);
  if (value.scale <= places) return format(value.int, value.scale);
  const divisor = 10n ** BigInt(value.scale - places);
  const abs = value.int < 0n ? -value.int : value.int;
  let quotient = abs / divisor;
  if ((abs % divisor) * 2n >= divisor) quotient += 1n;
  return format(value.int < 0n ? -quotient : quotient, places);
}

/** a + b, exactly. */
export function add(a, b) {
  const x = parse(a), y = parse(b), scale = Math.max(x.scale, y.scale);
  return format(rescale(x, scale) + rescale(y, scale), scale);
}

/** a - b, exactly. */
export function sub(a, b) {
  const x = parse(a), y = parse(b), scale = Math.max(x.scale, y.scale);
  return format(rescale(x, scale) - rescale(y, scale), scale);
}

/** a × b, exactly, or rounded to `places` decimals when given. */
export function mul(a, b, places) {
  const x = parse(a), y = parse(b);
  const exact = format(x.int * y.int, x.scale + y.scale);
  return places === undefined ? exact : round(exact, places);
}

/** a ÷ b rounded to `places` decimals (default 7); throws RangeError when b is zero. */
export function div(a, b, places = 7) {
  const x = parse(a), y = parse(b);
  if (y.int === 0n) throw new RangeError("division by zero");
  const extra = places + 1;
  const numerator = x.int * 10n ** BigInt(y.scale + extra);
  const quotient = numerator / (y.int * 10n ** BigInt(x.scale));
  return round(format(quotient, extra), places);
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function cmp(a, b) {
  const x = parse(a), y = parse(b), scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The decimal string as a float, for charts only (never for money). */
export function toNumber(text) {
  return Number(text);
}
