// The examples of c2sp.org/tlog-tiles: index 1234067 → x001/x234/067; the tiles of trees of 70,000 and 256 entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactRange, completeNodes, leafHash, nodeKey } from '../../src/ledger/merkle.js';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  entriesPath,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileCoordinates,
  tileNodeIds,
  tilePath,
  TilePathError,
} from '../../src/ledger/tiles.js';

describe('tile paths', () => {
  it('encodes indexes in 3-digit groups, all but the last prefixed with x', () => {
    assert.equal(TILE_HEIGHT, 8);
    assert.equal(TILE_WIDTH, 256);
    assert.equal(tilePath({ level: 0, index: 1234067 }), 'tile/0/x001/x234/067');
    assert.equal(tilePath({ level: 0, index: 0 }), 'tile/0/000');
    assert.equal(tilePath({ level: 2, index: 999 }), 'tile/2/999');
    assert.equal(tilePath({ level: 2, index: 1000 }), 'tile/2/x001/000');
    assert.equal(tilePath({ level: 63, index: 2 ** 53 - 1 }), 'tile/63/x009/x007/x199/x254/x740/991');
    assert.equal(tilePath({ level: 1, index: 273, width: 17 }), 'tile/1/273.p/17');
    assert.equal(tilePath({ level: 1, index: 273, width: 256 }), 'tile/1/273');
    assert.equal(entriesPath(1234067), 'tile/entries/x001/x234/067');
    assert.equal(entriesPath(273, 112), 'tile/entries/273.p/112');
  });

  it('parses what it formats, for full and partial tiles and entry bundles', () => {
    const indexes = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999999, 1000000, 1234067, 2 ** 32, 2 ** 45 + 17, 2 ** 53 - 1];
    for (const index of indexes) {
      for (const width of [1, 17, 255, 256]) {
        for (const level of [0, 1, 9, 63]) {
          assert.deepEqual(parseTilePath(tilePath({ level, index, width })), { kind: 'hash', level, index, width });
        }
        assert.deepEqual(parseTilePath(entriesPath(index, width)), { kind: 'entries', level: 0, index, width });
      }
    }
    assert.deepEqual(parseTilePath('tile/0/x001/x234/067.p/8'), { kind: 'hash', level: 0, index: 1234067, width: 8 });
  });

  it('rejects every non-canonical or malformed path with the reason', () => {
    const cases: [string, RegExp][] = [
      ['tile/0/1', /is not `tile\/<L>\/<N>/],
      ['tile/0/0001', /is not `tile/],
      ['tile/0/x1/000', /is not `tile/],
      ['tile/0/001/000', /is not `tile/],
      ['tile/0/x001', /is not `tile/],
      ['/tile/0/000', /is not `tile/],
      ['tile/0/000/', /is not `tile/],
      ['tile/0/000.p/', /is not `tile/],
      ['tile/0/000.p/-1', /is not `tile/],
      ['tile/data/000', /is not `tile/],
      ['tile/8/0/000', /is not `tile/],
      ['tile/-1/000', /is not `tile/],
      ['tile/0/x001/x234/067.p/8/', /is not `tile/],
      ['tile/entries/000.P/8', /is not `tile/],
      ['tile/00/000', /level `00`, not 0\.\.63 without leading zeroes/],
      ['tile/01/000', /level `01`/],
      ['tile/64/000', /level `64`/],
      ['tile/0/000.p/0', /width `0`, not 1\.\.255/],
      ['tile/0/000.p/08', /width `08`/],
      ['tile/0/000.p/256', /partial width 256, not 1\.\.255/],
      ['tile/entries/000.p/300', /partial width 300/],
      ['tile/0/x000/001', /encodes index 1 as `x000\/001`, not `001`/],
      ['tile/entries/x000/x000/000', /encodes index 0/],
      ['tile/0/x009/x007/x199/x254/x740/992', /index above 2\^53 - 1/],
    ];
    for (const [path, reason] of cases) {
      assert.throws(() => parseTilePath(path), (error: unknown) => {
        assert.ok(error instanceof TilePathError, `${path}: ${error}`);
        assert.equal(error.code, 'BAD_TILE_PATH');
        assert.match(error.message, reason, path);
        assert.ok(error.message.startsWith(`tile path \`${path}\``));
        return true;
      });
    }
  });

  it('refuses to format an impossible tile', () => {
    assert.throws(() => tilePath({ level: 64, index: 0 }), RangeError);
    assert.throws(() => tilePath({ level: 0, index: -1 }), RangeError);
    assert.throws(() => tilePath({ level: 0, index: 1.5 }), RangeError);
    assert.throws(() => tilePath({ level: 0, index: 2 ** 53 }), RangeError);
    assert.throws(() => tilePath({ level: 0, index: 0, width: 0 }), RangeError);
    assert.throws(() => entriesPath(0, 257), RangeError);
  });
});

describe('tileCoordinates', () => {
  it('gives the tiles of the spec examples: 70,000 and 256 entries', () => {
    assert.deepEqual(tileCoordinates(70000), [
      { level: 0, fullTiles: 273, partialWidth: 112 },
      { level: 1, fullTiles: 1, partialWidth: 17 },
      { level: 2, fullTiles: 0, partialWidth: 1 },
    ]);
    assert.deepEqual(tileCoordinates(256), [
      { level: 0, fullTiles: 1, partialWidth: 0 },
      { level: 1, fullTiles: 0, partialWidth: 1 },
    ]);
  });

  it('has no tiles for the empty tree and one hash per level for a partial tile of width floor(s / 256^l) mod 256', () => {
    assert.deepEqual(tileCoordinates(0), []);
    assert.deepEqual(tileCoordinates(1), [{ level: 0, fullTiles: 0, partialWidth: 1 }]);
    assert.deepEqual(tileCoordinates(255), [{ level: 0, fullTiles: 0, partialWidth: 255 }]);
    const size = 2 ** 40 + 3;
    const levels = tileCoordinates(size);
    assert.equal(levels.length, 6); // 2^40 = 256^5
    for (const { level, fullTiles, partialWidth } of levels) {
      assert.equal(partialWidth, Math.floor(size / 256 ** level) % 256);
      assert.equal(fullTiles, Math.floor(size / 256 ** (level + 1)));
    }
    assert.throws(() => tileCoordinates(-1), RangeError);
  });

  it('names Merkle nodes that a tree of that size has complete, with the hash of the 256^l entries below', () => {
    const size = 600; // level 0: 2 full + 88; level 1: partial of 2; level 2: none
    const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`e${i}`)));
    const nodes = new Map(completeNodes(0, [], leaves).map((node) => [nodeKey(node), node.hash]));
    for (const { level, fullTiles, partialWidth } of tileCoordinates(size)) {
      const tiles = Array.from({ length: fullTiles }, (_, index) => ({ level, index }));
      if (partialWidth > 0) tiles.push({ level, index: fullTiles, width: partialWidth } as never);
      for (const tile of tiles) {
        for (const id of tileNodeIds(tile)) assert.ok(nodes.has(nodeKey(id)), `${tilePath(tile)} needs ${nodeKey(id)}`);
      }
    }
    assert.deepEqual(tileNodeIds({ level: 1, index: 0, width: 2 }), [
      { level: 8, index: 0 },
      { level: 8, index: 1 },
    ]);
    const first256 = new CompactRange();
    for (const leaf of leaves.slice(256, 512)) first256.push(leaf);
    assert.ok(nodes.get('8/1')!.equals(first256.root()));
    assert.equal(tileNodeIds({ level: 0, index: 2 }).length, 256);
    assert.deepEqual(tileNodeIds({ level: 0, index: 2 })[0], { level: 0, index: 512 });
  });
});

describe('entry bundles', () => {
  it('length-prefixes each entry with a big-endian uint16 and splits them back', () => {
    const entries = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(0xffff, 7)];
    const bundle = encodeEntryBundle(entries);
    assert.deepEqual(bundle.subarray(0, 5), Buffer.from([0, 1, 0x61, 0, 0]));
    assert.equal(bundle.length, 2 + 1 + 2 + 2 + 0xffff);
    assert.deepEqual(decodeEntryBundle(bundle), entries);
    assert.deepEqual(decodeEntryBundle(new Uint8Array(0)), []);
  });

  it('rejects oversized entries, too many entries and truncated bundles', () => {
    assert.throws(() => encodeEntryBundle([Buffer.alloc(0x10000)]), /entry 0 is 65536 bytes/);
    assert.throws(() => encodeEntryBundle(Array.from({ length: 257 }, () => Buffer.alloc(0))), /at most 256 entries/);
    assert.throws(() => decodeEntryBundle(Buffer.from([0, 2, 0x61])), /truncated in entry 0/);
    assert.throws(() => decodeEntryBundle(Buffer.from([0, 1, 0x61, 0])), /truncated in the length of entry 1/);
    assert.throws(() => decodeEntryBundle(Buffer.alloc(2 * 257)), /more than 256 entries/);
  });
});
