// Reads nginx.conf into directives and blocks for the drift test. nginx's grammar is tiny (words, quoted
// strings, `;`, `{ }`, `#` comments), so a 50-line reader is less to trust than another dependency.

export interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** Words and quoted strings as they are; the structure characters as `{`, `}`, `;` with `special` set. */
function tokenize(text: string): { text: string; special: boolean }[] {
  const tokens: { text: string; special: boolean }[] = [];
  const pattern = /#[^\n]*|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};'"#]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith("#")) continue;
    if (match[3]) tokens.push({ text: match[3], special: true });
    else tokens.push({ text: match[1] ?? match[2] ?? match[4] ?? "", special: false });
  }
  return tokens;
}

export function parseNginxConf(text: string): Directive[] {
  const tokens = tokenize(text);
  let i = 0;
  const at = (kind: string) => tokens[i]?.special === true && tokens[i]?.text === kind;
  const readBlock = (nested: boolean): Directive[] => {
    const directives: Directive[] = [];
    while (i < tokens.length) {
      if (at("}")) {
        if (!nested) throw new Error("nginx.conf: unexpected }");
        i++;
        return directives;
      }
      const name = tokens[i++]?.text as string;
      const args: string[] = [];
      while (i < tokens.length && !at(";") && !at("{")) args.push(tokens[i++]?.text as string);
      if (at("{")) {
        i++;
        directives.push({ name, args, block: readBlock(true) });
      } else if (at(";")) {
        i++;
        directives.push({ name, args });
      } else throw new Error(`nginx.conf: directive ${name} is not terminated`);
    }
    if (nested) throw new Error("nginx.conf: missing }");
    return directives;
  };
  return readBlock(false);
}

/** The block of the one directive `name` (with `args`, when given) among `directives`. */
export function block(directives: Directive[] | undefined, name: string, ...args: string[]): Directive[] {
  const found = (directives ?? []).filter(
    (d) =>
      d.name === name && d.block && args.every((arg, i) => d.args[i] === arg) && d.args.length >= args.length,
  );
  if (found.length !== 1)
    throw new Error(`nginx.conf: expected one ${name} ${args.join(" ")} block, found ${found.length}`);
  return found[0]?.block ?? [];
}

/** The arguments of the one directive `name` directly in `directives`, or undefined. */
export function value(directives: Directive[], name: string): string[] | undefined {
  const found = directives.filter((d) => d.name === name && !d.block);
  if (found.length > 1) throw new Error(`nginx.conf: ${name} is set ${found.length} times in one block`);
  return found[0]?.args;
}

/** nginx sizes: 64k, 10304k, 1m, 512 (bytes). */
export function bytes(size: string): number {
  const match = size.match(/^(\d+)([kKmMgG]?)$/);
  if (!match) throw new Error(`not an nginx size: ${size}`);
  const unit = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[(match[2] ?? "").toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** nginx and compose durations: 60s, 2m, 1m30s, 500ms, 30 (seconds). */
export function milliseconds(duration: string): number {
  if (/^\d+$/.test(duration)) return Number(duration) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let rest = duration;
  for (const match of duration.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (units[match[2] as string] ?? 0);
    rest = rest.replace(match[0], "");
  }
  if (rest !== "" || total === 0) throw new Error(`not a duration: ${duration}`);
  return total;
}
