/** Robust JSON out of model text: code fences, prose around it, trailing commas. */

/** The first JSON object or array in `text`, parsed; `undefined` when there is none. */
export function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  const candidates = fenced ? [fenced[1], text] : [text];
  for (const c of candidates) {
    for (let start = 0; start < c.length; start++) {
      const open = c[start];
      if (open !== '{' && open !== '[') continue;
      // Scan for the matching bracket, honouring strings.
      let depth = 0;
      let inString = false;
      for (let i = start; i < c.length; i++) {
        const ch = c[i];
        if (inString) {
          if (ch === '\\') i++;
          else if (ch === '"') inString = false;
          continue;
        }
        if (ch === '"') inString = true;
        else if (ch === '{' || ch === '[') depth++;
        else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            const body = c.slice(start, i + 1).replace(/,\s*([}\]])/g, '$1');
            try {
              return JSON.parse(body) as unknown;
            } catch {
              break;
            }
          }
        }
      }
    }
  }
  return undefined;
}
