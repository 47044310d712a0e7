/**
 * The alert query language: words, "quoted phrases", OR, -exclusions (also NOT), parentheses and
 * field prefixes title:, abstract: and author:. Juxtaposition means AND; OR binds tighter than
 * AND (as in web search alerts): `graph OR tree pruning` = (graph OR tree) AND pruning.
 * Adjacent plain words form one soft phrase ("diffusion models"), scored with proximity.
 */
export const MAX_QUERY_LENGTH = 256;

export type Field = 'any' | 'title' | 'abstract' | 'author';

export type QueryNode =
  /** quoted=false: one or more adjacent plain words; quoted=true: an exact phrase. */
  | { kind: 'text'; field: Field; text: string; quoted: boolean }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode };

export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
}

type Lexeme =
  | { t: 'word'; v: string }
  | { t: 'phrase'; v: string }
  | { t: '(' }
  | { t: ')' }
  | { t: 'or' }
  | { t: 'and' }
  | { t: 'not' }
  | { t: 'field'; v: Field };

const FIELD_RE = /^(title|abstract|author):/i;

function lex(query: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  const n = query.length;
  while (i < n) {
    const c = query[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c });
      i++;
    } else if (c === '"' || c === '\u201c' || c === '\u201d') {
      let j = i + 1;
      while (j < n && query[j] !== '"' && query[j] !== '\u201d' && query[j] !== '\u201c') j++;
      if (j >= n) throw new QuerySyntaxError('unbalanced quotes');
      const v = query.slice(i + 1, j).trim();
      if (!v) throw new QuerySyntaxError('empty quoted phrase ""');
      out.push({ t: 'phrase', v });
      i = j + 1;
    } else if (c === '-' && (i + 1 >= n || /\s/.test(query[i + 1]))) {
      i++; // a lone dash is punctuation, not an operator
    } else if (c === '-') {
      out.push({ t: 'not' });
      i++;
    } else {
      const field = FIELD_RE.exec(query.slice(i));
      if (field) {
        out.push({ t: 'field', v: field[1].toLowerCase() as Field });
        i += field[0].length;
        continue;
      }
      let j = i;
      while (j < n && !/[\s()"\u201c\u201d]/.test(query[j])) j++;
      const v = query.slice(i, j);
      if (v === 'OR' || v === '|') out.push({ t: 'or' });
      else if (v === 'AND') out.push({ t: 'and' });
      else if (v === 'NOT') out.push({ t: 'not' });
      else out.push({ t: 'word', v });
      i = j;
    }
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly lx: Lexeme[]) {}

  parse(): QueryNode {
    if (this.lx.length === 0) throw new QuerySyntaxError('query is empty');
    const node = this.parseAnd(false, undefined);
    if (this.i < this.lx.length) {
      // parseAnd stops only at ')' or the end.
      throw new QuerySyntaxError('unbalanced parentheses: unexpected ")"');
    }
    return node;
  }

  private peek(): Lexeme | undefined {
    return this.lx[this.i];
  }

  private parseAnd(nested: boolean, field: Field | undefined): QueryNode {
    const children: QueryNode[] = [];
    // Adjacent plain words of one field form one soft phrase, unless an explicit AND separates them.
    let barrier = true;
    for (;;) {
      const p = this.peek();
      if (!p) {
        if (nested) throw new QuerySyntaxError('unbalanced parentheses: missing ")"');
        break;
      }
      if (p.t === ')') {
        if (!nested) throw new QuerySyntaxError('unbalanced parentheses: unexpected ")"');
        break;
      }
      if (p.t === 'and') {
        this.i++;
        const next = this.peek();
        if (children.length === 0 || !next || next.t === ')' || next.t === 'or' || next.t === 'and') {
          throw new QuerySyntaxError('AND needs a term on each side');
        }
        barrier = true;
        continue;
      }
      if (p.t === 'or') throw new QuerySyntaxError('OR needs a term on each side');
      const child = this.parseOr(field);
      const last = children[children.length - 1];
      if (!barrier && isPlain(child) && isPlain(last) && last.field === child.field) {
        children[children.length - 1] = { ...last, text: `${last.text} ${child.text}` };
      } else {
        children.push(child);
      }
      barrier = false;
    }
    if (children.length === 0) throw new QuerySyntaxError(nested ? 'empty parentheses' : 'query is empty');
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }

  private parseOr(field: Field | undefined): QueryNode {
    const children = [this.parseUnary(field)];
    while (this.peek()?.t === 'or') {
      this.i++;
      const next = this.peek();
      if (!next || next.t === ')' || next.t === 'or' || next.t === 'and') {
        throw new QuerySyntaxError('OR needs a term on each side');
      }
      children.push(this.parseUnary(field));
    }
    if (children.length > 1 && children.some(containsNot)) {
      throw new QuerySyntaxError('an exclusion cannot be an alternative of OR; write it outside the OR group');
    }
    return children.length === 1 ? children[0] : { kind: 'or', children };
  }

  private parseUnary(field: Field | undefined): QueryNode {
    const p = this.peek();
    if (p?.t === 'not') {
      this.i++;
      const next = this.peek();
      if (!next || next.t === ')' || next.t === 'or' || next.t === 'and' || next.t === 'not') {
        throw new QuerySyntaxError('an exclusion "-" must be followed by a word, phrase or group');
      }
      return { kind: 'not', child: this.parsePrimary(field) };
    }
    return this.parsePrimary(field);
  }

  private parsePrimary(field: Field | undefined): QueryNode {
    const p = this.peek();
    if (!p) throw new QuerySyntaxError('query ends where a term was expected');
    this.i++;
    switch (p.t) {
      case 'word':
        return { kind: 'text', field: field ?? 'any', text: p.v, quoted: false };
      case 'phrase':
        return { kind: 'text', field: field ?? 'any', text: p.v, quoted: true };
      case '(': {
        const inner = this.parseAnd(true, field);
        this.i++; // the ')'
        return inner;
      }
      case 'field': {
        if (field) throw new QuerySyntaxError('field prefixes cannot be nested');
        const next = this.peek();
        if (!next || (next.t !== 'word' && next.t !== 'phrase' && next.t !== '(')) {
          throw new QuerySyntaxError(`${p.v}: must be followed by a word, phrase or group`);
        }
        return this.parsePrimary(p.v);
      }
      case ')':
        throw new QuerySyntaxError('empty parentheses');
      default:
        throw new QuerySyntaxError('unexpected operator');
    }
  }
}

function containsNot(node: QueryNode): boolean {
  if (node.kind === 'not') return true;
  if (node.kind === 'text') return false;
  return node.children.some(containsNot);
}

function isPlain(node: QueryNode | undefined): node is Extract<QueryNode, { kind: 'text' }> {
  return node?.kind === 'text' && !node.quoted;
}

/** A node can select papers only if it has a positive part; exclusions only narrow. */
function hasPositive(node: QueryNode): boolean {
  switch (node.kind) {
    case 'text':
      return true;
    case 'not':
      return false;
    case 'or':
      return node.children.every(hasPositive);
    case 'and':
      return node.children.some(hasPositive);
  }
}

export function parseQuery(query: string): QueryNode {
  if (typeof query !== 'string' || query.trim() === '') throw new QuerySyntaxError('query is empty');
  if (query.length > MAX_QUERY_LENGTH) {
    throw new QuerySyntaxError(`query is longer than ${MAX_QUERY_LENGTH} characters`);
  }
  const ast = new Parser(lex(query)).parse();
  if (!hasPositive(ast)) throw new QuerySyntaxError('a query of only exclusions matches nothing');
  return ast;
}
