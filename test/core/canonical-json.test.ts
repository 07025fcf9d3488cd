// Vectors from RFC 8785: §3.2.2 (the sample object), §3.2.3 (property sorting) and Appendix B (numbers).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalBytes, canonicalJson } from '../../src/core/canonical-json.js';

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson', () => {
  it('serialises the RFC 8785 §3.2.2 sample to the exact bytes of §3.2.4', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    const expectedHex =
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a' +
      '5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d3237' +
      '5d2c22737472696e67223a22e282ac245c75303030665c6e4127425c22' +
      '5c5c5c5c5c222f227d';
    assert.equal(Buffer.from(canonicalBytes(input)).toString('hex'), expectedHex);
    assert.equal(
      canonicalJson(input),
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts property names by UTF-16 code units, recursively (§3.2.3)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the order from the text: JSON.parse would put the integer-like key "1" first whatever the text says.
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":/g)].map((match) => JSON.parse(`"${match[1]}"`));
    assert.deepEqual(order, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    assert.equal(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] }), '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}');
  });

  it('formats numbers as ECMAScript does (Appendix B)', () => {
    const vectors: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of vectors) assert.equal(canonicalJson(fromBits(bits)), expected, `bits ${bits}`);
    assert.equal(canonicalJson(1e21), '1e+21');
    assert.equal(canonicalJson(-0), '0');
  });

  it('escapes only what JSON requires, in lowercase \\u form, and leaves other characters as UTF-8', () => {
    assert.equal(canonicalJson('\b\t\n\f\r"\\'), String.raw`"\b\t\n\f\r\"\\"`);
    assert.equal(canonicalJson('\u0000\u001f\u007f'), '"\\u0000\\u001f\u007f"');
    assert.equal(canonicalJson('/é€😀'), '"/é€😀"');
    assert.equal(Buffer.from(canonicalBytes('é')).toString('hex'), '22c3a922');
  });

  it('refuses values JSON cannot carry exactly', () => {
    for (const value of [NaN, Infinity, -Infinity, 1n, '\ud800', { key: '\udc00' }, undefined]) {
      assert.throws(() => canonicalJson(value), `${String(value)} should be refused`);
    }
  });

  it('drops undefined members as JSON.stringify does, so optional fields hash the same absent or undefined', () => {
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  });
});
