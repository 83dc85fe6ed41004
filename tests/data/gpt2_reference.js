// gpt2_reference.js — reference ids for the GPT-2 parity test (gpt2_parity_test.cpp).
// Generates a few hundred KB of deliberately varied text from a seeded PRNG (contractions, runs
// of spaces/newlines/tabs, Unicode whitespace, digits, punctuation, accents and combining marks,
// CJK, emoji with modifiers and ZWJ sequences, other scripts, invalid-looking-but-valid text)
// and encodes it with the npm package gpt-3-encoder, the reference implementation.
//
// usage: node gpt2_reference.js MODULE_DIR OUT_DIR [BYTES] [SEED] [--text-only]
//   writes OUT_DIR/text.txt (UTF-8) and OUT_DIR/ids.txt (one line of space-separated ids);
//   --text-only skips the encoding (to make large varied text for benchmarks)
'use strict';
const fs = require('fs');
const path = require('path');

const [moduleDir, outDir, bytesArg, seedArg] = process.argv.slice(2);
if (!moduleDir || !outDir) {
  console.error('usage: node gpt2_reference.js MODULE_DIR OUT_DIR [BYTES] [SEED]');
  process.exit(2);
}
const { encode } = require(path.resolve(moduleDir));
const targetBytes = Number(bytesArg || 300000);
let state = Number(seedArg || 1234) >>> 0;

// mulberry32: tiny seeded PRNG, so the text is the same on every run.
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (n) => Math.floor(rand() * n);

const words = ('the of and to in is was that for it with as his on be at by I this had not are but from or have an ' +
  'they which one you were her all she there would their we him been has when who will more no if out so said what ' +
  'up its about into than them can only other new some could time these two may then do first any my now such like ' +
  'Hello World GPT tokenizer Robotics robot obey orders human beings Second Law Shakespeare ROMEO JULIET naïve').split(' ');
const contractions = ["don't", "I'm", "you're", "we've", "he'll", "she'd", "it's", "'tis", "DON'T", "O'Neil", "rock 'n' roll",
  "''", "'s'", "can't've", "y'all'd", "'re", "'ve", "'m", "'ll", "'d", "'S", "ma'am", "'", "''''", "isn't"];
const spaces = [' ', ' ', ' ', '  ', '   ', '    ', '\n', '\n', '\n\n', '\n\n\n', '\t', '\t\t', ' \n', '\n ', ' \n ',
  '\r\n', '\r\n\r\n', '\u00a0', '\u3000', '\u2009', '\u200a', '\ufeff', '\u0085', '\u2028', '\u2029', '\u000b', '\f',
  '\u202f', '\u205f', '\u1680', ' \u00a0 ', '        ', '\n\n\n\n\n', ' \t \n'];
const punct = ['.', ',', ';', ':', '!', '?', '-', '—', '–', '…', '"', "'", '(', ')', '[', ']', '{', '}', '<', '>', '/', '\\',
  '|', '@', '#', '$', '%', '^', '&', '*', '_', '+', '=', '~', '`', '?!', '...', '--', '»', '«', '“', '”', '‘', '’', '¿',
  '¡', '§', '©', '®', '°', '±', '×', '÷', '€', '£', '¥', '•', '→', '⇒', '∀', '∑', '√', '<|endoftext|>', '://', '==', '!=', '->'];
const accented = ['café', 'naïve', 'résumé', 'Zürich', 'São Paulo', 'Dvořák', 'Ångström', 'Łódź', 'façade', 'crème brûlée',
  'e\u0301', 'n\u0303o', 'Ærøskøbing', 'İstanbul', 'straße', 'ÉCOLE', 'año', 'Čapek', 'Ærø', 'fiancée'];
const cjk = ['日本語のテキスト', '中文字符', '한국어 문장', '漢字かなカナ', '東京', '北京市', 'こんにちは世界', '안녕하세요', '你好，世界！',
  '「引用」', '〜', '：', '。', '、'];
const emoji = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '❤️', '🤖', '🏳️‍🌈', '🎉🎉', '✨', '🙂🙃', '👩🏿‍💻', '1️⃣', '©️', '🐍', '💯'];
const scripts = ['Русский текст', 'Ελληνικά', 'עברית', 'العربية', 'हिन्दी', 'ไทย', 'ქართული', 'Հայերեն', 'বাংলা', 'தமிழ்',
  'Tiếng Việt', 'ᚠᚢᚦ', 'ⲀⲂⲄ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝟙𝟚𝟛'];
const numbers = () => pick([
  () => String(int(10)), () => String(int(100000)), () => String(int(1e9)) + String(int(1e6)), () => (rand() * 1000).toFixed(int(6)),
  () => '1,000,000', () => '2023-10-05', () => '0x1F' + int(256).toString(16), () => '½', () => '²³', () => '٣٤٥', () => 'Ⅻ',
  () => '١٢٣', () => '४२', () => '3rd', () => '1st', () => '10%', () => '$99.99', () => '+44 20 7946 0958']) ();
// Code points from well-established blocks (no letters newer than Unicode 14, which PCRE2 and
// node's ICU could classify differently).
const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff], [0x600, 0x6ff],
  [0x900, 0x97f], [0x2000, 0x206f], [0x2190, 0x22ff], [0x3040, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xad00],
  [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f]];
const randomChars = () => {
  let s = '';
  for (let k = 1 + int(8); k > 0; --k) {
    const [lo, hi] = pick(ranges);
    const cp = lo + int(hi - lo + 1);
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    s += String.fromCodePoint(cp);
  }
  return s;
};
const sentence = () => {
  let s = '';
  for (let k = 3 + int(12); k > 0; --k) s += (k % 3 === 0 ? ' ' : ' ') + pick(words);
  return s.trimStart() + pick(['.', '!', '?', ',', ';', ':', '']);
};
const makers = [
  [20, sentence], [10, () => pick(contractions)], [15, () => pick(spaces)], [8, numbers], [10, () => pick(punct)],
  [6, () => pick(accented)], [5, () => pick(cjk)], [5, () => pick(emoji)], [5, () => pick(scripts)], [4, randomChars],
  [3, () => ' '.repeat(1 + int(40))], [2, () => '\n'.repeat(1 + int(8))], [3, () => pick(words).toUpperCase()],
  [2, () => pick(punct).repeat(2 + int(6))], [2, () => 'a'.repeat(1 + int(30))],
  // Rare long pieces (a line of base64, a long number): tapegpt merges them with a heap.
  [0.1, () => longRun(pick(['abcdefghijklmnopqrstuvwxyz', 'ab', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
                            '0123456789', 'é日a']))],
];
function longRun(alphabet) {
  const chars = Array.from(alphabet);
  let s = '';
  for (let k = 200 + int(2800); k > 0; --k) s += pick(chars);
  return s;
}
const total = makers.reduce((a, [w]) => a + w, 0);
function piece() {
  let r = rand() * total;
  for (const [w, f] of makers) {
    if ((r -= w) < 0) return f();
  }
  return ' ';
}

let parts = [];
let bytes = 0;
while (bytes < targetBytes) {
  const p = piece() + (rand() < 0.5 ? ' ' : '');
  parts.push(p);
  bytes += Buffer.byteLength(p, 'utf8');
}
const text = parts.join('');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'text.txt'), text, 'utf8');
if (process.argv.includes('--text-only')) process.exit(0);

// The package's encode() concatenates its output array once per word, which is quadratic on
// long inputs; encoding blocks of text and joining the ids is linear. Blocks are cut only just
// before an ASCII space or newline that follows a visible ASCII character: no pre-split piece
// spans such a point, and the piece before it does not look ahead (only whitespace pieces do).
// This is the rule tapegpt prepare cuts its chunks by (data/corpus_reader.h), while tapegpt
// tokenize encodes the text whole: agreement checks both the encoder and the rule.
const ids = [];
const lines = text.split(/(?<=[!-~])(?=[ \n])/);
let block = '';
for (const line of lines) {
  block += line;
  if (block.length > 4096) {
    for (const id of encode(block)) ids.push(id);
    block = '';
  }
}
if (block) for (const id of encode(block)) ids.push(id);
fs.writeFileSync(path.join(outDir, 'ids.txt'), ids.join(' ') + '\n');
console.log(`wrote ${Buffer.byteLength(text, 'utf8')} bytes, ${ids.length} ids`);
