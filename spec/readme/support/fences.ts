/**
 * README.md as data: its fenced code blocks, and the shell lines in them as argv.
 */

/** One fenced block: its info string (`ts`, `sh`, …), its text, and the README line of its first code line. */
export interface Fence {
  readonly lang: string;
  readonly code: string;
  /** 1-based README line of the block's first line of code. */
  readonly line: number;
}

/**
 * The fenced blocks of a Markdown text, in order. Only ``` fences at the start of a line
 * (the only kind this README uses); an unclosed fence is an error, not a silently lost block.
 *
 * @param markdown the whole file
 */
export function parseFences(markdown: string): Fence[] {
  const lines = markdown.split(/\r?\n/);
  const fences: Fence[] = [];
  let open: { lang: string; start: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const marker = /^```(.*)$/.exec(text);
    if (open === undefined) {
      if (marker) open = { lang: marker[1].trim(), start: index + 2, body: [] };
      return;
    }
    if (/^```\s*$/.test(text)) {
      fences.push({ lang: open.lang, code: open.body.join('\n'), line: open.start });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`README.md:${open.start - 1}: a code fence is never closed`);
  return fences;
}

/** One command line of a shell block: backslash continuations joined, with its README line. */
export interface ShellLine {
  readonly text: string;
  readonly line: number;
}

/**
 * The command lines of a shell block: comments and blank lines dropped, lines ending in a
 * backslash joined with the next.
 *
 * @param fence an `sh` or `bash` block
 */
export function shellLines(fence: Fence): ShellLine[] {
  const out: ShellLine[] = [];
  let pending: ShellLine | undefined;
  fence.code.split('\n').forEach((raw, i) => {
    const line = fence.line + i;
    const text = pending === undefined ? raw.trim() : `${pending.text} ${raw.trim()}`;
    const start = pending?.line ?? line;
    if (text.endsWith('\\')) {
      pending = { text: text.slice(0, -1).trimEnd(), line: start };
      return;
    }
    pending = undefined;
    if (text === '' || text.startsWith('#')) return;
    out.push({ text, line: start });
  });
  if (pending !== undefined) out.push(pending);
  return out;
}

/** A command split the way a POSIX shell would split this README's simple lines. */
export interface Words {
  readonly argv: string[];
  /** The file of a `> file` redirect of stdout, when there is one. */
  readonly stdoutTo?: string;
}

/**
 * Splits one simple command into words: single quotes, double quotes, backslash escapes,
 * `$VAR` and `${VAR}` from `env`, and one `> file`. Anything this README has no business
 * using in a runnable line (pipes, `;`, `&`, `<`, command substitution) is refused, so a
 * line that would not mean the same here as in a shell fails the spec instead of passing.
 *
 * Example: `splitWords('run "a b" $X > out.json', { X: '1' })` → `{ argv: ['run', 'a b', '1'], stdoutTo: 'out.json' }`
 *
 * @param text the command line
 * @param env variables for expansion; an unset one is an error
 */
export function splitWords(text: string, env: Readonly<Record<string, string | undefined>>): Words {
  const argv: string[] = [];
  let stdoutTo: string | undefined;
  let word: string | undefined;
  let redirect = false;
  const expand = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`$${name} is not set for README commands`);
    return value;
  };
  const finish = (): void => {
    if (word === undefined) return;
    if (redirect) {
      if (stdoutTo !== undefined) throw new Error('more than one redirect');
      stdoutTo = word;
      redirect = false;
    } else argv.push(word);
    word = undefined;
  };
  const variable = (from: number): { value: string; end: number } => {
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text.slice(from));
    if (braced) return { value: expand(braced[1]), end: from + braced[0].length };
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(from));
    if (bare) return { value: expand(bare[1]), end: from + bare[0].length };
    throw new Error(`unsupported use of $ at column ${from + 1}`);
  };

  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      finish();
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error('unclosed single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let part = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && /["\\$`]/.test(text[j + 1] ?? '')) {
          part += text[j + 1];
          j += 2;
        } else if (text[j] === '$') {
          if (text[j + 1] === '(') throw new Error('command substitution is not supported');
          const v = variable(j);
          part += v.value;
          j = v.end;
        } else if (text[j] === '`') {
          throw new Error('command substitution is not supported');
        } else {
          part += text[j++];
        }
      }
      if (j >= text.length) throw new Error('unclosed double quote');
      word = (word ?? '') + part;
      i = j + 1;
    } else if (c === '\\') {
      word = (word ?? '') + (text[i + 1] ?? '');
      i += 2;
    } else if (c === '$') {
      if (text[i + 1] === '(') throw new Error('command substitution is not supported');
      const v = variable(i);
      word = (word ?? '') + v.value;
      i = v.end;
    } else if (c === '>') {
      finish();
      if (redirect || text[i + 1] === '>' || text[i + 1] === '&') throw new Error('only a plain "> file" redirect is supported');
      redirect = true;
      i++;
    } else if ('|;&<`'.includes(c)) {
      throw new Error(`"${c}" is not supported in a runnable README line`);
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  finish();
  if (redirect) throw new Error('a redirect without a file');
  return { argv, ...(stdoutTo === undefined ? {} : { stdoutTo }) };
}
