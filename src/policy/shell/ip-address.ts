// IP literals in every spelling a resolver accepts, reduced to one canonical text for Cedar's `ip()`:
// `2852039166`, `0xA9FEA9FE`, `0251.0376.0251.0376` and `169.254.43518` are all 169.254.169.254 to
// inet_aton (which curl, wget and most HTTP clients end up calling), and `::ffff:a9fe:a9fe` reaches it too.
// `host` is attacker-controlled text from a tool call: parse defensively, never throw.

/** The canonical IP text of `host` (brackets and zone removed), or undefined when it is a name. */
export function parseIpLiteral(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '').replace(/\.$/, '');
  if (bare.includes(':')) return parseIpv6(bare);
  const v4 = parseIpv4(bare);
  return v4 === undefined ? undefined : formatIpv4(v4);
}

/** The address a wildcard-DNS name stands for (`169.254.169.254.nip.io`, `a9fea9fe.nip.io`): they resolve to it. */
export function embeddedIp(host: string): string | undefined {
  const match = /(?:^|[.-])((?:\d{1,3}[.-]){3}\d{1,3}|[0-9a-f]{8})\.(?:nip\.io|sslip\.io|xip\.io|nip\.direct)$/i.exec(host);
  if (!match) return undefined;
  const text = match[1]!;
  return /^[0-9a-f]{8}$/i.test(text) ? formatIpv4(parseInt(text, 16)) : parseIpLiteral(text.replace(/-/g, '.'));
}

/** inet_aton: one to four parts, each decimal, 0x-hex or 0-octal; the last part fills the remaining bytes. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((part) => !/^(0x[0-9a-f]*|0[0-7]*|[1-9]\d*)$/i.test(part))) return undefined;
  const numbers = parts.map((part) => (/^0x/i.test(part) ? parseInt(part.slice(2) || '0', 16) : part.length > 1 && part.startsWith('0') ? parseInt(part, 8) : Number(part)));
  const last = numbers.pop()!;
  if (numbers.some((value) => value > 255) || last >= 2 ** (8 * (4 - numbers.length))) return undefined;
  return numbers.reduce((sum, value, index) => sum + value * 2 ** (8 * (3 - index)), 0) + last;
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** RFC 4291 §2.2 text forms; IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) addresses become the IPv4 they reach. */
function parseIpv6(text: string): string | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(piece) ? parseIpv4(piece.replace(/\b0+(\d)/g, '$1')) : undefined;
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) out.push(parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(missing).fill(0), ...tail];
  const prefix96 = all.slice(0, 6).join(':');
  if (prefix96 === '0:0:0:0:0:65535' || prefix96 === '100:65435:0:0:0:0') return formatIpv4(all[6]! * 65536 + all[7]!);
  return formatIpv6(all);
}

/** RFC 5952 §4: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
