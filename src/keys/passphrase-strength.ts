/**
 * A small, deliberately conservative passphrase strength estimator for the
 * recovery passphrase.
 *
 * It estimates the bits an attacker who knows the usual tricks would need:
 * well-known passwords and words, keyboard and alphabet runs, repeats and
 * "leet" substitutions cost almost nothing; letters inside word-like runs
 * count about 2.5 bits each (roughly what a word picked at random from a
 * large list is worth per letter); other characters count the full size of
 * the character classes used. It under-estimates rather than flatters.
 */

/** Fewest characters a recovery passphrase may have. */
export const MIN_PASSPHRASE_LENGTH = 12;

/** Lowest score (0–4) a recovery passphrase may have. */
export const MIN_PASSPHRASE_SCORE = 2;

/** Plain-words names of the scores 0–4, in order. */
export const STRENGTH_LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

/** A score from 0 (trivially guessed) to 4 (very strong). */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

/** What the estimator says about one passphrase. */
export interface PassphraseStrength {
  /** 0 (trivially guessed) … 4 (very strong). */
  score: StrengthScore;
  /** Plain-words name of the score, e.g. "Fair". */
  label: (typeof STRENGTH_LABELS)[number];
  /** Estimated guessing work in bits (rounded down). */
  bits: number;
  /** Characters counted as the user sees them (not UTF-16 units). */
  length: number;
  /** True when the passphrase is long and strong enough to be accepted. */
  acceptable: boolean;
  /** Plain-words hints, most important first; empty when there is nothing to add. */
  advice: string[];
}

// Score thresholds in bits: below 30 is 0, below 40 is 1, and so on.
const SCORE_BITS = [30, 40, 50, 60] as const;

// Some of the passwords and words attackers try first (lower case, after
// undoing leet substitutions). Short on purpose: an honest floor, not a
// dictionary attack.
const COMMON = [
  'password', 'passwort', 'passphrase', 'qwerty', 'qwertz', 'azerty', 'letmein', 'welcome', 'admin',
  'login', 'iloveyou', 'monkey', 'dragon', 'football', 'baseball', 'soccer', 'sunshine', 'princess',
  'master', 'shadow', 'superman', 'batman', 'trustno', 'hello', 'freedom', 'whatever', 'starwars',
  'secret', 'sealdrop', 'azure', 'microsoft', 'google', 'summer', 'winter', 'spring', 'autumn',
  'love', 'jesus', 'money', 'michael', 'jennifer', 'charlie', 'computer', 'internet', 'cookie',
  'flower', 'pokemon', 'ninja', 'mustang', 'access', 'killer', 'hunter', 'ranger', 'buster',
  'thomas', 'robert', 'jordan', 'daniel', 'andrew', 'joshua', 'maggie', 'ginger', 'pepper',
  'cheese', 'banana', 'orange', 'purple', 'silver', 'golden', 'family', 'friend', 'changeme',
  'default', 'test', 'guest', 'user', 'private', 'secure', 'security', 'blink', 'matrix', 'zaq1',
  'correcthorsebatterystaple', 'correcthorse', 'battery', 'staple', 'abc', 'xyz', 'god',
];

// Longest first, so "passwords" matches "password" and not "pass…".
const COMMON_SORTED = [...new Set(COMMON)].sort((a, b) => b.length - a.length);

const KEYBOARD_ROWS = ['1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'abcdefghijklmnopqrstuvwxyz'];

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i' };

type Flaw = 'short' | 'common' | 'sequence' | 'repeat' | 'few-classes';

/**
 * Estimates how hard `passphrase` is to guess.
 *
 * Returns the score, its label, the estimated bits, the length in
 * characters, whether it is acceptable as a recovery passphrase (at least
 * {@link MIN_PASSPHRASE_LENGTH} characters and score ≥ {@link MIN_PASSPHRASE_SCORE}),
 * and plain-words advice. Never throws.
 */
export function estimatePassphraseStrength(passphrase: string): PassphraseStrength {
  const chars = Array.from(passphrase.normalize('NFC'));
  const flaws = new Set<Flaw>();
  return finish(guessBits(chars, flaws), chars.length, flaws);
}

/** Estimated bits for `chars`, recording each weakness met in `flaws`. */
function guessBits(chars: string[], flaws: Set<Flaw>): number {
  const lower = chars.map((c) => c.toLowerCase());

  // A block repeated whole ("abcabc", "hello hello") costs its block and a count.
  const unit = smallestRepeatingUnit(lower);
  if (unit < chars.length) {
    flaws.add('repeat');
    return guessBits(chars.slice(0, unit), flaws) + Math.log2(chars.length / unit);
  }

  const plain = lower.map((c) => LEET[c] ?? c);
  // A famous phrase stays famous with spaces or dashes between its words.
  if (COMMON.includes(plain.join('').replace(/[\s._-]+/g, ''))) {
    flaws.add('common');
    return 8;
  }
  const covered = new Array<boolean>(chars.length).fill(false);
  let bits = 0;

  // Well-known passwords and words, in leet-undone lower case.
  const plainText = plain.join('');
  for (const word of COMMON_SORTED) {
    for (let from = plainText.indexOf(word); from !== -1; from = plainText.indexOf(word, from + 1)) {
      const to = from + word.length;
      if (covered.slice(from, to).some(Boolean)) continue;
      for (let i = from; i < to; i++) covered[i] = true;
      // About 7 bits to pick from the list, plus one for any twist (case, leet).
      const twisted = chars.slice(from, to).some((c, i) => c !== plain[from + i]);
      bits += 7 + (twisted ? 1 : 0);
      flaws.add('common');
    }
  }

  // Runs of one character, and alphabet/keyboard/digit sequences (either direction).
  for (let i = 0; i < chars.length; ) {
    const run = runAt(lower, i);
    if (run.length >= 3 && !covered.slice(i, i + run.length).some(Boolean)) {
      for (let k = i; k < i + run.length; k++) covered[k] = true;
      bits += (run.kind === 'repeat' ? 4 : 5) + Math.log2(run.length);
      flaws.add(run.kind);
      i += run.length;
    } else {
      i += 1;
    }
  }

  return bits + estimatePlain(chars, covered, flaws);
}

/** Bits for the characters no pattern explained. */
function estimatePlain(chars: string[], covered: boolean[], flaws: Set<Flaw>): number {
  if (chars.length > 0 && chars.every((c) => /[0-9]/.test(c))) flaws.add('few-classes');
  const mixedCase = chars.some((c) => /[a-z]/.test(c)) && chars.some((c) => /[A-Z]/.test(c));
  const letterBits = Math.log2(mixedCase ? 52 : 26);
  let bits = 0;
  let i = 0;
  while (i < chars.length) {
    if (covered[i] === true) {
      i += 1;
      continue;
    }
    const c = chars[i] ?? '';
    if (isLetter(c)) {
      let j = i;
      while (j < chars.length && covered[j] !== true && isLetter(chars[j] ?? '')) j += 1;
      const word = chars.slice(i, j);
      // Letters that could be a word are worth what a random word from a big list is, per letter.
      const wordLike = word.some((ch) => /[aeiouyàâäéèêëîïôöùûüáíóú]/i.test(ch));
      // A capital anywhere but the first letter is a small extra twist.
      const innerCaps = word.slice(1).filter((ch) => ch !== ch.toLowerCase()).length;
      bits += wordLike ? word.length * 2.5 + innerCaps : word.length * letterBits;
      i = j;
    } else if (c === ' ' || c === '-' || c === '_' || c === '.') {
      bits += 1; // separators between words are predictable
      i += 1;
    } else if (/[0-9]/.test(c)) {
      bits += Math.log2(10);
      i += 1;
    } else {
      bits += c.charCodeAt(0) < 128 ? Math.log2(33) : Math.log2(100);
      i += 1;
    }
  }
  return bits;
}

function finish(rawBits: number, length: number, flaws: Set<Flaw>): PassphraseStrength {
  const bits = Math.max(0, Math.floor(rawBits));
  let score: StrengthScore = 4;
  if (bits < SCORE_BITS[0]) score = 0;
  else if (bits < SCORE_BITS[1]) score = 1;
  else if (bits < SCORE_BITS[2]) score = 2;
  else if (bits < SCORE_BITS[3]) score = 3;
  if (length < MIN_PASSPHRASE_LENGTH) flaws.add('short');
  const acceptable = length >= MIN_PASSPHRASE_LENGTH && score >= MIN_PASSPHRASE_SCORE;
  return { score, label: STRENGTH_LABELS[score], bits, length, acceptable, advice: adviceFor(flaws, length, score) };
}

function adviceFor(flaws: Set<Flaw>, length: number, score: StrengthScore): string[] {
  const advice: string[] = [];
  if (flaws.has('short')) {
    const missing = MIN_PASSPHRASE_LENGTH - length;
    advice.push(`Use at least ${MIN_PASSPHRASE_LENGTH} characters (${missing} more to go).`);
  }
  if (flaws.has('common')) advice.push('Avoid well-known passwords and words: attackers try them first, even with letters swapped for digits.');
  if (flaws.has('sequence')) advice.push('Avoid runs like "abcd", "qwerty" or "1234": they add almost nothing.');
  if (flaws.has('repeat')) advice.push('Avoid repeating characters or words: repeats add almost nothing.');
  if (flaws.has('few-classes')) advice.push('Digits alone are quick to guess: use words instead.');
  if (score < 3) advice.push('Four or five unusual words that have nothing to do with each other make a strong passphrase you can remember.');
  return advice;
}

function isLetter(c: string): boolean {
  return /\p{L}/u.test(c);
}

function runAt(lower: string[], start: number): { kind: 'repeat' | 'sequence'; length: number } {
  const first = lower[start] ?? '';
  let same = 1;
  while (lower[start + same] === first) same += 1;
  if (same >= 3) return { kind: 'repeat', length: same };
  let best = 1;
  for (const row of KEYBOARD_ROWS) {
    for (const dir of [1, -1]) {
      let len = 1;
      let at = row.indexOf(first);
      if (at === -1) continue;
      while (true) {
        const next = row[at + dir];
        if (next === undefined || lower[start + len] !== next) break;
        at += dir;
        len += 1;
      }
      best = Math.max(best, len);
    }
  }
  return { kind: 'sequence', length: best };
}

/** Length of the shortest block whose repetition makes up all of `chars` (`chars.length` when none). */
function smallestRepeatingUnit(chars: string[]): number {
  const n = chars.length;
  for (let unit = 1; unit <= n / 2; unit++) {
    if (n % unit !== 0) continue;
    if (chars.every((c, i) => c === chars[i % unit])) return unit;
  }
  return n;
}
