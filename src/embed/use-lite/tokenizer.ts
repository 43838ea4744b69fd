/**
 * The SentencePiece (unigram, Viterbi) tokenizer of USE-lite.
 *
 * A port of `Tokenizer.encode` from `@tensorflow-models/universal-sentence-encoder` 1.3.3
 * (Copyright 2019 Google LLC, Apache-2.0), itself a port of SentencePiece's `EncodeAsIds`.
 * It gives the same ids as that code, quirks included (ties go to the later, shorter piece; a
 * lattice score of exactly 0 counts as "unset"; the backward pass steps by the UTF-16 length of
 * each piece), but builds the lattice without copying the input at every position and keeps the
 * trie in `Map`s.
 */

const SEPARATOR = '\u2581';
/** The first ids are reserved for unk, control and user-defined symbols. */
const RESERVED_SYMBOLS_COUNT = 6;
/** Id of the unknown piece. */
export const UNK_ID = 0;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary index of the piece ending here, or -1. */
  index: number;
  score: number;
  /** Length of the piece in code points. */
  length: number;
}

function newNode(length: number): TrieNode {
  return { children: new Map(), index: -1, score: 0, length };
}

/** A vocabulary entry: piece (with `▁` for spaces) and log-probability score. */
export type VocabEntry = readonly [piece: string, score: number];

/** USE-lite's SentencePiece tokenizer. */
export class SentencePieceTokenizer {
  private readonly root = newNode(0);
  private readonly pieceLength: Int32Array;
  /**
   * Whether every `▁` is a boundary of every segmentation (no piece has `▁` past its first
   * character, and no piece has astral characters, which would desynchronise the backward pass),
   * and every word starts with a known piece (`▁` itself is one, so unknowns never merge across
   * words). Then words are segmented independently, each gives at least one id, and a text can be
   * cut at a `▁` without changing the ids before the cut.
   */
  private readonly separatorIsBoundary: boolean;

  constructor(private readonly vocabulary: readonly VocabEntry[]) {
    this.pieceLength = new Int32Array(vocabulary.length);
    // Never 0, so the backward pass always advances (the original would loop forever).
    for (let i = 0; i < vocabulary.length; i++) this.pieceLength[i] = Math.max(1, vocabulary[i][0].length);
    this.separatorIsBoundary =
      vocabulary.some(([piece], i) => i >= RESERVED_SYMBOLS_COUNT && piece === SEPARATOR) &&
      vocabulary.every(([piece]) => piece.indexOf(SEPARATOR, 1) < 0 && !/[\uD800-\uDFFF]/.test(piece));
    for (let i = RESERVED_SYMBOLS_COUNT; i < vocabulary.length; i++) {
      const [piece, score] = vocabulary[i];
      let node = this.root;
      for (const ch of piece) {
        let next = node.children.get(ch);
        if (!next) {
          next = newNode(node.length + 1);
          node.children.set(ch, next);
        }
        node = next;
      }
      if (node !== this.root) {
        node.index = i;
        node.score = score;
      }
    }
  }

  /** Number of pieces in the vocabulary. */
  get vocabularySize(): number {
    return this.vocabulary.length;
  }

  /**
   * Token ids of `text` (NFKC-normalised, spaces as `▁`, a leading `▁`). Empty text gives `[]`.
   * With `maxTokens`, only the first `maxTokens` ids, computed from a prefix of the text when the
   * vocabulary allows it (the ids are the same as the full encoding's first `maxTokens`).
   */
  encode(text: string, maxTokens = Infinity): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    let symbols = Array.from(SEPARATOR + normalized.replace(/ /g, SEPARATOR));
    if (this.separatorIsBoundary && symbols.length > maxTokens) {
      // Every word gives at least one id: keep the first maxTokens words (cut before the next ▁).
      let words = 0;
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === SEPARATOR && ++words > maxTokens) {
          symbols = symbols.slice(0, i);
          break;
        }
      }
    }
    const n = symbols.length;

    // Lattice edges ending at each position, in increasing start order (as the original's
    // `for (startPos in nodes[endPos])` visits them).
    const edgeStart: number[][] = Array.from({ length: n + 1 }, () => []);
    const edgeIndex: number[][] = Array.from({ length: n + 1 }, () => []);
    const edgeScore: number[][] = Array.from({ length: n + 1 }, () => []);
    for (let i = 0; i < n; i++) {
      let node = this.root.children.get(symbols[i]);
      let found = false;
      for (let k = i; node && k < n; k++) {
        if (node.index >= 0) {
          const end = i + node.length;
          edgeStart[end].push(i);
          edgeIndex[end].push(node.index);
          edgeScore[end].push(node.score);
          found = true;
        }
        node = k + 1 < n ? node.children.get(symbols[k + 1]) : undefined;
      }
      if (!found) {
        edgeStart[i + 1].push(i);
        edgeIndex[i + 1].push(UNK_ID);
        edgeScore[i + 1].push(0);
      }
    }

    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      const starts = edgeStart[end];
      for (let e = 0; e < starts.length; e++) {
        const score = edgeScore[end][e] + best[starts[e]];
        if (best[end] === 0 || score >= best[end]) {
          best[end] = score;
          words[end] = edgeIndex[end][e];
        }
      }
    }

    const reversed: number[] = [];
    for (let iter = n; iter > 0; iter -= this.pieceLength[words[iter]]) reversed.push(words[iter]);
    const out: number[] = [];
    let previousUnk = false;
    for (const id of reversed) {
      if (!(previousUnk && id === UNK_ID)) out.push(id);
      previousUnk = id === UNK_ID;
    }
    out.reverse();
    return out.length > maxTokens ? out.slice(0, maxTokens) : out;
  }
}
