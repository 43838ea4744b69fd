/**
 * Robust JSON out of model text: models wrap JSON in ``` fences, add prose before or after it,
 * and leave trailing commas. {@link extractJson} copes with all three.
 */

/** Remove commas that directly precede `}` or `]` (outside strings). */
export function stripTrailingCommas(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (inString) {
      out += ch;
      if (ch === '\\' && i + 1 < json.length) out += json[++i];
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === ',') {
      let j = i + 1;
      while (j < json.length && /\s/.test(json[j])) j++;
      if (json[j] === '}' || json[j] === ']') continue;
    }
    out += ch;
  }
  return out;
}

/** The balanced `{...}` or `[...]` starting at `start` (strings honoured), or `undefined`. */
function balancedAt(text: string, start: number): string | undefined {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') stack.push('}');
    else if (ch === '[') stack.push(']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return undefined;
      if (stack.length === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

function firstJsonIn(text: string): { value: unknown } | undefined {
  for (let start = 0; start < text.length; start++) {
    const open = text[start];
    if (open !== '{' && open !== '[') continue;
    const body = balancedAt(text, start);
    if (body === undefined) continue;
    try {
      return { value: JSON.parse(stripTrailingCommas(body)) as unknown };
    } catch {
      // not JSON after all (e.g. "[citation needed]"): try the next bracket
    }
  }
  return undefined;
}

/**
 * The first JSON object or array in `text`, parsed; `undefined` when there is none. Code fences
 * (```json ... ```) are looked into first; prose around the JSON is ignored; trailing commas
 * are tolerated. Bare scalars (`42`, `"x"`) do not count.
 */
export function extractJson(text: string): unknown {
  if (typeof text !== 'string') return undefined;
  const fence = /```[\w-]*[ \t]*\r?\n?([\s\S]*?)```/g;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const found = firstJsonIn(m[1]);
    if (found) return found.value;
  }
  return firstJsonIn(text)?.value;
}
