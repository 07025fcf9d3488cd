// C2SP tlog-tiles (c2sp.org/tlog-tiles) resource paths: `tile/<L>/<N>[.p/<W>]` hash tiles and
// `tile/entries/<N>[.p/<W>]` entry bundles, where N is written in 3-digit groups (`x001/x234/067`).
import type { NodeId } from './merkle.js';

/** Each tile is a subtree of height 8: 256 hashes, 8,192 bytes when full. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
export const MAX_TILE_LEVEL = 63;

/** A hash tile: `width` is 1..256 and defaults to a full tile. */
export interface TileId {
  level: number;
  index: number;
  width?: number;
}

/** A parsed tile path; `width` is TILE_WIDTH for a full tile, and `level` is 0 for entry bundles. */
export interface TilePath {
  kind: 'hash' | 'entries';
  level: number;
  index: number;
  width: number;
}

/** The tiles of one level for a tree size: `fullTiles` full ones (indexes 0..fullTiles-1), then maybe a partial one. */
export interface TileLevel {
  level: number;
  fullTiles: number;
  /** Width of the partial tile at index `fullTiles`, or 0 when there is none. */
  partialWidth: number;
}

/** The path of a hash tile, such as `tile/0/x001/x234/067.p/8`. */
export function tilePath({ level, index, width }: TileId): string {
  checkLevel(level);
  return `tile/${level}/${encodeIndex(index)}${widthSuffix(width)}`;
}

/** The path of an entry bundle, such as `tile/entries/x001/067`. */
export function entriesPath(index: number, width?: number): string {
  return `tile/entries/${encodeIndex(index)}${widthSuffix(width)}`;
}

/** Parses a tile or entry bundle path (relative to the log prefix, no leading slash); only canonical paths parse. */
export function parseTilePath(path: string): TilePath {
  // Paths come straight from request URLs.
  const match = /^tile\/(entries|[0-9]+)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]+))?$/.exec(path);
  if (!match) throw new TilePathError(path, 'is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`');
  const [, levelText, indexText, widthText] = match;
  const kind = levelText === 'entries' ? 'entries' : 'hash';
  const level = kind === 'entries' ? 0 : Number(levelText);
  if (kind === 'hash' && (!/^(0|[1-9][0-9]?)$/.test(levelText) || level > MAX_TILE_LEVEL)) {
    throw new TilePathError(path, `has level \`${levelText}\`, not 0..${MAX_TILE_LEVEL} without leading zeroes`);
  }
  if (widthText !== undefined && !/^[1-9][0-9]*$/.test(widthText)) throw new TilePathError(path, `has width \`${widthText}\`, not 1..255 without leading zeroes`);
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (widthText !== undefined && width >= TILE_WIDTH) throw new TilePathError(path, `has partial width ${widthText}, not 1..255`);
  const digits = indexText.replace(/[x/]/g, '');
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) throw new TilePathError(path, 'has an index above 2^53 - 1');
  // One resource, one path: `x000/001` for 1 would defeat caching and immutability.
  if (encodeIndex(index) !== indexText) throw new TilePathError(path, `encodes index ${index} as \`${indexText}\`, not \`${encodeIndex(index)}\``);
  return { kind, level, index, width };
}

/** Which tiles exist for a tree of `size`: per level, the full tiles and the partial one (c2sp.org/tlog-tiles). */
export function tileCoordinates(size: number): TileLevel[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`tree size \`${size}\` is not a non-negative safe integer`);
  const levels: TileLevel[] = [];
  for (let level = 0; ; level += 1) {
    const hashes = Math.floor(size / TILE_WIDTH ** level); // hashes at this tile level: MTHs of 256^level entries
    if (hashes === 0) return levels;
    levels.push({ level, fullTiles: Math.floor(hashes / TILE_WIDTH), partialWidth: hashes % TILE_WIDTH });
  }
}

/** The Merkle nodes whose hashes, in order, are the content of a hash tile. */
export function tileNodeIds({ level, index, width = TILE_WIDTH }: TileId): NodeId[] {
  checkLevel(level);
  checkIndex(index);
  checkWidth(width);
  const first = index * TILE_WIDTH;
  return Array.from({ length: width }, (_, i) => ({ level: level * TILE_HEIGHT, index: first + i }));
}

/** An entry bundle: each entry as a big-endian uint16 length and its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  if (entries.length > TILE_WIDTH) throw new RangeError(`an entry bundle holds at most ${TILE_WIDTH} entries, not ${entries.length}`);
  return Buffer.concat(
    entries.flatMap((entry, i) => {
      if (entry.length > 0xffff) throw new RangeError(`entry ${i} is ${entry.length} bytes, more than an entry bundle's 65,535`);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(entry.length);
      return [length, entry];
    }),
  );
}

/** Splits an entry bundle into its entries; throws if it is truncated or holds more than 256 entries. */
export function decodeEntryBundle(bundle: Uint8Array): Buffer[] {
  const bytes = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const entries: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    if (offset + 2 > bytes.length) throw new RangeError(`entry bundle is truncated in the length of entry ${entries.length}`);
    const length = bytes.readUInt16BE(offset);
    if (offset + 2 + length > bytes.length) throw new RangeError(`entry bundle is truncated in entry ${entries.length}`);
    entries.push(Buffer.from(bytes.subarray(offset + 2, offset + 2 + length)));
    offset += 2 + length;
    if (entries.length > TILE_WIDTH) throw new RangeError(`entry bundle holds more than ${TILE_WIDTH} entries`);
  }
  return entries;
}

/** Why a tile path was rejected (the message names the path). */
export class TilePathError extends Error {
  readonly code = 'BAD_TILE_PATH';
  constructor(path: string, problem: string) {
    super(`tile path \`${path}\` ${problem}`);
    this.name = 'TilePathError';
  }
}

function encodeIndex(index: number): string {
  checkIndex(index);
  let rest = Math.floor(index / 1000);
  let path = String(index % 1000).padStart(3, '0');
  for (; rest > 0; rest = Math.floor(rest / 1000)) path = `x${String(rest % 1000).padStart(3, '0')}/${path}`;
  return path;
}

function widthSuffix(width: number | undefined): string {
  if (width === undefined || width === TILE_WIDTH) return '';
  checkWidth(width);
  return `.p/${width}`;
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) throw new RangeError(`tile level \`${level}\` is not 0..${MAX_TILE_LEVEL}`);
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`tile index \`${index}\` is not a non-negative safe integer`);
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new RangeError(`tile width \`${width}\` is not 1..${TILE_WIDTH}`);
}
